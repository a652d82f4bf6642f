package io.fiberloop.bench;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.sync.Lock;
import io.fiberloop.loop.EventLoop;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
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
 * Uncontended lock acquire + release, nanoseconds per pair, all contenders in the same JMH run.
 * Each pair guards one increment of a counter (checked at the end of every invocation), so the
 * critical section is never empty.
 *
 * <ul>
 *   <li>{@link #fiberLock}: fiberloop's {@link Lock} ({@code lock()} / {@code unlock()}) in the
 *       loop's main fiber, {@value #PAIRS} pairs per {@code loop.run(...)}.</li>
 *   <li>{@link #reentrantLockInFiber}: {@code ReentrantLock} in the same fiber, same loop.</li>
 *   <li>{@link #reentrantLockPlatformThread}: {@code ReentrantLock} on the benchmark thread (a
 *       platform thread), same loop of {@value #PAIRS} pairs.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class LockBenchmark {
    /** Acquire/release pairs per invocation. */
    public static final int PAIRS = 100_000;

    private EventLoop loop;
    private Lock lock;
    private final ReentrantLock reentrant = new ReentrantLock();
    private long counter;

    @Setup(Level.Trial)
    public void open() throws Exception {
        loop = FiberLoops.builder().name("bench-lock").build();
        lock = loop.run(Lock::create); // bound to this loop
    }

    @TearDown(Level.Trial)
    public void close() {
        loop.close();
    }

    /** fiberloop's {@link Lock}, in a fiber. */
    @Benchmark
    @OperationsPerInvocation(PAIRS)
    public long fiberLock() throws Exception {
        return loop.run(() -> {
            Lock l = lock;
            long start = counter;
            for (int i = 0; i < PAIRS; i++) {
                l.lock();
                try {
                    counter++;
                } finally {
                    l.unlock();
                }
            }
            return check(start);
        });
    }

    /** {@code ReentrantLock}, in the same kind of fiber. */
    @Benchmark
    @OperationsPerInvocation(PAIRS)
    public long reentrantLockInFiber() throws Exception {
        return loop.run(this::reentrantPairs);
    }

    /** {@code ReentrantLock}, on the benchmark thread. */
    @Benchmark
    @OperationsPerInvocation(PAIRS)
    public long reentrantLockPlatformThread() {
        return reentrantPairs();
    }

    private long reentrantPairs() {
        ReentrantLock l = reentrant;
        long start = counter;
        for (int i = 0; i < PAIRS; i++) {
            l.lock();
            try {
                counter++;
            } finally {
                l.unlock();
            }
        }
        return check(start);
    }

    private long check(long start) {
        long n = counter - start;
        if (n != PAIRS) {
            throw new IllegalStateException("counted " + n + " of " + PAIRS + " critical sections");
        }
        return counter;
    }
}
