package io.fiberloop.fiber;

import io.fiberloop.fiber.internal.FiberHost;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.fiber.internal.Until;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.TimerHandle;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;

/**
 * asyncio's and trio's toolkit for fibers: spawning tasks, awaiting futures, sleeping on the loop's
 * clock, timeouts and cancellation shields, and waiting for several tasks at once.
 *
 * {@snippet :
 * try (EventLoop loop = FiberLoops.newLoop()) {
 *     int sum = loop.run(() -> {
 *         Task<Integer> a = Fibers.spawn(() -> { Fibers.sleep(Duration.ofMillis(20)); return 1; });
 *         Task<Integer> b = Fibers.spawn(() -> { Fibers.sleep(Duration.ofMillis(10)); return 2; });
 *         return Fibers.awaitAll(List.of(a, b)).stream().mapToInt(Integer::intValue).sum();
 *     });
 * }
 * }
 *
 * <h2>Threading</h2>
 * Methods that suspend ({@code await}, {@code sleep}, {@code yieldNow}, {@code awaitAll},
 * {@code joinAll}, {@code awaitAny}) and the scopes ({@code withTimeout},
 * {@code withTimeoutOrNull}, {@code nonCancellable}) must be called from a fiber; on a plain thread
 * {@code await} and {@code sleep} block that thread instead, and in a loop callback (a task
 * submitted with {@code execute}, or a timer) they throw {@link IllegalStateException}, because a
 * callback must not block its loop. {@link #spawn(EventLoop, Callable)} is safe from any thread.
 *
 * <h2>Cancellation</h2>
 * Every suspending method is a cancellation point: it throws {@link CancelledException} if the
 * calling fiber's task has been cancelled or one of its deadlines has expired, before suspending
 * and while suspended.
 */
public final class Fibers {
    private Fibers() {
    }

    // ------------------------------------------------------------------ spawning

    /**
     * Starts {@code body} in a new task on the current loop (asyncio's {@code create_task}). It
     * starts on a later turn of the loop, never inline.
     *
     * <p>Threading: on a loop (a fiber or a loop callback).
     *
     * @param body the task's work
     * @param <T> its result type
     * @return the task
     * @throws IllegalStateException if not on a loop that hosts fibers
     */
    public static <T> Task<T> spawn(Callable<T> body) {
        return spawn((String) null, body);
    }

    /**
     * Starts a named task on the current loop, as {@link #spawn(Callable)}.
     *
     * <p>Threading: on a loop (a fiber or a loop callback).
     *
     * @param name the task's (and its fiber's) name; {@code null} for a generated one
     * @param body the task's work
     * @param <T> its result type
     * @return the task
     * @throws IllegalStateException if not on a loop that hosts fibers
     */
    public static <T> Task<T> spawn(String name, Callable<T> body) {
        Objects.requireNonNull(body, "body");
        Strand here = Strand.here(); // looked up once: the host, and the spawner the task is named after
        FiberHost host = here != null ? here.host() : FiberHost.here("spawn()", "use Fibers.spawn(loop, ...) from other threads");
        return Task.spawn(host, here, name, body);
    }

    /**
     * Starts {@code body} in a new task on {@code loop}.
     *
     * <p>Threading: any thread.
     *
     * @param loop the loop to run on; it must host fibers
     * @param body the task's work
     * @param <T> its result type
     * @return the task
     * @throws io.fiberloop.loop.LoopClosedException if the loop is closed
     */
    public static <T> Task<T> spawn(EventLoop loop, Callable<T> body) {
        return spawn(loop, null, body);
    }

    /**
     * Starts a named task on {@code loop}.
     *
     * <p>Threading: any thread.
     *
     * @param loop the loop to run on; it must host fibers
     * @param name the task's (and its fiber's) name; {@code null} for a generated one
     * @param body the task's work
     * @param <T> its result type
     * @return the task
     * @throws io.fiberloop.loop.LoopClosedException if the loop is closed
     */
    public static <T> Task<T> spawn(EventLoop loop, String name, Callable<T> body) {
        Objects.requireNonNull(loop, "loop");
        Objects.requireNonNull(body, "body");
        if (FiberHost.ofOrNull(loop) == null && loop.state().compareTo(EventLoop.State.CLOSING) >= 0) {
            throw new io.fiberloop.loop.LoopClosedException("loop '" + loop.name() + "' is " + loop.state().name().toLowerCase()
                    + ": spawn() refused; spawn on a loop that is open");
        }
        FiberHost host = FiberHost.of(loop);
        if (host.onCarrier()) {
            return Task.spawn(host, name, body);
        }
        Task<T> task = Task.prepare(host, name, body);
        loop.execute(task::startPrepared);
        return task;
    }

    // ------------------------------------------------------------------ awaiting

    /**
     * Waits for {@code future} and returns its value (or throws its failure). Does not suspend when
     * it is already complete.
     *
     * @param future the future
     * @param <T> its value type
     * @return its value
     * @throws CancelledException if the calling fiber is cancelled while waiting, or the future was cancelled
     * @throws CompletionException wrapping a checked failure; unchecked ones are rethrown as they are
     */
    public static <T> T await(CompletableFuture<T> future) {
        Objects.requireNonNull(future, "future");
        awaitDone(future, "await()");
        return resultOf(future);
    }

    /**
     * Waits for {@code stage}, as {@link #await(CompletableFuture)}.
     *
     * @param stage the stage
     * @param <T> its value type
     * @return its value
     */
    public static <T> T await(CompletionStage<T> stage) {
        Objects.requireNonNull(stage, "stage");
        return await(stage.toCompletableFuture());
    }

    /**
     * Waits for any {@link Future}: a {@link Task} as {@link Task#join()} does, a
     * {@link CompletableFuture} as {@link #await(CompletableFuture)}; a plain {@code Future} offers
     * no completion callback, so when it is not done yet, a virtual thread of the JDK's default
     * scheduler waits for it and wakes the fiber.
     *
     * @param future the future
     * @param <T> its value type
     * @return its value
     */
    public static <T> T await(Future<T> future) {
        Objects.requireNonNull(future, "future");
        if (future instanceof Task<T> t) {
            return t.join();
        }
        return await(completionOf(future));
    }

    /** Suspends (fiber) or blocks (plain thread) until {@code f} is done. */
    static void awaitDone(CompletableFuture<?> f, String what) {
        if (f.isDone()) {
            checkCancelledHere();
            return;
        }
        Strand me = Strand.suspendable(what);
        if (me == null) {
            try {
                f.handle((v, e) -> null).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CancelledException(what + " was interrupted");
            } catch (java.util.concurrent.ExecutionException impossible) {
                throw new AssertionError(impossible);
            }
            return;
        }
        f.whenComplete((v, e) -> me.wake());
        me.awaitUntil(f::isDone);
    }

    /** A wait that need not suspend still raises the calling fiber's cancellation (not a work fiber's). */
    static void checkCancelledHere() {
        Strand me = Strand.here();
        if (me != null && me.kind() != Strand.Kind.WORK) {
            me.checkCancelled();
        }
    }

    /** The value of a completed future, or its failure rethrown (unchecked as is, checked wrapped). */
    static <T> T resultOf(CompletableFuture<T> f) {
        return resultOf(f, null);
    }

    /**
     * The value of a completed future, or its failure rethrown: unchecked as is, checked wrapped in
     * {@link CompletionException}, a cancellation as a new {@link CancelledException} (the
     * waiter's stack) with the future's own as its cause.
     *
     * @param task the task whose outcome {@code f} is, named in the message; {@code null} for a plain future
     */
    static <T> T resultOf(CompletableFuture<T> f, Task<?> task) {
        try {
            return f.getNow(null);
        } catch (CancellationException e) {
            throw cancelled(e, cancelledMessage(task));
        } catch (CompletionException e) {
            throw rethrow(e.getCause() != null ? e.getCause() : e);
        }
    }

    /** {@return the message of a waiter's exception for a cancelled {@code task} (or plain future)} */
    static String cancelledMessage(Task<?> task) {
        return task == null ? "the awaited future was cancelled" : "task '" + task.name() + "' was cancelled";
    }

    /**
     * The exception a waiter raises for a cancelled future: a new {@link CancelledException} (the
     * waiter's stack) whose cause is the original cancellation under {@code e}.
     */
    static CancelledException cancelled(CancellationException e, String message) {
        Throwable original = e;
        while (original.getCause() instanceof CancellationException c) {
            original = c;
        }
        CancelledException ce = new CancelledException(message);
        ce.initCause(original);
        return ce;
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

    // ------------------------------------------------------------------ time

    /**
     * Suspends the calling fiber for {@code duration} on its loop's clock (virtual clocks
     * included). On a plain thread, sleeps that thread.
     *
     * @param duration how long; zero or negative yields once
     * @throws CancelledException if the fiber is cancelled meanwhile
     */
    public static void sleep(Duration duration) {
        Objects.requireNonNull(duration, "duration");
        Strand me = Strand.suspendable("sleep()");
        if (me == null) {
            try {
                Thread.sleep(duration);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CancelledException("sleep() was interrupted");
            }
            return;
        }
        me.checkCancelled();
        if (duration.isNegative() || duration.isZero()) {
            yieldNow();
            return;
        }
        Wakeup w = new Wakeup(me);
        TimerHandle timer = me.scheduleWake(w, duration);
        try {
            me.awaitUntil(w);
        } finally {
            if (!w.fired) {
                timer.cancel();
            }
        }
    }

    /** A timer callback that wakes a fiber (a wake-up: the loop may fire it in the middle of an I/O run). */
    private static final class Wakeup implements Runnable, Until {
        private final Strand strand;
        boolean fired;

        Wakeup(Strand strand) {
            this.strand = strand;
        }

        @Override
        public void run() {
            fired = true;
            strand.wake();
        }

        @Override
        public boolean done() {
            return fired;
        }
    }

    /**
     * Lets every other fiber and callback that is ready run once, then continues (asyncio's
     * {@code sleep(0)}).
     *
     * @throws CancelledException if the fiber is cancelled
     */
    public static void yieldNow() {
        Strand me = Strand.suspendable("yieldNow()");
        if (me == null) {
            Thread.yield();
            return;
        }
        me.checkCancelled();
        Thread.yield();
        me.checkCancelled();
    }

    /**
     * Throws {@link CancelledException} if the calling fiber has been cancelled or a deadline has
     * expired: a cancellation point for long computations that never suspend.
     *
     * <p>Threading: any thread; it does nothing outside a fiber.
     */
    public static void checkCancelled() {
        Strand me = Strand.currentOrNull();
        if (me != null) {
            me.checkCancelled();
        }
    }

    // ------------------------------------------------------------------ timeouts and shields

    /**
     * Runs {@code body} with a deadline {@code timeout} from now on the loop's clock: if it has not
     * returned by then, it is cancelled at its suspension point, and once it has unwound this throws
     * {@link FiberTimeoutException}. Scopes nest; an inner scope never extends an outer deadline.
     *
     * <p>Threading: a fiber.
     *
     * @param timeout the time allowed
     * @param body the work
     * @param <T> its result type
     * @param <X> what it may throw
     * @return what {@code body} returned
     * @throws FiberTimeoutException if the deadline expired first
     * @throws IllegalStateException if not called from a fiber
     * @throws X what {@code body} threw
     */
    public static <T, X extends Throwable> T withTimeout(Duration timeout, FiberCallable<T, X> body) throws X {
        Objects.requireNonNull(timeout, "timeout");
        CancelScope scope = CancelScope.timeout(timeout);
        T value = scope.run("withTimeout()", body);
        if (scope.cancelledCaught()) {
            throw new FiberTimeoutException(timeout, scope.caughtException());
        }
        return value;
    }

    /**
     * As {@link #withTimeout}, but returns {@code null} when the deadline expires.
     *
     * <p>Threading: a fiber.
     *
     * @param timeout the time allowed
     * @param body the work
     * @param <T> its result type
     * @param <X> what it may throw
     * @return what {@code body} returned, or {@code null} on timeout
     * @throws IllegalStateException if not called from a fiber
     * @throws X what {@code body} threw
     */
    public static <T, X extends Throwable> T withTimeoutOrNull(Duration timeout, FiberCallable<T, X> body) throws X {
        Objects.requireNonNull(timeout, "timeout");
        return CancelScope.timeout(timeout).run("withTimeoutOrNull()", body);
    }

    /**
     * Runs {@code body} shielded from cancellation of the task and from the deadlines of enclosing
     * scopes (trio's shielded cancel scope, kotlinx's {@code NonCancellable}): for cleanup that must
     * suspend, such as closing a connection politely. Deadlines set inside the body still apply.
     *
     * <p>Threading: a fiber.
     *
     * @param body the work
     * @param <T> its result type
     * @param <X> what it may throw
     * @return what {@code body} returned
     * @throws IllegalStateException if not called from a fiber
     * @throws X what {@code body} threw
     */
    public static <T, X extends Throwable> T nonCancellable(FiberCallable<T, X> body) throws X {
        return CancelScope.shielded().run("nonCancellable()", body);
    }

    // ------------------------------------------------------------------ several at once

    /**
     * Waits for every future and returns their values in order (asyncio's {@code gather}). Fails
     * fast: at the first failure, the futures still running are cancelled, and once they are done
     * (a cancelled task has unwound) the failure is thrown, with the other failures attached as
     * suppressed. If the caller is cancelled while it waits (or its deadline passes), the futures
     * are cancelled and waited for the same way before the cancellation propagates: what a
     * combinator cancels, it waits for (see {@code docs/fibers.md}).
     *
     * @param futures the futures: tasks, {@link CompletableFuture}s, or any {@link Future}
     * @param <T> their value type
     * @return their values, in the order given
     */
    public static <T> List<T> awaitAll(Collection<? extends Future<? extends T>> futures) {
        return Gather.all(futures);
    }

    /**
     * As {@link #awaitAll}, for futures of different types: waits for all of them (failing fast,
     * cancelling and waiting for the rest), and the caller reads each typed result with
     * {@code resultNow()} afterwards, as after {@link TaskScope#join()}.
     *
     * {@snippet :
     * Task<User> user = Fibers.spawn(() -> loadUser(id));
     * Task<List<Order>> orders = Fibers.spawn(() -> loadOrders(id));
     * Fibers.joinAll(user, orders);
     * return new Page(user.resultNow(), orders.resultNow());
     * }
     *
     * @param futures the futures: tasks, {@link CompletableFuture}s, or any {@link Future}
     */
    public static void joinAll(Future<?>... futures) {
        Gather.all(List.of(futures));
    }

    /**
     * Waits until every future is done, successfully or not, and returns them (asyncio's
     * {@code gather(return_exceptions=True)}): read each with {@code state()}, {@code resultNow()}
     * and {@code exceptionNow()}. It cancels nothing, unless the caller is cancelled while it waits
     * (or its deadline passes): then it cancels the futures still running and waits for them
     * before the cancellation propagates.
     *
     * @param futures the futures
     * @param <F> their type
     * @return the same futures, all done, in the order given
     */
    public static <F extends Future<?>> List<F> awaitAllSettled(Collection<F> futures) {
        return Gather.allSettled(futures);
    }

    /**
     * Waits for the first future to finish and returns its value (or throws its failure). The
     * others are cancelled, and it returns (or throws) once they are done. If the caller is
     * cancelled while it waits, every future is cancelled and waited for the same way.
     *
     * @param futures at least one future
     * @param <T> their value type
     * @return the value of the first to finish
     */
    public static <T> T awaitAny(Collection<? extends Future<? extends T>> futures) {
        return Gather.any(futures);
    }

    /**
     * The completion of {@code future} as a {@link CompletableFuture}: itself, a task's view, or,
     * for a plain {@link Future} that is not done, one completed by a virtual thread of the JDK's
     * default scheduler that waits for it.
     */
    @SuppressWarnings("unchecked")
    static <T> CompletableFuture<T> completionOf(Future<T> future) {
        if (future instanceof Task<T> t) {
            return t.outcome();
        }
        if (future instanceof CompletableFuture<T> cf) {
            return cf;
        }
        if (future instanceof CompletionStage<?> stage) {
            return ((CompletionStage<T>) stage).toCompletableFuture();
        }
        CompletableFuture<T> bridge = new CompletableFuture<>();
        if (future.isDone()) {
            settleFrom(future, bridge);
            return bridge;
        }
        Thread.ofVirtual().name("fiberloop-await-future").start(() -> {
            try {
                future.get();
            } catch (Throwable ignored) {
                // reported by settleFrom
            }
            settleFrom(future, bridge);
        });
        return bridge;
    }

    private static <T> void settleFrom(Future<T> done, CompletableFuture<T> into) {
        switch (done.state()) {
            case SUCCESS -> into.complete(done.resultNow());
            case FAILED -> into.completeExceptionally(done.exceptionNow());
            case CANCELLED -> into.cancel(false);
            case RUNNING -> into.completeExceptionally(new IllegalStateException("not done: " + done));
        }
    }

    static RuntimeException rethrowUnchecked(Throwable t) {
        return rethrow(t);
    }
}
