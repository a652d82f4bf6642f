package io.fiberloop.samples;

import io.fiberloop.fiber.channel.Channel;
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
 * Producer and consumer: a producer fiber sends items into a {@code Channel.buffered(capacity)} and
 * closes it; a consumer fiber iterates over the channel (which ends once it is closed and drained),
 * spending {@code workMs} on each item. Because the consumer is slower, the producer runs ahead by
 * exactly {@code capacity} items and then waits: item {@code k} is sent at
 * {@code max(0, k - capacity - 1) × workMs}. That is the channel's backpressure.
 */
@Command(name = "producer-consumer", mixinStandardHelpOptions = true,
        description = "A producer fiber and a slower consumer fiber talking through a bounded Channel, closed to finish.")
final class ProducerConsumer extends Patterns.PatternCommand {

    @Option(names = "--items", defaultValue = "6", description = "Items to produce (default: ${DEFAULT-VALUE}).")
    int items;

    @Option(names = "--capacity", defaultValue = "2", description = "Channel capacity (default: ${DEFAULT-VALUE}).")
    int capacity;

    @Option(names = "--work-ms", defaultValue = "10", description = "Consumer's time per item, ms (default: ${DEFAULT-VALUE}).")
    long workMs;

    /**
     * What happened.
     *
     * @param received the items the consumer got, in order
     * @param sentAtMs when each item's {@code send} returned (index 0 is item 1)
     * @param receivedAtMs when the consumer got each item
     * @param endMs when the consumer saw the end of the channel
     * @param log every event
     */
    record Result(List<Integer> received, List<Long> sentAtMs, List<Long> receivedAtMs, long endMs, List<String> log) {
    }

    @Override
    public Integer call() throws Exception {
        Result r = run(clock(), items, capacity, workMs);
        PatternLog.print(r.log());
        System.out.println("received " + r.received() + "; producer send times (ms) " + r.sentAtMs());
        return 0;
    }

    static Result run(LoopClock clock, int items, int capacity, long workMs) throws Exception {
        try (EventLoop loop = Patterns.loop("producer-consumer", clock)) {
            return loop.run(() -> {
                PatternLog log = new PatternLog(loop);
                Channel<Integer> channel = Channel.buffered(capacity);
                List<Long> sentAt = new ArrayList<>();
                List<Long> receivedAt = new ArrayList<>();
                List<Integer> received = new ArrayList<>();

                Task<Void> producer = Fibers.spawn("producer", () -> {
                    try {
                        for (int i = 1; i <= items; i++) {
                            channel.send(i);                // waits while `capacity` items are unread
                            sentAt.add(log.ms());
                            log.add("producer", "sent " + i);
                        }
                    } finally {
                        channel.close();                    // the consumer drains, then sees the end
                        log.add("producer", "closed the channel");
                    }
                    return null;
                });
                Task<Long> consumer = Fibers.spawn("consumer", () -> {
                    for (int item : channel) {              // ends when closed and drained
                        receivedAt.add(log.ms());
                        received.add(item);
                        log.add("consumer", "received " + item);
                        Fibers.sleep(Duration.ofMillis(workMs));   // simulated work
                    }
                    log.add("consumer", "channel closed and drained: done");
                    return log.ms();
                });
                producer.join();
                long end = consumer.join();
                return new Result(List.copyOf(received), List.copyOf(sentAt), List.copyOf(receivedAt), end, log.lines());
            });
        }
    }
}
