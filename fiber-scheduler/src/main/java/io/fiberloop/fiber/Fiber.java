package io.fiberloop.fiber;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClosedException;
import io.fiberloop.loop.TimerHandle;
import io.fiberloop.loop.spi.LoopCarrier;
import io.fiberloop.loop.spi.WakeTask;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

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

    /** What a suspended fiber waits for. */
    enum Wait { NONE, SWITCH, AWAIT }

    /** What kind of code the fiber runs. */
    enum Kind { PLAIN, TASK, IMPLICIT, WORK }

    /** Implicit fibers only (virtual threads started inside a fiber); other fibers are found through {@link #here()}. */
    static final ThreadLocal<Fiber> CURRENT = new ThreadLocal<>();
    private static final String NEW_FIBER_FIX = "call it inside EventLoop.run(...) or a task spawned with Fibers.spawn(loop, ...)";
    private static final AtomicLong IDS = new AtomicLong();

    final FiberHost host;
    final Kind kind;
    private final Object target;
    private Fiber parent;
    private String name;
    Thread thread;
    State state = State.NEW;
    Wait waiting = Wait.NONE;

    // switch transfer
    private boolean resumed;
    /** The fiber that last switched into this one (the fallback receiver when it ends). */
    private Fiber switcher;
    private Object inValue;
    private Throwable inError;

    // tasks and cancellation
    Task<?> task;
    /** Links of the host's list of live tasks (intrusive: no set entry per task). */
    Fiber livePrev;
    Fiber liveNext;
    boolean cancelRequested;
    DeadlineScope scopes;

    /**
     * A fiber that runs {@code target} when first switched into; its parent is the current fiber.
     *
     * <p>Threading: on a loop (in a fiber, or in a loop callback, where the new fiber has no parent).
     *
     * @param target what the fiber runs
     * @throws IllegalStateException if not called on a loop that hosts fibers
     */
    public Fiber(Runnable target) {
        this(hostHere("new Fiber", NEW_FIBER_FIX), Objects.requireNonNull(target, "target"), currentOrNull(), Kind.PLAIN, null);
    }

    /**
     * A fiber that runs {@code target} when first switched into; its result goes to the parent.
     *
     * @param target what the fiber runs; its value is returned by the parent's {@code switchTo}
     * @throws IllegalStateException if not called on a loop that hosts fibers
     */
    public Fiber(Callable<?> target) {
        this(hostHere("new Fiber", NEW_FIBER_FIX), Objects.requireNonNull(target, "target"), currentOrNull(), Kind.PLAIN, null);
    }

    /**
     * A fiber with an explicit parent.
     *
     * @param target what the fiber runs
     * @param parent receives control and the result when the target ends; {@code null} for none
     * @throws FiberError if {@code parent} belongs to another loop or has ended
     */
    public Fiber(Runnable target, Fiber parent) {
        this(hostHere("new Fiber", NEW_FIBER_FIX), Objects.requireNonNull(target, "target"), null, Kind.PLAIN, null);
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
        this(hostHere("new Fiber", NEW_FIBER_FIX), Objects.requireNonNull(target, "target"), null, Kind.PLAIN, null);
        parent(parent);
    }

    Fiber(FiberHost host, Object target, Fiber parent, Kind kind, String name) {
        this.host = host;
        this.target = target;
        this.parent = parent;
        this.kind = kind;
        this.name = name;
    }

    /**
     * The fiber whose code is running, of any kind (work fibers included), or {@code null} off a
     * loop. The carrier's host knows which fiber it has mounted, so no thread-local is needed
     * (which saves a ThreadLocalMap per fiber); only implicit fibers use one.
     */
    static Fiber here() {
        if (EventLoop.currentOrNull() instanceof LoopCarrier c && c.host() instanceof FiberHost h) {
            Fiber m = h.mounted;
            if (m != null && m.thread == Thread.currentThread()) {
                return m;
            }
            return Thread.currentThread().isVirtual() ? CURRENT.get() : null;
        }
        return null;
    }

    /**
     * The fiber host of the code running now: the current fiber's, or the current loop's.
     *
     * @param what the operation, for the message
     * @param fix what to do instead when the caller is not on a loop
     */
    static FiberHost hostHere(String what, String fix) {
        Fiber f = here();
        if (f != null) {
            return f.host;
        }
        EventLoop loop = EventLoop.currentOrNull();
        if (loop == null) {
            throw new IllegalStateException(what + " needs an event loop, and thread '" + Thread.currentThread().getName()
                    + "' is not on one: " + fix);
        }
        return FiberHost.of(loop);
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
            Fiber here = here();
            if (here != null && here.kind == Kind.WORK) {
                throw new IllegalStateException("Fiber.current() was called from a loop callback (a task submitted with execute() or a timer), "
                        + "which is not a fiber and must not suspend: spawn a task with Fibers.spawn(...) to run fiber code");
            }
            throw new IllegalStateException("thread '" + Thread.currentThread().getName() + "' is not a fiber: "
                    + "run fiber code inside EventLoop.run(...) or a task spawned with Fibers.spawn(loop, ...)");
        }
        return f;
    }

    /** @return the current fiber, or {@code null} outside fibers (plain threads, loop callbacks) */
    public static Fiber currentOrNull() {
        Fiber f = here();
        if (f != null) {
            return f.kind == Kind.WORK ? null : f;
        }
        Thread t = Thread.currentThread();
        if (t.isVirtual()) {
            EventLoop loop = EventLoop.currentOrNull();
            FiberHost host = loop == null ? null : FiberHost.ofOrNull(loop);
            if (host != null) {
                Fiber implicit = new Fiber(host, null, null, Kind.IMPLICIT, t.getName().isEmpty() ? null : t.getName());
                implicit.thread = t;
                implicit.state = State.RUNNING;
                CURRENT.set(implicit);
                return implicit;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ accessors

    /** @return the fiber's name ({@code fiber-N} unless set; generated on first use) */
    public String name() {
        String n = name;
        if (n == null) {
            n = "fiber-" + IDS.incrementAndGet();
            name = n;
        }
        return n;
    }

    /** @return the name given explicitly, or {@code null} */
    String givenName() {
        return name;
    }

    /**
     * @param name a new name, shown by {@link #toString()} and in stall reports
     * @return this fiber
     */
    public Fiber name(String name) {
        this.name = Objects.requireNonNull(name, "name");
        return this;
    }

    /** @return the fiber's state */
    public State state() {
        return state;
    }

    /**
     * As python-fibers' {@code is_alive()}: true until the fiber ends, including before it starts
     * ({@link State#NEW}); use {@link #state()} to tell a fiber that has not started.
     *
     * @return whether the fiber has not ended yet
     */
    public boolean isAlive() {
        return state != State.ENDED;
    }

    /** @return the loop this fiber belongs to */
    public EventLoop loop() {
        return host.loop;
    }

    /** @return the parent, or {@code null} */
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
            if (newParent.host != host) {
                throw new FiberError("cannot make " + newParent + " of loop '" + newParent.host.loop.name() + "' the parent of "
                        + this + " of loop '" + host.loop.name() + "': a fiber's parent must be on the same loop");
            }
            if (newParent.state == State.ENDED) {
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
        return "Fiber[" + name() + ", " + state + (waiting == Wait.NONE ? "" : " in " + (waiting == Wait.SWITCH ? "switchTo" : "await")) + "]";
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
        if (me.host != host) {
            throw new FiberError("cannot switch from " + me + " of loop '" + me.host.loop.name() + "' to " + this
                    + " of loop '" + host.loop.name() + "': fibers switch only within their loop; use a channel or a task to talk across loops");
        }
        if (this == me) {
            throw new FiberError("cannot switch " + this + " to itself");
        }
        switch (state) {
            case ENDED -> throw new FiberError("cannot switch to " + this + ": it has ended");
            case NEW -> {
                if (error != null) {
                    return throwIntoUnstarted(me, error);
                }
                if (hasValue) {
                    throw new FiberError("cannot pass a value to " + this + ": it has not started; start it with switchTo()");
                }
                me.prepareSuspend();
                recordSwitcher(me);
                startDirect();
            }
            case SUSPENDED -> {
                if (waiting != Wait.SWITCH) {
                    throw new FiberError("cannot switch to " + this + ": it waits in a fiberloop await (sleep, join, a lock...), "
                            + "not in switchTo(), and resumes by itself; cancel its task to stop it");
                }
                me.prepareSuspend();
                recordSwitcher(me);
                resumeDirect(this, value, error);
            }
            default -> throw new FiberError("cannot switch to " + this + ": it is running or ready to run (a task that has not "
                    + "suspended yet, or a fiber in a JDK blocking call or yieldNow()); only a fiber suspended in switchTo() can be switched to");
        }
        return me.suspendInSwitch();
    }

    /**
     * Remembers who switched in last: when this fiber ends with no live ancestor, its result goes
     * there (the switcher is its root, as a thread's main fiber is in python-fibers); when its
     * parent cannot take control, a {@link FiberError} does. A task's end goes to its task, so
     * only plain fibers record it: a long-lived task must not keep a fiber it abandoned reachable.
     */
    private void recordSwitcher(Fiber me) {
        if (kind == Kind.PLAIN) {
            switcher = me;
        }
    }

    private Object throwIntoUnstarted(Fiber me, Throwable error) {
        state = State.ENDED;
        Fiber heir = startedAncestor(parent);
        if (heir == null || heir == me) {
            throw Sneaky.<RuntimeException>sneak(error);
        }
        if (heir.waiting != Wait.SWITCH) {
            host.report(error, "throwInto " + this + " (never started): its ancestor " + heir + " is not in switchTo()");
            throw Sneaky.<RuntimeException>sneak(error);
        }
        me.prepareSuspend();
        resumeDirect(heir, null, error);
        return me.suspendInSwitch();
    }

    private static Fiber currentForSwitch() {
        Fiber me = here();
        if (me == null || me.kind == Kind.WORK) {
            me = currentOrNull();
        }
        if (me == null) {
            throw new FiberError("switchTo/throwInto must be called from a fiber (inside EventLoop.run(...) or a spawned task), "
                    + "not from thread '" + Thread.currentThread().getName() + "' or a loop callback");
        }
        return me;
    }

    /** The nearest ancestor that has started and not ended, starting at {@code p}. */
    private static Fiber startedAncestor(Fiber p) {
        while (p != null && p.state != State.RUNNING && p.state != State.SUSPENDED) {
            p = p.parent;
        }
        return p;
    }

    private void prepareSuspend() {
        resumed = false;
        state = State.SUSPENDED;
        waiting = Wait.SWITCH;
    }

    private Object suspendInSwitch() {
        boolean interrupted = false;
        while (!resumed) {
            LockSupport.park(this);
            if (Thread.interrupted()) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        state = State.RUNNING;
        waiting = Wait.NONE;
        Object v = inValue;
        Throwable e = inError;
        inValue = null;
        inError = null;
        if (e != null) {
            throw Sneaky.<RuntimeException>sneak(e);
        }
        return v;
    }

    /** Makes {@code target}, suspended in switchTo, the very next thing its loop runs. */
    private static void resumeDirect(Fiber target, Object value, Throwable error) {
        target.inValue = value;
        target.inError = error;
        target.resumed = true;
        FiberHost h = target.host;
        h.directNext = true;
        try {
            LockSupport.unpark(target.thread);
        } finally {
            h.directNext = false;
        }
    }

    private void startDirect() {
        host.directNext = true;
        try {
            start();
        } finally {
            host.directNext = false;
        }
    }

    /** Creates and starts the fiber's virtual thread (its first run goes through the loop's queue). */
    void start() {
        Thread t = host.newFiberThread(this, this::body);
        thread = t;
        state = State.RUNNING;
        t.start();
    }

    // ------------------------------------------------------------------ running and ending

    private void body() {
        Object result = null;
        Throwable failure = null;
        try {
            CancelledException early = pendingCancellation();
            if (early != null) {
                throw early;
            }
            if (target instanceof Callable<?> c) {
                result = c.call();
            } else {
                ((Runnable) target).run();
            }
        } catch (Throwable t) {
            failure = t;
        }
        if (failure instanceof InterruptedException && task != null && cancelRequested) {
            // cancel() interrupted a JDK blocking call and the task let the interrupt escape: it was cancelled
            CancelledException ce = new CancelledException("task '" + name() + "' was cancelled");
            ce.initCause(failure);
            failure = ce;
        }
        end(result, failure);
    }

    private void end(Object result, Throwable failure) {
        state = State.ENDED;
        waiting = Wait.NONE;
        scopes = null;
        if (task != null) {
            host.taskEnded(this);
            task.settle(result, failure);
        }
        Fiber heir = startedAncestor(parent);
        Fiber from = switcher;
        switcher = null;
        if (heir != null && heir.waiting == Wait.SWITCH) {
            resumeDirect(heir, failure == null ? result : null, failure);
            return;
        }
        boolean fromWaits = from != null && from != heir && from.state == State.SUSPENDED && from.waiting == Wait.SWITCH;
        if (heir == null && fromWaits) {
            // No live ancestor: the fiber that switched in last is the root it returns to.
            resumeDirect(from, failure == null ? result : null, failure);
        } else if (fromWaits) {
            // The parent cannot take control (it waits in await, sleep or join, or there is none):
            // rather than leave the fiber that switched in suspended forever, raise there.
            FiberError error = new FiberError(this + " ended, but its parent " + heir
                    + " is not suspended in switchTo() to receive " + (failure == null ? "its result" : "its exception")
                    + "; make the parent switch into it, or give it a parent that does");
            if (failure != null) {
                error.initCause(failure);
            }
            resumeDirect(from, null, error);
        } else if (failure != null && task == null) {
            host.report(failure, this + " ended with an exception and its parent " + (heir == null ? "(none)" : heir)
                    + " is not in switchTo() to receive it");
        }
    }


    // ------------------------------------------------------------------ waiting and cancellation

    /** Condition of a fiberloop wait. */
    interface Until {
        boolean done();
    }

    /**
     * Suspends this (current) fiber until {@code until} holds, raising {@link CancelledException} if
     * the fiber is or becomes cancelled. Whoever makes the condition true must unpark the fiber.
     */
    void awaitUntil(Until until) {
        checkCancelled();
        if (until.done()) {
            return;
        }
        state = State.SUSPENDED;
        waiting = Wait.AWAIT;
        try {
            while (!until.done()) {
                LockSupport.park(this);
                if (Thread.interrupted()) {
                    cancelRequested = true;
                }
                checkCancelled();
            }
        } finally {
            state = State.RUNNING;
            waiting = Wait.NONE;
        }
    }

    /** Wakes this fiber if it waits in a fiberloop wait. Any thread. */
    void wake() {
        LockSupport.unpark(thread);
    }

    /** Throws if this fiber has a pending cancellation. */
    void checkCancelled() {
        CancelledException e = pendingCancellation();
        if (e != null) {
            Thread.interrupted();
            throw e;
        }
    }

    /** The cancellation that applies to this fiber now, or {@code null}: level-triggered. */
    CancelledException pendingCancellation() {
        DeadlineScope hit = null;
        for (DeadlineScope s = scopes; s != null; s = s.outer) {
            if (s.shield) {
                return hit == null ? null : hit.exception();
            }
            if (s.expired) {
                hit = s;
            }
        }
        if (cancelRequested) {
            return new CancelledException((task != null ? "task '" + name() + "'" : String.valueOf(this)) + " was cancelled");
        }
        return hit == null ? null : hit.exception();
    }

    /** Loop thread: cancels this fiber's task. @return false if the fiber had already ended */
    boolean requestCancel() {
        if (state == State.ENDED) {
            return false;
        }
        cancelRequested = true;
        interruptWait();
        return true;
    }

    /** Delivers a cancellation: wakes a fiberloop wait, or interrupts a JDK blocking call. */
    void interruptWait() {
        if (thread == null || state == State.NEW || state == State.ENDED) {
            return;
        }
        if (waiting == Wait.AWAIT) {
            LockSupport.unpark(thread);
        } else if (waiting == Wait.SWITCH) {
            CancelledException e = pendingCancellation();
            if (e != null) {
                // Raised from its switchTo: from now on it is ready to run, and nobody may switch into it.
                inValue = null;
                inError = e;
                resumed = true;
                state = State.RUNNING;
                waiting = Wait.NONE;
                LockSupport.unpark(thread);
            }
        } else if (thread != Thread.currentThread()) {
            thread.interrupt();
        }
    }

    /**
     * Schedules {@code wake} on this fiber's loop {@code delay} from now, for a wait of this fiber.
     * A loop that has begun to close (another thread called {@code close()} while this fiber ran)
     * refuses new timers and cancels its tasks: the wait then raises {@link CancelledException}
     * at once, and so does every later one (the fiber counts as cancelled).
     */
    TimerHandle scheduleWake(WakeTask wake, java.time.Duration delay) {
        try {
            return host.loop.schedule(wake, delay);
        } catch (LoopClosedException closing) {
            cancelRequested = true;
            CancelledException e = new CancelledException("loop '" + host.loop.name() + "' is closing: "
                    + (task != null ? "task '" + name() + "'" : String.valueOf(this)) + " was cancelled");
            e.initCause(closing);
            throw e;
        }
    }

    /** A deadline or shield scope of this fiber; innermost first. */
    static final class DeadlineScope {
        final DeadlineScope outer;
        final boolean shield;
        final java.time.Duration timeout;
        boolean expired;

        DeadlineScope(DeadlineScope outer, boolean shield, java.time.Duration timeout) {
            this.outer = outer;
            this.shield = shield;
            this.timeout = timeout;
        }

        CancelledException exception() {
            return new CancelledException("deadline of " + timeout.toMillis() + " ms expired", this);
        }
    }

    DeadlineScope pushScope(boolean shield, java.time.Duration timeout) {
        DeadlineScope s = new DeadlineScope(scopes, shield, timeout);
        scopes = s;
        return s;
    }

    void popScope(DeadlineScope s) {
        if (scopes == s) {
            scopes = s.outer;
        } else {
            // Defensive: unwind to the scope's parent even if inner scopes leaked.
            scopes = s.outer;
        }
    }

    /** Runs on the loop (a timer): marks the scope expired and wakes the fiber. */
    void expire(DeadlineScope s) {
        if (state == State.ENDED) {
            return;
        }
        s.expired = true;
        interruptWait();
    }

    /** Throws any throwable without declaring it; used to re-raise what was handed over by a switch. */
    static final class Sneaky {
        private Sneaky() {
        }

        @SuppressWarnings("unchecked")
        static <X extends Throwable> X sneak(Throwable t) throws X {
            throw (X) t;
        }
    }
}
