package io.fiberloop.fiber;

import io.fiberloop.fiber.context.FiberContext;
import io.fiberloop.fiber.context.FiberLocal;
import io.fiberloop.fiber.internal.Strand;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Runs CPU-bound or native-blocking work on a thread pool while the calling fiber waits, suspended,
 * and the rest of its loop keeps running: asyncio's {@code to_thread}, trio's
 * {@code to_thread.run_sync}.
 *
 * {@snippet :
 * loop.run(() -> {
 *     byte[] digest = Offload.call(() -> sha256(hugeFile));   // on fiberloop-offload-N
 *     Image thumb = Offload.call(imagePool, () -> nativeResize(image));
 *     return render(digest, thumb);
 * });
 * }
 *
 * <h2>Why</h2>
 * A loop runs all its fibers on one carrier thread. Plain JDK blocking calls (sockets, locks,
 * {@code Thread.sleep}) suspend only the fiber that makes them, but two kinds of work hold the
 * carrier itself and stall every fiber of the loop: long computations, and blocking calls that pin
 * the carrier (native methods, some file-system calls, {@code synchronized} blocks around I/O on
 * older JDKs). Offload those.
 *
 * <h2>The pool</h2>
 * By default the work runs on a shared, bounded pool of platform daemon threads named
 * {@code fiberloop-offload-N}: one thread per core, or the number given by the system property
 * {@value #THREADS_PROPERTY} (read when the pool is first used), or by {@link #pool(int)}. Work
 * beyond the bound waits in a FIFO queue; idle threads end after 30 seconds. Use
 * {@link #call(Executor, Callable)} to run on an executor of your own, for instance a separate
 * pool for blocking calls so that they cannot starve CPU-bound work.
 *
 * <h2>Results, failures, cancellation</h2>
 * {@code call} returns what the work returned, rethrows an unchecked exception or error it threw
 * as it is, and wraps a checked one in {@link CompletionException}. The wait is a cancellation
 * point: if the calling fiber's task is cancelled, or a deadline ({@link Fibers#withTimeout})
 * expires, while it waits, the work is cancelled with {@code Future.cancel(true)} (work that has
 * not started never starts; running work is interrupted) and the fiber's
 * {@link CancelledException} (or {@link FiberTimeoutException}) propagates at once, without
 * waiting for the worker to stop: work that ignores interrupts runs on, and its result is
 * discarded.
 *
 * <h2>Context</h2>
 * The work runs with its caller's {@linkplain FiberContext context}: the MDC map, the
 * {@link FiberLocal} values and the registered scoped values of the calling fiber are installed
 * in the worker thread for the duration of the work, and the worker's own are restored
 * afterwards. Changes the work makes to them are not seen by the caller.
 *
 * <h2>Threading</h2>
 * <ul>
 *   <li>In a fiber: submits the work and suspends the fiber until it finishes.</li>
 *   <li>On a plain platform thread (including an offload worker calling {@code call} again):
 *       {@link #call(Callable)} simply runs the work on the calling thread, which may block
 *       anyway (this also means nested offloading can never deadlock the bounded pool);
 *       {@link #call(Executor, Callable)} submits it and blocks until it finishes.</li>
 *   <li>On a virtual thread that is not a fiber: submits the work and blocks until it finishes
 *       (so that native work does not pin the JDK's scheduler). Interrupting the blocked thread
 *       cancels the work and throws {@link CancelledException}, leaving the interrupt status
 *       set.</li>
 *   <li>In a loop callback (a task submitted with {@code execute}, or a timer), or on a loop's
 *       carrier outside any fiber: throws {@link IllegalStateException}, as every wait does;
 *       spawn a task and offload from there.</li>
 * </ul>
 * {@link #pool(int)} and {@link #poolSize()} may be called from any thread.
 */
public final class Offload {
    /** The system property that sets the default pool's size: {@value}. */
    public static final String THREADS_PROPERTY = "fiberloop.offload.threads";

    private static final Object LOCK = new Object();
    /** Set by {@link #pool(int)}; 0 when not set. Guarded by LOCK. */
    private static int configured;
    private static volatile ThreadPoolExecutor pool;

    private Offload() {
    }

    /**
     * Runs {@code work} on the offload pool and returns its value; the calling fiber is suspended
     * meanwhile. See the class description for plain threads and cancellation.
     *
     * @param work the work
     * @param <T> its result type
     * @return what {@code work} returned
     * @throws CancelledException if the calling fiber is cancelled while it waits (the work is
     *     interrupted)
     * @throws CompletionException wrapping a checked exception thrown by {@code work}; unchecked
     *     ones are rethrown as they are
     * @throws java.util.concurrent.RejectedExecutionException if the pool refuses the work
     * @throws IllegalStateException in a loop callback, or on a loop's carrier outside any fiber
     */
    public static <T> T call(Callable<T> work) {
        Objects.requireNonNull(work, "work");
        Strand me = Strand.suspendable("Offload.call()");
        if (me != null) {
            return suspendFor(me, defaultPool(), work);
        }
        if (Thread.currentThread().isVirtual()) {
            return blockFor(defaultPool(), work);
        }
        try {
            return work.call();
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * Runs {@code work} on {@code executor} and returns its value; the calling fiber is suspended
     * meanwhile. A plain thread blocks until the work is done.
     *
     * @param executor where to run the work; it should run it on another thread (an executor that
     *     runs it inline, on the fiber, holds up the loop until it returns)
     * @param work the work
     * @param <T> its result type
     * @return what {@code work} returned
     * @throws CancelledException if the calling fiber (or blocked thread) is cancelled (interrupted)
     *     while it waits; the work is interrupted
     * @throws CompletionException wrapping a checked exception thrown by {@code work}; unchecked
     *     ones are rethrown as they are
     * @throws java.util.concurrent.RejectedExecutionException if {@code executor} refuses the work
     * @throws IllegalStateException in a loop callback, or on a loop's carrier outside any fiber
     */
    public static <T> T call(Executor executor, Callable<T> work) {
        Objects.requireNonNull(executor, "executor");
        Objects.requireNonNull(work, "work");
        Strand me = Strand.suspendable("Offload.call()");
        if (me != null) {
            return suspendFor(me, executor, work);
        }
        return blockFor(executor, work);
    }

    /**
     * Sets the number of threads of the default pool. If the pool is running, it is resized: work
     * waiting in its queue starts at once when the pool grows; when it shrinks, busy threads finish
     * their current work before they end.
     *
     * <p>Threading: any thread.
     *
     * @param threads the number of threads, at least 1
     * @throws IllegalArgumentException if {@code threads} is less than 1
     */
    public static void pool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("Offload.pool(" + threads + "): the pool needs at least one thread");
        }
        synchronized (LOCK) {
            configured = threads;
            ThreadPoolExecutor p = pool;
            if (p != null) {
                if (threads >= p.getMaximumPoolSize()) {
                    p.setMaximumPoolSize(threads);
                    p.setCorePoolSize(threads);
                } else {
                    p.setCorePoolSize(threads);
                    p.setMaximumPoolSize(threads);
                }
            }
        }
    }

    /**
     * {@return the number of threads of the default pool: set by {@link #pool(int)}, else by the system property {@value #THREADS_PROPERTY}, else the number of cores}
     *
     * @throws IllegalStateException if the system property is not a positive integer
     */
    public static int poolSize() {
        synchronized (LOCK) {
            return configured > 0 ? configured : sizeFromProperty();
        }
    }

    // ------------------------------------------------------------------ internals

    private static <T> T suspendFor(Strand me, Executor executor, Callable<T> work) {
        me.checkCancelled();
        Job<T> job = new Job<>(FiberContext.capture(), work, me);
        executor.execute(job);
        try {
            me.awaitUntil(job::isDone);
        } catch (CancelledException e) {
            job.cancel(true);
            throw e;
        }
        return outcome(job);
    }

    private static <T> T blockFor(Executor executor, Callable<T> work) {
        Job<T> job = new Job<>(FiberContext.capture(), work, null);
        executor.execute(job);
        try {
            job.get();
        } catch (InterruptedException e) {
            job.cancel(true);
            Thread.currentThread().interrupt();
            CancelledException ce = new CancelledException("Offload.call() was interrupted; the offloaded work was cancelled");
            ce.initCause(e);
            throw ce;
        } catch (ExecutionException | java.util.concurrent.CancellationException e) {
            // reported by outcome()
        }
        return outcome(job);
    }

    private static <T> T outcome(Job<T> job) {
        return switch (job.state()) {
            case SUCCESS -> job.resultNow();
            case FAILED -> throw rethrow(job.exceptionNow());
            case CANCELLED -> throw new CancelledException("the offloaded work was cancelled");
            case RUNNING -> throw new IllegalStateException("the offloaded work has not finished");
        };
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new CompletionException(t);
    }

    /** The work, run with its caller's context; wakes the waiting fiber when it is done. */
    private static final class Job<T> extends FutureTask<T> {
        private final Strand waiter;

        Job(FiberContext.Snapshot context, Callable<T> work, Strand waiter) {
            super(() -> context.call(work));
            this.waiter = waiter;
        }

        @Override
        protected void done() {
            if (waiter != null) {
                waiter.wake();
            }
        }
    }

    private static ThreadPoolExecutor defaultPool() {
        ThreadPoolExecutor p = pool;
        if (p != null) {
            return p;
        }
        synchronized (LOCK) {
            p = pool;
            if (p == null) {
                int n = configured > 0 ? configured : sizeFromProperty();
                p = new ThreadPoolExecutor(n, n, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                        Thread.ofPlatform().daemon().name("fiberloop-offload-", 1).inheritInheritableThreadLocals(false).factory());
                p.allowCoreThreadTimeOut(true);
                pool = p;
            }
            return p;
        }
    }

    private static int sizeFromProperty() {
        String s = System.getProperty(THREADS_PROPERTY);
        if (s == null || s.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(s.strip());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalStateException("system property " + THREADS_PROPERTY + " must be a positive integer (the number of offload threads), "
                + "but is '" + s + "'");
    }
}
