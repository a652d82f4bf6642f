package io.fiberloop.test;

import io.fiberloop.fiber.CancelScope;
import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.internal.FiberHost;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import io.fiberloop.loop.LoopClosedException;
import io.fiberloop.loop.VirtualClock;
import io.fiberloop.loop.internal.Exploration;
import io.fiberloop.loop.internal.LoopInternals;
import io.fiberloop.loop.internal.VirtualTimeLimit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.InvocationInterceptor.Invocation;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/**
 * One test's loop and its verdict: builds the loop (auto-advancing virtual clock, failures kept,
 * schedule exploration when a seed is given), runs the test method as its main fiber under the
 * virtual-time limit and the real-time limit, then checks for leaked tasks, unobserved failures
 * and an unfinished {@link EventOrder}, closes the loop, and, when asked, checks for leaked buffers
 * ({@link LeakWatch}, at Netty's PARANOID leak detection).
 *
 * <p>Threading: {@link #run} and {@link #close} on JUnit's test thread; {@link #inMain} in the
 * loop's main fiber.
 */
final class TestSession implements AutoCloseable {
    /** Fires the real-time limits of all tests: one daemon thread. */
    private static final ScheduledExecutorService ALARMS = alarms();
    /** How long closing a test's loop may take (leaked tasks are cancelled then) before the test fails. */
    private static final Duration CLOSE_LIMIT = Duration.ofSeconds(10);
    /** How many frames of each fiber's stack a failure shows. */
    private static final int FRAMES = 12;

    final VirtualClock clock = LoopClock.autoAdvancing();
    final EventLoop loop;
    final EventOrder order = new EventOrder();
    final TestLoop kit;
    /** The simulated network the loop runs on, or null (a loop without I/O). */
    final SimNetwork network;
    private final FiberHost host;
    private final Long seed;
    private final Duration virtualLimit;
    private final Duration realLimit;
    /** Whether leaked ByteBufs fail the test (when Netty's detector is at PARANOID). */
    private final boolean bufferLeakCheck;
    /** Exceptions that escaped loop callbacks (the loop's exception handler, on the loop). */
    private final List<Throwable> callbackFailures = Collections.synchronizedList(new ArrayList<>());
    private final Object alarmLock = new Object();
    /** The scope the test method runs in; the virtual-time limit cancels it. Loop thread. */
    private CancelScope budget;
    private boolean budgetReached;
    private boolean finished;
    private boolean timedOut;
    private boolean ran;
    private boolean closed;
    /** Set by the main fiber once the loop's close is on its way ({@link #closeNext()}). */
    private volatile boolean closeQueued;

    TestSession(String name, Long seed, Duration virtualLimit, Duration realLimit, SimNetwork network, boolean bufferLeakCheck) {
        this.seed = seed;
        this.network = network;
        this.bufferLeakCheck = bufferLeakCheck;
        this.virtualLimit = virtualLimit;
        this.realLimit = realLimit;
        EventLoop.Builder b = FiberLoops.builder().name(name).clock(clock)
                .exceptionHandler((l, error, source) -> callbackFailures.add(
                        new IllegalStateException("an exception escaped a callback of loop '" + l.name() + "': " + source, error)));
        if (network != null) {
            b.ioDriver(network.ioDriver());
        }
        if (seed != null) {
            LoopInternals.get().explore(b, Exploration.seeded(seed));
        }
        long limit = saturatedAdd(clock.nanoTime(), virtualLimit.toNanos());
        LoopInternals.get().limitVirtualTime(b, new VirtualTimeLimit(limit, this::budgetReached));
        this.loop = b.build();
        this.host = FiberHost.of(loop);
        host.keepFailures();
        this.kit = new TestLoop(loop, clock, order, seed);
        kit.limit(limit);
    }

    /** The loop's clock would jump past the virtual-time limit: cancel the test method. Loop thread. */
    private void budgetReached() {
        budgetReached = true;
        if (budget != null) {
            budget.cancel();
        }
    }

    private static ScheduledExecutorService alarms() {
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "fiberloop-test-alarms");
            t.setDaemon(true);
            return t;
        });
        e.setRemoveOnCancelPolicy(true);
        return e;
    }

    /** Runs the test method as the loop's main fiber, then gives the verdict and closes the loop. Test thread. */
    void run(Invocation<Void> invocation) throws Throwable {
        if (ran) {
            throw new IllegalStateException("a test's loop runs one test method once");
        }
        ran = true;
        boolean leakCheck = bufferLeakCheck && LeakWatch.enabled();
        if (leakCheck) {
            LeakWatch.start(loop.name());
        }
        Thread caller = Thread.currentThread();
        ScheduledFuture<?> alarm = ALARMS.schedule(() -> {
            synchronized (alarmLock) {
                if (!finished) {
                    timedOut = true;
                    caller.interrupt();
                }
            }
        }, realLimit.toNanos(), TimeUnit.NANOSECONDS);
        Throwable failure = null;
        try {
            loop.run(() -> {
                try {
                    inMain(invocation);
                } catch (Throwable t) {
                    throw Strand.Sneaky.<RuntimeException>sneak(t); // checked ones come back wrapped in CompletionException
                } finally {
                    closeNext();
                }
                return null;
            });
        } catch (CompletionException e) {
            failure = e.getCause() != null ? e.getCause() : e;
        } catch (Throwable t) {
            failure = t;
        } finally {
            alarm.cancel(false);
            synchronized (alarmLock) {
                finished = true;
                if (timedOut) {
                    Thread.interrupted();
                }
            }
        }
        if (timedOut) {
            failure = new AssertionFailedError("the test ran past its real-time limit of " + realLimit + " (virtual clock at "
                    + kit.now() + "). A fiber that never suspends holds the loop, or fibers wait for each other or for a "
                    + "thread outside the loop. Live fibers:\n" + dumpFromOutside());
        }
        try {
            close();
        } catch (Throwable t) {
            if (failure == null) {
                failure = t;
            } else {
                failure.addSuppressed(t);
            }
        }
        if (leakCheck) {
            List<String> leaks = LeakWatch.finish();
            if (!leaks.isEmpty()) {
                AssertionFailedError e = new AssertionFailedError(leaks.size() + (leaks.size() == 1 ? " ByteBuf was" : " ByteBufs were")
                        + " never released (Netty's leak detector, PARANOID; release what you read, or pass it on to a write, "
                        + "which releases it). Where each was last touched:\n" + String.join("\n", leaks));
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw withSeed(failure);
        }
    }

    /**
     * Begins closing the loop in its next turn, from the main fiber as it ends: at a point of the
     * schedule that the seed fixes, not whenever the test thread gets to it (which made the end of a
     * run, and what the network delivered meanwhile, differ from run to run). Loop thread.
     */
    private void closeNext() {
        try {
            loop.execute(loop::close);
        } catch (LoopClosedException alreadyClosing) {
            // the test closed the loop itself
        }
        closeQueued = true;
    }

    /** The test method in the main fiber, then the checks that need the loop. */
    private void inMain(Invocation<Void> invocation) throws Throwable {
        budget = CancelScope.create();
        Throwable failure = null;
        try {
            budget.<Void, Throwable>run(() -> {
                invocation.proceed();
                return null;
            });
        } catch (Throwable t) {
            failure = t;
        }
        if (budgetReached && (budget.cancelledCaught() || failure instanceof CancelledException)) {
            AssertionFailedError e = new AssertionFailedError("the test would have run past its virtual-time limit of " + virtualLimit
                    + " (virtual clock at " + kit.now() + "), and was cancelled there: a fiber that sleeps or retries forever? "
                    + "If the test needs more virtual time, raise @FiberLoopTest(virtualTimeLimit = ...)");
            if (failure != null) {
                e.addSuppressed(failure);
            }
            failure = e;
        }
        kit.waitAllTasksBlocked();
        List<String> leaks = describeLive(Fiber.current());
        List<Throwable> unobserved = new ArrayList<>(host.unretrievedFailures());
        synchronized (callbackFailures) {
            unobserved.addAll(callbackFailures);
        }
        AssertionFailedError orderError = order.verdict();
        if (orderError != null && orderError != failure) {
            unobserved.add(orderError);
        }
        if (failure != null) {
            if (!leaks.isEmpty()) {
                failure.addSuppressed(new AssertionFailedError(leakMessage(leaks)));
            }
            unobserved.forEach(failure::addSuppressed);
            throw failure;
        }
        if (leaks.isEmpty() && unobserved.isEmpty()) {
            return;
        }
        StringBuilder msg = new StringBuilder();
        if (!leaks.isEmpty()) {
            msg.append(leakMessage(leaks));
        }
        for (Throwable t : unobserved) {
            msg.append(msg.isEmpty() ? "" : "\n").append(t.getMessage())
                    .append(t.getCause() != null ? ": " + t.getCause() : "");
        }
        AssertionFailedError e = new AssertionFailedError(msg.toString(), unobserved.isEmpty() ? null : unobserved.getFirst());
        unobserved.stream().skip(1).forEach(e::addSuppressed);
        throw e;
    }

    private static String leakMessage(List<String> leaks) {
        return leaks.size() + (leaks.size() == 1 ? " task is" : " tasks are") + " still alive after the test returned "
                + "(join or cancel what a test spawns, e.g. with a TaskScope; they have been cancelled):\n" + String.join("\n", leaks);
    }

    /** The live tasks but {@code except}, each with its state and stack. Loop thread. */
    private List<String> describeLive(Fiber except) {
        List<String> out = new ArrayList<>();
        List<Strand> live = host.liveTaskStrands();
        for (Strand s : live.reversed()) { // oldest first
            Fiber f = s.fiber();
            if (f == null || f == except) {
                continue;
            }
            out.add(describe(s));
        }
        return out;
    }

    private static String describe(Strand s) {
        Fiber f = s.fiber();
        StringBuilder sb = new StringBuilder("  task '").append(f.name()).append("' (").append(f.state());
        if (s.waiting() != Strand.Wait.NONE) {
            sb.append(", waiting: ").append(s.waiting());
        }
        sb.append(')');
        Thread t = s.thread();
        if (t != null) {
            StackTraceElement[] stack = t.getStackTrace();
            int shown = 0;
            boolean userSeen = false;
            for (StackTraceElement e : stack) {
                String c = e.getClassName();
                if (!userSeen && (c.startsWith("java.") || c.startsWith("jdk.") || c.startsWith("io.fiberloop.fiber.internal."))) {
                    continue; // the park machinery
                }
                userSeen = true;
                sb.append("\n      at ").append(e);
                if (++shown == FRAMES) {
                    sb.append("\n      ...");
                    break;
                }
            }
        }
        return sb.toString();
    }

    /** The live fibers, read on the loop if it answers, else racily (the loop is stuck). Test thread. */
    private String dumpFromOutside() {
        CompletableFuture<List<String>> onLoop = new CompletableFuture<>();
        try {
            loop.execute(() -> onLoop.complete(describeLive(null)));
            List<String> live = onLoop.get(2, TimeUnit.SECONDS);
            return live.isEmpty() ? "  (none)" : String.join("\n", live);
        } catch (Exception e) {
            StringBuilder sb = new StringBuilder("  (the loop does not answer: it is stuck in");
            String running = loop instanceof io.fiberloop.loop.spi.LoopWork w && w.host() != null ? w.host().describeRunning() : null;
            sb.append(running == null ? " a callback)" : ":)\n  " + running);
            try {
                describeLive(null).forEach(d -> sb.append('\n').append(d));
            } catch (RuntimeException racy) {
                sb.append("\n  (the live tasks could not be read: ").append(racy).append(')');
            }
            return sb.toString();
        }
    }

    private Throwable withSeed(Throwable failure) {
        if (seed == null || failure instanceof TestAbortedException) {
            return failure;
        }
        String s = ExploreSeeds.format(seed);
        System.err.println("fiberloop-test: " + loop.name() + " failed under exploration seed " + s
                + "; replay it with @Explore(seed = " + s + ") or -D" + ExploreSeeds.SEED + "=" + s);
        return new AssertionFailedError("failed under exploration seed " + s + " (replay it with @Explore(seed = " + s + ") or -D"
                + ExploreSeeds.SEED + "=" + s + "): " + failure, failure);
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    /**
     * Closes the loop (cancelling leaked tasks), waiting at most {@link #CLOSE_LIMIT}. Test thread;
     * also JUnit's, when the test context closes.
     *
     * @throws AssertionFailedError if the loop did not close in time
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // the close is on its way when the test method returned; else (it ran past its real-time
        // limit, or never started) a thread of its own begins it, to wait here for at most the limit
        Thread closer = closeQueued ? null : Thread.ofPlatform().daemon().name(loop.name() + "-closer").start(loop::close);
        try {
            loop.terminationFuture().get(CLOSE_LIMIT.toNanos(), TimeUnit.NANOSECONDS);
        } catch (Exception e) {
            StringBuilder where = new StringBuilder();
            for (Map.Entry<Thread, StackTraceElement[]> t : Thread.getAllStackTraces().entrySet()) {
                if (t.getKey().getName().startsWith(loop.name())) {
                    where.append("\n  thread '").append(t.getKey().getName()).append("':");
                    for (StackTraceElement f : t.getValue()) {
                        where.append("\n      at ").append(f);
                    }
                }
            }
            throw new AssertionFailedError("the test's loop '" + loop.name() + "' did not close within " + CLOSE_LIMIT
                    + ": a fiber ignores cancellation (it never suspends, or it catches CancelledException and goes on)"
                    + where, e);
        } finally {
            if (closer != null && closer.isAlive()) {
                closer.interrupt();
            }
        }
    }
}
