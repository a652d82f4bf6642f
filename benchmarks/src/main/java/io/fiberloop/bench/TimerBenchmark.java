package io.fiberloop.bench;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.TimerHandle;
import io.netty.channel.IoEventLoop;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledThreadPoolExecutor;
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
 * Schedule a timer one second out and cancel it at once (the life of most timeouts), per second.
 * One invocation = {@value #ROUNDS} × {@value #BATCH} schedule+cancel pairs.
 *
 * <ul>
 *   <li>{@code fiberloop}: on the loop thread, {@code loop.schedule(task, 1 s).cancel()}.</li>
 *   <li>{@code netty}: on Netty's loop thread, {@code loop.schedule(task, 1, SECONDS).cancel(false)}.</li>
 *   <li>{@code stpe}: from the benchmark thread, a {@link ScheduledThreadPoolExecutor}{@code (1)}
 *       with {@code setRemoveOnCancelPolicy(true)}: {@code schedule(...).cancel(false)}.</li>
 * </ul>
 *
 * For the two loops, the benchmark thread submits one task that runs a batch of {@value #BATCH}
 * pairs on the loop and then submits itself again (same-thread) for the next batch, for
 * {@value #ROUNDS} rounds; the last round signals the end ({@link Tally}). The loop stays awake
 * for the whole invocation, so the one cross-thread wakeup per invocation hardly weighs. The
 * cancelled count is checked at the end.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class TimerBenchmark {
    /** Schedule+cancel pairs per invocation. */
    public static final int BATCH = 1000;
    /** Batches per invocation. */
    public static final int ROUNDS = 100;
    private static final Runnable NOOP = () -> { };
    private static final Duration ONE_SECOND = Duration.ofSeconds(1);

    /** The timer implementation under test: {@code fiberloop}, {@code netty} or {@code stpe}. */
    @Param({Loops.FIBERLOOP, Loops.NETTY, Loops.STPE})
    public String timers;

    private EventLoop fiberloop;
    private Loops.Netty netty;
    private ScheduledThreadPoolExecutor stpe;
    private Executor executor;
    private Runnable batch;
    private Tally tally;
    private long batches;
    private long stpeCancelled;
    /** Rounds left in the current invocation; loop thread only while an invocation runs. */
    int roundsLeft;

    @Setup(Level.Trial)
    public void open() {
        tally = new Tally();
        switch (timers) {
            case Loops.FIBERLOOP -> {
                fiberloop = Loops.fiberloop();
                executor = fiberloop;
                batch = new FiberloopBatch(fiberloop, tally, this);
            }
            case Loops.NETTY -> {
                netty = new Loops.Netty();
                executor = netty.loop;
                batch = new NettyBatch(netty.loop, tally, this);
            }
            case Loops.STPE -> {
                stpe = new ScheduledThreadPoolExecutor(1);
                stpe.setRemoveOnCancelPolicy(true);
                stpe.prestartAllCoreThreads();
            }
            default -> throw new IllegalArgumentException("unknown timers " + timers);
        }
        if (executor != null) {
            Loops.runOn(executor, () -> { }); // start the loop's thread
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        if (stpe != null) {
            if (stpeCancelled != batches * ROUNDS * BATCH || !stpe.getQueue().isEmpty()) {
                throw new IllegalStateException("stpe: cancelled " + stpeCancelled + " of " + batches * ROUNDS * BATCH
                        + ", queue " + stpe.getQueue().size());
            }
            stpe.shutdownNow();
            return;
        }
        tally.await(batches);
        tally.verify(batches * ROUNDS * BATCH, timers);
        if (fiberloop != null) {
            int[] pending = new int[1];
            Loops.runOn(fiberloop, () -> pending[0] = fiberloop.stats().pendingTimers());
            fiberloop.close();
            if (pending[0] != 0) {
                throw new IllegalStateException("fiberloop: " + pending + " timers still pending after cancel");
            }
        }
        if (netty != null) {
            netty.close();
        }
    }

    @Benchmark
    @OperationsPerInvocation(ROUNDS * BATCH)
    public void scheduleCancel() {
        ScheduledThreadPoolExecutor s = stpe;
        if (s != null) {
            long n = 0;
            for (int i = 0; i < ROUNDS * BATCH; i++) {
                if (s.schedule(NOOP, 1, TimeUnit.SECONDS).cancel(false)) {
                    n++;
                }
            }
            stpeCancelled += n;
            batches++;
            return;
        }
        roundsLeft = ROUNDS; // published to the loop by execute's queue
        executor.execute(batch);
        tally.await(++batches);
    }

    /** On fiberloop's loop: {@value #BATCH} × schedule 1 s out, cancel; then the next round. */
    private static final class FiberloopBatch implements Runnable {
        private final EventLoop loop;
        private final Tally tally;
        private final TimerBenchmark rounds;

        FiberloopBatch(EventLoop loop, Tally tally, TimerBenchmark rounds) {
            this.loop = loop;
            this.tally = tally;
            this.rounds = rounds;
        }

        @Override
        public void run() {
            EventLoop l = loop;
            long n = 0;
            for (int i = 0; i < BATCH; i++) {
                TimerHandle h = l.schedule(NOOP, ONE_SECOND);
                if (h.cancel()) {
                    n++;
                }
            }
            tally.count += n;
            if (--rounds.roundsLeft > 0) {
                l.execute(this);
            } else {
                tally.signal();
            }
        }
    }

    /** On Netty's loop: {@value #BATCH} × schedule 1 s out, cancel(false); then the next round. */
    private static final class NettyBatch implements Runnable {
        private final IoEventLoop loop;
        private final Tally tally;
        private final TimerBenchmark rounds;

        NettyBatch(IoEventLoop loop, Tally tally, TimerBenchmark rounds) {
            this.loop = loop;
            this.tally = tally;
            this.rounds = rounds;
        }

        @Override
        public void run() {
            IoEventLoop l = loop;
            long n = 0;
            for (int i = 0; i < BATCH; i++) {
                if (l.schedule(NOOP, 1, TimeUnit.SECONDS).cancel(false)) {
                    n++;
                }
            }
            tally.count += n;
            if (--rounds.roundsLeft > 0) {
                l.execute(this);
            } else {
                tally.signal();
            }
        }
    }
}
