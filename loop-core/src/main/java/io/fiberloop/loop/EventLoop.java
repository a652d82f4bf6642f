package io.fiberloop.loop;

import io.fiberloop.loop.spi.IoDriver;
import io.fiberloop.loop.spi.IoDriverFactory;
import io.fiberloop.loop.spi.LoopHost;
import io.fiberloop.loop.spi.LoopHostFactory;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * A single-threaded event loop: one platform <em>carrier</em> thread runs, one at a time and in
 * order, the loop's tasks, timer callbacks and I/O. Code that runs on a loop needs no locks.
 *
 * <p>This loop knows nothing of fibers: its tasks are callbacks that run on the carrier. A loop
 * that hosts fiberloop's fibers, where tasks, timers and I/O run inside a work fiber and
 * {@code run(main)} runs {@code main} in a fiber, comes from {@code io.fiberloop.fiber.FiberLoops}
 * (or {@code io.fiberloop.netty.NettyLoops}, with Netty's I/O); it is an {@code EventLoop} too.
 *
 * {@snippet :
 * try (EventLoop loop = EventLoop.create()) {
 *     String answer = loop.run(() -> {
 *         loop.schedule(() -> System.out.println("tick"), Duration.ofMillis(10));
 *         return "done";
 *     });
 * }
 * }
 *
 * <h2>Lifecycle</h2>
 * <table>
 *   <caption>States of a loop</caption>
 *   <tr><th>state</th><th>meaning</th><th>next</th></tr>
 *   <tr><td>{@link State#NEW}</td><td>built; its carrier starts with the first submission</td><td>ACTIVE, CLOSING</td></tr>
 *   <tr><td>{@link State#ACTIVE}</td><td>the carrier runs submitted work</td><td>RUNNING, CLOSING</td></tr>
 *   <tr><td>{@link State#RUNNING}</td><td>as ACTIVE, and a caller is blocked in {@link #run} or {@link #runForever()}</td><td>ACTIVE, CLOSING</td></tr>
 *   <tr><td>{@link State#CLOSING}</td><td>{@link #close()} called: new work is refused, pending timers are cancelled, queued tasks finish</td><td>CLOSED</td></tr>
 *   <tr><td>{@link State#CLOSED}</td><td>the carrier has ended</td><td>(final)</td></tr>
 * </table>
 *
 * <h2>Threading</h2>
 * {@link #execute}, {@link #schedule}, {@link #scheduleAt}, {@link #now()}, {@link #stats()},
 * {@link #stop()} and {@link #close()} are safe from any thread. {@link #run} and
 * {@link #runForever()} block the calling thread, so they must not be called on the loop itself
 * (they throw {@link IllegalStateException} there). A task submitted from the loop's own thread
 * takes a cheaper path than one submitted from another thread; either way it runs later, never
 * inline.
 *
 * <h2>Failures</h2>
 * An exception escaping a task or a timer callback goes to the loop's
 * {@link LoopExceptionHandler} (by default: logged at ERROR with the loop's name); the loop keeps
 * running.
 */
public interface EventLoop extends Executor, AutoCloseable {

    /** The lifecycle of a loop; see the table in {@link EventLoop}. */
    enum State {
        /** Built; the carrier thread has not started. */
        NEW,
        /** The carrier runs submitted work; nobody is blocked in {@code run}. */
        ACTIVE,
        /** A caller is blocked in {@code run(main)} or {@code runForever()}. */
        RUNNING,
        /** Closing: new work is refused; queued tasks finish; timers are cancelled. */
        CLOSING,
        /** The carrier has ended. Final. */
        CLOSED
    }

    /**
     * A loop with the default settings: system clock, parking I/O driver, watchdog at 100 ms, and a
     * generated name ({@code loop-1}, {@code loop-2}, …). It hosts no fibers: for a fiber loop,
     * use {@code io.fiberloop.fiber.FiberLoops.newLoop()}.
     *
     * @return a new loop in state {@link State#NEW}
     */
    static EventLoop create() {
        return builder().build();
    }

    /**
     * The loop the calling code runs on: the loop whose carrier thread is the caller, or on whose
     * carrier the calling fiber is mounted.
     *
     * <p>Threading: any thread.
     *
     * @return the current loop, or {@code null} when the caller is not on a loop
     */
    static EventLoop currentOrNull() {
        return DefaultEventLoop.currentLoop();
    }

    /**
     * The loop the calling code runs on.
     *
     * @return the current loop
     * @throws IllegalStateException when the caller is not on a loop; the message says how to get there
     */
    static EventLoop current() {
        EventLoop loop = DefaultEventLoop.currentLoop();
        if (loop == null) {
            throw new IllegalStateException("not on an event loop (thread '" + Thread.currentThread().getName()
                    + "'): run this code inside EventLoop.run(...), a task spawned on a loop, or loop.execute(...)");
        }
        return loop;
    }

    /** {@return a builder for a loop with non-default settings} */
    static Builder builder() {
        return new Builder();
    }

    /** {@return the loop's name, also the name of its carrier thread} */
    String name();

    /** {@return the current lifecycle state} */
    State state();

    /**
     * Submits a task to run on the loop, after the tasks already queued (FIFO).
     *
     * <p>Threading: any thread. From the loop itself it takes a cheaper, unsynchronized path. The
     * task never runs inline, even when submitted from the loop.
     *
     * @param task the task
     * @throws LoopClosedException if the loop is closing or closed
     */
    @Override
    void execute(Runnable task);

    /**
     * Runs {@code task} once, {@code delay} from now on the loop's clock (asyncio's
     * {@code call_later}). Timers fire in deadline order, and timers with equal deadlines in the
     * order they were scheduled.
     *
     * <p>Threading: any thread.
     *
     * @param task the callback; it runs on the loop
     * @param delay how long from now; zero or negative means "as soon as possible"
     * @return a handle that can cancel the timer
     * @throws LoopClosedException if the loop is closing or closed
     */
    TimerHandle schedule(Runnable task, Duration delay);

    /**
     * Runs {@code task} once when the loop's clock reaches {@code deadlineNanos} (asyncio's
     * {@code call_at}).
     *
     * <p>Threading: any thread.
     *
     * @param task the callback; it runs on the loop
     * @param deadlineNanos a time of {@link #now()}'s clock
     * @return a handle that can cancel the timer
     * @throws LoopClosedException if the loop is closing or closed
     */
    TimerHandle scheduleAt(Runnable task, long deadlineNanos);

    /**
     * Schedules a <em>wake-up</em>: a timer whose task only makes fibers runnable (unparks a thread,
     * sets a flag a fiber reads, queues an operation for the I/O driver) and returns at once. It
     * never blocks and never runs user code or I/O of its own. Because of that promise the loop may
     * fire it in the middle of an I/O run ({@link io.fiberloop.loop.spi.PollSupport#fireWakeTimers()}),
     * so that a fiber sleeping through a long run wakes near its deadline; a timer of
     * {@link #schedule} fires only between polls. Otherwise it is a timer as {@link #schedule}'s.
     *
     * <p>Threading: any thread.
     *
     * @param wake the wake-up; it runs on the loop
     * @param delay how long from now; zero or negative means "as soon as possible"
     * @return a handle that can cancel the timer
     * @throws LoopClosedException if the loop is closing or closed
     */
    TimerHandle scheduleWake(Runnable wake, Duration delay);

    /**
     * Schedules a wake-up ({@link #scheduleWake}) at {@code deadlineNanos} of the loop's clock.
     *
     * <p>Threading: any thread.
     *
     * @param wake the wake-up; it runs on the loop
     * @param deadlineNanos a time of {@link #now()}'s clock
     * @return a handle that can cancel the timer
     * @throws LoopClosedException if the loop is closing or closed
     */
    TimerHandle scheduleWakeAt(Runnable wake, long deadlineNanos);

    /**
     * Reads the loop's clock (the system's monotonic clock, or a {@link VirtualClock}).
     *
     * <p>Threading: any thread.
     *
     * @return the time in nanoseconds, on the same scale as {@link #scheduleAt}'s deadlines
     */
    long now();

    /** {@return the loop's clock} */
    LoopClock clock();

    /**
     * The loop's I/O driver, for the driver's own code: a driver module finds its driver of a loop
     * here (Netty's does, for {@code NettyLoops.nettyLoop(loop)}). Applications do not need it.
     *
     * <p>Threading: any thread.
     *
     * @return the driver the loop was built with
     */
    IoDriver ioDriver();

    /**
     * Whether the caller runs on this loop: on its carrier thread, or inside one of its fibers.
     *
     * @return {@code true} on the loop
     */
    boolean inLoop();

    /**
     * Runs {@code main} on the loop (in its own root fiber on a fiber loop), blocks the
     * calling thread until it completes, and returns its result or throws its exception, as
     * asyncio's {@code run}. The loop stays open afterwards; close it when done.
     *
     * <p>Threading: any thread but the loop's own. Only one caller may be in {@code run} or
     * {@link #runForever()} at a time.
     *
     * @param main the work; on a fiber loop it may block in fiber style
     * @param <T> its result type
     * @return what {@code main} returned
     * @throws RuntimeException whatever unchecked exception (or error) {@code main} threw, unchanged
     * @throws CompletionException wrapping a checked exception that {@code main} threw (its cause),
     *     or the {@link InterruptedException} of a caller interrupted while it waits (its interrupt
     *     status is kept)
     * @throws IllegalStateException if called on the loop itself, if the loop is already running,
     *     or if the loop was stopped or closed before {@code main} completed
     */
    <T> T run(Callable<T> main);

    /**
     * Runs {@code main} as {@link #run(Callable)} does, for work without a result.
     *
     * @param main the work
     * @throws IllegalStateException as {@link #run(Callable)}
     * @throws RuntimeException whatever {@code main} threw
     */
    void run(Runnable main);

    /**
     * Blocks the calling thread while the loop serves its work, until {@link #stop()} or
     * {@link #close()} (asyncio's {@code run_forever}).
     *
     * <p>Threading: any thread but the loop's own; one caller at a time.
     *
     * @throws IllegalStateException if called on the loop, if it is already running, or if it is closed
     */
    void runForever();

    /**
     * Releases the caller of {@link #runForever()} (or makes a pending {@link #run} throw); the
     * loop itself keeps serving its work. Does nothing if nobody is running the loop.
     *
     * <p>Threading: any thread.
     */
    void stop();

    /**
     * Closes the loop: refuses new work from now on, cancels pending timers, lets the tasks already
     * queued run, closes the I/O driver and ends the carrier. Idempotent.
     *
     * <p>Threading: any thread. From another thread it blocks until the loop is
     * {@link State#CLOSED}; from the loop itself it only starts closing (the loop closes once the
     * current task returns), since the loop cannot wait for itself.
     */
    @Override
    void close();

    /** {@return a future completed when the loop has reached {@link State#CLOSED}} */
    CompletableFuture<Void> terminationFuture();

    /**
     * Takes a snapshot of the loop's counters.
     *
     * <p>Threading: any thread; the counters are read without synchronization, so a snapshot taken
     * from another thread may be a few tasks old.
     *
     * @return the counters
     */
    LoopStats stats();

    /**
     * Builds {@link EventLoop}s. Not thread-safe; {@link #build()} may be called more than once.
     */
    final class Builder {
        String name;
        LoopClock clock = LoopClock.system();
        IoDriverFactory ioDriver = IoDriverFactory.parking();
        Duration watchdogThreshold = Duration.ofMillis(100);
        Consumer<StallReport> stallHandler;
        LoopExceptionHandler exceptionHandler;
        LoopHostFactory hostFactory;
        /** Set only through {@link io.fiberloop.loop.internal.LoopInternals#explore} (tests); null is FIFO. */
        io.fiberloop.loop.internal.Exploration exploration;
        /** Set only through {@link io.fiberloop.loop.internal.LoopInternals#limitVirtualTime} (tests); null is none. */
        io.fiberloop.loop.internal.VirtualTimeLimit virtualTimeLimit;

        static {
            io.fiberloop.loop.internal.LoopInternals.install(new Internals());
        }

        Builder() {
        }

        /**
         * {@return this builder}
         *
         * @param name the loop's name, also its carrier thread's; default {@code loop-N}
         */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        /**
         * {@return this builder}
         *
         * @param clock the loop's clock; default {@link LoopClock#system()}
         */
        public Builder clock(LoopClock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * {@return this builder}
         *
         * @param factory creates the loop's I/O driver; default {@link IoDriverFactory#parking()}
         */
        public Builder ioDriver(IoDriverFactory factory) {
            this.ioDriver = Objects.requireNonNull(factory, "factory");
            return this;
        }

        /**
         * Reports, through the stall handler, any single piece of work that holds the carrier
         * longer than {@code threshold}.
         *
         * @param threshold the limit; default 100 ms; {@code null} or zero switches the watchdog off
         * @return this builder
         */
        public Builder watchdog(Duration threshold) {
            this.watchdogThreshold = threshold == null || threshold.isZero() ? null : threshold;
            if (threshold != null && threshold.isNegative()) {
                throw new IllegalArgumentException("watchdog threshold must be positive, was " + threshold);
            }
            return this;
        }

        /**
         * {@return this builder}
         *
         * @param handler receives stall reports (on the watchdog thread); default: log at WARN
         */
        public Builder onStall(Consumer<StallReport> handler) {
            this.stallHandler = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * {@return this builder}
         *
         * @param handler receives exceptions that escape tasks; default: log at ERROR
         */
        public Builder exceptionHandler(LoopExceptionHandler handler) {
            this.exceptionHandler = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * Makes the loop a host: a module runs the loop's carrier thread, and the loop's work inside
         * it ({@link LoopHost}). This is how fiberloop's fibers take over a loop; applications ask
         * for a fiber loop with {@code io.fiberloop.fiber.FiberLoops} instead of calling this.
         *
         * @param factory creates the loop's host
         * @return this builder
         */
        public Builder host(LoopHostFactory factory) {
            this.hostFactory = Objects.requireNonNull(factory, "factory");
            return this;
        }

        /**
         * Builds a loop in state {@link State#NEW}.
         *
         * @return the loop
         * @throws IllegalStateException if its {@linkplain #host host} cannot run in this JVM (the
         *     message says which flag is missing)
         */
        public EventLoop build() {
            return new DefaultEventLoop(this);
        }
    }
}
