package io.fiberloop.samples;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The classic concurrency patterns with fiberloop's coordination primitives, one sub-command each:
 * {@code ./fiberloop samples patterns <name>}. Each pattern's logic is a static {@code run} method
 * that returns what it observed, so tests assert it; the command prints it. See the "Patterns"
 * section of {@code docs/coordination.md}.
 */
@Command(name = "patterns", mixinStandardHelpOptions = true,
        description = "The classic concurrency patterns on fibers: producer-consumer, worker-pool, ticker, fan-out, generator.",
        subcommands = {ProducerConsumer.class, WorkerPool.class, Ticker.class, FanOutFanIn.class, GeneratorPattern.class,
                CommandLine.HelpCommand.class})
final class Patterns implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** What every pattern command shares: the choice of clock, and opening the loop. */
    abstract static class PatternCommand implements Callable<Integer> {
        @Option(names = "--virtual-clock",
                description = "Run on an auto-advancing virtual clock: the same events, at exact times, with no real waiting.")
        boolean virtualClock;

        LoopClock clock() {
            return virtualClock ? LoopClock.autoAdvancing() : LoopClock.system();
        }
    }

    /** A loop for one run of a pattern, on {@code clock}. */
    static EventLoop loop(String name, LoopClock clock) {
        return FiberLoops.builder().name(name).clock(clock).build();
    }
}
