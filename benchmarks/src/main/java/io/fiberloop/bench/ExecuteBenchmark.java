package io.fiberloop.bench;

import io.fiberloop.loop.EventLoop;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of {@code execute}: fiberloop's {@link EventLoop} against Netty 4.2's
 * {@code SingleThreadIoEventLoop} (NIO), the same code driving both through {@link Executor}.
 * Scores are tasks per second. Every task bumps a counter (checked at the end); the benchmark
 * thread waits for the end of an invocation by spinning on a flag that the invocation's last task
 * sets ({@link Tally}), identical for both loops. The loop and the benchmark thread each get one
 * of the machine's two cores.
 *
 * <ul>
 *   <li>{@link #sameThread}: a task running on the loop submits a batch of {@value #BATCH} tasks to
 *       its own loop (the loop-local path); the batch's last task submits the next batch, for
 *       {@value #ROUNDS} rounds. Chaining the rounds on the loop keeps the loop awake for the whole
 *       invocation, so the one cross-thread wakeup per invocation (tens of microseconds on this
 *       virtual machine when the loop's CPU has gone idle) weighs on 100,000 tasks, not 1,000.</li>
 *   <li>{@link #crossThread}: the benchmark thread submits {@value #CROSS_BATCH} tasks from
 *       outside (the MPSC path, with whatever wakeup the loop needs), then waits for the last.
 *       A loop that drains its queue faster than one thread fills it goes to sleep after nearly
 *       every task, so this measures the submit+wakeup protocol more than the queue.</li>
 *   <li>{@link #crossThreadBusy}: as {@link #crossThread}, while a task on the loop keeps
 *       resubmitting itself, so the loop never sleeps and no submission has to wake it: the cost
 *       of the cross-thread queue path alone (a loaded server's regime).</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ExecuteBenchmark {
    /** Tasks per same-thread batch. */
    public static final int BATCH = 1000;
    /** Same-thread batches chained per invocation. */
    public static final int ROUNDS = 100;
    /** Tasks submitted from the benchmark thread per invocation. */
    public static final int CROSS_BATCH = 10_000;

    /** The loop under test: {@code fiberloop} or {@code netty}. */
    @Param({Loops.FIBERLOOP, Loops.NETTY})
    public String loop;

    private EventLoop fiberloop;
    private Loops.Netty netty;
    private Executor executor;
    private Tally tally;
    private SameThreadRounds rounds;
    private long invocations;
    private long expectedTasks;

    @Setup(Level.Trial)
    public void open() {
        switch (loop) {
            case Loops.FIBERLOOP -> {
                fiberloop = Loops.fiberloop();
                executor = fiberloop;
            }
            case Loops.NETTY -> {
                netty = new Loops.Netty();
                executor = netty.loop;
            }
            default -> throw new IllegalArgumentException("unknown loop " + loop);
        }
        tally = new Tally();
        rounds = new SameThreadRounds(executor, tally);
        Loops.runOn(executor, () -> { }); // start the loop's thread
    }

    @TearDown(Level.Trial)
    public void close() {
        tally.await(invocations);
        tally.verify(expectedTasks, loop);
        if (fiberloop != null) {
            fiberloop.close();
        }
        if (netty != null) {
            netty.close();
        }
    }

    /** From tasks on the loop, submit {@value #ROUNDS} × {@value #BATCH} tasks to the same loop; wait until they ran. */
    @Benchmark
    @OperationsPerInvocation(ROUNDS * BATCH)
    public void sameThread() {
        rounds.roundsLeft = ROUNDS; // published to the loop by execute's queue
        executor.execute(rounds.start);
        expectedTasks += ROUNDS * BATCH;
        tally.await(++invocations);
    }

    /** From the benchmark thread, submit {@value #CROSS_BATCH} tasks to the loop; wait until they ran. */
    @Benchmark
    @OperationsPerInvocation(CROSS_BATCH)
    public void crossThread() {
        submitFromOutside();
    }

    /** As {@link #crossThread}, with the loop kept awake by a task that resubmits itself. */
    @Benchmark
    @OperationsPerInvocation(CROSS_BATCH)
    public void crossThreadBusy(KeepAwake awake) {
        submitFromOutside();
    }

    private void submitFromOutside() {
        Executor ex = executor;
        Runnable task = tally.increment;
        for (int i = 1; i < CROSS_BATCH; i++) {
            ex.execute(task);
        }
        ex.execute(tally.last);
        expectedTasks += CROSS_BATCH;
        tally.await(++invocations);
    }

    /**
     * Keeps the loop busy: a task that resubmits itself (same-thread) until the trial ends, so the
     * loop always has work and never parks or selects with a timeout.
     */
    @State(Scope.Benchmark)
    public static class KeepAwake implements Runnable {
        private Executor loop;
        private volatile boolean stop;
        private final Tally stopped = new Tally();

        @Setup(Level.Trial)
        public void start(ExecuteBenchmark b) {
            loop = b.executor;
            loop.execute(this);
        }

        @TearDown(Level.Trial)
        public void stop() {
            stop = true;
            stopped.await(1);
        }

        @Override
        public void run() {
            if (stop) {
                stopped.signal();
            } else {
                loop.execute(this);
            }
        }
    }

    /** Same-thread rounds: runs on the loop only. */
    private static final class SameThreadRounds {
        private final Executor loop;
        private final Tally tally;
        private final Runnable task;
        /** Starts the first round (submitted by the benchmark thread). */
        final Runnable start = this::submitBatch;
        /** The last task of each batch: counts itself, then submits the next batch or signals the end. */
        private final Runnable endOfBatch = this::endOfBatch;
        int roundsLeft;

        SameThreadRounds(Executor loop, Tally tally) {
            this.loop = loop;
            this.tally = tally;
            this.task = tally.increment;
        }

        private void submitBatch() {
            Executor ex = loop;
            Runnable t = task;
            for (int i = 1; i < BATCH; i++) {
                ex.execute(t);
            }
            ex.execute(endOfBatch);
        }

        private void endOfBatch() {
            tally.count++;
            if (--roundsLeft > 0) {
                submitBatch();
            } else {
                tally.signal();
            }
        }
    }
}
