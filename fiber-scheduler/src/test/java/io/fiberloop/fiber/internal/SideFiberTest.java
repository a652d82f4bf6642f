package io.fiberloop.fiber.internal;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.ForwardingDriver;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.spi.PollSupport;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The side fiber ({@link PollSupport#runTasks()}): a driver that yields in the middle of its poll
 * lets the loop's queued tasks run meanwhile, on a second work fiber, in order; a task that blocks
 * there keeps that fiber, the poll goes on, and the tasks behind it run after the poll.
 */
@Timeout(20)
class SideFiberTest {

    /**
     * The parking driver, which in the poll after {@link #midPoll} is set asks for the queued tasks
     * to run, yields (as a driver does between slices of a long run) and logs around it.
     */
    static final class YieldingDriver extends ForwardingDriver {
        final List<String> log;
        volatile PollSupport support;
        volatile boolean midPoll;
        final CompletableFuture<Boolean> asked = new CompletableFuture<>();

        YieldingDriver(EventLoop loop, List<String> log) {
            super(loop);
            this.log = log;
        }

        @Override
        public void attach(PollSupport s) {
            support = s;
        }

        @Override
        public int poll(long timeoutNanos) {
            if (midPoll) {
                midPoll = false;
                log.add("poll-start");
                boolean batch = support.runTasks();
                Thread.yield();
                log.add("poll-end");
                asked.complete(batch);
                return 1;
            }
            return super.poll(timeoutNanos);
        }
    }

    private static EventLoop loop(String name, YieldingDriver[] d, List<String> log) {
        return FiberLoops.builder().name(name).ioDriver(l -> d[0] = new YieldingDriver(l, log)).build();
    }

    /** Queues {@code tasks} from a loop task, which then makes the next poll yield. */
    private static void queueThenYieldInPoll(EventLoop loop, YieldingDriver d, Runnable... tasks) {
        loop.execute(() -> {
            for (Runnable t : tasks) {
                loop.execute(t);
            }
            d.midPoll = true;
        });
    }

    @Test
    void queuedTasksRunInsideThePollOnASecondWorkFiberInOrder() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        YieldingDriver[] d = new YieldingDriver[1];
        CompletableFuture<Void> last = new CompletableFuture<>();
        CompletableFuture<Void> next = new CompletableFuture<>();
        try (EventLoop loop = loop("order", d, log)) {
            queueThenYieldInPoll(loop, d[0],
                    () -> log.add("a on " + side()),
                    () -> {
                        log.add("b on " + side());
                        loop.execute(() -> { // waits for the next batch or turn
                            log.add("queued by b");
                            next.complete(null);
                        });
                    },
                    () -> log.add("c on " + side()),
                    () -> last.complete(null));
            last.get(10, TimeUnit.SECONDS);
            assertTrue(d[0].asked.get(10, TimeUnit.SECONDS), "runTasks() promised a batch");
            next.get(10, TimeUnit.SECONDS);
            assertEquals(List.of("poll-start", "a on side", "b on side", "c on side", "poll-end", "queued by b"), log);
        }
    }

    @Test
    void aTaskThatBlocksKeepsTheSideFiberAndTheRestRunAfterThePoll() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        YieldingDriver[] d = new YieldingDriver[1];
        CountDownLatch gate = new CountDownLatch(1);
        CompletableFuture<String> blockedEnded = new CompletableFuture<>();
        try (EventLoop loop = loop("blocked", d, log)) {
            String[] firstSide = new String[1];
            queueThenYieldInPoll(loop, d[0],
                    () -> {
                        firstSide[0] = Thread.currentThread().getName();
                        log.add("blocker on " + side());
                        try {
                            gate.await(); // a JDK blocking call: the side fiber is suspended inside a task
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        }
                        blockedEnded.complete(Thread.currentThread().getName());
                    },
                    () -> log.add("b on " + side()),
                    () -> {
                        log.add("opener on " + side());
                        gate.countDown();
                    });
            String endedOn = blockedEnded.get(10, TimeUnit.SECONDS);
            assertEquals(firstSide[0], endedOn, "the blocked task ended on the fiber it began on");
            assertEquals(List.of("poll-start", "blocker on side", "poll-end", "b on work", "opener on work"), log,
                    "the poll went on while the blocker waited, and the tasks behind it ran in the turn");
            // the next batch gets a new side fiber, which runs it
            log.clear();
            CompletableFuture<String> next = new CompletableFuture<>();
            queueThenYieldInPoll(loop, d[0], () -> {
                String name = Thread.currentThread().getName();
                loop.execute(() -> next.complete(name)); // runs after the poll
            });
            String second = next.get(10, TimeUnit.SECONDS);
            assertTrue(second.contains("-side-"), second);
            assertNotEquals(firstSide[0], second, "the retired side fiber runs no more batches");
            assertEquals(List.of("poll-start", "poll-end"), log);
        }
    }

    @Test
    void withNothingQueuedNoBatchIsPromised() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        YieldingDriver[] d = new YieldingDriver[1];
        try (EventLoop loop = loop("none", d, log)) {
            loop.execute(() -> d[0].midPoll = true);
            assertFalse(d[0].asked.get(10, TimeUnit.SECONDS));
            IllegalStateException outside = assertThrows(IllegalStateException.class, d[0].support::runTasks);
            assertTrue(outside.getMessage().contains("inside its poll"), outside.getMessage());
        }
    }

    /** Which of the loop's work fibers runs the caller: "side" or "work". */
    private static String side() {
        String n = Thread.currentThread().getName();
        return n.contains("-side-") ? "side" : n.contains("-work-") ? "work" : n;
    }
}
