package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import java.time.Duration;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A plain thread spawns two tasks onto a loop nobody runs explicitly (one fails at once, one sleeps
 * for an hour) and joins both, round after round with a fresh loop each time. The plain thread's
 * wait must notice the failure however it races with the wait's own bookkeeping (the failure
 * landing between the wait's check and its choice of futures to block on was once missed, and
 * the thread blocked on the sleeper forever); then the sleeper must be cancelled across threads.
 * A completion or cancellation lost even once hangs a round, and the timeout fails the test.
 */
class ForeignJoinAllStressTest {
    /** How long the test keeps starting rounds. */
    private static final long BUDGET_NANOS = Duration.ofSeconds(4).toNanos();

    @Test
    @Timeout(30)
    void plainThreadJoinAllCancelsTheOtherTaskEveryTime() throws Exception {
        long end = System.nanoTime() + BUDGET_NANOS;
        int rounds = 0;
        while (rounds < 100 || System.nanoTime() < end && rounds < 20_000) {
            plainThreadJoinsAFailingAndASleepingTask();
            rounds++;
        }
        assertTrue(rounds >= 100, "rounds: " + rounds);
    }

    /**
     * One round: from the calling plain thread, spawns a task that fails at once and one that
     * sleeps for an hour on a fresh loop, joins both, and checks that the failure is raised and the
     * sleeper was cancelled. Also the second half of {@link CombinatorTest}'s gather test.
     */
    static void plainThreadJoinsAFailingAndASleepingTask() {
        try (EventLoop loop = FiberLoops.newLoop()) {
            Task<Integer> fails = Fibers.spawn(loop, () -> {
                throw new IllegalArgumentException("bad");
            });
            Task<String> slow = Fibers.spawn(loop, () -> {
                Fibers.sleep(Duration.ofHours(1));
                return "never";
            });
            // from a plain thread: blocks, and the other task is cancelled and done when it throws
            assertThrows(IllegalArgumentException.class, () -> Fibers.joinAll(fails, slow));
            assertTrue(slow.isDone());
            assertEquals(Future.State.CANCELLED, slow.state());
        }
    }
}
