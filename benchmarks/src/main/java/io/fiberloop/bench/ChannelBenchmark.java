package io.fiberloop.bench;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.channel.Channel;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Message throughput of {@link Channel} (messages per second), one producer and one consumer, all
 * contenders in the same JMH run. Every invocation moves {@value #MESSAGES} messages (the same
 * pre-boxed {@code Integer}, so no boxing is measured); the consumer counts what it received and
 * the invocation fails if a single message is missing.
 *
 * <ul>
 *   <li>{@link #oneLoop}: a producer task and a consumer (the loop's main fiber) on one loop,
 *       through {@code Channel.buffered(1024)}. One {@code loop.run(...)} per invocation; the
 *       cross-thread start of the run is amortised over the messages.</li>
 *   <li>{@link #twoLoops}: a producer task on loop A and a consumer task on loop B, through
 *       {@code Channel.buffered(1024)}; the benchmark thread spawns both and joins both.</li>
 *   <li>{@link #arrayBlockingQueue}: the same between two long-lived platform threads (a fixed
 *       pool of two, so no thread is started per invocation, like the loops' carriers), through
 *       {@code ArrayBlockingQueue(1024)}: {@code put} / {@code take}.</li>
 *   <li>{@link #linkedTransferQueue}: the same through a {@code LinkedTransferQueue} (unbounded:
 *       {@code put} never waits) / {@code take}.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ChannelBenchmark {
    /** Messages per invocation. */
    public static final int MESSAGES = 100_000;
    /** Capacity of the channel and of the bounded queue. */
    public static final int CAPACITY = 1024;

    private static final Integer ITEM = 42;

    private EventLoop single;
    private EventLoop loopA;
    private EventLoop loopB;
    private ExecutorService threads;
    private Channel<Integer> oneLoopChannel;
    private Channel<Integer> crossChannel;
    private BlockingQueue<Integer> abq;
    private BlockingQueue<Integer> ltq;

    @Setup(Level.Trial)
    public void open() throws Exception {
        single = FiberLoops.builder().name("bench-channel").build();
        loopA = FiberLoops.builder().name("bench-channel-A").build();
        loopB = FiberLoops.builder().name("bench-channel-B").build();
        single.run(() -> null); // start the carriers and the fiber hosts
        loopA.run(() -> null);
        loopB.run(() -> null);
        threads = Executors.newFixedThreadPool(2, Thread.ofPlatform().name("bench-channel-thread-", 0).factory());
        oneLoopChannel = Channel.buffered(CAPACITY);
        crossChannel = Channel.buffered(CAPACITY);
        abq = new ArrayBlockingQueue<>(CAPACITY);
        ltq = new LinkedTransferQueue<>();
    }

    @TearDown(Level.Trial)
    public void close() {
        single.close();
        loopA.close();
        loopB.close();
        threads.shutdownNow();
    }

    /** Producer task and consumer fiber on one loop, {@code Channel.buffered(1024)}. */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public long oneLoop() throws Exception {
        Channel<Integer> ch = oneLoopChannel;
        return single.run(() -> {
            Task<Void> producer = Fibers.spawn(() -> {
                send(ch);
                return null;
            });
            long got = receive(ch);
            producer.join();
            return check(got);
        });
    }

    /** Producer task on loop A, consumer task on loop B, {@code Channel.buffered(1024)}. */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public long twoLoops() {
        Channel<Integer> ch = crossChannel;
        Task<Long> consumer = Fibers.spawn(loopB, () -> receive(ch));
        Task<Void> producer = Fibers.spawn(loopA, () -> {
            send(ch);
            return null;
        });
        producer.join();
        return check(consumer.join());
    }

    /** Two platform threads, {@code ArrayBlockingQueue(1024)}. */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public long arrayBlockingQueue() throws Exception {
        return queue(abq);
    }

    /** Two platform threads, {@code LinkedTransferQueue}. */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public long linkedTransferQueue() throws Exception {
        return queue(ltq);
    }

    private long queue(BlockingQueue<Integer> q) throws InterruptedException, ExecutionException {
        Future<Long> consumer = threads.submit(() -> {
            long got = 0;
            for (int i = 0; i < MESSAGES; i++) {
                if (q.take() != null) {
                    got++;
                }
            }
            return got;
        });
        Future<?> producer = threads.submit(() -> {
            Integer item = ITEM;
            for (int i = 0; i < MESSAGES; i++) {
                q.put(item);
            }
            return null;
        });
        producer.get();
        return check(consumer.get());
    }

    private static void send(Channel<Integer> ch) {
        Integer item = ITEM;
        for (int i = 0; i < MESSAGES; i++) {
            ch.send(item);
        }
    }

    private static long receive(Channel<Integer> ch) {
        long got = 0;
        for (int i = 0; i < MESSAGES; i++) {
            if (ch.receive() != null) {
                got++;
            }
        }
        return got;
    }

    private static long check(long got) {
        if (got != MESSAGES) {
            throw new IllegalStateException("received " + got + " of " + MESSAGES + " messages");
        }
        return got;
    }
}
