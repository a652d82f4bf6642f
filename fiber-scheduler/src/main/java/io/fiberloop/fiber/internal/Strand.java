package io.fiberloop.fiber.internal;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fiber;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClosedException;
import io.fiberloop.loop.TimerHandle;
import io.fiberloop.loop.spi.LoopWork;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.LockSupport;

/**
 * The runtime of one fiber: its virtual thread and that thread's scheduler, its run state, how it
 * suspends and is woken, and the cancellation its suspension points check. The public
 * {@link Fiber} keeps the python-fibers side (target, parent, the rules of switching); tasks,
 * the coordination primitives and channels wait through this class.
 *
 * <h2>The scheduler</h2>
 * A virtual thread has at most one continuation submission pending at a time, and always submits
 * the same {@code Runnable} (its {@code runContinuation}), so the strand carries it to the loop
 * without allocating, records which strand is mounted (for {@link #here()} and the watchdog), and
 * honours a direct switch by asking the carrier to run it next. A virtual thread started inside
 * the fiber inherits this scheduler; its submissions are recognised (a different
 * {@code Runnable}) and go to the loop unchanged.
 *
 * <h2>States</h2>
 * <pre>
 *   NEW --start--> RUNNING --suspend (switchTo: SWITCH, a wait: AWAIT)--> SUSPENDED
 *                     ^                                                       |
 *                     +----------- resumed / woken / cancelled ---------------+
 *   RUNNING --target returns or throws--> ENDED        NEW --cancel, throwInto--> ENDED
 * </pre>
 *
 * <p>Threading: the loop's carrier (code of its fibers and callbacks), but for {@link #wake()} and
 * the scheduler's {@link #execute(Runnable)}, which any thread may call.
 */
public final class Strand implements Executor, Runnable {
    /** What kind of code the strand runs. */
    public enum Kind {
        /** A {@link Fiber} created by user code. */
        PLAIN,
        /** The fiber of a task. */
        TASK,
        /** A virtual thread started inside a fiber (it inherited the fiber's scheduler). */
        IMPLICIT,
        /** The loop's work fiber: tasks, timers, I/O (not a fiber to user code). */
        WORK
    }

    /** What a suspended strand waits for. */
    public enum Wait {
        /** Not suspended, or in a JDK blocking call. */
        NONE,
        /** In {@code switchTo}: resumed only by a switch (or its cancellation). */
        SWITCH,
        /** In a fiberloop wait: woken by whoever completes what it waits for. */
        AWAIT
    }

    /** Implicit strands only; the others are found through their host's mounted strand. */
    private static final ThreadLocal<Strand> IMPLICIT = new ThreadLocal<>();

    private final FiberHost host;
    private final Kind kind;
    private final Fiber fiber;
    private Thread thread;
    private Fiber.State state = Fiber.State.NEW;
    private Wait waiting = Wait.NONE;

    // what a switch into a suspended strand hands over
    private boolean resumed;
    private Object inValue;
    private Throwable inError;

    // cancellation: the task's request and the cancel scopes (deadlines, shields), innermost first
    private boolean cancelRequested;
    Scope scopes;

    // the host's list of live tasks
    Strand livePrev;
    Strand liveNext;
    boolean live;

    // the scheduler: the thread's own continuation and the one pending
    private Runnable own;
    private Runnable pending;
    /** A work strand only: the task strand it runs inline now, whose identity it takes while mounted. */
    private Strand standIn;
    /**
     * A work strand only: the inline call it runs now that has no task yet ({@link InlineCall}):
     * whoever asks for the current strand, and the first suspension, make it one.
     */
    InlineCall<?> lazy;
    /** How many times the strand's thread left the carrier (a work strand's: whether an inline call suspended). */
    int unmounts;

    /** Whether its thread carries the fiber's name (given at start, by a rename, or on first suspension). */
    private boolean threadNamed;
    /**
     * A task strand only: whether it runs on the work fiber's thread and has not suspended yet
     * ({@link #runAsStandIn}): the thread keeps the work fiber's name until the task first
     * suspends, so a request answered at once renames no thread.
     */
    private boolean borrowing;

    /** The fiberloop locks it holds, innermost first; {@code null} when it holds none. */
    HeldLock heldLocks;

    /**
     * A strand that has not started.
     *
     * @param host the loop's fiber host
     * @param kind what the strand runs
     * @param fiber its public face; {@code null} only for a work strand
     */
    public Strand(FiberHost host, Kind kind, Fiber fiber) {
        this.host = host;
        this.kind = kind;
        this.fiber = fiber;
    }

    /**
     * The strand of a virtual thread started inside a fiber, which is running already.
     *
     * @param host the loop's fiber host
     * @param fiber its public face
     * @param thread the virtual thread
     * @return the strand, running
     */
    public static Strand implicit(FiberHost host, Fiber fiber, Thread thread) {
        Strand s = new Strand(host, Kind.IMPLICIT, fiber);
        s.thread = thread;
        s.state = Fiber.State.RUNNING;
        return s;
    }

    // ------------------------------------------------------------------ finding the current strand

    /**
     * The strand whose code runs now, of any kind (work strands included), or {@code null} off a
     * loop. The carrier's host knows which strand it has mounted, so no thread-local is needed
     * (which saves a ThreadLocalMap per fiber); only implicit strands use one.
     *
     * @return the running strand, or {@code null}
     */
    public static Strand here() {
        if (EventLoop.currentOrNull() instanceof LoopWork w && w.host() instanceof FiberHost h) {
            Strand m = h.mounted;
            if (m != null && m.thread == Thread.currentThread()) {
                return m.lazy == null ? m : m.lazy.becomeTask(true);
            }
            return Thread.currentThread().isVirtual() ? IMPLICIT.get() : null;
        }
        return null;
    }

    /**
     * The strand of the current fiber, or {@code null} outside fibers (plain threads, loop
     * callbacks). A virtual thread started inside a fiber gets an implicit fiber on first use.
     *
     * @return the current fiber's strand, or {@code null}
     */
    public static Strand currentOrNull() {
        Strand s = here();
        if (s != null) {
            return s.kind == Kind.WORK ? null : s;
        }
        Thread t = Thread.currentThread();
        if (t.isVirtual()) {
            EventLoop loop = EventLoop.currentOrNull();
            FiberHost host = loop == null ? null : FiberHost.ofOrNull(loop);
            if (host != null) {
                Strand implicit = FiberAccess.get().newImplicitFiber(host, t);
                IMPLICIT.set(implicit);
                return implicit;
            }
        }
        return null;
    }

    /**
     * The strand that may suspend here, for an operation that waits.
     *
     * @param what the operation, for messages ({@code "join()"})
     * @return the current fiber's strand; {@code null} on a plain thread (which may block instead)
     * @throws IllegalStateException in a loop callback, or on a loop's carrier outside any fiber
     */
    public static Strand suspendable(String what) {
        Strand me = here();
        if (me != null) {
            if (me.kind == Kind.WORK) {
                throw new IllegalStateException(what + " was called from a loop callback (a task submitted with execute() or a timer): "
                        + "callbacks must not block their loop; spawn a task with Fibers.spawn(...) and call " + what
                        + " there (to react to a task's end without waiting, use task.onComplete(...))");
            }
            return me;
        }
        me = currentOrNull();
        if (me != null) {
            return me;
        }
        EventLoop loop = EventLoop.currentOrNull();
        if (loop != null) {
            throw new IllegalStateException(what + " was called on the carrier thread of loop '" + loop.name()
                    + "' outside any fiber, where it would deadlock the loop: spawn a task with Fibers.spawn(...) and call " + what + " there");
        }
        return null;
    }

    /**
     * As {@link #suspendable(String)}, for an operation that needs a fiber even where a plain
     * thread could block.
     *
     * @param what the operation, for messages
     * @return the current fiber's strand
     * @throws IllegalStateException off a fiber
     */
    public static Strand requireFiber(String what) {
        Strand me = suspendable(what);
        if (me == null) {
            throw new IllegalStateException(what + " must be called from a fiber (inside EventLoop.run(...) or a spawned task), not from thread '"
                    + Thread.currentThread().getName() + "'");
        }
        return me;
    }

    // ------------------------------------------------------------------ accessors

    /** {@return the loop's fiber host} */
    public FiberHost host() {
        return host;
    }

    /** {@return the loop this strand belongs to} */
    public EventLoop loop() {
        return host.loop;
    }

    /** {@return what the strand runs} */
    public Kind kind() {
        return kind;
    }

    /** {@return whether this is the fiber of a task} */
    public boolean isTask() {
        return kind == Kind.TASK;
    }

    /** {@return the public fiber; {@code null} for a work strand} */
    public Fiber fiber() {
        return fiber;
    }

    /** {@return the virtual thread; {@code null} until started} */
    public Thread thread() {
        return thread;
    }

    /** {@return the run state} */
    public Fiber.State state() {
        return state;
    }

    /** {@return what it waits for while suspended} */
    public Wait waiting() {
        return waiting;
    }

    /** {@return whether it is suspended in {@code switchTo} (so that a switch may resume it)} */
    public boolean suspendedInSwitch() {
        return state == Fiber.State.SUSPENDED && waiting == Wait.SWITCH;
    }

    /** {@return whether it has started and not ended} */
    public boolean started() {
        return state == Fiber.State.RUNNING || state == Fiber.State.SUSPENDED;
    }

    /** Ends a strand without running it (cancelled or thrown into before it started), or after its body. */
    public void markEnded() {
        state = Fiber.State.ENDED;
        waiting = Wait.NONE;
        scopes = null;
    }

    @Override
    public String toString() {
        return fiber != null ? fiber.toString() : "work fiber " + (thread == null ? "(not started)" : thread.getName());
    }

    // ------------------------------------------------------------------ starting and switching

    /**
     * Creates and starts the strand's virtual thread; its first run goes through the loop's queue,
     * or, with {@code direct}, is the very next thing the carrier runs (a switch into a new fiber).
     *
     * @param name the thread's name, or {@code null}
     * @param body what the thread runs
     * @param direct whether the start is a direct switch
     */
    public void start(String name, Runnable body, boolean direct) {
        Thread t = newThread(name, body);
        if (!direct) {
            t.start();
            return;
        }
        host.directNext = true;
        try {
            t.start();
        } finally {
            host.directNext = false;
        }
    }

    /** Creates the strand's virtual thread, not started; the strand counts as running from now on. */
    Thread newThread(String name, Runnable body) {
        Thread t = host.newThread(this, name, body);
        threadNamed = name != null;
        thread = t;
        state = Fiber.State.RUNNING;
        return t;
    }

    /**
     * Runs {@code body} as the task strand {@code task}, on the calling work strand's own thread
     * (see {@link Inline}): while it runs, and whenever the work strand's thread is mounted again
     * after a suspension, code finds {@code task} as its current strand. The loop hands its work to
     * a new work fiber as soon as this one suspends inside the body, as for any loop task that
     * blocks; this one retires once the body returns. Carrier only, on a work strand.
     *
     * @param task a task strand that has not started
     * @param body what it runs
     */
    public void runAsStandIn(Strand task, Runnable body) {
        assert kind == Kind.WORK && thread == Thread.currentThread() : "runAsStandIn off the work fiber";
        String ownName = thread.getName();
        beginStandIn(task, true);
        try {
            body.run();
        } finally {
            endStandIn(task, ownName);
        }
    }

    /**
     * From now on this work strand stands in for {@code task} (see {@link #runAsStandIn}): the
     * task counts as running on this strand's thread, which keeps its name until the task
     * suspends. Carrier only.
     *
     * @param task a task strand that has not started
     * @param mountedNow whether this strand's thread is mounted now (so that the task becomes the current strand at once)
     */
    void beginStandIn(Strand task, boolean mountedNow) {
        task.thread = thread;
        task.state = Fiber.State.RUNNING;
        task.borrowing = true;
        standIn = task;
        if (mountedNow) {
            host.mounted = task;
        }
    }

    /**
     * Ends {@link #beginStandIn}: this strand is itself again, under its own name. On this
     * strand's thread.
     *
     * @param task the task it stood in for
     * @param ownName this strand's thread's name before
     */
    void endStandIn(Strand task, String ownName) {
        task.borrowing = false;
        standIn = null;
        host.mounted = this;
        if (task.threadNamed) {
            thread.setName(ownName); // the task had lent this thread its name
        }
    }

    /**
     * Gives the strand's thread the fiber's name, for the JDK's thread dumps: at once if the
     * thread exists and is the strand's own, when it starts, or, for a task still running inline
     * on the work fiber's thread, when it first suspends. Any thread.
     *
     * @param name the fiber's new name
     */
    public void nameThread(String name) {
        Thread t = thread;
        if (borrowing) {
            threadNamed = false; // still on the work fiber's thread: named if it suspends
            return;
        }
        if (t != null && kind != Kind.WORK && state != Fiber.State.ENDED) {
            t.setName(name);
            threadNamed = true;
        }
    }

    /**
     * The strand's thread left the carrier for the first time without a name (an unnamed task or
     * fiber): names it now, with the fiber's generated name, so that the JDK's thread dumps show
     * every suspended fiber by name while a fiber that never suspends pays nothing for it.
     */
    private void nameOnFirstSuspension() {
        threadNamed = true;
        borrowing = false; // suspended: the thread is the task's now
        if (kind != Kind.WORK && state != Fiber.State.ENDED) {
            thread.setName(fiber.name());
        }
    }

    /** The calling (current) strand is about to suspend in {@code switchTo}. */
    public void prepareSwitch() {
        resumed = false;
        state = Fiber.State.SUSPENDED;
        waiting = Wait.SWITCH;
    }

    /**
     * Suspends the calling (current) strand until a switch resumes it.
     *
     * @return the value handed over
     */
    public Object suspendInSwitch() {
        HeldLock held = heldLocks;
        ParkedHoldingLockEvent holding = held == null ? null : ParkedHoldingLockEvent.beginIfEnabled();
        boolean interrupted = false;
        while (!resumed) {
            LockSupport.park(this);
            if (Thread.interrupted()) {
                interrupted = true;
            }
        }
        if (holding != null) {
            holding.endInFiber(this, held, "Fiber.switchTo");
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        state = Fiber.State.RUNNING;
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

    /**
     * Makes this strand, suspended in {@code switchTo}, the very next thing its loop runs.
     *
     * @param value what its {@code switchTo} returns
     * @param error what it raises instead, or {@code null}
     */
    public void resumeDirect(Object value, Throwable error) {
        inValue = value;
        inError = error;
        resumed = true;
        host.directNext = true;
        try {
            LockSupport.unpark(thread);
        } finally {
            host.directNext = false;
        }
    }

    // ------------------------------------------------------------------ waiting

    /**
     * Suspends this (current) strand until {@code until} holds, raising {@link CancelledException}
     * if it is or becomes cancelled. Whoever makes the condition true must {@link #wake()} it.
     *
     * @param until the condition
     */
    public void awaitUntil(Until until) {
        checkCancelled();
        if (until.done()) {
            return;
        }
        HeldLock held = heldLocks;
        ParkedHoldingLockEvent holding = held == null ? null : ParkedHoldingLockEvent.beginIfEnabled();
        state = Fiber.State.SUSPENDED;
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
            state = Fiber.State.RUNNING;
            waiting = Wait.NONE;
            if (holding != null) {
                holding.endInFiber(this, held, "a fiberloop wait");
            }
        }
    }

    /** Wakes this strand if it waits in {@link #awaitUntil}. Any thread. */
    public void wake() {
        LockSupport.unpark(thread);
    }

    /**
     * Schedules {@code wake} on this strand's loop {@code delay} from now, for a wait of this
     * strand. A loop that has begun to close (another thread called {@code close()} while this
     * strand ran) refuses new timers and cancels its tasks: the wait then raises
     * {@link CancelledException} at once, and so does every later one (the strand counts as
     * cancelled).
     *
     * @param wake the timer's task: it only wakes
     * @param delay how long from now
     * @return the timer
     * @throws CancelledException if the loop is closing
     */
    public TimerHandle scheduleWake(Runnable wake, Duration delay) {
        try {
            return host.loop.scheduleWake(wake, delay);
        } catch (LoopClosedException closing) {
            throw closing(closing);
        }
    }

    /**
     * As {@link #scheduleWake}, at {@code deadlineNanos} of the loop's clock.
     *
     * @param wake the timer's task: it only wakes
     * @param deadlineNanos when
     * @return the timer
     * @throws CancelledException if the loop is closing
     */
    public TimerHandle scheduleWakeAt(Runnable wake, long deadlineNanos) {
        try {
            return host.loop.scheduleWakeAt(wake, deadlineNanos);
        } catch (LoopClosedException closing) {
            throw closing(closing);
        }
    }

    private CancelledException closing(LoopClosedException closing) {
        cancelRequested = true;
        CancelledException e = new CancelledException("loop '" + host.loop.name() + "' is closing: " + describe() + " was cancelled");
        e.initCause(closing);
        return e;
    }

    // ------------------------------------------------------------------ cancellation

    /** Throws if this strand has a pending cancellation. */
    public void checkCancelled() {
        CancelledException e = pendingCancellation();
        if (e != null) {
            Thread.interrupted();
            throw e;
        }
    }

    /**
     * The cancellation that applies to this strand now: level-triggered.
     *
     * @return the exception to raise, or {@code null}
     */
    public CancelledException pendingCancellation() {
        Scope hit = null;
        for (Scope s = scopes; s != null; s = s.outer) {
            if (s.cancelled()) {
                hit = s; // the outermost cancelled scope wins: its exception passes through the inner ones
            }
            if (s.shield) {
                return hit == null ? null : hit.exception();
            }
        }
        if (cancelRequested) {
            return new CancelledException(describe() + " was cancelled");
        }
        return hit == null ? null : hit.exception();
    }

    /** {@return whether its task was cancelled (or its loop began to close under it)} */
    public boolean cancelRequested() {
        return cancelRequested;
    }

    /**
     * Cancels this strand's task. Loop thread.
     *
     * @return false if the strand had already ended
     */
    public boolean requestCancel() {
        if (state == Fiber.State.ENDED) {
            return false;
        }
        cancelRequested = true;
        interruptWait();
        return true;
    }

    /**
     * Delivers a cancellation: wakes a fiberloop wait, resumes a {@code switchTo} with the
     * exception, or interrupts a JDK blocking call.
     */
    public void interruptWait() {
        if (thread == null || state == Fiber.State.NEW || state == Fiber.State.ENDED) {
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
                state = Fiber.State.RUNNING;
                waiting = Wait.NONE;
                LockSupport.unpark(thread);
            }
        } else if (thread != Thread.currentThread()) {
            thread.interrupt();
        }
    }

    private String describe() {
        return kind == Kind.TASK ? "task '" + fiber.name() + "'" : String.valueOf(this);
    }

    // ------------------------------------------------------------------ the scheduler (Executor)

    @Override
    public void execute(Runnable continuation) {
        if (own == null) {
            own = continuation;
        } else if (continuation != own) {
            // a virtual thread started from this fiber (an implicit fiber): a switch to it is direct too
            if (host.directNext && host.onThisLoopsFiber()) {
                host.directNext = false;
                host.carrier.runNext(continuation);
            } else {
                host.carrier.execute(continuation);
            }
            return;
        }
        if (pending != null) {
            // A second submission while the first waits in the queue: the JDK resubmits a
            // runnable virtual thread after another thread took its stack trace (the watchdog
            // does). It may run the thread later, after the thread parked and was woken again, so
            // it must mount this strand too, or the fiber would not know itself while it runs.
            host.carrier.execute(() -> runMounted(continuation));
            return;
        }
        pending = continuation;
        if (host.directNext && host.onThisLoopsFiber()) {
            host.directNext = false;
            host.carrier.runNext(this);
        } else {
            host.carrier.execute(this);
        }
    }

    /** Runs the pending continuation with this strand mounted. Carrier only. */
    @Override
    public void run() {
        Runnable c = pending;
        if (c == null) {
            return; // ran already
        }
        pending = null;
        runMounted(c);
    }

    /**
     * Runs a continuation of this strand's thread with this strand (or the task it stands in for)
     * mounted. The JDK's continuation itself runs the thread only if it is ready, so running it an
     * extra time does nothing. Carrier only.
     */
    private void runMounted(Runnable c) {
        host.mounted = standIn != null ? standIn : this;
        try {
            c.run();
        } finally {
            host.mounted = null;
            unmounts++;
            if (lazy != null) {
                lazy.becomeTask(false); // an inline call suspended (in a JDK blocking call) before anyone asked for its task
            }
            Strand s = standIn != null ? standIn : this; // a task that began inline in this run and suspended
            if (!s.threadNamed) {
                s.nameOnFirstSuspension();
            }
        }
    }

    /** Throws any throwable without declaring it; used to re-raise what was handed over by a switch. */
    public static final class Sneaky {
        private Sneaky() {
        }

        /**
         * {@return never returns}
         *
         * @param t what to throw
         * @param <X> the type the compiler sees
         * @throws X always
         */
        @SuppressWarnings("unchecked")
        public static <X extends Throwable> X sneak(Throwable t) throws X {
            throw (X) t;
        }
    }
}
