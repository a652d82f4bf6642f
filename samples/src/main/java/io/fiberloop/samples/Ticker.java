package io.fiberloop.samples;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A periodic ticker: a fiber that sleeps until its next deadline with {@link Fibers#sleep}, ticks,
 * and computes the next deadline from the previous one (not from "now"), so the ticks do not drift
 * however long a tick's work takes. Cancelling its task wakes the sleep at once: the ticker stops
 * within the same loop turn, so the stop latency is well under one tick (zero on a virtual clock),
 * and its {@code finally} block runs.
 */
@Command(name = "ticker", mixinStandardHelpOptions = true,
        description = "A periodic fiber on Fibers.sleep that stops promptly when its task is cancelled.")
final class Ticker extends Patterns.PatternCommand {

    @Option(names = "--period-ms", defaultValue = "100", description = "Tick period, ms (default: ${DEFAULT-VALUE}).")
    long periodMs;

    @Option(names = "--run-ms", defaultValue = "350", description = "Cancel the ticker after this long, ms (default: ${DEFAULT-VALUE}).")
    long runMs;

    /**
     * What happened.
     *
     * @param tickAtMs when each tick happened
     * @param cancelAtMs when the main fiber cancelled the ticker
     * @param stoppedAtMs when the ticker's {@code finally} block ran
     * @param stopLatencyNanos from the cancel to the {@code finally}, on the loop's clock
     * @param log every event
     */
    record Result(List<Long> tickAtMs, long cancelAtMs, long stoppedAtMs, long stopLatencyNanos, List<String> log) {
    }

    @Override
    public Integer call() throws Exception {
        Result r = run(clock(), periodMs, runMs);
        PatternLog.print(r.log());
        System.out.printf("%d ticks; stop latency %.3f ms (bound: one tick, %d ms)%n",
                r.tickAtMs().size(), r.stopLatencyNanos() / 1e6, periodMs);
        return 0;
    }

    static Result run(LoopClock clock, long periodMs, long runMs) throws Exception {
        try (EventLoop loop = Patterns.loop("ticker", clock)) {
            return loop.run(() -> {
                PatternLog log = new PatternLog(loop);
                long period = Duration.ofMillis(periodMs).toNanos();
                List<Long> ticks = new ArrayList<>();
                long[] stoppedAt = new long[2];   // loop time in ns, log time in ms

                Task<Void> ticker = Fibers.spawn("ticker", () -> {
                    long next = loop.now() + period;
                    try {
                        while (true) {
                            Fibers.sleep(Duration.ofNanos(next - loop.now()));   // a cancellation point
                            ticks.add(log.ms());
                            log.add("ticker", "tick " + ticks.size());
                            next += period;                 // drift-free: from the deadline, not from now
                        }
                    } finally {
                        stoppedAt[0] = loop.now();
                        stoppedAt[1] = log.ms();
                        log.add("ticker", "stopped (finally runs)");
                    }
                });

                Fibers.sleep(Duration.ofMillis(runMs));
                long cancelAt = loop.now();
                long cancelAtMs = log.ms();
                log.add("main", "cancelling the ticker");
                ticker.cancel();
                try {
                    ticker.join();
                } catch (CancelledException expected) {
                    log.add("main", "join() threw CancelledException: the ticker is " + ticker.state());
                }
                long latency = stoppedAt[0] - cancelAt;
                return new Result(List.copyOf(ticks), cancelAtMs, stoppedAt[1], latency, log.lines());
            });
        }
    }
}
