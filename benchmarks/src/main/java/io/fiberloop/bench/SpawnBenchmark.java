package io.fiberloop.bench;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * Spawn-and-complete throughput: fibers (or virtual threads) per second, each started, run to
 * the end of a trivial body, and joined. Every invocation starts {@value #N} of them, then joins
 * them all, in order.
 *
 * <ul>
 *   <li>{@link #fiberTasks}: inside {@code loop.run(...)} on one {@link EventLoop}:
 *       {@link Fibers#spawn} N tasks, then {@link Task#join()} each. A task is a fiber (a virtual
 *       thread scheduled by the loop) plus its {@code Task} (a {@code CompletableFuture}).</li>
 *   <li>{@link #loopVirtualThreads}: inside {@code loop.run(...)}: {@code Thread.ofVirtual().start}
 *       N plain virtual threads, which inherit the loop as their scheduler, then join each: the
 *       same loop without the Task and Fiber bookkeeping.</li>
 *   <li>{@link #defaultVirtualThreads}: the baseline: the benchmark thread starts N virtual
 *       threads on the JDK's default scheduler, then joins each.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SpawnBenchmark {
    /** Fibers or threads per invocation. */
    public static final int N = 10_000;

    private static final Callable<Integer> TRIVIAL_TASK = () -> 1;

    private EventLoop loop;
    private final AtomicInteger ran = new AtomicInteger();
    private final Runnable trivialThread = ran::incrementAndGet;

    @Setup(Level.Trial)
    public void open() throws Exception {
        loop = FiberLoops.builder().name("bench-spawn").build();
        loop.run(() -> null); // start the carrier and the fiber host
    }

    @TearDown(Level.Trial)
    public void close() {
        loop.close();
    }

    /** N tasks spawned on the loop, then joined. */
    @Benchmark
    @OperationsPerInvocation(N)
    public int fiberTasks() throws Exception {
        return loop.run(() -> {
            Task<?>[] tasks = new Task<?>[N];
            for (int i = 0; i < N; i++) {
                tasks[i] = Fibers.spawn(TRIVIAL_TASK);
            }
            int sum = 0;
            for (Task<?> t : tasks) {
                sum += (Integer) t.join();
            }
            if (sum != N) {
                throw new IllegalStateException("tasks returned " + sum + ", expected " + N);
            }
            return sum;
        });
    }

    /** N plain virtual threads started from a fiber (so scheduled by the loop), then joined. */
    @Benchmark
    @OperationsPerInvocation(N)
    public int loopVirtualThreads() throws Exception {
        return loop.run(() -> startAndJoin(Thread.ofVirtual()));
    }

    /** N virtual threads of the JDK's default scheduler, started and joined by the benchmark thread. */
    @Benchmark
    @OperationsPerInvocation(N)
    public int defaultVirtualThreads() throws InterruptedException {
        return startAndJoin(Thread.ofVirtual());
    }

    private int startAndJoin(Thread.Builder.OfVirtual builder) throws InterruptedException {
        int before = ran.get();
        Thread[] threads = new Thread[N];
        for (int i = 0; i < N; i++) {
            threads[i] = builder.start(trivialThread);
        }
        for (Thread t : threads) {
            t.join();
        }
        int done = ran.get() - before;
        if (done != N) {
            throw new IllegalStateException(done + " threads ran, expected " + N);
        }
        return done;
    }
}
