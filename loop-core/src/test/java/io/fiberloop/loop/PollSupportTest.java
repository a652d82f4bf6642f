package io.fiberloop.loop;

import static io.fiberloop.loop.TestLoops.await;
import static io.fiberloop.loop.TestLoops.onLoop;
import static io.fiberloop.loop.TestLoops.quiet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.spi.PollSupport;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link PollSupport#fireWakeTimers()}: a driver fires the loop's due wake timers in the middle of
 * its poll, in deadline order, stopping at the first due timer that is not a wake-up
 * ({@link EventLoop#scheduleWake}).
 */
@Timeout(10)
class PollSupportTest {

    /**
     * A driver that, in the next poll after {@link #midPoll} is set, moves the virtual clock and
     * fires the wake timers (as a driver would between slices of a long I/O run), recording what
     * fired inside the poll.
     */
    static final class MidPollDriver extends IoDriverSpiTest.RecordingDriver {
        final VirtualClock clock;
        final List<String> log;
        volatile PollSupport support;
        volatile Duration midPoll;
        final CompletableFuture<Integer> firedMidPoll = new CompletableFuture<>();

        MidPollDriver(EventLoop owner, VirtualClock clock, List<String> log) {
            super(owner);
            this.clock = clock;
            this.log = log;
        }

        @Override
        public void attach(PollSupport s) {
            this.support = s;
        }

        @Override
        public int poll(long timeoutNanos) {
            Duration move = midPoll;
            if (move != null) {
                midPoll = null;
                clock.advance(move);
                log.add("poll-start");
                int n = support.fireWakeTimers();
                log.add("poll-end");
                firedMidPoll.complete(n);
            }
            return super.poll(timeoutNanos);
        }
    }

    private static void wake(EventLoop loop, List<String> log, String name, long seconds) {
        loop.scheduleWake(() -> log.add(name), Duration.ofSeconds(seconds));
    }

    @Test
    void dueWakeTimersFireInsideThePollAndStopAtTheFirstPlainTimer() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        VirtualClock clock = LoopClock.virtual();
        MidPollDriver[] d = new MidPollDriver[1];
        try (EventLoop loop = quiet("poll-support-order").clock(clock)
                .ioDriver(l -> d[0] = new MidPollDriver(l, clock, log)).build()) {
            assertNotNull(d[0].support, "the loop attaches its support before the first poll");
            CompletableFuture<Void> last = new CompletableFuture<>();
            onLoop(loop, () -> {
                wake(loop, log, "wake@1", 1);
                wake(loop, log, "wake@2", 2);
                loop.schedule(() -> log.add("plain@3"), Duration.ofSeconds(3));
                wake(loop, log, "wake@4", 4);
                wake(loop, log, "wake@9", 9);
                loop.schedule(() -> last.complete(null), Duration.ofSeconds(9));
                d[0].midPoll = Duration.ofSeconds(5);
                return null;
            });
            assertEquals(2, await(d[0].firedMidPoll), "only the wake timers ahead of the plain one fire mid-poll");
            TestLoops.settle(loop);
            assertEquals(List.of("poll-start", "wake@1", "wake@2", "poll-end", "plain@3", "wake@4"), log,
                    "deadline order holds: the plain timer and those behind it fire after the poll");
            clock.advance(Duration.ofSeconds(4));
            await(last);
            assertEquals("wake@9", log.get(log.size() - 1));
            assertEquals(6, onLoop(loop, () -> loop.stats().timersFired()), "mid-poll firings count as timers fired");
        }
    }

    @Test
    void aWakeUpThatThrowsIsReportedAndTheNextStillFires() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        CompletableFuture<Throwable> reported = new CompletableFuture<>();
        VirtualClock clock = LoopClock.virtual();
        MidPollDriver[] d = new MidPollDriver[1];
        try (EventLoop loop = quiet("poll-support-failure").clock(clock)
                .exceptionHandler((l, error, source) -> reported.complete(error))
                .ioDriver(l -> d[0] = new MidPollDriver(l, clock, log)).build()) {
            onLoop(loop, () -> {
                loop.scheduleWake(() -> {
                    throw new IllegalStateException("boom");
                }, Duration.ofSeconds(1));
                wake(loop, log, "after", 2);
                d[0].midPoll = Duration.ofSeconds(3);
                return null;
            });
            assertEquals(2, await(d[0].firedMidPoll));
            assertEquals("boom", await(reported).getMessage());
            assertEquals(List.of("poll-start", "after", "poll-end"), log);
        }
    }

    @Test
    void outsideThePollItIsRefused() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        MidPollDriver[] d = new MidPollDriver[1];
        try (EventLoop loop = quiet("poll-support-refused").clock(clock)
                .ioDriver(l -> d[0] = new MidPollDriver(l, clock, new CopyOnWriteArrayList<>())).build()) {
            PollSupport s = d[0].support;
            IllegalStateException offLoop = assertThrows(IllegalStateException.class, s::fireWakeTimers);
            assertTrue(offLoop.getMessage().contains("inside its poll"), offLoop.getMessage());
            IllegalStateException inTask = onLoop(loop, () -> assertThrows(IllegalStateException.class, s::fireWakeTimers));
            assertTrue(inTask.getMessage().contains("I/O driver"), inTask.getMessage());
            assertSame(s, d[0].support);
        }
    }
}
