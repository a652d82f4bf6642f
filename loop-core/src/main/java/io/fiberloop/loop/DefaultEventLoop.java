package io.fiberloop.loop;

import io.fiberloop.loop.internal.MustLog;
import io.fiberloop.loop.spi.IoDriver;
import io.fiberloop.loop.spi.LoopCarrier;
import io.fiberloop.loop.spi.LoopHost;
import io.fiberloop.loop.spi.LoopHostProvider;
import io.fiberloop.loop.spi.WakeTask;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.atomic.MpscUnboundedAtomicArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event loop. See {@code docs/design.md} for the design; in short:
 *
 * <ul>
 *   <li><b>Queues.</b> Tasks submitted on the carrier go to an {@link ArrayDeque}; tasks from
 *       other threads go to a JCTools MPSC queue that the loop drains into the deque (before every
 *       local submission too, which keeps the whole queue FIFO). Timers live in a binary heap.</li>
 *   <li><b>Turns.</b> One turn: poll the I/O driver (blocking only when nothing is ready, until
 *       the next deadline), fire the due timers, run the tasks that were queued when the turn began
 *       (tasks they submit run next turn, as asyncio's callbacks).</li>
 *   <li><b>Waking.</b> Before blocking, the loop sets {@code pollerSleeping} and checks its foreign
 *       queues again; a foreign submitter enqueues and then wakes the driver only if that flag is set
 *       (one volatile read on the fast path, a CAS only when the loop sleeps).</li>
 *   <li><b>Hosted mode.</b> With a {@link LoopHost} (fibers), the carrier runs only continuations;
 *       the turns above run inside a <em>work fiber</em>. When the work fiber blocks inside a task
 *       (a monitor held by a parked fiber, say), the carrier starts a fresh work fiber and the blocked
 *       one retires after its task, so timers and I/O never wait on user code.</li>
 * </ul>
 */
final class DefaultEventLoop implements EventLoop, LoopCarrier {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
    private static final AtomicInteger IDS = new AtomicInteger();
    private static final VarHandle STATE;
    private static final VarHandle POLLER_SLEEPING;
    private static final VarHandle PROGRESS;
    private static final VarHandle IDLE;
    private static final VarHandle RUN_CALL;
    /** How many rounds of tasks and continuations closing may run before it gives up on quiescence. */
    private static final int CLOSE_ROUNDS = 1024;
    /** One task in 64 is timed on its own, for the longest-task statistic. */
    private static final long TIMING_SAMPLE_MASK = 63;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(DefaultEventLoop.class, "state", State.class);
            POLLER_SLEEPING = l.findVarHandle(DefaultEventLoop.class, "pollerSleeping", boolean.class);
            PROGRESS = l.findVarHandle(DefaultEventLoop.class, "progress", long.class);
            IDLE = l.findVarHandle(DefaultEventLoop.class, "idle", boolean.class);
            RUN_CALL = l.findVarHandle(DefaultEventLoop.class, "runCall", RunCall.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final LoopClock clock;
    private final VirtualClock virtualClock;
    private final IoDriver driver;
    private final LoopExceptionHandler exceptionHandler;
    private final Consumer<StallReport> stallHandler;
    private final Duration watchdogThreshold;
    private final LoopHost host;
    private final Thread carrier;
    private final CompletableFuture<Void> termination = new CompletableFuture<>();
    private final Runnable clockListener;

    // Tasks: local deque (loop thread only) + foreign MPSC queue.
    private final ArrayDeque<Runnable> localTasks = new ArrayDeque<>(256);
    private final MessagePassingQueue<Runnable> foreignTasks = new MpscUnboundedAtomicArrayQueue<>(1024);
    private final MessagePassingQueue.Consumer<Runnable> toLocalTasks = localTasks::addLast;

    // Continuations (hosted loops only): same shape, plus a one-slot "run next" for direct switches.
    private final ArrayDeque<Runnable> localConts;
    private final MessagePassingQueue<Runnable> foreignConts;
    private final MessagePassingQueue.Consumer<Runnable> toLocalConts;
    private final Executor continuationExecutor;
    private Runnable nextCont;

    // Timers: heap (loop thread only), plus foreign additions and cancellations.
    private final TimerQueue timers = new TimerQueue();
    private final MessagePassingQueue<ScheduledTimer> foreignTimers = new MpscUnboundedAtomicArrayQueue<>(256);
    private final MessagePassingQueue<ScheduledTimer> foreignCancels = new MpscUnboundedAtomicArrayQueue<>(256);

    // Lifecycle.
    private volatile State state = State.NEW;
    private volatile RunCall runCall;
    private volatile boolean pollerSleeping;
    private volatile boolean carrierSleeping;
    private boolean workDone;
    /** The work runner while it is inside {@code driver.poll}, else null (for {@link #fireWakeTimers()}). */
    private Thread pollThread;
    /** True while {@link #fireWakeTimers()} runs (it must not re-enter). */
    private boolean firingWakeTimers;
    private boolean closeBegun;
    private Worker worker;
    private int workerCount;
    private Watchdog.Entry watchdogEntry;

    // Published for the watchdog with opaque stores.
    @SuppressWarnings("unused")
    private long progress;
    /** Starts true: a loop whose carrier thread has not begun running is not stalled. */
    @SuppressWarnings("unused")
    private boolean idle = true;

    // Statistics: written on the loop thread only, read racily by stats().
    private long tasksRun;
    private long timersFired;
    private long continuationsRun;
    private long taskNanosTotal;
    private long taskNanosMax;
    private long lagNanosTotal;
    private long lagNanosMax;
    private volatile long stalls;
    private int lastQueueDepth;
    private int lastTimerCount;

    DefaultEventLoop(EventLoop.Builder b) {
        this.name = b.name != null ? b.name : "loop-" + IDS.incrementAndGet();
        this.clock = b.clock;
        this.virtualClock = b.clock instanceof VirtualClock vc ? vc : null;
        this.exceptionHandler = b.exceptionHandler;
        this.stallHandler = b.stallHandler;
        this.watchdogThreshold = b.watchdogThreshold;
        this.carrier = new LoopCarrierThread(this, name);
        LoopHostProvider provider = b.hostFibers ? (b.hostProvider != null ? b.hostProvider : DefaultHost.PROVIDER) : null;
        if (provider != null) {
            this.localConts = new ArrayDeque<>(256);
            this.foreignConts = new MpscUnboundedAtomicArrayQueue<>(1024);
            this.toLocalConts = localConts::addLast;
            this.continuationExecutor = this::submitContinuation;
        } else {
            this.localConts = null;
            this.foreignConts = null;
            this.toLocalConts = null;
            this.continuationExecutor = null;
        }
        this.host = provider != null ? provider.create(this) : null;
        this.driver = Objects.requireNonNull(b.ioDriver.create(this), "IoDriverFactory returned null");
        this.driver.attach(this::fireWakeTimers);
        if (virtualClock != null) {
            this.clockListener = this::wakeup;
            virtualClock.addListener(clockListener);
        } else {
            this.clockListener = null;
        }
    }

    /** The carrier: a platform thread that knows its loop, so that {@link EventLoop#current()} is cheap. */
    static final class LoopCarrierThread extends Thread {
        final DefaultEventLoop loop;

        LoopCarrierThread(DefaultEventLoop loop, String name) {
            super(null, null, name, 0, false);
            this.loop = loop;
        }

        @Override
        public void run() {
            loop.carrierMain();
        }
    }

    static DefaultEventLoop currentLoop() {
        return CarrierThreads.current() instanceof LoopCarrierThread c ? c.loop : null;
    }

    /** The {@link LoopHostProvider} found on the class path or module path, if any. */
    private static final class DefaultHost {
        static final LoopHostProvider PROVIDER = find();

        private static LoopHostProvider find() {
            Iterator<LoopHostProvider> it = ServiceLoader.load(LoopHostProvider.class, EventLoop.class.getClassLoader()).iterator();
            return it.hasNext() ? it.next() : null;
        }
    }

    // ------------------------------------------------------------------ identity

    @Override
    public String name() {
        return name;
    }

    @Override
    public State state() {
        return state;
    }

    @Override
    public LoopClock clock() {
        return clock;
    }

    @Override
    public long now() {
        return clock.nanoTime();
    }

    @Override
    public boolean inLoop() {
        return onCarrier();
    }

    @Override
    public boolean onCarrier() {
        return CarrierThreads.current() == carrier;
    }

    @Override
    public EventLoop loop() {
        return this;
    }

    @Override
    public Thread carrierThread() {
        return state == State.NEW ? null : carrier;
    }

    @Override
    public LoopHost host() {
        return host;
    }

    /** @return whether this loop hosts fibers */
    boolean hosted() {
        return host != null;
    }

    @Override
    public String toString() {
        return "EventLoop[" + name + ", " + state + (host != null ? ", fibers" : "") + "]";
    }

    // ------------------------------------------------------------------ submission

    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (CarrierThreads.current() == carrier) {
            if (state == State.CLOSED) {
                throw closed("execute");
            }
            if (!foreignTasks.isEmpty()) {
                foreignTasks.drain(toLocalTasks);
            }
            localTasks.addLast(task);
        } else {
            checkOpenForForeign("execute");
            foreignTasks.offer(task);
            wakeupPoller();
        }
    }

    private void checkOpenForForeign(String what) {
        State s = state;
        if (s == State.NEW) {
            start();
        } else if (s == State.CLOSING || s == State.CLOSED) {
            throw closed(what);
        }
    }

    private LoopClosedException closed(String what) {
        return new LoopClosedException("loop '" + name + "' is " + state.name().toLowerCase()
                + ": " + what + "() refused; submit to a loop that is open");
    }

    @Override
    public TimerHandle schedule(Runnable task, Duration delay) {
        Objects.requireNonNull(delay, "delay");
        long nanos;
        try {
            nanos = Math.max(0, delay.toNanos());
        } catch (ArithmeticException tooLong) {
            nanos = Long.MAX_VALUE;
        }
        long now = clock.nanoTime();
        long deadline = now + nanos;
        if (deadline < now) {
            deadline = Long.MAX_VALUE;
        }
        return scheduleAt(task, deadline);
    }

    @Override
    public TimerHandle scheduleAt(Runnable task, long deadlineNanos) {
        Objects.requireNonNull(task, "task");
        ScheduledTimer t = new ScheduledTimer(this, task, deadlineNanos);
        if (CarrierThreads.current() == carrier) {
            if (state.compareTo(State.CLOSING) >= 0) {
                throw closed("schedule");
            }
            drainForeignTimers();
            timers.add(t);
        } else {
            checkOpenForForeign("schedule");
            foreignTimers.offer(t);
            wakeupPoller();
        }
        return t;
    }

    void timerCancelled(ScheduledTimer t) {
        t.task = null;
        if (CarrierThreads.current() == carrier) {
            timers.remove(t);
        } else if (state.compareTo(State.CLOSING) < 0) {
            foreignCancels.offer(t);
            wakeupPoller();
        }
    }

    private void drainForeignTimers() {
        ScheduledTimer t;
        while ((t = foreignCancels.relaxedPoll()) != null) {
            timers.remove(t);
        }
        while ((t = foreignTimers.relaxedPoll()) != null) {
            if (!t.isCancelled()) {
                timers.add(t);
            }
        }
    }

    /** Wakes the work runner if it is blocked (or about to block) in the driver. Any thread. */
    private void wakeupPoller() {
        if (pollerSleeping && POLLER_SLEEPING.compareAndSet(this, true, false)) {
            driver.wakeup();
        }
    }

    /** Wakes whatever of the loop is asleep. Any thread. */
    private void wakeup() {
        wakeupPoller();
        if (carrierSleeping) {
            LockSupport.unpark(carrier);
        }
    }

    // ------------------------------------------------------------------ continuations (LoopCarrier)

    @Override
    public Executor continuations() {
        if (continuationExecutor == null) {
            throw new IllegalStateException("loop '" + name + "' hosts no fibers");
        }
        return continuationExecutor;
    }

    private void submitContinuation(Runnable cont) {
        if (CarrierThreads.current() == carrier) {
            if (!foreignConts.isEmpty()) {
                foreignConts.drain(toLocalConts);
            }
            localConts.addLast(cont);
        } else {
            if (state == State.CLOSED) {
                log.debug("loop '{}' is closed: a fiber's continuation was dropped", name);
                return;
            }
            if (state == State.NEW) {
                start();
            }
            foreignConts.offer(cont);
            wakeupPoller();
            if (carrierSleeping) {
                LockSupport.unpark(carrier);
            }
        }
    }

    @Override
    public void runNext(Runnable continuation) {
        assert onCarrier() : "runNext off the carrier";
        if (nextCont != null) {
            throw new IllegalStateException("a direct switch is already pending on loop '" + name + "'");
        }
        nextCont = continuation;
    }

    private boolean continuationsPending() {
        return localConts != null && (nextCont != null || !localConts.isEmpty() || !foreignConts.isEmpty());
    }

    // ------------------------------------------------------------------ start and carrier

    private void start() {
        if (STATE.compareAndSet(this, State.NEW, State.ACTIVE)) {
            if (watchdogThreshold != null) {
                watchdogEntry = Watchdog.register(this, watchdogThreshold);
            }
            carrier.start();
        }
    }

    private void carrierMain() {
        IDLE.setOpaque(this, false);
        try {
            if (host == null) {
                driver.runWorker(() -> workLoop(null));
            } else {
                startWorker();
                hostedCarrierLoop();
            }
        } catch (Throwable t) {
            log.error("loop '{}': the carrier failed; the loop is closed", name, t);
            if (!workDone) {
                cancelTimers();
                closeDriver();
            }
        } finally {
            terminate();
        }
    }

    /** The carrier of a hosted loop: runs continuations until the work fiber has finished closing. */
    private void hostedCarrierLoop() {
        int afterClose = 0;
        while (true) {
            Runnable c = nextCont;
            if (c != null) {
                nextCont = null;
            } else {
                c = localConts.pollFirst();
                if (c == null && !foreignConts.isEmpty()) {
                    foreignConts.drain(toLocalConts);
                    c = localConts.pollFirst();
                }
            }
            if (c == null) {
                if (workDone) {
                    return;
                }
                carrierIdle();
                continue;
            }
            if ((boolean) IDLE.getOpaque(this)) {
                // a continuation runs while the work fiber is inside a blocking poll (an I/O driver
                // that lets fibers run mid-poll, e.g. Netty's io_uring and epoll slices): the loop is busy,
                // so the watchdog must see it
                IDLE.setOpaque(this, false);
            }
            c.run();
            continuationsRun++;
            PROGRESS.setOpaque(this, (long) PROGRESS.getOpaque(this) + 1);
            if (workDone && ++afterClose > CLOSE_ROUNDS * 64) {
                log.warn("loop '{}' closed with fibers still runnable; they will not run again", name);
                return;
            }
            Worker w = worker;
            if (w != null && w.inTask && !workDone) {
                handover(w);
            }
        }
    }

    /** Carrier of a hosted loop: nothing to run; park until a foreign continuation arrives. */
    private void carrierIdle() {
        carrierSleeping = true;
        if (foreignConts.isEmpty() && nextCont == null) {
            IDLE.setOpaque(this, true);
            LockSupport.park(this);
            IDLE.setOpaque(this, false);
        }
        carrierSleeping = false;
    }

    /** The work fiber is suspended inside a task: give the loop's work to a fresh one. */
    private void handover(Worker blocked) {
        blocked.retired = true;
        log.debug("loop '{}': work fiber {} blocked inside a task; starting another", name, blocked.id);
        startWorker();
    }

    private void startWorker() {
        Worker w = new Worker(++workerCount);
        worker = w;
        Thread t = host.newWorkFiber(name + "-work-" + w.id, () -> driver.runWorker(() -> workLoop(w)));
        t.start();
    }

    /** The loop's work: turns until closed. Runs on the carrier, or inside a work fiber. */
    private static final class Worker {
        final int id;
        boolean inTask;
        boolean retired;

        Worker(int id) {
            this.id = id;
        }
    }

    // ------------------------------------------------------------------ turns

    private void workLoop(Worker self) {
        while (true) {
            if (self != null && self.retired) {
                return;
            }
            State s = state;
            if (s == State.CLOSING) {
                closeWork(self);
                return;
            }
            turn(self);
            if (self != null && !self.retired && continuationsPending()) {
                Thread.yield();
            }
        }
    }

    private void turn(Worker self) {
        drainForeignTimers();
        long timeout = pollTimeout();
        if (timeout != 0) {
            POLLER_SLEEPING.setVolatile(this, true);
            if (!foreignTasks.isEmpty() || !foreignTimers.isEmpty() || continuationsPending()
                    || state != State.ACTIVE && state != State.RUNNING
                    || virtualClock != null && timers.nextDeadline() <= virtualClock.nanoTime()) {
                timeout = 0;
            }
        }
        pollThread = Thread.currentThread();
        try {
            if (timeout != 0) {
                lastQueueDepth = 0;
                lastTimerCount = timers.size();
                IDLE.setOpaque(this, true);
                driver.poll(timeout);
                IDLE.setOpaque(this, false);
            } else {
                driver.poll(0);
            }
        } finally {
            pollThread = null;
        }
        pollerSleeping = false;
        if (virtualClock != null && jumpTarget != Long.MIN_VALUE) {
            autoJumpIfIdle();
        }
        fireTimers(self);
        if (self != null && self.retired) {
            return;
        }
        runTasks(self);
    }

    /** Virtual clock with a threshold: the deadline to jump to if the loop stays idle. */
    private long jumpTarget = Long.MIN_VALUE;

    private long pollTimeout() {
        if (!localTasks.isEmpty() || !foreignTasks.isEmpty() || continuationsPending()) {
            return 0;
        }
        long next = timers.nextDeadline();
        if (virtualClock == null) {
            if (next == Long.MAX_VALUE) {
                return Long.MAX_VALUE;
            }
            long now = System.nanoTime();
            if (next <= now) {
                return 0;
            }
            long wait = next - now; // compared first: a deadline far in the past must not overflow into a long wait
            return wait < 0 ? Long.MAX_VALUE : wait;
        }
        if (next == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        if (next <= virtualClock.nanoTime()) {
            return 0;
        }
        if (!virtualClock.isAutoAdvancing()) {
            return Long.MAX_VALUE;
        }
        long threshold = virtualClock.thresholdNanos();
        if (threshold == 0) {
            virtualClock.advanceTo(next);
            return 0;
        }
        jumpTarget = next;
        return threshold;
    }

    private void autoJumpIfIdle() {
        long target = jumpTarget;
        jumpTarget = Long.MIN_VALUE;
        if (localTasks.isEmpty() && foreignTasks.isEmpty() && foreignTimers.isEmpty() && !continuationsPending()
                && timers.nextDeadline() == target) {
            virtualClock.advanceTo(target);
        }
    }

    private void fireTimers(Worker self) {
        // Read the clock first, then take the timers other threads scheduled: every timer whose
        // schedule() returned before the clock reached `now` is then in the heap, so timers fire in
        // deadline order even when they arrive from other threads while the clock moves.
        long now = clock.nanoTime();
        drainForeignTimers();
        if (timers.isEmpty()) {
            return;
        }
        long seqLimit = timers.nextSeq();
        ScheduledTimer t;
        long start = System.nanoTime();
        try {
            fireDue(self, now, seqLimit);
        } finally {
            taskNanosTotal += System.nanoTime() - start;
        }
    }

    /**
     * {@link io.fiberloop.loop.spi.PollSupport#fireWakeTimers()}: the due timers at the head of the
     * heap whose tasks are {@link WakeTask}s, fired inside the driver's poll. They run with no
     * worker ({@code self == null}): a wake task never blocks, and the work fiber must not be
     * replaced while it is inside the driver.
     */
    private int fireWakeTimers() {
        Thread me = Thread.currentThread();
        if (pollThread != me) { // set only by the work runner, on the carrier, while it is inside the poll
            throw new IllegalStateException("fireWakeTimers() is for the loop's I/O driver, on the thread inside its poll; thread '"
                    + me.getName() + "' is not that thread");
        }
        if (firingWakeTimers) {
            throw new IllegalStateException("fireWakeTimers() called again from a wake task: a wake task must only wake fibers");
        }
        long now = clock.nanoTime();
        drainForeignTimers();
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

    private void fireDue(Worker self, long now, long seqLimit) {
        fireDue(self, now, seqLimit, false);
    }

    /** Fires due timers in deadline order; with {@code wakeOnly}, stops at the first that is not a wake task. */
    private void fireDue(Worker self, long now, long seqLimit, boolean wakeOnly) {
        ScheduledTimer t;
        while ((t = timers.peek()) != null && t.deadline <= now && t.seq < seqLimit) {
            Runnable task = t.task;
            if (wakeOnly && task != null && !(task instanceof WakeTask) && !t.isCancelled()) {
                return;
            }
            timers.poll();
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
            if (self != null && self.retired) {
                return;
            }
        }
    }

    private void runTasks(Worker self) {
        if (!foreignTasks.isEmpty()) {
            foreignTasks.drain(toLocalTasks);
        }
        int n = localTasks.size();
        if (n == 0) {
            return;
        }
        long start = System.nanoTime();
        try {
            for (int i = 0; i < n; i++) {
                Runnable task = localTasks.pollFirst();
                if (task == null) {
                    break;
                }
                runCounted(task, self);
                if (self != null && self.retired) {
                    return;
                }
            }
        } finally {
            taskNanosTotal += System.nanoTime() - start;
        }
        lastQueueDepth = localTasks.size();
        lastTimerCount = timers.size();
    }

    private void runTask(Runnable task, Worker self) {
        if (self != null) {
            self.inTask = true;
        }
        try {
            task.run();
        } catch (Throwable e) {
            handleFailure(e, task);
        } finally {
            if (self != null) {
                self.inTask = false;
            }
        }
    }

    /**
     * Runs a task and counts it. Reading the clock costs about as much as a whole task (tens of
     * nanoseconds), so the mean task time comes from timing whole batches, and the longest task is
     * sampled: every 64th task is timed on its own. A task long enough to matter is caught anyway,
     * exactly, by the watchdog.
     */
    private void runCounted(Runnable task, Worker self) {
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
        PROGRESS.setOpaque(this, (long) PROGRESS.getOpaque(this) + 1);
    }


    private void handleFailure(Throwable error, Object source) {
        LoopExceptionHandler h = exceptionHandler;
        if (h != null) {
            try {
                h.handle(this, error, source);
                return;
            } catch (Throwable handlerFailure) {
                error.addSuppressed(handlerFailure);
            }
        }
        log.error("loop '{}': {} failed; the loop keeps running", name, source, error);
    }

    // ------------------------------------------------------------------ closing

    /** Runs as the last thing of the work runner: cancel timers, drain, close the driver. */
    private void closeWork(Worker self) {
        if (!closeBegun) {
            closeBegun = true;
            cancelTimers();
            if (host != null) {
                try {
                    host.onClose();
                } catch (Throwable t) {
                    handleFailure(t, "the fiber host's close");
                }
            }
        }
        for (int round = 0; round < CLOSE_ROUNDS; round++) {
            boolean tasks = !localTasks.isEmpty() || !foreignTasks.isEmpty();
            boolean conts = continuationsPending();
            if (!tasks && !conts) {
                break;
            }
            runTasks(self);
            if (self != null && continuationsPending()) {
                Thread.yield();
                if (self.retired) {
                    return;
                }
            }
        }
        if (!localTasks.isEmpty()) {
            log.warn("loop '{}' closed with {} tasks that kept resubmitting themselves; they were dropped", name, localTasks.size());
            localTasks.clear();
        }
        if (host != null) {
            try {
                host.onTerminated();
            } catch (Throwable t) {
                handleFailure(t, "the fiber host's termination");
            }
        }
        closeDriver();
        workDone = true;
    }

    private void cancelTimers() {
        drainForeignTimers();
        timers.clear(ScheduledTimer::markCancelled);
    }

    private void closeDriver() {
        try {
            driver.close();
        } catch (Throwable t) {
            handleFailure(t, "closing the I/O driver " + driver);
        }
    }

    private void terminate() {
        state = State.CLOSED;
        Watchdog.unregister(watchdogEntry);
        if (virtualClock != null) {
            virtualClock.removeListener(clockListener);
        }
        Runnable dropped;
        int count = 0;
        while ((dropped = foreignTasks.poll()) != null) {
            count++;
        }
        ScheduledTimer t;
        while ((t = foreignTimers.poll()) != null) {
            t.markCancelled();
        }
        if (count > 0) {
            log.warn("loop '{}': {} tasks submitted while it closed were dropped", name, count);
        }
        RunCall call = runCall;
        if (call != null) {
            call.abort("loop '" + name + "' was closed before main completed");
        }
        termination.complete(null);
    }

    @Override
    public void close() {
        while (true) {
            State s = state;
            if (s == State.NEW) {
                if (STATE.compareAndSet(this, State.NEW, State.CLOSED)) {
                    closeDriver();
                    terminate();
                    return;
                }
            } else if (s == State.ACTIVE || s == State.RUNNING) {
                if (STATE.compareAndSet(this, s, State.CLOSING)) {
                    break;
                }
            } else {
                break;
            }
        }
        wakeup();
        if (!onCarrier()) {
            termination.join();
        }
    }

    @Override
    public CompletableFuture<Void> terminationFuture() {
        return termination.copy();
    }

    // ------------------------------------------------------------------ run / runForever / stop

    /** The caller currently blocked in run() or runForever(). */
    private static final class RunCall {
        final CompletableFuture<Object> outcome = new CompletableFuture<>();
        final boolean forever;

        RunCall(boolean forever) {
            this.forever = forever;
        }

        void abort(String why) {
            if (forever) {
                outcome.complete(null);
            } else {
                outcome.completeExceptionally(new IllegalStateException(why));
            }
        }
    }

    private RunCall enterRun(String what, boolean forever) {
        if (onCarrier()) {
            throw new IllegalStateException(what + "() was called on loop '" + name + "' itself, which would wait for itself: "
                    + "from loop code, submit work with execute() or schedule(), or spawn a task");
        }
        start();
        // The call is published before the state says RUNNING, so that a stop() or close() from a
        // thread that sees RUNNING always finds the call to release.
        RunCall call = new RunCall(forever);
        if (!RUN_CALL.compareAndSet(this, null, call)) {
            throw alreadyRunning();
        }
        while (true) {
            State s = state;
            if (s == State.ACTIVE) {
                if (STATE.compareAndSet(this, State.ACTIVE, State.RUNNING)) {
                    if (state != State.RUNNING) {
                        call.abort("loop '" + name + "' was closed before main completed");
                    }
                    return call;
                }
            } else {
                RUN_CALL.compareAndSet(this, call, null);
                if (s == State.RUNNING) {
                    throw alreadyRunning();
                }
                throw new IllegalStateException(closed(what).getMessage());
            }
        }
    }

    private IllegalStateException alreadyRunning() {
        return new IllegalStateException("loop '" + name + "' is already running (another thread is in run() or runForever()); "
                + "submit work to it with execute() or spawn() instead");
    }

    private void exitRun(RunCall call) {
        // state first: whoever takes runCall next finds the loop ACTIVE
        STATE.compareAndSet(this, State.RUNNING, State.ACTIVE);
        RUN_CALL.compareAndSet(this, call, null);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T run(Callable<T> main) {
        Objects.requireNonNull(main, "main");
        RunCall call = enterRun("run", false);
        try {
            CompletableFuture<T> result = (CompletableFuture<T>) (CompletableFuture<?>) call.outcome;
            execute(() -> startMain(main, result));
            try {
                return result.get();
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException r) {
                    throw r;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw new CompletionException(cause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CompletionException("interrupted while waiting for the main of loop '" + name + "'", e);
            }
        } finally {
            exitRun(call);
        }
    }

    private <T> void startMain(Callable<T> main, CompletableFuture<T> result) {
        if (host != null) {
            host.startMain(main, result);
            return;
        }
        try {
            result.complete(main.call());
        } catch (Throwable t) {
            result.completeExceptionally(t);
        }
    }

    @Override
    public void run(Runnable main) {
        Objects.requireNonNull(main, "main");
        run(() -> {
            main.run();
            return null;
        });
    }

    @Override
    public void runForever() {
        RunCall call = enterRun("runForever", true);
        try {
            call.outcome.join();
        } finally {
            exitRun(call);
        }
    }

    @Override
    public void stop() {
        RunCall call = runCall;
        if (call != null) {
            call.abort("loop '" + name + "' was stopped before main completed");
        }
    }

    // ------------------------------------------------------------------ watchdog and stats

    long progress() {
        return (long) PROGRESS.getOpaque(this);
    }

    boolean isIdle() {
        return (boolean) IDLE.getOpaque(this);
    }

    String describeRunning() {
        return host == null ? null : host.describeRunning();
    }

    void stalled(StallReport report) {
        stalls++;
        Consumer<StallReport> h = stallHandler;
        if (h != null) {
            try {
                h.accept(report);
                return;
            } catch (Throwable t) {
                log.error("loop '{}': the stall handler failed", name, t);
            }
        }
        MustLog.warn(log, "{}", report.describe());
    }

    /** @return the length of the timer heap's array; loop thread only (for tests of memory release) */
    int timerHeapCapacity() {
        assert onCarrier() : "timerHeapCapacity off the loop";
        return timers.capacity();
    }

    @Override
    public LoopStats stats() {
        long run = tasksRun;
        long fired = timersFired;
        int depth = onCarrier() ? localTasks.size() + foreignTasks.size() : lastQueueDepth + foreignTasks.size();
        int pending = onCarrier() ? timers.size() : lastTimerCount;
        return new LoopStats(run, fired, continuationsRun,
                Duration.ofNanos(taskNanosMax),
                Duration.ofNanos(run == 0 ? 0 : taskNanosTotal / run),
                depth, pending,
                Duration.ofNanos(lagNanosMax),
                Duration.ofNanos(fired == 0 ? 0 : lagNanosTotal / fired),
                stalls);
    }
}
