package io.fiberloop.test;

import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.internal.FiberHost;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.VirtualClock;
import io.fiberloop.loop.internal.LoopInternals;
import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * The helpers of one {@link FiberLoopTest} test: its loop and virtual clock, moving time
 * ({@link #advanceBy}, {@link #advanceUntilIdle}), waiting until every other fiber is blocked
 * ({@link #waitAllTasksBlocked}, trio's), and the test's {@link EventOrder}. Injected as a test
 * method's parameter.
 *
 * {@snippet :
 * @Test
 * void workerPicksUpAJob(TestLoop t) {
 *     Channel<String> jobs = Channel.buffered(10);
 *     List<String> done = new ArrayList<>();
 *     Task<Void> worker = Fibers.spawn(() -> { for (String j; (j = jobs.receiveOrNull()) != null; ) done.add(j); return null; });
 *     jobs.send("a");
 *     t.waitAllTasksBlocked();           // the worker took "a" and waits for the next job
 *     assertEquals(List.of("a"), done);
 *     jobs.close();
 *     worker.join();
 * }
 * }
 *
 * <p>Threading: the methods that wait ({@link #advanceBy}, {@link #advanceUntilIdle},
 * {@link #waitAllTasksBlocked}) must be called from a fiber of the test's loop (the test method
 * runs in one); they throw {@link IllegalStateException} elsewhere. The others are safe from any
 * thread.
 */
public final class TestLoop {
    private final EventLoop loop;
    private final VirtualClock clock;
    private final EventOrder order;
    private final Long seed;
    /** The virtual time past which the test is cancelled; {@link #advanceUntilIdle} stops before it. */
    private volatile long limitNanos = Long.MAX_VALUE;

    TestLoop(EventLoop loop, VirtualClock clock, EventOrder order, Long seed) {
        this.loop = loop;
        this.clock = clock;
        this.order = order;
        this.seed = seed;
    }

    void limit(long deadlineNanos) {
        this.limitNanos = deadlineNanos;
    }

    /** {@return the test's loop} */
    public EventLoop loop() {
        return loop;
    }

    /** {@return the test's virtual clock (auto-advancing: it jumps to the next timer whenever the loop is idle)} */
    public VirtualClock clock() {
        return clock;
    }

    /** {@return the test's event order (the same object a parameter of type {@link EventOrder} gets)} */
    public EventOrder order() {
        return order;
    }

    /** {@return the schedule exploration seed of this run ({@link Explore}), or empty in FIFO order} */
    public OptionalLong seed() {
        return seed == null ? OptionalLong.empty() : OptionalLong.of(seed);
    }

    /** {@return the virtual time since the test's loop started (its clock starts at zero)} */
    public Duration now() {
        return Duration.ofNanos(clock.nanoTime());
    }

    /**
     * Lets the loop run until its clock reaches now + {@code delta}: every fiber, task and timer due
     * before then runs, in order, and the calling fiber resumes at exactly that time (kotlinx's
     * {@code advanceTimeBy}, on the auto-advancing clock: a {@link Fibers#sleep} of the caller).
     *
     * @param delta how far to move; not negative
     * @return the virtual time afterwards
     * @throws IllegalStateException off a fiber of the test's loop
     */
    public Duration advanceBy(Duration delta) {
        Objects.requireNonNull(delta, "delta");
        if (delta.isNegative()) {
            throw new IllegalArgumentException("a clock cannot go back: advanceBy(" + delta + ")");
        }
        onLoop("advanceBy(Duration)");
        Fibers.sleep(delta);
        return now();
    }

    /**
     * Runs everything that can run, moving the clock from timer to timer, until no fiber is ready
     * and no timer is pending (kotlinx's {@code advanceUntilIdle}). Timers at or past the test's
     * virtual-time limit are left alone. A fiber that wakes itself periodically keeps this going
     * up to the limit, where the test fails: cancel such fibers first.
     *
     * @return the virtual time afterwards
     * @throws IllegalStateException off a fiber of the test's loop
     */
    public Duration advanceUntilIdle() {
        onLoop("advanceUntilIdle()");
        LoopInternals internals = LoopInternals.get();
        while (true) {
            waitAllTasksBlocked();
            long next = internals.nextDeadline(loop);
            if (next == Long.MAX_VALUE || next >= limitNanos) {
                return now();
            }
            Fibers.sleep(Duration.ofNanos(Math.max(0, next - clock.nanoTime())));
        }
    }

    /**
     * Returns once every other fiber of the loop is blocked: none is ready to run, no loop task is
     * queued and no timer is due (trio's {@code wait_all_tasks_blocked}). The clock does not move
     * meanwhile. Fibers woken from other threads (a future completed by a thread pool) may still
     * become ready afterwards.
     *
     * @throws IllegalStateException off a fiber of the test's loop
     */
    public void waitAllTasksBlocked() {
        onLoop("waitAllTasksBlocked()");
        FiberHost host = FiberHost.of(loop);
        LoopInternals internals = LoopInternals.get();
        do {
            Fibers.yieldNow();
        } while (host.fiberReady() || internals.workPending(loop));
    }

    private void onLoop(String what) {
        if (Fiber.currentOrNull() == null || !loop.inLoop()) {
            throw new IllegalStateException(what + " waits in a fiber of the test's loop '" + loop.name() + "', and thread '"
                    + Thread.currentThread().getName() + "' is not one: call it from the test method (which runs in the loop's "
                    + "main fiber) or a fiber spawned there");
        }
    }

    @Override
    public String toString() {
        return "TestLoop[" + loop.name() + ", " + now() + (seed == null ? "" : ", seed " + ExploreSeeds.format(seed)) + "]";
    }
}
