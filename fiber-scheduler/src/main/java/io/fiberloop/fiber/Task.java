package io.fiberloop.fiber;

import io.fiberloop.fiber.context.FiberContext;
import io.fiberloop.fiber.internal.FiberHost;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.fiber.internal.Until;
import io.fiberloop.loop.EventLoop;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handle of a fiber running a callable on a loop: created by {@link Fibers#spawn} and
 * {@link TaskScope#fork}. Wait for it ({@link #join()}), read its outcome once it is done
 * ({@link #resultNow()}, {@link #exceptionNow()}, {@link #state()}), or cancel it
 * ({@link #cancel()}). It is a {@link Future}; for code that wants a {@link CompletableFuture}
 * (to compose stages, or to hand it to an API that takes one), {@link #toCompletableFuture()}
 * gives a read-only view.
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
 * {@link #cancel()} is cooperative, as in asyncio, trio and kotlinx: it raises
 * {@link CancelledException} in the fiber at its current or next suspension point (and interrupts a
 * JDK blocking call), and the task becomes done, as {@code CANCELLED}, only once the fiber has
 * unwound and its {@code finally} blocks have run. So, unlike {@link Future#cancel}'s contract,
 * {@link #isDone()} may still be {@code false} right after {@code cancel()} returns: {@link #join()}
 * waits until the task has really finished.
 *
 * <h2>What waiting throws</h2>
 * <table>
 *   <caption>The outcome of a task, as each way of waiting reports it</caption>
 *   <tr><th>the task</th><th>{@link #join()}</th><th>{@link #get()}</th></tr>
 *   <tr><td>returned {@code v}</td><td>{@code v}</td><td>{@code v}</td></tr>
 *   <tr><td>was cancelled</td><td colspan="2">{@link CancelledException} (a {@link CancellationException}), its cause the one raised in the task</td></tr>
 *   <tr><td>threw an unchecked exception {@code e}</td><td>{@code e} itself</td><td>{@link ExecutionException} with cause {@code e}</td></tr>
 *   <tr><td>threw a checked exception {@code e}</td><td>{@link CompletionException} with cause {@code e}</td><td>{@link ExecutionException} with cause {@code e}</td></tr>
 * </table>
 * {@code join()} suits fiber code (no checked exceptions); {@code get()} keeps {@code Future}'s
 * contract for code written against {@code Future}. A failure that nobody retrieves (by
 * {@code join}, {@code get}, {@code exceptionNow}, {@code resultNow}, {@link #onComplete}, the
 * {@linkplain #toCompletableFuture() view} or a scope) is logged once, with the task's name and
 * stack, when the task is garbage-collected: never swallowed.
 *
 * <h2>Threading</h2>
 * Every method is safe from any thread. {@code join()} and {@code get()} suspend a calling fiber,
 * block a plain thread, and refuse to run in a loop callback (which must not block).
 *
 * @param <T> the result type
 */
public final class Task<T> implements Future<T> {
    private static final Logger log = LoggerFactory.getLogger(Task.class);
    private static final Cleaner CLEANER = Cleaner.create();
    private static final VarHandle COMPLETIONS;
    private static final VarHandle VIEW;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            COMPLETIONS = l.findVarHandle(Task.class, "completions", Completion.class);
            VIEW = l.findVarHandle(Task.class, "view", View.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The outcome of a task that returned {@code null}. */
    private static final Object NIL = new Object();
    /** {@link #completions} once the task is settled: a completion added from then on runs at once. */
    private static final Completion SETTLED = new Completion();

    final Fiber fiber;
    /*
     * The outcome lives in the task's own fields; a CompletableFuture exists only once someone asks
     * for one. Publication between the loop thread that settles and any thread that registers:
     *   settle:       outcome := o (volatile)  ->  completions := SETTLED, run what was there  ->  read view, complete it
     *   register:     CAS completions (fails on SETTLED: run it now)
     *   create view:  CAS view  ->  read outcome, complete the view if set
     * Each side writes its own volatile before reading the other's, so a view or completion is
     * completed at least once (completing a view twice with the same outcome is harmless).
     */
    /** {@code null} while running; then the value ({@link #NIL} for null) or a {@link Failure}. Written once, on the loop. */
    private volatile Object outcome;
    /** Callbacks and waiting fibers (a stack, newest first) until settled; then {@link #SETTLED}. */
    private volatile Completion completions;
    /** The read-only view, created on first demand ({@link #view()}). */
    private volatile View<T> view;
    /** Created only when the task fails with nobody watching: successful tasks pay nothing for it. */
    private volatile Unretrieved unretrieved;

    private Task(Fiber fiber) {
        this.fiber = fiber;
    }

    /** A task of {@code host}, not started yet; captures the spawner's context (fiber locals, MDC) now. Any thread. */
    private static <T> Task<T> create(FiberHost host, String name, Callable<T> body) {
        return create(host, Strand.here(), name, body);
    }

    /** As {@link #create(FiberHost, String, Callable)}, with the caller's strand ({@code Strand.here()}) at hand. */
    private static <T> Task<T> create(FiberHost host, Strand here, String name, Callable<T> body) {
        FiberContext.Snapshot context = FiberContext.capture();
        Callable<T> inherited = context.isEmpty() ? body : () -> context.call(body);
        Fiber f = new Fiber(host, inherited, null, Strand.Kind.TASK, name);
        f.origin(body, here);
        Task<T> task = new Task<>(f);
        f.task = task;
        return task;
    }

    /** Creates and starts a task on {@code host}. Loop thread only. */
    static <T> Task<T> spawn(FiberHost host, String name, Callable<T> body) {
        return spawn(host, Strand.here(), name, body);
    }

    /** As {@link #spawn(FiberHost, String, Callable)}, with the caller's strand ({@code Strand.here()}) at hand. Loop thread only. */
    static <T> Task<T> spawn(FiberHost host, Strand here, String name, Callable<T> body) {
        Task<T> task = create(host, here, name, body);
        host.addLive(task.fiber.strand);
        task.fiber.start();
        return task;
    }

    /**
     * A task for an {@code InlineCall} to run on {@code host}'s work fiber: live, not started, inheriting no
     * context (a loop task has none, and capturing the MDC would copy it per task). Loop thread.
     */
    static <T> Task<T> inline(FiberHost host, String name, Callable<T> body) {
        Fiber f = new Fiber(host, body, null, Strand.Kind.TASK, name);
        Task<T> task = new Task<>(f);
        f.task = task;
        host.addLive(f.strand);
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

    /** {@return the task's name (its fiber's name)} */
    public String name() {
        return fiber.name();
    }

    /** {@return the fiber that runs this task} */
    public Fiber fiber() {
        return fiber;
    }

    // ------------------------------------------------------------------ completion (fiber only)

    /** Completes the task with the fiber's outcome; the first call wins. Loop thread. */
    void settle(Object result, Throwable failure) {
        if (outcome != null) {
            return;
        }
        Object o;
        if (failure == null) {
            o = result == null ? NIL : result;
        } else {
            io.fiberloop.fiber.internal.TaskEndEvent.ended(fiber.name(), fiber.strand.host().loop().name(), failure);
            o = new Failure(failure);
            View<T> v = view;
            boolean watched = completions != null || v != null && v.getNumberOfDependents() > 0;
            if (!watched && !(failure instanceof CancellationException)) {
                // published before the outcome, so whoever sees the task done sees this too
                Unretrieved u = new Unretrieved(fiber.name());
                u.error = failure;
                unretrieved = u;
                CLEANER.register(this, u);
                fiber.strand.host().failedUnwatched(this);
            }
        }
        outcome = o;
        Completion c = (Completion) COMPLETIONS.getAndSet(this, SETTLED);
        if (c != null) {
            runAll(c, o);
        }
        View<T> v = view;
        if (v != null) {
            v.settleFrom(o);
        }
    }

    /** Runs a stack of completions oldest first. */
    private void runAll(Completion newestFirst, Object o) {
        Completion oldestFirst = null;
        for (Completion c = newestFirst; c != null; ) {
            Completion next = c.next;
            c.next = oldestFirst;
            oldestFirst = c;
            c = next;
        }
        for (Completion c = oldestFirst; c != null; c = c.next) {
            c.fire(this, o);
        }
    }

    /** Adds {@code c} to run once the task is settled, or runs it now if it is. Any thread. */
    private void whenSettled(Completion c) {
        Completion head;
        do {
            head = completions;
            if (head == SETTLED) {
                c.fire(this, outcome);
                return;
            }
            c.next = head;
        } while (!COMPLETIONS.compareAndSet(this, head, c));
    }

    /** {@return the failure nobody has retrieved yet, or {@code null} (for fiberloop-test, through FiberAccess)} */
    Throwable unretrievedFailure() {
        Unretrieved u = unretrieved;
        return u == null ? null : u.error;
    }

    private void retrieved() {
        Unretrieved u = unretrieved;
        if (u != null) {
            u.error = null;
        }
    }

    /** The outcome as a future, for the combinators of this package (no retrieval mark). */
    CompletableFuture<T> outcome() {
        return view();
    }

    /** The read-only view, created on first demand. Any thread. */
    private View<T> view() {
        View<T> v = view;
        if (v == null) {
            View<T> created = new View<>(fiber);
            v = (View<T>) VIEW.compareAndExchange(this, (View<T>) null, created);
            if (v == null) {
                v = created;
            }
            Object o = outcome;
            if (o != null) {
                v.settleFrom(o);
            }
        }
        return v;
    }

    // ------------------------------------------------------------------ state

    @Override
    public boolean isDone() {
        return outcome != null;
    }

    @Override
    public boolean isCancelled() {
        return outcome instanceof Failure f && f.error instanceof CancellationException;
    }

    @Override
    public State state() {
        Object o = outcome;
        if (o == null) {
            return State.RUNNING;
        }
        if (o instanceof Failure f) {
            return f.error instanceof CancellationException ? State.CANCELLED : State.FAILED;
        }
        return State.SUCCESS;
    }

    /**
     * The result of a task that has completed successfully, without waiting.
     * <p>Threading: any thread.
     *
     * @return the result
     * @throws IllegalStateException if the task is not done, failed or was cancelled
     */
    @Override
    public T resultNow() {
        retrieved();
        Object o = outcome;
        if (o == null || o instanceof Failure) {
            throw new IllegalStateException("task '" + name() + "' " + (o == null ? "is not done" : "did not succeed: it is " + state())
                    + "; resultNow() is for a task that has succeeded (check state(), or wait with join())");
        }
        return valueOf(o);
    }

    /**
     * The exception of a task that has failed, without waiting.
     *
     * @return the exception
     * @throws IllegalStateException if the task is not done, succeeded or was cancelled
     */
    @Override
    public Throwable exceptionNow() {
        retrieved();
        if (outcome instanceof Failure f && !(f.error instanceof CancellationException)) {
            return f.unwrapped();
        }
        throw new IllegalStateException("task '" + name() + "' did not fail: it is " + state()
                + "; exceptionNow() is for a task that has failed (check state(), or wait with join())");
    }

    @SuppressWarnings("unchecked")
    private static <T> T valueOf(Object o) {
        return o == NIL ? null : (T) o;
    }

    // ------------------------------------------------------------------ waiting

    /**
     * Waits for the task and returns its result (see the table in {@link Task}).
     * <p>Threading: a fiber (suspends it) or a plain thread (blocks it); not a loop callback.
     *
     * @return the result
     * @throws CancelledException if the task was cancelled, or the calling fiber is cancelled while waiting
     * @throws CompletionException wrapping the task's checked exception; unchecked ones are rethrown as they are
     * @throws IllegalStateException if called from a loop callback, which must not block
     */
    public T join() {
        awaitDone("join()");
        return resultOfDone();
    }

    /**
     * Suspends a calling fiber (no future involved) or blocks a plain thread (on the view) until
     * the task is done; refuses a loop callback, and raises the calling fiber's cancellation.
     */
    private void awaitDone(String what) {
        if (outcome != null) {
            Fibers.checkCancelledHere();
            return;
        }
        Strand me = Strand.suspendable(what);
        if (me == null) {
            Fibers.awaitDone(view(), what);
            return;
        }
        Waiter w = new Waiter(me, this);
        whenSettled(w);
        me.awaitUntil(w);
    }

    /** The outcome of a done task, as {@link #join()} reports it, without checking the caller's cancellation. */
    T resultOfDone() {
        retrieved();
        Object o = outcome;
        if (o instanceof Failure f) {
            if (f.error instanceof CancellationException c) {
                throw Fibers.cancelled(c, Fibers.cancelledMessage(this));
            }
            throw Fibers.rethrowUnchecked(f.unwrapped());
        }
        return valueOf(o);
    }

    /**
     * Waits for the task, with the checked exceptions of {@code Future.get} (see the table in
     * {@link Task}).
     * <p>Threading: a fiber (suspends it) or a plain thread (blocks it); not a loop callback.
     *
     * @return the result
     * @throws CancelledException if the task was cancelled, or the calling fiber is cancelled while waiting
     * @throws ExecutionException wrapping the task's failure
     * @throws InterruptedException if a plain thread is interrupted while waiting
     * @throws IllegalStateException if called from a loop callback, which must not block
     */
    @Override
    public T get() throws InterruptedException, ExecutionException {
        if (outcome == null) {
            if (Fiber.currentOrNull() != null || onLoop()) {
                awaitDone("get()"); // suspends a fiber; refuses a loop callback
            } else {
                try {
                    view().get();
                } catch (ExecutionException | CancellationException e) {
                    // reported below
                }
            }
        }
        return outcomeForGet();
    }

    /**
     * Waits at most {@code timeout} for the task (see the table in {@link Task}).
     *
     * @param timeout how long
     * @param unit its unit
     * @return the result
     * @throws TimeoutException if the task is not done in time (it keeps running)
     * @throws CancelledException if the task was cancelled, or the calling fiber is cancelled while waiting
     * @throws ExecutionException wrapping the task's failure
     * @throws InterruptedException if a plain thread is interrupted while waiting
     */
    @Override
    public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
        if (outcome == null) {
            if (Fiber.currentOrNull() != null) {
                boolean done = Fibers.withTimeoutOrNull(Duration.ofNanos(unit.toNanos(timeout)), () -> {
                    awaitDone("get()");
                    return Boolean.TRUE;
                }) != null;
                if (!done) {
                    throw notDone(timeout, unit);
                }
            } else if (onLoop()) {
                Strand.suspendable("get()"); // throws: a loop callback must not block its loop
            } else {
                try {
                    view().get(timeout, unit);
                } catch (ExecutionException | CancellationException e) {
                    // reported below
                } catch (TimeoutException e) {
                    throw notDone(timeout, unit);
                }
            }
        }
        return outcomeForGet();
    }

    private TimeoutException notDone(long timeout, TimeUnit unit) {
        return new TimeoutException("task '" + name() + "' not done after " + timeout + " " + unit);
    }

    /** The outcome of a done task, as {@code get} reports it. */
    private T outcomeForGet() throws ExecutionException {
        retrieved();
        Object o = outcome;
        if (o == null) {
            throw new IllegalStateException("task '" + name() + "' is not done");
        }
        if (o instanceof Failure f) {
            if (f.error instanceof CancellationException c) {
                throw Fibers.cancelled(c, Fibers.cancelledMessage(this));
            }
            throw new ExecutionException(f.unwrapped());
        }
        return valueOf(o);
    }

    /** Whether the caller is on a loop (a fiber, a loop callback, or the carrier), where a wait must not block the thread. */
    private static boolean onLoop() {
        return EventLoop.currentOrNull() != null;
    }

    /**
     * Runs {@code callback} with the result or the failure once the task is done (at once if it
     * is). The callback runs on the thread that completes the task: the task's loop (or, if the
     * task is done already, the calling thread). An exception the callback throws is logged.
     *
     * @param callback receives (result, null) or (null, failure)
     * @return this task
     */
    public Task<T> onComplete(BiConsumer<? super T, ? super Throwable> callback) {
        Objects.requireNonNull(callback, "callback");
        whenSettled(new Callback(callback));
        retrieved(); // after: a failure settled meanwhile saw no callback, and was marked unretrieved
        return this;
    }

    /**
     * A read-only {@link CompletableFuture} of this task, for interop: it completes when the task
     * does, with its result or failure (a cancelled task's is its {@link CancelledException}).
     * Completing, obtruding or cancelling it throws {@link UnsupportedOperationException}: only the
     * task's fiber completes the task, and {@link #cancel()} cancels it. Stages derived from it
     * ({@code thenApply}, ...) are ordinary futures. The same view every time.
     * <p>Threading: any thread.
     *
     * @return the view
     */
    public CompletableFuture<T> toCompletableFuture() {
        View<T> v = view();
        retrieved();
        return v;
    }

    // ------------------------------------------------------------------ the outcome's parts

    /** A failed or cancelled task's outcome. */
    private record Failure(Throwable error) {
        /** The failure as {@code Future.exceptionNow} reports it: a {@link CompletionException}'s cause. */
        Throwable unwrapped() {
            return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        }
    }

    /** Something to do once the task is settled; a node of {@link #completions}. */
    private static class Completion {
        Completion next;

        /** Runs on the settling thread (or a registering thread that finds the task settled). */
        void fire(Task<?> task, Object outcome) {
        }
    }

    /** A fiber waiting in {@link #join()} or {@link #get()}: woken, and its wait's condition. */
    private static final class Waiter extends Completion implements Until {
        private final Strand strand;
        private final Task<?> task;

        Waiter(Strand strand, Task<?> task) {
            this.strand = strand;
            this.task = task;
        }

        @Override
        void fire(Task<?> settled, Object outcome) {
            strand.wake();
        }

        @Override
        public boolean done() {
            return task.outcome != null;
        }
    }

    /** An {@link #onComplete} callback. */
    private static final class Callback extends Completion {
        private final BiConsumer<Object, Throwable> callback;

        @SuppressWarnings("unchecked")
        Callback(BiConsumer<?, ? super Throwable> callback) {
            this.callback = (BiConsumer<Object, Throwable>) callback;
        }

        @Override
        void fire(Task<?> task, Object outcome) {
            try {
                if (outcome instanceof Failure f) {
                    callback.accept(null, f.error);
                } else {
                    callback.accept(valueOf(outcome), null);
                }
            } catch (Throwable t) {
                log.error("an onComplete callback of task '{}' failed", task.name(), t);
            }
        }
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
        } catch (RejectedExecutionException closed) {
            return false;
        }
        return true;
    }

    /**
     * Same as {@link #cancel()}: cancellation always interrupts the task's fiber at its suspension
     * point, whatever {@code mayInterruptIfRunning} says, and the task is done only once the fiber
     * has unwound (see the class comment: {@link #isDone()} may be {@code false} when this returns).
     *
     * @param mayInterruptIfRunning ignored
     * @return {@code true} if the task was not done yet (the request was made)
     */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        return cancel();
    }

    @Override
    public String toString() {
        return "Task[" + name() + ", " + state() + "]";
    }

    /** The task's outcome as a future: completed only through {@link #settle}, read-only to everyone else. */
    private static final class View<T> extends CompletableFuture<T> {
        private final Fiber fiber;

        View(Fiber fiber) {
            this.fiber = fiber;
        }

        /** Completes the view with the task's outcome (again: the first completion wins). */
        void settleFrom(Object outcome) {
            if (outcome instanceof Failure f) {
                super.completeExceptionally(f.error);
            } else {
                super.complete(valueOf(outcome));
            }
        }

        @Override
        public boolean complete(T value) {
            throw readOnly("complete");
        }

        @Override
        public boolean completeExceptionally(Throwable ex) {
            throw readOnly("completeExceptionally");
        }

        @Override
        public void obtrudeValue(T value) {
            throw readOnly("obtrudeValue");
        }

        @Override
        public void obtrudeException(Throwable ex) {
            throw readOnly("obtrudeException");
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            throw readOnly("cancel");
        }

        @Override
        public CompletableFuture<T> orTimeout(long timeout, TimeUnit unit) {
            throw readOnly("orTimeout");
        }

        @Override
        public CompletableFuture<T> completeOnTimeout(T value, long timeout, TimeUnit unit) {
            throw readOnly("completeOnTimeout");
        }

        @Override
        public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier, Executor executor) {
            throw readOnly("completeAsync");
        }

        @Override
        public <U> CompletableFuture<U> newIncompleteFuture() {
            return new CompletableFuture<>();
        }

        private UnsupportedOperationException readOnly(String what) {
            return new UnsupportedOperationException(what + "() on the future of task '" + fiber.name() + "': it is a read-only view; "
                    + "a task completes when its fiber returns: cancel it with Task.cancel(), or use Fibers.withTimeout inside it for a deadline");
        }

        @Override
        public String toString() {
            return "Task.toCompletableFuture()[" + fiber.name() + ", " + state() + "]";
        }
    }
}
