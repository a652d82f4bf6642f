package io.fiberloop.loop;

import io.fiberloop.loop.internal.Exploration;
import io.fiberloop.loop.internal.VirtualTimeLimit;
import io.fiberloop.loop.spi.IoDriver;
import io.fiberloop.loop.spi.LoopHost;
import io.fiberloop.loop.spi.PollSupport;
import io.fiberloop.loop.spi.WorkRunner;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The work of one loop: its turns, and closing.
 *
 * <h2>A turn</h2>
 * As asyncio's {@code _run_once}: poll the I/O driver, blocking only when nothing is ready (no
 * task, no host work, no due timer) and only until the next deadline ({@link PollTimeout}); fire
 * the due timers, only those that existed when firing began; run the tasks that were queued when
 * the turn began (tasks they submit run next turn).
 *
 * <h2>Runners</h2>
 * A loop without a host runs its turns on its carrier ({@code self == null}). A host runs them on
 * a {@link WorkRunner} of its own (fiberloop's fibers: a work fiber), which the turns mark while
 * they run a task or a timer callback; once the host retires the runner (it blocked inside a
 * task), the turns stop at the next task boundary and the runner leaves.
 *
 * <h2>Tasks beside the poll</h2>
 * A driver that yields in the middle of a long run can ask for the queued tasks to run meanwhile
 * ({@link #runTasks()}): the host runs them on a second runner ({@link #runBeside}), by the same
 * code as a turn, while the first one waits inside the driver. That runner only runs tasks (never
 * timers, never the poll), and only while the first one is inside the poll.
 *
 * <h2>Closing</h2>
 * Once the loop is CLOSING, the runner cancels the timers, tells the host, runs rounds of tasks
 * (and lets the host's work run between them) until nothing is left, tells the host again, and
 * closes the driver: the work has then {@linkplain #finished() finished}.
 *
 * <p>Threading: the carrier, but for {@link #progress()} and {@link #isIdle()}, which the watchdog
 * reads racily from its thread (opaque accesses: free on the hot path).
 */
final class Turns implements PollSupport {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
    private static final VarHandle PROGRESS;
    private static final VarHandle IDLE;
    /** How many rounds of tasks and host work closing may run before it gives up on quiescence. */
    static final int CLOSE_ROUNDS = 1024;
    /**
     * How many turns (or batches beside the poll) one call of {@link #turns} (or
     * {@link #batchesBeside}) runs before it returns to the runner's outer loop. A runner's outer
     * loop is entered once per runner, so the JIT compiles it only after many thousands of turns
     * (on-stack replacement), and until then it runs in the interpreter; a host's runner is a
     * virtual thread that yields and resumes inside every turn, and the JDK freezes and thaws a
     * continuation on a slow path while one of the frames it copies is interpreted (each frame
     * walked, and a new stack chunk allocated). The outer loop's frame is copied only when a call
     * returns into it; the calls are frequent enough to be compiled within a few thousand turns.
     * (Measured: a read-handler echo of 64 KiB messages spent 10% less user CPU per round trip
     * with these calls; {@code docs/benchmarks.md}, "The runners' outer loops".)
     */
    private static final int RUNS_PER_CALL = 32;
    /** One task in 64 is timed on its own, for the longest-task statistic. */
    private static final long TIMING_SAMPLE_MASK = 63;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            PROGRESS = l.findVarHandle(Turns.class, "progress", long.class);
            IDLE = l.findVarHandle(Turns.class, "idle", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final DefaultEventLoop loop;
    private final Lifecycle lifecycle;
    private final LoopClock clock;
    private final IoDriver driver;
    private final Submissions in;
    private final PollTimeout pollTimeout;
    /** Schedule exploration (tests only), or null: FIFO order. */
    private final Exploration exploration;
    final TimerQueue timers = new TimerQueue();
    private LoopHost host;

    private boolean closeBegun;
    private boolean finished;
    /** The runner while it is inside {@code driver.poll}, else null (for {@link #fireWakeTimers()}). */
    private Thread pollThread;
    /** True while {@link #fireWakeTimers()} runs (it must not re-enter). */
    private boolean firingWakeTimers;

    // Published for the watchdog with opaque stores.
    @SuppressWarnings("unused")
    private long progress;
    /** Starts true: a loop whose carrier has not begun running is not stalled. */
    @SuppressWarnings("unused")
    private boolean idle = true;

    // Statistics: written on the carrier only, read racily by stats().
    long tasksRun;
    long timersFired;
    long taskNanosTotal;
    long taskNanosMax;
    long lagNanosTotal;
    long lagNanosMax;
    int lastQueueDepth;
    int lastTimerCount;

    Turns(DefaultEventLoop loop, Lifecycle lifecycle, LoopClock clock, IoDriver driver, Submissions in, Exploration exploration,
            VirtualTimeLimit timeLimit) {
        this.exploration = exploration;
        this.loop = loop;
        this.lifecycle = lifecycle;
        this.clock = clock;
        this.driver = driver;
        this.in = in;
        this.pollTimeout = new PollTimeout(clock, timeLimit);
    }

    void host(LoopHost host) {
        this.host = host;
    }

    /** {@return whether the host has work ready on the carrier} */
    private boolean hostReady() {
        return host != null && host.hasReadyWork();
    }

    // ------------------------------------------------------------------ the runner's loop

    /** The loop's work: turns until closed, then closing. On the carrier, or in a host's runner. */
    void workLoop(WorkRunner self) {
        while (turns(self)) {
            // see RUNS_PER_CALL
        }
    }

    /**
     * Up to {@link #RUNS_PER_CALL} turns, each followed by a yield when the host has work ready.
     *
     * @return false once the runner must leave (retired, or the loop closed)
     */
    private boolean turns(WorkRunner self) {
        for (int i = 0; i < RUNS_PER_CALL; i++) {
            if (self != null && self.retired()) {
                return false;
            }
            if (lifecycle.state() == EventLoop.State.CLOSING) {
                closeWork(self);
                return false;
            }
            turn(self);
            if (self != null && !self.retired() && hostReady()) {
                Thread.yield();
            }
        }
        return true;
    }

    private void turn(WorkRunner self) {
        in.drainForeignTimers(timers);
        long timeout = in.tasksPending() || hostReady() || driver.hasPendingWork() ? 0 : pollTimeout.forIdle(timers.nextDeadline());
        if (timeout != 0) {
            in.pollerSleeping();
            if (in.foreignPending() || hostReady() || !lifecycle.running() || pollTimeout.virtualDue(timers.nextDeadline())) {
                timeout = 0;
            }
        }
        pollThread = Thread.currentThread();
        try {
            if (timeout != 0) {
                lastQueueDepth = 0;
                lastTimerCount = timers.size();
                IDLE.setOpaque(this, true);
            }
            driver.poll(timeout);
        } catch (Throwable t) {
            // A driver's failure must not end the runner: the loop would never close (close()
            // waits for a runner that is gone). It is reported, and the turn goes on.
            loop.handleFailure(t, "the I/O driver's poll (" + driver + ")");
        } finally {
            IDLE.setOpaque(this, false);
            pollThread = null;
        }
        in.pollerAwake();
        if (pollTimeout.jumpPending()) {
            pollTimeout.afterPoll(!in.tasksPending() && !in.foreignPending() && !hostReady(), timers.nextDeadline());
        }
        fireTimers(self);
        if (self != null && self.retired()) {
            return;
        }
        runTasks(self);
    }

    // ------------------------------------------------------------------ timers

    private void fireTimers(WorkRunner self) {
        // Read the clock first, then take the timers other threads scheduled: every timer whose
        // schedule() returned before the clock reached `now` is then in the heap, so timers fire in
        // deadline order even when they arrive from other threads while the clock moves.
        long now = clock.nanoTime();
        in.drainForeignTimers(timers);
        if (timers.isEmpty()) {
            return;
        }
        long start = System.nanoTime();
        try {
            fireDue(self, now, timers.nextSeq(), false);
        } finally {
            taskNanosTotal += System.nanoTime() - start;
        }
    }

    /**
     * {@link io.fiberloop.loop.spi.PollSupport#fireWakeTimers()}: the due wake-up timers at the
     * head of the heap, fired inside the driver's poll. They run with no runner ({@code self ==
     * null}): a wake-up never blocks, and the runner must not be replaced while it is inside the
     * driver.
     */
    @Override
    public int fireWakeTimers() {
        checkInPoll("fireWakeTimers()");
        if (firingWakeTimers) {
            throw new IllegalStateException("fireWakeTimers() called again from a wake-up: a wake-up must only wake fibers");
        }
        long now = clock.nanoTime();
        in.drainForeignTimers(timers);
        ScheduledTimer head = timers.peek();
        if (head == null || head.deadline > now) {
            return 0;
        }
        long before = timersFired;
        long start = System.nanoTime();
        firingWakeTimers = true;
        try {
            fireDue(null, now, timers.nextSeq(), true);
        } finally {
            firingWakeTimers = false;
            taskNanosTotal += System.nanoTime() - start;
        }
        return (int) (timersFired - before);
    }

    private void checkInPoll(String what) {
        Thread me = Thread.currentThread();
        if (pollThread != me) { // set only by the runner, on the carrier, while it is inside the poll
            throw new IllegalStateException(what + " is for the loop's I/O driver, on the thread inside its poll; thread '"
                    + me.getName() + "' is not that thread");
        }
    }

    /** {@link PollSupport#runTasks()}: asks the host for a batch of tasks on its second runner. */
    @Override
    public boolean runTasks() {
        checkInPoll("runTasks()");
        if (host == null) {
            return false;
        }
        in.drainForeignTasks();
        return !in.localTasks.isEmpty() && host.runTasksBeside();
    }

    /**
     * The host's second runner ({@link io.fiberloop.loop.spi.LoopWork#runBeside}): a batch of tasks
     * each time {@code next} says so, while the first runner is inside the poll.
     */
    void runBeside(WorkRunner self, BooleanSupplier next) {
        while (batchesBeside(self, next)) {
            // see RUNS_PER_CALL
        }
    }

    /** Up to {@link #RUNS_PER_CALL} batches beside the poll. @return false once the runner must leave */
    private boolean batchesBeside(WorkRunner self, BooleanSupplier next) {
        for (int i = 0; i < RUNS_PER_CALL; i++) {
            if (self.retired() || !next.getAsBoolean()) {
                return false;
            }
            if (pollThread != null && pollThread != Thread.currentThread()) {
                runTasks(self);
            }
        }
        return true;
    }

    /** Fires due timers in deadline order; with {@code wakeOnly}, stops at the first plain one. */
    private void fireDue(WorkRunner self, long now, long seqLimit, boolean wakeOnly) {
        ScheduledTimer t;
        Exploration e = exploration;
        while ((t = e == null ? timers.peek() : timers.peekTied(e, seqLimit)) != null && t.deadline <= now && t.seq < seqLimit) {
            Runnable task = t.task;
            if (wakeOnly && task != null && !t.wake && !t.isCancelled()) {
                return;
            }
            if (e == null) {
                timers.poll();
            } else {
                timers.remove(t);
            }
            if (task == null || !t.markFired()) {
                continue;
            }
            t.task = null;
            long lag = now - t.deadline;
            lagNanosTotal += lag;
            if (lag > lagNanosMax) {
                lagNanosMax = lag;
            }
            timersFired++;
            runCounted(task, self);
            if (self != null && self.retired()) {
                return;
            }
        }
    }

    /** Cancels every timer: the loop is closing. */
    void cancelTimers() {
        in.drainForeignTimers(timers);
        timers.clear(ScheduledTimer::markCancelled);
    }

    // ------------------------------------------------------------------ tasks

    private void runTasks(WorkRunner self) {
        in.drainForeignTasks();
        ArrayDeque<Runnable> queue = in.localTasks;
        int n = queue.size();
        if (n == 0) {
            return;
        }
        if (exploration != null && n > 1) {
            permuteTasks(n);
        }
        long start = System.nanoTime();
        try {
            for (int i = 0; i < n; i++) {
                Runnable task = queue.pollFirst();
                if (task == null) {
                    break;
                }
                runCounted(task, self);
                if (self != null && self.retired()) {
                    return;
                }
            }
        } finally {
            taskNanosTotal += System.nanoTime() - start;
        }
        lastQueueDepth = queue.size();
        lastTimerCount = timers.size();
    }

    /** Schedule exploration: puts the {@code n} queued tasks (all of them) in an order of the seed's choosing. */
    private void permuteTasks(int n) {
        Object[] batch = new Object[n];
        for (int i = 0; i < n; i++) {
            batch[i] = in.localTasks.pollFirst();
        }
        exploration.shuffle(batch, n);
        for (int i = n - 1; i >= 0; i--) {
            in.localTasks.addFirst((Runnable) batch[i]);
        }
    }

    /**
     * Runs a task and counts it. Reading the clock costs about as much as a whole task (tens of
     * nanoseconds), so the mean task time comes from timing whole batches, and the longest task is
     * sampled: every 64th task is timed on its own. A task long enough to matter is caught anyway,
     * exactly, by the watchdog.
     */
    private void runCounted(Runnable task, WorkRunner self) {
        if ((tasksRun & TIMING_SAMPLE_MASK) == 0) {
            long t0 = System.nanoTime();
            runTask(task, self);
            long d = System.nanoTime() - t0;
            if (d > taskNanosMax) {
                taskNanosMax = d;
            }
        } else {
            runTask(task, self);
        }
        tasksRun++;
        progressed();
    }

    private void runTask(Runnable task, WorkRunner self) {
        if (self != null) {
            self.taskStarted();
        }
        try {
            task.run();
        } catch (Throwable e) {
            loop.handleFailure(e, task);
        } finally {
            if (self != null) {
                self.taskEnded();
            }
        }
    }

    // ------------------------------------------------------------------ closing

    /** Runs as the last thing of the runner: cancel timers, drain, close the driver. */
    private void closeWork(WorkRunner self) {
        if (!closeBegun) {
            closeBegun = true;
            cancelTimers();
            if (host != null) {
                try {
                    host.onClose();
                } catch (Throwable t) {
                    loop.handleFailure(t, "the loop host's close");
                }
            }
        }
        for (int round = 0; round < CLOSE_ROUNDS; round++) {
            if (!in.tasksPending() && !hostReady()) {
                break;
            }
            runTasks(self);
            if (self != null) {
                if (self.retired()) {
                    // it blocked in a task and was replaced: the new runner carries the closing on
                    // (and may have finished it meanwhile), so this one only leaves
                    return;
                }
                if (hostReady()) {
                    Thread.yield();
                }
            }
        }
        if (!in.localTasks.isEmpty()) {
            log.warn("loop '{}' closed with {} tasks that kept resubmitting themselves; they were dropped", loop.name(), in.localTasks.size());
            in.localTasks.clear();
        }
        if (host != null) {
            try {
                host.onTerminated();
            } catch (Throwable t) {
                loop.handleFailure(t, "the loop host's termination");
            }
        }
        closeDriver();
        finished = true;
    }

    void closeDriver() {
        try {
            driver.close();
        } catch (Throwable t) {
            loop.handleFailure(t, "closing the I/O driver " + driver);
        }
    }

    /** {@return whether closing has finished: the driver is closed} */
    boolean finished() {
        return finished;
    }

    // ------------------------------------------------------------------ the watchdog's signals

    /** Counts one unit of progress. Carrier. */
    void progressed() {
        PROGRESS.setOpaque(this, (long) PROGRESS.getOpaque(this) + 1);
    }

    long progress() {
        return (long) PROGRESS.getOpaque(this);
    }

    void idle(boolean idle) {
        IDLE.setOpaque(this, idle);
    }

    boolean isIdle() {
        return (boolean) IDLE.getOpaque(this);
    }
}
