package io.fiberloop.fiber;

import io.fiberloop.fiber.context.FiberContext;
import io.fiberloop.fiber.internal.FiberHost;
import io.fiberloop.fiber.internal.Strand;
import java.lang.ref.Cleaner;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fiber running a callable on a loop, and the future of its result: created by
 * {@link Fibers#spawn}. A task is a {@link java.util.concurrent.Future} and a
 * {@link java.util.concurrent.CompletionStage} (it is a {@link CompletableFuture} that only its
 * fiber completes).
 *
 * {@snippet :
 * Task<Integer> t = Fibers.spawn(() -> { Fibers.sleep(Duration.ofMillis(10)); return 42; });
 * int v = t.join();          // suspends the calling fiber (blocks a plain thread)
 * }
 *
 * <h2>States</h2>
 * {@link #state()} is {@code RUNNING} until the fiber ends, then {@code SUCCESS}, {@code FAILED}
 * or {@code CANCELLED}.
 *
 * <h2>Cancellation</h2>
 * {@link #cancel()} is cooperative, as in asyncio and trio: it raises {@link CancelledException}
 * in the fiber at its current or next suspension point (and interrupts a JDK blocking call), and
 * the task becomes done, as {@code CANCELLED}, only once the fiber has unwound and its
 * {@code finally} blocks have run. This differs from {@code Future.cancel}'s usual contract, in
 * which the future is done as soon as {@code cancel} returns.
 *
 * <h2>Failures</h2>
 * {@link #join()} rethrows the task's exception unchanged when it is unchecked (a checked one
 * arrives wrapped in a {@link CompletionException}). A failure that nobody retrieves (by
 * {@code join}, {@code get}, {@code exceptionNow}, {@code resultNow}, a dependent stage or a
 * scope) is logged once, with the task's name and stack, when the task is garbage-collected:
 * never swallowed.
 *
 * <h2>Threading</h2>
 * Every method is safe from any thread. {@code join()} and {@code get()} suspend a calling fiber,
 * block a plain thread, and refuse to run in a loop callback (which must not block).
 *
 * @param <T> the result type
 */
public final class Task<T> extends CompletableFuture<T> {
    private static final Logger log = LoggerFactory.getLogger(Task.class);
    private static final Cleaner CLEANER = Cleaner.create();

    final Fiber fiber;
    /** Created only when the task fails with nobody watching: successful tasks pay nothing for it. */
    private volatile Unretrieved unretrieved;

    private Task(Fiber fiber) {
        this.fiber = fiber;
    }

    /** A task of {@code host}, not started yet; captures the spawner's context (fiber locals, MDC) now. Any thread. */
    private static <T> Task<T> create(FiberHost host, String name, Callable<T> body) {
        FiberContext.Snapshot context = FiberContext.capture();
        Callable<T> inherited = context.isEmpty() ? body : () -> context.call(body);
        Fiber f = new Fiber(host, inherited, null, Strand.Kind.TASK, name);
        Task<T> task = new Task<>(f);
        f.task = task;
        return task;
    }

    /** Creates and starts a task on {@code host}. Loop thread only. */
    static <T> Task<T> spawn(FiberHost host, String name, Callable<T> body) {
        Task<T> task = create(host, name, body);
        host.addLive(task.fiber.strand);
        task.fiber.start();
        return task;
    }

    /** Creates a task to be started on {@code host} later, by {@link #startPrepared()}. Any thread. */
    static <T> Task<T> prepare(FiberHost host, String name, Callable<T> body) {
        return create(host, name, body);
    }

    /** Loop thread: starts a prepared task, unless it was cancelled before it could start. */
    void startPrepared() {
        if (fiber.state() != Fiber.State.NEW) {
            return;
        }
        fiber.strand.host().addLive(fiber.strand);
        fiber.start();
    }

    /** The failure of a task that nobody has looked at yet; logged if the task is collected so. */
    private static final class Unretrieved implements Runnable {
        final String name;
        volatile Throwable error;

        Unretrieved(String name) {
            this.name = name;
        }

        @Override
        public void run() {
            Throwable e = error;
            if (e != null) {
                log.error("task '{}' failed and nobody joined it", name, e);
            }
        }
    }

    /** @return the task's name (its fiber's name) */
    public String name() {
        return fiber.name();
    }

    /** @return the fiber that runs this task */
    public Fiber fiber() {
        return fiber;
    }

    // ------------------------------------------------------------------ completion (fiber only)

    void settle(Object result, Throwable failure) {
        if (isDone()) {
            return;
        }
        if (failure == null) {
            @SuppressWarnings("unchecked")
            T value = (T) result;
            super.complete(value);
            return;
        }
        boolean watched = getNumberOfDependents() > 0;
        if (!watched && !(failure instanceof java.util.concurrent.CancellationException)) {
            // published before completion, so whoever sees the task done sees this too
            Unretrieved u = new Unretrieved(fiber.name());
            u.error = failure;
            unretrieved = u;
            CLEANER.register(this, u);
        }
        super.completeExceptionally(failure);
    }

    private void retrieved() {
        Unretrieved u = unretrieved;
        if (u != null) {
            u.error = null;
        }
    }

    // ------------------------------------------------------------------ waiting

    /**
     * Waits for the task and returns its result.
     *
     * @return the result
     * @throws CancelledException if the task was cancelled, or the calling fiber is cancelled while waiting
     * @throws CompletionException wrapping the task's checked exception; unchecked ones are rethrown as they are
     * @throws IllegalStateException if called from a loop callback, which must not block
     */
    @Override
    public T join() {
        Fibers.awaitDone(this, "join()");
        retrieved();
        return Fibers.resultOf(this);
    }

    /**
     * Waits for the task, as {@link #join()}, with the checked exceptions of {@code Future.get}.
     *
     * @return the result
     * @throws ExecutionException wrapping the task's failure
     * @throws InterruptedException if a plain thread is interrupted while waiting
     */
    @Override
    public T get() throws InterruptedException, ExecutionException {
        if (Fiber.currentOrNull() != null || !isDone() && onLoop()) {
            Fibers.awaitDone(this, "get()"); // suspends a fiber; refuses a loop callback
        }
        retrieved();
        return super.get();
    }

    /**
     * Waits at most {@code timeout} for the task.
     *
     * @param timeout how long
     * @param unit its unit
     * @return the result
     * @throws TimeoutException if the task is not done in time (it keeps running)
     * @throws ExecutionException wrapping the task's failure
     * @throws InterruptedException if a plain thread is interrupted while waiting
     */
    @Override
    public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
        if (!isDone() && onLoop() && Fiber.currentOrNull() == null) {
            Strand.suspendable("get()"); // throws: a loop callback must not block its loop
        }
        if (Fiber.currentOrNull() != null && !isDone()) {
            boolean done = Fibers.withTimeoutOrNull(java.time.Duration.ofNanos(unit.toNanos(timeout)), () -> {
                Fibers.awaitDone(this, "get()");
                return Boolean.TRUE;
            }) != null;
            if (!done) {
                throw new TimeoutException("task '" + name() + "' not done after " + timeout + " " + unit);
            }
        }
        retrieved();
        return super.get(timeout, unit);
    }

    /** Whether the caller is on a loop (a fiber, a loop callback, or the carrier), where a wait must not block the thread. */
    private static boolean onLoop() {
        return io.fiberloop.loop.EventLoop.currentOrNull() != null;
    }

    @Override
    public T resultNow() {
        retrieved();
        return super.resultNow();
    }

    @Override
    public Throwable exceptionNow() {
        retrieved();
        return super.exceptionNow();
    }

    /**
     * Runs {@code callback} with the result or the failure once the task is done (at once if it
     * is). The callback runs on the thread that completes the task: the task's loop.
     *
     * @param callback receives (result, null) or (null, failure)
     * @return this task
     */
    public Task<T> onComplete(BiConsumer<? super T, ? super Throwable> callback) {
        Objects.requireNonNull(callback, "callback");
        retrieved();
        super.whenComplete(callback);
        return this;
    }

    // ------------------------------------------------------------------ cancellation

    /**
     * Requests cancellation: {@link CancelledException} is raised in the task's fiber at its current
     * or next suspension point. The task is done once the fiber has unwound.
     *
     * <p>Threading: any thread; from another thread the request is delivered through the loop.
     *
     * @return {@code true} if the task was not done yet (the request was made)
     */
    public boolean cancel() {
        if (isDone()) {
            return false;
        }
        Strand strand = fiber.strand;
        FiberHost host = strand.host();
        if (host.onCarrier()) {
            if (strand.state() == Fiber.State.NEW) {
                host.taskEnded(strand);
                settle(null, new CancelledException("task '" + name() + "' was cancelled before it started"));
                strand.markEnded();
                return true;
            }
            return strand.requestCancel();
        }
        try {
            host.loop().execute(this::cancel);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            return false;
        }
        return true;
    }

    /**
     * Same as {@link #cancel()}: cancellation always interrupts the task's fiber at its suspension
     * point, whatever {@code mayInterruptIfRunning} says.
     */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        return cancel();
    }

    // ------------------------------------------------------------------ completed only by the fiber

    /** @throws UnsupportedOperationException always: only the task's fiber completes it */
    @Override
    public boolean complete(T value) {
        throw readOnly("complete");
    }

    /** @throws UnsupportedOperationException always: only the task's fiber completes it */
    @Override
    public boolean completeExceptionally(Throwable ex) {
        throw readOnly("completeExceptionally");
    }

    /** @throws UnsupportedOperationException always: only the task's fiber completes it */
    @Override
    public void obtrudeValue(T value) {
        throw readOnly("obtrudeValue");
    }

    /** @throws UnsupportedOperationException always: only the task's fiber completes it */
    @Override
    public void obtrudeException(Throwable ex) {
        throw readOnly("obtrudeException");
    }

    /** @throws UnsupportedOperationException always: use {@link Fibers#withTimeout} inside the task */
    @Override
    public CompletableFuture<T> orTimeout(long timeout, TimeUnit unit) {
        throw readOnly("orTimeout");
    }

    /** @throws UnsupportedOperationException always: use {@link Fibers#withTimeoutOrNull} inside the task */
    @Override
    public CompletableFuture<T> completeOnTimeout(T value, long timeout, TimeUnit unit) {
        throw readOnly("completeOnTimeout");
    }

    /** @throws UnsupportedOperationException always: only the task's fiber completes it */
    @Override
    public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier, Executor executor) {
        throw readOnly("completeAsync");
    }

    private UnsupportedOperationException readOnly(String what) {
        return new UnsupportedOperationException(what + "() on task '" + name() + "': a task completes when its fiber returns; "
                + "use cancel() to stop it, or Fibers.withTimeout inside it for a deadline");
    }

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
        retrieved();
        return new CompletableFuture<>();
    }

    @Override
    public String toString() {
        return "Task[" + name() + ", " + state() + "]";
    }
}
