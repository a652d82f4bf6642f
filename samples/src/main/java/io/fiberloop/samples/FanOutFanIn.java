package io.fiberloop.samples;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.channel.Channel;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.channel.Select;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Fan-out and fan-in with a deadline: spawn one fetch per simulated backend, each replying after
 * its own delay into a shared channel; collect the replies that arrive before the deadline; cancel
 * the fetches still running. The collecting is done with a {@link Select} whose
 * {@code onTimeout} is the time left to the deadline, or, with {@code --with-timeout}, with
 * {@link Fibers#withTimeoutOrNull} around plain {@code receive()} calls; both give the same outcome.
 */
@Command(name = "fan-out", aliases = "fan-out-fan-in", mixinStandardHelpOptions = true,
        description = "Spawn N fetches with different delays, collect what finishes before a deadline, cancel the rest.")
final class FanOutFanIn extends Patterns.PatternCommand {

    /** The default simulated delays of the fetches, ms. */
    static final List<Long> DEFAULT_DELAYS = List.of(50L, 120L, 30L, 300L, 80L);

    @Option(names = "--delays", split = ",", description = "Delay of each fetch in ms, comma-separated (default: 50,120,30,300,80).")
    List<Long> delays = new ArrayList<>(DEFAULT_DELAYS);

    @Option(names = "--deadline-ms", defaultValue = "100", description = "Deadline for collecting, ms (default: ${DEFAULT-VALUE}).")
    long deadlineMs;

    @Option(names = "--with-timeout", description = "Collect under Fibers.withTimeoutOrNull instead of a Select with onTimeout.")
    boolean withTimeout;

    /** A fetch's reply. */
    record Reply(String fetch, long atMs) {
    }

    /**
     * What happened.
     *
     * @param collected the replies collected before the deadline, in arrival order
     * @param cancelled the fetches that were cancelled, in spawn order
     * @param finishedMs when the collecting ended
     * @param log every event
     */
    record Result(List<Reply> collected, List<String> cancelled, long finishedMs, List<String> log) {
    }

    @Override
    public Integer call() throws Exception {
        Result r = run(clock(), delays, deadlineMs, !withTimeout);
        PatternLog.print(r.log());
        System.out.println("collected " + r.collected().stream().map(Reply::fetch).toList() + " by " + r.finishedMs()
                + " ms; cancelled " + r.cancelled());
        return 0;
    }

    static Result run(LoopClock clock, List<Long> delays, long deadlineMs, boolean useSelect) throws Exception {
        try (EventLoop loop = Patterns.loop("fan-out", clock)) {
            return loop.run(() -> {
                PatternLog log = new PatternLog(loop);
                Channel<Reply> replies = Channel.buffered(delays.size());   // room for all: a fetch never waits
                long deadline = loop.now() + Duration.ofMillis(deadlineMs).toNanos();   // from the start

                // fan out
                List<Task<Void>> fetches = new ArrayList<>();
                for (int i = 0; i < delays.size(); i++) {
                    String name = "fetch-" + i;
                    long delay = delays.get(i);
                    fetches.add(Fibers.spawn(name, () -> {
                        try {
                            Fibers.sleep(Duration.ofMillis(delay));          // the simulated request
                        } catch (CancelledException e) {
                            log.add(name, "cancelled after " + log.ms() + " of its " + delay + " ms");
                            throw e;
                        }
                        replies.send(new Reply(name, log.ms()));
                        log.add(name, "replied");
                        return null;
                    }));
                }
                log.add("main", "spawned " + delays.size() + " fetches; collecting until " + deadlineMs + " ms");

                // fan in, until the deadline
                List<Reply> collected = new ArrayList<>();
                if (useSelect) {
                    while (collected.size() < delays.size()) {
                        Reply r = Select.<Reply>create()
                                .onReceive(replies, reply -> reply)
                                .onTimeout(Duration.ofNanos(deadline - loop.now()), () -> null)
                                .run();
                        if (r == null) {
                            log.add("main", "deadline reached (Select.onTimeout)");
                            break;
                        }
                        collected.add(r);
                        log.add("main", "collected " + r.fetch());
                    }
                } else {
                    Object all = Fibers.withTimeoutOrNull(Duration.ofNanos(deadline - loop.now()), () -> {
                        while (collected.size() < delays.size()) {
                            Reply r = replies.receive();                  // cancelled at the deadline
                            collected.add(r);
                            log.add("main", "collected " + r.fetch());
                        }
                        return Boolean.TRUE;
                    });
                    if (all == null) {
                        log.add("main", "deadline reached (withTimeoutOrNull)");
                    }
                }
                long finished = log.ms();

                // cancel the rest, and wait until they have unwound
                List<String> cancelled = new ArrayList<>();
                for (Task<Void> f : fetches) {
                    if (!f.isDone()) {
                        f.cancel();
                    }
                }
                Fibers.awaitAllSettled(fetches);
                for (Task<Void> f : fetches) {
                    if (f.isCancelled()) {
                        cancelled.add(f.name());
                    }
                }
                log.add("main", "cancelled " + cancelled);
                return new Result(List.copyOf(collected), List.copyOf(cancelled), finished, log.lines());
            });
        }
    }
}
