package io.fiberloop.loop;

import io.fiberloop.loop.EventLoop.State;
import io.fiberloop.loop.internal.Exploration;
import io.fiberloop.loop.internal.JdkReach;
import io.fiberloop.loop.internal.MustLog;
import io.fiberloop.loop.spi.IoDriver;
import io.fiberloop.loop.spi.LoopHost;
import io.fiberloop.loop.spi.LoopWork;
import io.fiberloop.loop.spi.WorkRunner;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event loop. See {@code docs/design.md} for the design; the parts, each in its own file:
 *
 * <ul>
 *   <li>{@link Lifecycle}: the states NEW, ACTIVE, RUNNING, CLOSING, CLOSED, and the caller of
 *       {@code run}/{@code runForever};</li>
 *   <li>{@link Submissions}: the ready queue (local deque plus MPSC queues for other threads'
 *       tasks, timers and cancellations) and the poller wake-up protocol;</li>
 *   <li>{@link Turns}: the loop's work (turns, closing) and the watchdog's signals;
 *       {@link PollTimeout}: how long a turn may block, and the virtual clock's auto-jump;
 *       {@link TimerQueue}: the timer heap;</li>
 *   <li>this class: the {@link EventLoop} API over them, the carrier thread, and the
 *       {@link LoopWork} a {@link LoopHost} (fiberloop's fibers) runs.</li>
 * </ul>
 *
 * <p>Without a host, the carrier runs the loop's work itself. With one, the carrier runs the host
 * ({@link LoopHost#runCarrier()}), which runs the work through {@link #run(WorkRunner)}.
 */
final class DefaultEventLoop implements EventLoop, LoopWork {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
    private static final AtomicInteger IDS = new AtomicInteger();

    private final String name;
    private final LoopClock clock;
    private final VirtualClock virtualClock;
    private final IoDriver driver;
    private final LoopHost host;
    private final LoopExceptionHandler exceptionHandler;
    private final Consumer<StallReport> stallHandler;
    private final Duration watchdogThreshold;
    /** Schedule exploration (tests only), or null: FIFO. Set before the host is created, which reads it. */
    final Exploration exploration;
    private final Thread carrier;
    private final Lifecycle lifecycle;
    private final Submissions in;
    private final Turns work;
    private final Runnable clockListener;
    private volatile Watchdog.Entry watchdogEntry;
    private volatile long stalls;

    DefaultEventLoop(EventLoop.Builder b) {
        this.name = b.name != null ? b.name : "loop-" + IDS.incrementAndGet();
        this.clock = b.clock;
        this.virtualClock = b.clock instanceof VirtualClock vc ? vc : null;
        this.exceptionHandler = b.exceptionHandler;
        this.stallHandler = b.stallHandler;
        this.watchdogThreshold = b.watchdogThreshold;
        this.exploration = b.exploration;
        this.carrier = new LoopCarrierThread(this, name);
        this.lifecycle = new Lifecycle(name);
        // the host first: one that cannot run here (a missing JVM flag) fails before any I/O resource exists
        this.host = b.hostFactory == null ? null : Objects.requireNonNull(b.hostFactory.create(this), "LoopHostFactory returned null");
        this.driver = Objects.requireNonNull(b.ioDriver.create(this), "IoDriverFactory returned null");
        this.in = new Submissions(driver);
        this.work = new Turns(this, lifecycle, clock, driver, in, exploration, b.virtualTimeLimit);
        work.host(host);
        this.driver.attach(work);
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
        return JdkReach.currentCarrier() instanceof LoopCarrierThread c ? c.loop : null;
    }

    // ------------------------------------------------------------------ identity

    @Override
    public String name() {
        return name;
    }

    @Override
    public State state() {
        return lifecycle.state();
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
        return JdkReach.currentCarrier() == carrier;
    }

    /** {@return the carrier thread; {@code null} until the loop has started} */
    Thread carrierThread() {
        return lifecycle.state() == State.NEW ? null : carrier;
    }

    @Override
    public IoDriver ioDriver() {
        return driver;
    }

    @Override
    public String toString() {
        return "EventLoop[" + name + ", " + lifecycle.state() + (host != null ? ", hosted" : "") + "]";
    }

    // ------------------------------------------------------------------ submission

    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (JdkReach.currentCarrier() == carrier) {
            if (lifecycle.state() == State.CLOSED) {
                throw lifecycle.refused("execute");
            }
            in.addLocal(task);
        } else {
            checkOpenForForeign("execute");
            in.offerForeign(task);
        }
    }

    private void checkOpenForForeign(String what) {
        State s = lifecycle.state();
        if (s == State.NEW) {
            start();
        } else if (s == State.CLOSING || s == State.CLOSED) {
            throw lifecycle.refused(what);
        }
    }

    @Override
    public TimerHandle schedule(Runnable task, Duration delay) {
        return scheduleAt(task, deadlineAfter(delay), false);
    }

    @Override
    public TimerHandle scheduleAt(Runnable task, long deadlineNanos) {
        return scheduleAt(task, deadlineNanos, false);
    }

    @Override
    public TimerHandle scheduleWake(Runnable wake, Duration delay) {
        return scheduleAt(wake, deadlineAfter(delay), true);
    }

    @Override
    public TimerHandle scheduleWakeAt(Runnable wake, long deadlineNanos) {
        return scheduleAt(wake, deadlineNanos, true);
    }

    private long deadlineAfter(Duration delay) {
        Objects.requireNonNull(delay, "delay");
        long nanos;
        try {
            nanos = Math.max(0, delay.toNanos());
        } catch (ArithmeticException tooLong) {
            nanos = Long.MAX_VALUE;
        }
        long now = clock.nanoTime();
        long deadline = now + nanos;
        return deadline < now ? Long.MAX_VALUE : deadline;
    }

    private TimerHandle scheduleAt(Runnable task, long deadlineNanos, boolean wake) {
        Objects.requireNonNull(task, "task");
        ScheduledTimer t = new ScheduledTimer(this, task, deadlineNanos, wake);
        if (JdkReach.currentCarrier() == carrier) {
            if (lifecycle.closing()) {
                throw lifecycle.refused("schedule");
            }
            in.drainForeignTimers(work.timers);
            work.timers.add(t);
        } else {
            checkOpenForForeign("schedule");
            in.offerTimer(t);
        }
        return t;
    }

    void timerCancelled(ScheduledTimer t) {
        t.task = null;
        if (JdkReach.currentCarrier() == carrier) {
            work.timers.remove(t);
        } else if (!lifecycle.closing()) {
            in.offerCancel(t);
        }
    }

    /** Wakes whatever of the loop is asleep. Any thread. */
    private void wakeup() {
        in.wakeupPoller();
        if (host != null) {
            host.wakeCarrier();
        }
    }

    // ------------------------------------------------------------------ the carrier

    private void start() {
        if (lifecycle.start()) {
            if (watchdogThreshold != null) {
                watchdogEntry = Watchdog.register(this, watchdogThreshold);
            }
            carrier.start();
        }
    }

    private void carrierMain() {
        work.idle(false);
        try {
            if (host == null) {
                driver.runWorker(() -> work.workLoop(null));
            } else {
                host.runCarrier();
            }
        } catch (Throwable t) {
            log.error("loop '{}': the carrier failed; the loop is closed", name, t);
            if (!work.finished()) {
                work.cancelTimers();
                work.closeDriver();
            }
        } finally {
            terminate();
        }
    }

    private void terminate() {
        Watchdog.unregister(watchdogEntry);
        if (virtualClock != null) {
            virtualClock.removeListener(clockListener);
        }
        int dropped = in.dropForeign();
        if (dropped > 0) {
            log.warn("loop '{}': {} tasks submitted while it closed were dropped", name, dropped);
        }
        lifecycle.terminated();
    }

    void handleFailure(Throwable error, Object source) {
        LoopExceptionHandler h = exceptionHandler;
        if (h != null) {
            try {
                h.handle(this, error, source);
                return;
            } catch (Throwable handlerFailure) {
                error.addSuppressed(handlerFailure);
            }
        }
        log.error("loop '{}': {} failed; the loop keeps running", name, describe(source), error);
    }

    /**
     * A failed task's source for the log: a lambda as the class it was written in
     * ({@code a task from LoopDemo}, not {@code LoopDemo$$Lambda/0x...@623b985a}), another object by
     * its {@code toString}, a description as it is.
     */
    static String describe(Object source) {
        if (source instanceof String s) {
            return s;
        }
        String n = source.getClass().getName();
        int lambda = n.indexOf("$$Lambda");
        if (lambda >= 0) {
            n = n.substring(0, lambda);
            return "a task from " + n.substring(n.lastIndexOf('.') + 1);
        }
        return "task " + source;
    }

    // ------------------------------------------------------------------ LoopWork (for the host)

    @Override
    public EventLoop loop() {
        return this;
    }

    @Override
    public void run(WorkRunner runner) {
        driver.runWorker(() -> work.workLoop(runner));
    }

    @Override
    public void runBeside(WorkRunner runner, BooleanSupplier next) {
        driver.runWorker(() -> work.runBeside(runner, next));
    }

    @Override
    public boolean finished() {
        return work.finished();
    }

    @Override
    public void wakeupPoller() {
        in.wakeupPoller();
    }

    @Override
    public void progressed() {
        work.progressed();
    }

    @Override
    public void idle(boolean idle) {
        work.idle(idle);
    }

    @Override
    public boolean idle() {
        return work.isIdle();
    }

    @Override
    public LoopHost host() {
        return host;
    }

    // ------------------------------------------------------------------ closing

    @Override
    public void close() {
        switch (lifecycle.beginClose()) {
            case CLOSED_UNSTARTED -> {
                work.closeDriver();
                terminate();
                return;
            }
            case BEGUN, ALREADY -> wakeup();
        }
        if (!inLoop()) {
            lifecycle.termination().join();
        }
    }

    @Override
    public CompletableFuture<Void> terminationFuture() {
        return lifecycle.termination().copy();
    }

    // ------------------------------------------------------------------ run / runForever / stop

    private Lifecycle.RunCall enterRun(String what, boolean forever) {
        if (inLoop()) {
            throw new IllegalStateException(what + "() was called on loop '" + name + "' itself, which would wait for itself: "
                    + "from loop code, submit work with execute() or schedule(), or spawn a task");
        }
        start();
        return lifecycle.enterRun(what, forever);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T run(Callable<T> main) {
        Objects.requireNonNull(main, "main");
        Lifecycle.RunCall call = enterRun("run", false);
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
            lifecycle.exitRun(call);
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
        Lifecycle.RunCall call = enterRun("runForever", true);
        try {
            call.outcome.join();
        } finally {
            lifecycle.exitRun(call);
        }
    }

    @Override
    public void stop() {
        lifecycle.stop();
    }

    // ------------------------------------------------------------------ watchdog and stats

    long progress() {
        return work.progress();
    }

    boolean isIdle() {
        return work.isIdle();
    }

    String describeRunning() {
        return host == null ? null : host.describeRunning();
    }

    void stalled(StallReport report) {
        stalls++;
        io.fiberloop.loop.internal.LoopStallEvent e = new io.fiberloop.loop.internal.LoopStallEvent();
        if (e.isEnabled()) {
            e.loop = name;
            e.stalledFor = report.stalledFor().toNanos();
            e.running = report.running();
            StringBuilder stack = new StringBuilder();
            for (int i = 0; i < Math.min(20, report.carrierStack().size()); i++) {
                stack.append(i == 0 ? "" : "\n").append(report.carrierStack().get(i));
            }
            e.carrierStack = stack.toString();
            e.commit();
        }
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

    /** {@return whether tasks, foreign timers or a due timer wait; loop thread only ({@link Internals})} */
    boolean workPending() {
        return in.tasksPending() || in.foreignPending() || work.timers.nextDeadline() <= clock.nanoTime() || ioDriver().hasPendingWork();
    }

    /** {@return the next timer's deadline, {@link Long#MAX_VALUE} for none; loop thread only ({@link Internals})} */
    long nextDeadline() {
        in.drainForeignTimers(work.timers);
        return work.timers.nextDeadline();
    }

    /** {@return the length of the timer heap's array; loop thread only (for tests of memory release)} */
    int timerHeapCapacity() {
        assert inLoop() : "timerHeapCapacity off the loop";
        return work.timers.capacity();
    }

    @Override
    public LoopStats stats() {
        Turns w = work;
        long run = w.tasksRun;
        long fired = w.timersFired;
        boolean here = inLoop();
        int depth = in.tasksWaiting(here, w.lastQueueDepth);
        int pending = here ? w.timers.size() : w.lastTimerCount;
        return new LoopStats(run, fired, host == null ? 0 : host.workRun(),
                Duration.ofNanos(w.taskNanosMax),
                Duration.ofNanos(run == 0 ? 0 : w.taskNanosTotal / run),
                depth, pending,
                Duration.ofNanos(w.lagNanosMax),
                Duration.ofNanos(fired == 0 ? 0 : w.lagNanosTotal / fired),
                stalls,
                Duration.ofNanos(watchdogEntry == null ? 0 : watchdogEntry.stalledNanos()));
    }
}
