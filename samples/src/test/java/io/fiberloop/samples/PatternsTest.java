package io.fiberloop.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.LoopClock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * Every pattern sample, on an auto-advancing virtual clock, so that each event happens at an exact
 * time and the assertions are exact.
 */
@Timeout(30)
class PatternsTest {

    @Test
    void producerConsumerDeliversEverythingInOrderWithBackpressure() throws Exception {
        ProducerConsumer.Result r = ProducerConsumer.run(LoopClock.autoAdvancing(), 6, 2, 10);
        assertEquals(List.of(1, 2, 3, 4, 5, 6), r.received());
        assertEquals(List.of(0L, 10L, 20L, 30L, 40L, 50L), r.receivedAtMs());
        // items 1..3 go at once (2 buffered + 1 taken), then one per consumed item: max(0, k - 3) × 10 ms
        assertEquals(List.of(0L, 0L, 0L, 10L, 20L, 30L), r.sentAtMs());
        assertEquals(60, r.endMs(), "the consumer sees the end after draining the last item");
        assertTrue(r.log().getLast().endsWith("consumer: channel closed and drained: done"), r.log().toString());
    }

    @Test
    void producerConsumerThroughARendezvousChannel() throws Exception {
        ProducerConsumer.Result r = ProducerConsumer.run(LoopClock.autoAdvancing(), 3, 0, 10);
        assertEquals(List.of(1, 2, 3), r.received());
        // capacity 0: each send returns only when the consumer takes the item
        assertEquals(List.of(0L, 10L, 20L), r.sentAtMs());
        assertEquals(30, r.endMs());
    }

    private static final Map<Integer, Long> POOL_DONE_AT = Map.of(0, 30L, 1, 10L, 2, 20L, 3, 20L, 4, 60L, 5, 30L);

    @Test
    void workerPoolRunsAtMostNJobsAtOnceAndJoinsWhenAllAreDone() throws Exception {
        WorkerPool.Result r = WorkerPool.run(LoopClock.autoAdvancing(), 3, WorkerPool.DEFAULT_COSTS);
        assertEquals(POOL_DONE_AT, r.doneAtMs());
        assertEquals(List.of(0L, 1L, 4L, 9L, 16L, 25L), r.results().stream().map(WorkerPool.Done::value).toList());
        assertEquals(3, r.maxBusy());
        assertEquals(60, r.totalMs(), "120 ms of work on 3 workers");
        assertTrue(r.results().stream().allMatch(d -> d.worker().startsWith("worker-")));
        assertTrue(r.log().getLast().contains("cancelling the idle workers"), r.log().toString());
    }

    @Test
    void workerPoolWithASemaphoreGivesTheSameSchedule() throws Exception {
        WorkerPool.Result r = WorkerPool.withSemaphore(LoopClock.autoAdvancing(), 3, WorkerPool.DEFAULT_COSTS);
        assertEquals(POOL_DONE_AT, r.doneAtMs());
        assertEquals(3, r.maxBusy());
        assertEquals(60, r.totalMs());
    }

    @Test
    void workerPoolWithOneWorkerIsSerial() throws Exception {
        WorkerPool.Result r = WorkerPool.run(LoopClock.autoAdvancing(), 1, WorkerPool.DEFAULT_COSTS);
        assertEquals(Map.of(0, 30L, 1, 40L, 2, 60L, 3, 70L, 4, 110L, 5, 120L), r.doneAtMs());
        assertEquals(1, r.maxBusy());
        assertEquals(120, r.totalMs());
    }

    @Test
    void tickerTicksOnScheduleAndStopsAtOnceWhenCancelled() throws Exception {
        Ticker.Result r = Ticker.run(LoopClock.autoAdvancing(), 100, 350);
        assertEquals(List.of(100L, 200L, 300L), r.tickAtMs());
        assertEquals(350, r.cancelAtMs());
        assertEquals(350, r.stoppedAtMs(), "the sleeping ticker is woken by the cancel, not by its next tick");
        assertEquals(0, r.stopLatencyNanos());
        assertTrue(r.stopLatencyNanos() <= 100_000_000L, "at most one tick");
        assertEquals(List.of(
                "[ 100 ms] ticker: tick 1",
                "[ 200 ms] ticker: tick 2",
                "[ 300 ms] ticker: tick 3",
                "[ 350 ms] main: cancelling the ticker",
                "[ 350 ms] ticker: stopped (finally runs)",
                "[ 350 ms] main: join() threw CancelledException: the ticker is CANCELLED"), r.log());
    }

    @Test
    void tickerWithAnotherPeriod() throws Exception {
        Ticker.Result r = Ticker.run(LoopClock.autoAdvancing(), 30, 100);
        assertEquals(List.of(30L, 60L, 90L), r.tickAtMs());
        assertEquals(100, r.stoppedAtMs());
        assertEquals(0, r.stopLatencyNanos());
    }

    @Test
    void fanOutCollectsWhatArrivesBeforeTheDeadlineAndCancelsTheRest() throws Exception {
        for (boolean useSelect : new boolean[] {true, false}) {
            FanOutFanIn.Result r = FanOutFanIn.run(LoopClock.autoAdvancing(), FanOutFanIn.DEFAULT_DELAYS, 100, useSelect);
            String how = useSelect ? "Select" : "withTimeoutOrNull";
            assertEquals(List.of(new FanOutFanIn.Reply("fetch-2", 30), new FanOutFanIn.Reply("fetch-0", 50),
                    new FanOutFanIn.Reply("fetch-4", 80)), r.collected(), how);
            assertEquals(List.of("fetch-1", "fetch-3"), r.cancelled(), how);
            assertEquals(100, r.finishedMs(), how);
            assertTrue(r.log().contains("[ 100 ms] fetch-1: cancelled after 100 of its 120 ms"), how + ": " + r.log());
            assertTrue(r.log().contains("[ 100 ms] fetch-3: cancelled after 100 of its 300 ms"), how + ": " + r.log());
        }
    }

    @Test
    void fanOutEndsEarlyWhenEverythingArrivesBeforeTheDeadline() throws Exception {
        FanOutFanIn.Result r = FanOutFanIn.run(LoopClock.autoAdvancing(), List.of(20L, 10L), 100, true);
        assertEquals(List.of("fetch-1", "fetch-0"), r.collected().stream().map(FanOutFanIn.Reply::fetch).toList());
        assertEquals(List.of(), r.cancelled());
        assertEquals(20, r.finishedMs());
    }

    @Test
    void generatorYieldsLazilyInLockstepWithItsConsumer() throws Exception {
        GeneratorPattern.Result r = GeneratorPattern.run(LoopClock.autoAdvancing(), 5);
        assertEquals(List.of(0L, 1L, 1L, 2L, 3L), r.fibonacci());
        assertEquals(List.of(3, 2, 1), r.countdown());
        assertEquals(List.of(
                "generator: yields 0", "consumer: got 0",
                "generator: yields 1", "consumer: got 1",
                "generator: yields 1", "consumer: got 1",
                "generator: yields 2", "consumer: got 2",
                "generator: yields 3", "consumer: got 3",
                "consumer: took 5, drops the endless generator",
                "generator: body returns",
                "consumer: countdown [3, 2, 1], exhausted: true"), r.log());
    }

    @Test
    void everyPatternIsASubcommandWithHelp() {
        CommandLine cli = new CommandLine(Main.class);
        CommandLine patterns = cli.getSubcommands().get("patterns");
        assertEquals(List.of("producer-consumer", "worker-pool", "ticker", "fan-out", "generator"),
                patterns.getSubcommands().keySet().stream().filter(n -> !n.equals("help") && !n.equals("fan-out-fan-in")).toList());
        assertEquals(0, cli.execute("patterns", "generator", "--virtual-clock", "--count", "3"));
        assertEquals(0, cli.execute("patterns", "ticker", "--help"));
    }

    @Test
    void theServerSamplesHaveHelpThatNamesTheirOptions() {
        for (String[] c : new String[][] {{"echo", "--port"}, {"chat", "--port"}, {"proxy", "--to"}}) {
            CommandLine cli = new CommandLine(Main.class);
            java.io.StringWriter out = new java.io.StringWriter();
            cli.setOut(new java.io.PrintWriter(out));
            assertEquals(0, cli.execute(c[0], "--help"), c[0] + " --help");
            assertTrue(out.toString().contains(c[1]), c[0] + " --help does not mention " + c[1] + ":\n" + out);
        }
    }
}
