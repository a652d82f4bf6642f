package io.fiberloop.bench;

import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;
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
 * The cost of handing control from one party to another, in nanoseconds per <em>transfer</em>:
 * one transfer is control moving from one party (fiber, continuation, thread) to the other. A
 * ping-pong round trip is two transfers. All five run in the same JMH invocation of the jar, so
 * their figures are comparable.
 *
 * <ul>
 *   <li>{@link #fiberSwitchTo}: two fibers of one {@link EventLoop} (the loop's main fiber and a
 *       child {@link Fiber}) switching to each other with {@link Fiber#switchTo()}; one
 *       {@code switchTo} call is one transfer. Each invocation is one {@code loop.run(...)};
 *       starting and ending the child (one virtual thread) and the {@code run} itself are
 *       included, amortised over {@value #ROUNDS} round trips.</li>
 *   <li>{@link #fiberParkUnpark}: two tasks of one loop (the main fiber and a task spawned with
 *       {@link Fibers#spawn}) taking turns with a volatile turn flag and
 *       {@link LockSupport#park()}/{@link LockSupport#unpark}: the unparked fiber's continuation
 *       goes through the loop's run queue, as every fiberloop wake-up (await, sleep, join) does.
 *       One hand-over of the turn is one transfer.</li>
 *   <li>{@link #continuationOneWay}: a raw {@code jdk.internal.vm.Continuation} driven by the
 *       benchmark thread: {@code run()} is one transfer (driver to continuation),
 *       {@code Continuation.yield} is another (back to the driver). This is the smallest unit the
 *       JDK offers and half of what a fiber-to-fiber switch needs.</li>
 *   <li>{@link #continuationTrampoline}: two raw continuations taking turns through a trampoline
 *       (the driver runs one, it yields, the driver runs the other): one transfer is
 *       continuation A to continuation B, i.e. one yield plus one run. This is the floor for a
 *       party-to-party transfer built on the JDK's continuations, which is what a fiber switch is
 *       (the current fiber's virtual thread yields, the carrier runs the target's).</li>
 *   <li>{@link #virtualThreadsDefaultScheduler}: the same park/unpark ping-pong code as
 *       {@link #fiberParkUnpark}, between two virtual threads of the JDK's default scheduler
 *       (a ForkJoinPool with one carrier per core, two here).</li>
 *   <li>{@link #platformThreads}: the same code between two platform threads.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class HandoffBenchmark {
    /** Round trips (two transfers each) per invocation for fibers, continuations and virtual threads. */
    public static final int ROUNDS = 50_000;
    /** Round trips per invocation for platform threads (each costs microseconds). */
    public static final int PLATFORM_ROUNDS = 5_000;

    private static final ContinuationScope SCOPE = new ContinuationScope("bench-handoff");

    private EventLoop loop;

    @Setup(Level.Trial)
    public void open() throws Exception {
        loop = FiberLoops.builder().name("bench-handoff").build();
        loop.run(() -> null); // start the carrier and the fiber host
    }

    @TearDown(Level.Trial)
    public void close() {
        loop.close();
    }

    /**
     * {@code switchTo} ping-pong: main starts the child (1 transfer), then both switch back and
     * forth; the child's end returns control to main (1 transfer). 2 × ROUNDS + 2 transfers.
     */
    @Benchmark
    @OperationsPerInvocation(2 * ROUNDS + 2)
    public int fiberSwitchTo() throws Exception {
        return loop.run(() -> {
            Fiber main = Fiber.current();
            int[] count = new int[1];
            Fiber child = new Fiber(() -> {
                for (int i = 0; i < ROUNDS; i++) {
                    count[0]++;
                    main.switchTo();
                }
            });
            for (int i = 0; i <= ROUNDS; i++) {
                child.switchTo();
            }
            if (child.state() != Fiber.State.ENDED || count[0] != ROUNDS) {
                throw new IllegalStateException("switchTo ping-pong went wrong: " + child + ", " + count[0] + " rounds");
            }
            return count[0];
        });
    }

    /** Park/unpark ping-pong between the loop's main fiber and a spawned task: 2 × ROUNDS transfers. */
    @Benchmark
    @OperationsPerInvocation(2 * ROUNDS)
    public int fiberParkUnpark() throws Exception {
        return loop.run(() -> {
            PingPong pp = new PingPong(ROUNDS);
            pp.a = Thread.currentThread();
            Task<Integer> b = Fibers.spawn(() -> {
                pp.partyB();
                return 0;
            });
            pp.partyA();
            b.join();
            return pp.check();
        });
    }

    /** Raw continuation run + yield: 2 × ROUNDS transfers (each run is one, each yield is one). */
    @Benchmark
    @OperationsPerInvocation(2 * ROUNDS)
    public int continuationOneWay() {
        int[] count = new int[1];
        Continuation c = new Continuation(SCOPE, () -> {
            while (true) {
                count[0]++;
                Continuation.yield(SCOPE);
            }
        });
        for (int i = 0; i < ROUNDS; i++) {
            c.run();
        }
        if (count[0] != ROUNDS) {
            throw new IllegalStateException("continuation ran " + count[0] + " times");
        }
        return count[0];
    }

    /**
     * Two raw continuations alternating through a trampoline: 2 × ROUNDS transfers, each one
     * yield (of the party giving up control) plus one run (of the party taking it).
     */
    @Benchmark
    @OperationsPerInvocation(2 * ROUNDS)
    public int continuationTrampoline() {
        int[] count = new int[2];
        Continuation a = new Continuation(SCOPE, () -> {
            while (true) {
                count[0]++;
                Continuation.yield(SCOPE);
            }
        });
        Continuation b = new Continuation(SCOPE, () -> {
            while (true) {
                count[1]++;
                Continuation.yield(SCOPE);
            }
        });
        for (int i = 0; i < ROUNDS; i++) {
            a.run();
            b.run();
        }
        if (count[0] != ROUNDS || count[1] != ROUNDS) {
            throw new IllegalStateException("continuations ran " + count[0] + "/" + count[1] + " times");
        }
        return count[0] + count[1];
    }

    /** The park/unpark ping-pong between two virtual threads of the JDK's default scheduler: 2 × ROUNDS transfers. */
    @Benchmark
    @OperationsPerInvocation(2 * ROUNDS)
    public int virtualThreadsDefaultScheduler() throws InterruptedException {
        return threads(Thread.ofVirtual(), ROUNDS);
    }

    /** The park/unpark ping-pong between two platform threads: 2 × PLATFORM_ROUNDS transfers. */
    @Benchmark
    @OperationsPerInvocation(2 * PLATFORM_ROUNDS)
    public int platformThreads() throws InterruptedException {
        return threads(Thread.ofPlatform(), PLATFORM_ROUNDS);
    }

    private static int threads(Thread.Builder builder, int rounds) throws InterruptedException {
        PingPong pp = new PingPong(rounds);
        Thread a = builder.unstarted(pp::partyA);
        pp.a = a;
        Thread b = builder.unstarted(pp::partyB);
        a.start();
        b.start();
        a.join();
        b.join();
        return pp.check();
    }

    /**
     * A turn passed back and forth with a volatile flag and park/unpark; identical code for fibers,
     * virtual threads and platform threads. B moves first: it publishes its thread, then gives A
     * the turn; each party waits for its turn, then hands it over. Every hand-over is one transfer.
     */
    static final class PingPong {
        private static final int A = 1;
        private static final int B = 2;
        final int rounds;
        /** Party A's thread; set before B starts. */
        volatile Thread a;
        /** Party B's thread; published by B before its first hand-over. */
        volatile Thread b;
        volatile int turn;
        int movesA;
        int movesB;

        PingPong(int rounds) {
            this.rounds = rounds;
        }

        void partyA() {
            for (int i = 0; i < rounds; i++) {
                while (turn != A) {
                    LockSupport.park(this);
                }
                movesA++;
                turn = B;
                LockSupport.unpark(b);
            }
        }

        void partyB() {
            b = Thread.currentThread();
            Thread other = a;
            for (int i = 0; i < rounds; i++) {
                movesB++;
                turn = A;
                LockSupport.unpark(other);
                while (turn != B) {
                    LockSupport.park(this);
                }
            }
        }

        int check() {
            if (movesA != rounds || movesB != rounds) {
                throw new IllegalStateException("ping-pong went wrong: " + movesA + "/" + movesB + " of " + rounds);
            }
            return movesA + movesB;
        }
    }
}
