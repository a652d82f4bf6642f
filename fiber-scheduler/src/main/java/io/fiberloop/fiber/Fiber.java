package io.fiberloop.fiber;

import io.fiberloop.fiber.internal.FiberAccess;
import io.fiberloop.fiber.internal.FiberHost;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.loop.EventLoop;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fiber: code that can be suspended and resumed, switched into explicitly as in python-fibers
 * and greenlet, running as a virtual thread whose scheduler is its {@link EventLoop}.
 *
 * {@snippet :
 * loop.run(() -> {
 *     Fiber main = Fiber.current();
 *     Fiber child = new Fiber(() -> {
 *         Object got = main.switchTo("ping");   // back to main, which prints "ping"
 *         System.out.println(got);               // "pong"
 *     });
 *     System.out.println(child.switchTo());      // starts child; prints "ping"
 *     child.switchTo("pong");                    // child prints "pong", ends; control returns here
 * });
 * }
 *
 * <h2>Semantics (python-fibers)</h2>
 * <ul>
 *   <li>The target is bound at creation; a fiber does not run until it is first switched into.</li>
 *   <li>{@link #switchTo(Object)} suspends the current fiber and resumes this one; the value it
 *       returns is the one passed by whoever switches back. Control transfers directly: no other
 *       fiber, task or callback of the loop runs in between.</li>
 *   <li>When the target returns, its value goes to the parent (the nearest ancestor that has
 *       started and not ended), whose {@code switchTo} returns it; an exception escaping the target
 *       is raised from the parent's {@code switchTo} instead. A fiber with no such ancestor (created
 *       with a {@code null} parent, in a loop callback, or whose ancestors have all ended) returns to
 *       the fiber that last switched into it, so nobody is left suspended.</li>
 *   <li>A task whose fiber is suspended in {@code switchTo} still receives its cancellation (and
 *       its deadlines): {@code switchTo} raises {@link CancelledException}, and nobody can switch
 *       into the fiber any more.</li>
 *   <li>{@link #throwInto(Throwable)} raises an exception in this fiber where it is suspended; into a
 *       fiber that never started, the fiber ends at once and the exception goes to its nearest
 *       started ancestor.</li>
 *   <li>A suspended fiber that becomes unreachable is garbage-collected without being resumed: no
 *       exception is raised in it and its {@code finally} blocks do not run. This needs
 *       {@code -Djdk.trackAllThreads=false}, which fiberloop's launcher, jars and tests set.</li>
 * </ul>
 *
 * <h2>States</h2>
 * <table>
 *   <caption>Lifecycle of a fiber</caption>
 *   <tr><th>state</th><th>meaning</th><th>next</th></tr>
 *   <tr><td>{@link State#NEW}</td><td>created, never switched into</td><td>RUNNING, ENDED (throwInto)</td></tr>
 *   <tr><td>{@link State#RUNNING}</td><td>the current fiber of its loop</td><td>SUSPENDED, ENDED</td></tr>
 *   <tr><td>{@link State#SUSPENDED}</td><td>waiting in {@code switchTo} or in a fiberloop wait (await, sleep, join)</td><td>RUNNING</td></tr>
 *   <tr><td>{@link State#ENDED}</td><td>its target returned or threw</td><td>(final)</td></tr>
 * </table>
 *
 * <h2>Threading</h2>
 * A fiber belongs to the loop it was created on, for life. Every method must be called from code
 * running on that loop; switching to (or throwing into, or re-parenting onto) a fiber of another
 * loop throws {@link FiberError} at once. A virtual thread started from inside a fiber
 * ({@code Thread.ofVirtual().start(...)}) inherits the fiber's scheduler, so it runs on the same
 * loop too.
 *
 * <h2>Pitfalls</h2>
 * A fiber that blocks its carrier (a long computation, or a pinned blocking call such as a native
 * method) stalls its whole loop; the loop's watchdog reports it with the fiber's stack. Offload such
 * work to a thread pool.
 */
public final class Fiber {
    /** The lifecycle of a fiber; see the table in {@link Fiber}. */
    public enum State {
        /** Created, never switched into. */
        NEW,
        /** Running: the current fiber of its loop. */
        RUNNING,
        /** Suspended in {@code switchTo}, or in a fiberloop wait. */
        SUSPENDED,
        /** Its target has returned or thrown. Final. */
        ENDED
    }

    private static final String NEW_FIBER_FIX = "call it inside EventLoop.run(...) or a task spawned with Fibers.spawn(loop, ...)";
    private static final AtomicLong IDS = new AtomicLong();

    static {
        FiberAccess.install(new Access());
    }

    /** The runtime: virtual thread, run state, waits and cancellation. */
    final Strand strand;
    private final Object target;
    private Fiber parent;
    private String name;
    /**
     * Of a task: where it came from, for its generated name and the dumps' tree: the
     * {@link SpawnLink} of the task that spawned it or, spawned from outside any task, the class of
     * its body.
     */
    private Object origin;
    /** Of a task that spawned tasks: what they know of it; made at its first spawn. Its own loop thread. */
    private SpawnLink spawnLink;
    /** The fiber that last switched into this one: where its end goes when no ancestor can take it. */
    private Fiber switcher;
    /** The task this fiber runs, or {@code null} for a plain fiber. */
    Task<?> task;

    /**
     * A fiber that runs {@code target} when first switched into; its parent is the current fiber.
     *
     * <p>Threading: on a loop (in a fiber, or in a loop callback, where the new fiber has no parent).
     *
     * @param target what the fiber runs
     * @throws IllegalStateException if not called on a loop that hosts fibers
     */
    public Fiber(Runnable target) {
        this(FiberHost.here("new Fiber", NEW_FIBER_FIX), Objects.requireNonNull(target, "target"), currentOrNull(), Strand.Kind.PLAIN, null);
    }

    /**
     * A fiber that runs {@code target} when first switched into; its result goes to the parent.
     *
     * @param target what the fiber runs; its value is returned by the parent's {@code switchTo}
     * @throws IllegalStateException if not called on a loop that hosts fibers
     */
    public Fiber(Callable<?> target) {
        this(FiberHost.here("new Fiber", NEW_FIBER_FIX), Objects.requireNonNull(target, "target"), currentOrNull(), Strand.Kind.PLAIN, null);
    }

    /**
     * A fiber with an explicit parent.
     *
     * @param target what the fiber runs
     * @param parent receives control and the result when the target ends; {@code null} for none
     * @throws FiberError if {@code parent} belongs to another loop or has ended
     */
    public Fiber(Runnable target, Fiber parent) {
        this(FiberHost.here("new Fiber", NEW_FIBER_FIX), Objects.requireNonNull(target, "target"), null, Strand.Kind.PLAIN, null);
        parent(parent);
    }

    /**
     * A fiber with an explicit parent.
     *
     * @param target what the fiber runs; its value goes to the parent
     * @param parent receives control and the result when the target ends; {@code null} for none
     * @throws FiberError if {@code parent} belongs to another loop or has ended
     */
    public Fiber(Callable<?> target, Fiber parent) {
        this(FiberHost.here("new Fiber", NEW_FIBER_FIX), Objects.requireNonNull(target, "target"), null, Strand.Kind.PLAIN, null);
        parent(parent);
    }

    Fiber(FiberHost host, Object target, Fiber parent, Strand.Kind kind, String name) {
        this.strand = new Strand(host, kind, this);
        this.target = target;
        this.parent = parent;
        this.name = name;
    }

    private Fiber(FiberHost host, Thread thread) {
        this.strand = Strand.implicit(host, this, thread);
        this.target = null;
        this.name = thread.getName().isEmpty() ? null : thread.getName();
    }

    // ------------------------------------------------------------------ current

    /**
     * The fiber running the calling code. The loop's main ({@code EventLoop.run}) runs in a root
     * fiber, each task in its own; a virtual thread started from a fiber gets an implicit fiber.
     *
     * @return the current fiber
     * @throws IllegalStateException if the caller is not in a fiber (a plain thread, or a loop
     *     callback such as a task submitted with {@code execute}); the message says what to do
     */
    public static Fiber current() {
        Fiber f = currentOrNull();
        if (f == null) {
            Strand here = Strand.here();
            if (here != null && here.kind() == Strand.Kind.WORK) {
                throw new IllegalStateException("Fiber.current() was called from a loop callback (a task submitted with execute() or a timer), "
                        + "which is not a fiber and must not suspend: spawn a task with Fibers.spawn(...) to run fiber code");
            }
            throw new IllegalStateException("thread '" + Thread.currentThread().getName() + "' is not a fiber: "
                    + "run fiber code inside EventLoop.run(...) or a task spawned with Fibers.spawn(loop, ...)");
        }
        return f;
    }

    /** {@return the current fiber, or {@code null} outside fibers (plain threads, loop callbacks)} */
    public static Fiber currentOrNull() {
        Strand s = Strand.currentOrNull();
        return s == null ? null : s.fiber();
    }

    // ------------------------------------------------------------------ accessors

    /**
     * The fiber's name: the one given (by {@link Fibers#spawn(String, Callable)} or
     * {@link #name(String)}; a server names its request tasks after their route, {@code GET /users/{id}},
     * and its connection tasks after their peer), else one generated on first use that says where
     * the task came from: {@code task-7 from 'GET /users/{id}'} (the task that spawned it) or
     * {@code task-7 from OrderService} (the class whose lambda it runs); {@code fiber-N} for a
     * plain fiber. Dumps, stall reports and failure logs show it.
     *
     * @return the name
     */
    public String name() {
        String n = name;
        if (n == null) {
            n = (task != null ? "task-" : "fiber-") + IDS.incrementAndGet() + from(origin);
            name = n;
        }
        return n;
    }

    /**
     * What the tasks a fiber spawned know of it: the fiber while it runs, its name once it has
     * ended. One per spawning fiber, shared by every task it spawns, so a spawn allocates nothing
     * for it, and an ended spawner is not kept reachable by the tasks it started (they hold the
     * link, which lets go of the fiber at its end).
     */
    private static final class SpawnLink {
        /** The spawner, until it ends. */
        volatile Fiber fiber;
        /** The spawner's name, set when it ends. */
        volatile String name;

        SpawnLink(Fiber fiber) {
            this.fiber = fiber;
        }
    }

    /** Notes where a task came from (see {@link #name()}, {@link #spawner()}); {@code s} is the spawning thread's {@code Strand.here()}. The spawning thread. */
    void origin(Object body, Strand s) {
        if (s != null && s.kind() == Strand.Kind.TASK) {
            Fiber by = s.fiber();
            SpawnLink link = by.spawnLink;
            if (link == null) {
                link = new SpawnLink(by);
                by.spawnLink = link;
            }
            origin = link;
        } else {
            origin = body.getClass();
        }
    }

    /**
     * The task whose fiber spawned this task, while that task runs: the parent in a fiber dump's
     * tree (a {@link TaskScope}'s tasks are its owner's children). A task does not keep its ended
     * spawner reachable.
     * <p>Threading: any thread (from another, the answer may be a moment old).
     *
     * @return the spawning task's fiber, or {@code null} (spawned from a loop callback or another
     *     thread, not a task, or the spawner has ended)
     */
    public Fiber spawner() {
        return origin instanceof SpawnLink link ? link.fiber : null;
    }

    private static String from(Object origin) {
        if (origin instanceof SpawnLink link) {
            Fiber by = link.fiber;
            String n = by != null ? by.name() : link.name;
            return n != null ? " from '" + n + "'" : "";
        }
        if (origin instanceof Class<?> c) {
            String n = c.getName();
            int lambda = n.indexOf("$$Lambda");
            if (lambda >= 0) {
                n = n.substring(0, lambda);
            }
            return " from " + n.substring(n.lastIndexOf('.') + 1);
        }
        return "";
    }

    /**
     * Renames the fiber; its virtual thread takes the name too, so the JDK's thread dumps show it.
     *
     * <p>Threading: any thread.
     *
     * @param name a new name, shown by {@link #toString()}, stall reports, fiber dumps and the
     *     JDK's thread dumps
     * @return this fiber
     */
    public Fiber name(String name) {
        this.name = Objects.requireNonNull(name, "name");
        strand.nameThread(name);
        return this;
    }

    /** {@return the fiber's state} */
    public State state() {
        return strand.state();
    }

    /**
     * As python-fibers' {@code is_alive()}: true until the fiber ends, including before it starts
     * ({@link State#NEW}); use {@link #state()} to tell a fiber that has not started.
     *
     * @return whether the fiber has not ended yet
     */
    public boolean isAlive() {
        return strand.state() != State.ENDED;
    }

    /** {@return the loop this fiber belongs to} */
    public EventLoop loop() {
        return strand.loop();
    }

    /** {@return the parent, or {@code null}} */
    public Fiber parent() {
        return parent;
    }

    /**
     * Changes the parent: the fiber that receives control and the result when this one ends.
     *
     * <p>Threading: on this fiber's loop.
     *
     * @param newParent the new parent, or {@code null} for none
     * @throws FiberError if {@code newParent} would make a cycle, has ended, or belongs to another loop
     */
    public void parent(Fiber newParent) {
        if (newParent != null) {
            if (newParent.strand.host() != strand.host()) {
                throw new FiberError("cannot make " + newParent + " of loop '" + newParent.loop().name() + "' the parent of "
                        + this + " of loop '" + loop().name() + "': a fiber's parent must be on the same loop");
            }
            if (newParent.state() == State.ENDED) {
                throw new FiberError("cannot make " + newParent + " the parent of " + this + ": it has ended");
            }
            for (Fiber p = newParent; p != null; p = p.parent) {
                if (p == this) {
                    throw new FiberError("cannot make " + newParent + " the parent of " + this + ": that would make a cycle");
                }
            }
        }
        this.parent = newParent;
    }

    @Override
    public String toString() {
        Strand.Wait w = strand.waiting();
        return "Fiber[" + name() + ", " + strand.state() + (w == Strand.Wait.NONE ? "" : " in " + (w == Strand.Wait.SWITCH ? "switchTo" : "await")) + "]";
    }

    // ------------------------------------------------------------------ switching

    /**
     * Suspends the current fiber and starts this one, or resumes it where it suspended (its
     * {@code switchTo} then returns {@code null}).
     *
     * @return the value passed by whoever switches back to the current fiber
     * @throws FiberError for an illegal switch (see {@link FiberError})
     */
    public Object switchTo() {
        return transfer(null, null, false);
    }

    /**
     * Suspends the current fiber and resumes this one, whose own pending {@code switchTo} returns
     * {@code value}.
     *
     * @param value the value to hand over
     * @return the value passed by whoever switches back to the current fiber
     * @throws FiberError for an illegal switch, including a value passed to a fiber that has not
     *     started (start it with {@link #switchTo()})
     */
    public Object switchTo(Object value) {
        return transfer(value, null, true);
    }

    /**
     * As {@link #switchTo()}, with the value handed back to the current fiber checked against
     * {@code type}: {@code String line = reader.switchToAs(String.class);}. The switch itself is
     * the same; only the result is typed.
     *
     * @param type what the current fiber expects back, a class or interface ({@code null} is always accepted)
     * @param <T> that type
     * @return the value passed by whoever switches back to the current fiber
     * @throws ClassCastException if that value is not a {@code type}; it is consumed all the same
     * @throws FiberError for an illegal switch
     */
    public <T> T switchToAs(Class<T> type) {
        checkType(type);
        return expect(switchTo(), type);
    }

    /**
     * As {@link #switchTo(Object)}, with the value handed back to the current fiber checked
     * against {@code type}.
     *
     * @param value the value to hand over
     * @param type what the current fiber expects back, a class or interface ({@code null} is always accepted)
     * @param <T> that type
     * @return the value passed by whoever switches back to the current fiber
     * @throws ClassCastException if that value is not a {@code type}; it is consumed all the same
     * @throws FiberError for an illegal switch
     */
    public <T> T switchToAs(Object value, Class<T> type) {
        checkType(type);
        return expect(switchTo(value), type);
    }

    private static void checkType(Class<?> type) {
        Objects.requireNonNull(type, "type");
        if (type.isPrimitive()) {
            throw new IllegalArgumentException("switchToAs(" + type + ".class): a fiber hands over objects; use the wrapper class, e.g. Integer.class");
        }
    }

    private static <T> T expect(Object got, Class<T> type) {
        if (got != null && !type.isInstance(got)) {
            throw new ClassCastException("switchToAs(" + type.getSimpleName() + ".class): " + Fiber.currentOrNull()
                    + " was handed back a " + got.getClass().getName() + ", not a " + type.getName());
        }
        return type.cast(got);
    }

    /**
     * Suspends the current fiber and raises {@code error} in this one where it suspended. Into a
     * fiber that never started: it ends at once, without running, and {@code error} goes to its
     * nearest started ancestor (raised right here if that is the current fiber).
     *
     * @param error the exception to raise
     * @return the value passed by whoever switches back to the current fiber
     * @throws FiberError for an illegal switch
     */
    public Object throwInto(Throwable error) {
        Objects.requireNonNull(error, "error");
        return transfer(null, error, false);
    }

    private Object transfer(Object value, Throwable error, boolean hasValue) {
        Fiber me = currentForSwitch();
        if (me.strand.host() != strand.host()) {
            throw new FiberError("cannot switch from " + me + " of loop '" + me.loop().name() + "' to " + this
                    + " of loop '" + loop().name() + "': fibers switch only within their loop; use a channel or a task to talk across loops");
        }
        if (this == me) {
            throw new FiberError("cannot switch " + this + " to itself");
        }
        switch (strand.state()) {
            case ENDED -> throw new FiberError("cannot switch to " + this + ": it has ended");
            case NEW -> {
                if (error != null) {
                    return throwIntoUnstarted(me, error);
                }
                if (hasValue) {
                    throw new FiberError("cannot pass a value to " + this + ": it has not started; start it with switchTo()");
                }
                me.strand.prepareSwitch();
                recordSwitcher(me);
                strand.start(name, this::body, true);
            }
            case SUSPENDED -> {
                if (strand.waiting() != Strand.Wait.SWITCH) {
                    throw new FiberError("cannot switch to " + this + ": it waits in a fiberloop await (sleep, join, a lock...), "
                            + "not in switchTo(), and resumes by itself; cancel its task to stop it");
                }
                me.strand.prepareSwitch();
                recordSwitcher(me);
                strand.resumeDirect(value, error);
            }
            default -> throw new FiberError("cannot switch to " + this + ": it is running or ready to run (a task that has not "
                    + "suspended yet, or a fiber in a JDK blocking call or yieldNow()); only a fiber suspended in switchTo() can be switched to");
        }
        return me.strand.suspendInSwitch();
    }

    /**
     * Remembers who switched in last: when this fiber ends with no live ancestor, its result goes
     * there (the switcher is its root, as a thread's main fiber is in python-fibers); when its
     * parent cannot take control, a {@link FiberError} does. A task's end goes to its task, so
     * only plain fibers record it: a long-lived task must not keep a fiber it abandoned reachable.
     */
    private void recordSwitcher(Fiber me) {
        if (strand.kind() == Strand.Kind.PLAIN) {
            switcher = me;
        }
    }

    private Object throwIntoUnstarted(Fiber me, Throwable error) {
        strand.markEnded();
        Fiber heir = startedAncestor(parent);
        if (heir == null || heir == me) {
            throw Strand.Sneaky.<RuntimeException>sneak(error);
        }
        if (heir.strand.waiting() != Strand.Wait.SWITCH) {
            strand.host().report(error, "throwInto " + this + " (never started): its ancestor " + heir + " is not in switchTo()");
            throw Strand.Sneaky.<RuntimeException>sneak(error);
        }
        me.strand.prepareSwitch();
        heir.strand.resumeDirect(null, error);
        return me.strand.suspendInSwitch();
    }

    private static Fiber currentForSwitch() {
        Fiber me = currentOrNull();
        if (me == null) {
            throw new FiberError("switchTo/throwInto must be called from a fiber (inside EventLoop.run(...) or a spawned task), "
                    + "not from thread '" + Thread.currentThread().getName() + "' or a loop callback");
        }
        return me;
    }

    /** The nearest ancestor that has started and not ended, starting at {@code p}. */
    private static Fiber startedAncestor(Fiber p) {
        while (p != null && !p.strand.started()) {
            p = p.parent;
        }
        return p;
    }

    /** Creates and starts the fiber's virtual thread (its first run goes through the loop's queue). */
    void start() {
        strand.start(name, this::body, false);
    }

    // ------------------------------------------------------------------ running and ending

    private void body() {
        Object result = null;
        Throwable failure = null;
        try {
            strand.checkCancelled();
            if (target instanceof Callable<?> c) {
                result = c.call();
            } else {
                ((Runnable) target).run();
            }
        } catch (Throwable t) {
            failure = t;
        }
        finish(result, failure);
    }

    /** The target returned {@code result} or threw {@code failure}: ends the fiber (and settles its task). */
    private void finish(Object result, Throwable failure) {
        if (failure instanceof InterruptedException && task != null && strand.cancelRequested()) {
            // cancel() interrupted a JDK blocking call and the task let the interrupt escape: it was cancelled
            CancelledException ce = new CancelledException("task '" + name() + "' was cancelled");
            ce.initCause(failure);
            failure = ce;
        }
        end(result, failure);
    }

    private void end(Object result, Throwable failure) {
        strand.markEnded();
        SpawnLink link = spawnLink;
        if (link != null) {
            link.name = name(); // what the tasks it spawned are named after from now on
            link.fiber = null;
        }
        if (task != null) {
            strand.host().taskEnded(strand);
            task.settle(result, failure);
        }
        Fiber heir = startedAncestor(parent);
        Fiber from = switcher;
        switcher = null;
        if (heir != null && heir.strand.waiting() == Strand.Wait.SWITCH) {
            heir.strand.resumeDirect(failure == null ? result : null, failure);
            return;
        }
        boolean fromWaits = from != null && from != heir && from.strand.suspendedInSwitch();
        if (heir == null && fromWaits) {
            // No live ancestor: the fiber that switched in last is the root it returns to.
            from.strand.resumeDirect(failure == null ? result : null, failure);
        } else if (fromWaits) {
            // The parent cannot take control (it waits in await, sleep or join): rather than leave
            // the fiber that switched in suspended forever, raise there.
            FiberError error = new FiberError(this + " ended, but its parent " + heir
                    + " is not suspended in switchTo() to receive " + (failure == null ? "its result" : "its exception")
                    + "; make the parent switch into it, or give it a parent that does");
            if (failure != null) {
                error.initCause(failure);
            }
            from.strand.resumeDirect(null, error);
        } else if (failure != null && task == null) {
            strand.host().report(failure, this + " ended with an exception and its parent " + (heir == null ? "(none)" : heir)
                    + " is not in switchTo() to receive it");
        }
    }

    // ------------------------------------------------------------------ what the internal package needs

    /** Creates fibers and tasks for {@code io.fiberloop.fiber.internal}. */
    private static final class Access extends FiberAccess {
        @Override
        public Strand newImplicitFiber(FiberHost host, Thread thread) {
            return new Fiber(host, thread).strand;
        }

        @Override
        public <T> void startMain(FiberHost host, Callable<T> main, CompletableFuture<T> result) {
            Task<T> task = Task.spawn(host, host.loop().name() + "-main", main);
            task.onComplete((v, e) -> {
                if (e != null) {
                    result.completeExceptionally(e);
                } else {
                    result.complete(v);
                }
            });
        }

        @Override
        public <T> Task<T> newInlineTask(FiberHost host, String name, Callable<T> body) {
            return Task.inline(host, name, body);
        }

        @Override
        public void runInline(Strand work, Task<?> task) {
            Fiber f = task.fiber;
            if (f.strand.state() != State.NEW) {
                return; // cancelled before it could start: settled already
            }
            work.runAsStandIn(f.strand, f::body);
        }

        @Override
        public Strand strandOf(Task<?> task) {
            return task.fiber.strand;
        }

        @Override
        public void finishInline(Task<?> task, Object result, Throwable failure) {
            task.fiber.finish(result, failure);
        }

        @Override
        public Throwable unretrievedFailure(Task<?> task) {
            return task.unretrievedFailure();
        }

        @Override
        public void abandon(Strand strand, String why) {
            Task<?> task = strand.fiber().task;
            if (task != null) {
                task.settle(null, new CancelledException(why));
            }
        }
    }
}
