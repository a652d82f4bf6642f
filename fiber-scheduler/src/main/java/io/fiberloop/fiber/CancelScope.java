package io.fiberloop.fiber;

import io.fiberloop.fiber.internal.Scope;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClosedException;
import java.time.Duration;
import java.util.Objects;

/**
 * A region of a fiber's code that can be cancelled as a unit, as trio's {@code CancelScope}:
 * from outside ({@link #cancel()}, from any thread), by a deadline that can be moved while the body
 * runs, and that can shield its body from the cancellations around it. {@link Fibers#withTimeout}
 * and {@link Fibers#nonCancellable} are cancel scopes.
 *
 * {@snippet :
 * CancelScope scope = CancelScope.create().deadlineAfter(Duration.ofSeconds(5));
 * String r = scope.run(() -> {
 *     String first = fetch(a);
 *     scope.deadlineAfter(Duration.ofSeconds(5));   // progress: give it five more seconds
 *     return first + fetch(b);
 * });
 * if (scope.cancelledCaught()) {
 *     r = "gave up";                                 // run() returned null: the scope was cancelled
 * }
 * }
 *
 * <h2>Semantics</h2>
 * <ul>
 *   <li>Once the scope is cancelled (by {@link #cancel()}, or when its deadline passes), every
 *       suspension point inside its body raises {@link CancelledException} (level-triggered, as
 *       a task's cancellation). When that exception reaches the end of the body, the scope catches
 *       it: {@link #run} returns {@code null} and {@link #cancelledCaught()} is {@code true}. A
 *       body that catches the exception itself and returns normally returns its value.</li>
 *   <li>Scopes nest. When several are cancelled, the outermost one's cancellation wins: it passes
 *       through the inner scopes, which do not catch it, so an inner deadline never extends an
 *       outer one. The cancellation of the task itself is outside every scope.</li>
 *   <li>A {@linkplain #shield(boolean) shielded} scope hides every cancellation outside it (the
 *       task's, outer scopes' deadlines) from its body; its own cancellation and those of scopes
 *       inside it still apply. Shield cleanup that must suspend, such as closing a connection
 *       politely.</li>
 *   <li>A scope runs once. It may be cancelled before it runs: its body then starts cancelled.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * {@link #run} in a fiber. {@link #cancel()} and the queries from any thread. The deadline and the
 * shield are set before {@code run} by the code that creates the scope, or while it runs by code
 * on its loop (its body, another fiber, a loop callback).
 */
public final class CancelScope {
    private final Scope scope;
    /** The loop the body runs on, once {@link #run} has begun. */
    private volatile EventLoop loop;
    private volatile Throwable caught;

    private CancelScope(Scope scope) {
        this.scope = scope;
    }

    /**
     * A scope that is not cancelled, has no deadline and does not shield.
     *
     * <p>Threading: any thread.
     *
     * @return a new scope
     */
    public static CancelScope create() {
        return new CancelScope(new Scope("cancel scope"));
    }

    /** A withTimeout scope: its message names the timeout. */
    static CancelScope timeout(Duration timeout) {
        return new CancelScope(Scope.timeout(timeout));
    }

    /** A nonCancellable scope. */
    static CancelScope shielded() {
        return new CancelScope(Scope.shielded());
    }

    /**
     * Runs {@code body} inside this scope and returns its value, or {@code null} if the scope was
     * cancelled and caught its cancellation ({@link #cancelledCaught()}).
     *
     * @param body the work
     * @param <T> its result type
     * @param <X> what it may throw
     * @return what {@code body} returned, or {@code null} if the scope caught its cancellation
     * @throws X what {@code body} threw, including a cancellation from outside the scope
     * @throws IllegalStateException if not called from a fiber, or if the scope ran before
     */
    public <T, X extends Throwable> T run(FiberCallable<T, X> body) throws X {
        return run("CancelScope.run()", body);
    }

    /** {@link #run(FiberCallable)}, named {@code what} in the message for a caller outside a fiber. */
    <T, X extends Throwable> T run(String what, FiberCallable<T, X> body) throws X {
        Objects.requireNonNull(body, "body");
        Strand me = Strand.requireFiber(what);
        loop = me.loop();
        scope.enter(me);
        try {
            return body.call();
        } catch (Throwable e) {
            if (scope.caught(e)) {
                caught = e;
                return null;
            }
            throw e;
        } finally {
            scope.exit();
        }
    }

    /**
     * Cancels the scope: its body, if it runs, gets {@link CancelledException} at its current or
     * next suspension point; if it has not run yet, it starts cancelled. Idempotent.
     *
     * <p>Threading: any thread; from another thread the cancellation reaches the body through its
     * loop.
     */
    public void cancel() {
        EventLoop l = loop;
        if (l != null && l.inLoop()) {
            scope.cancel();
            return;
        }
        if (l == null) {
            scope.requestCancel(); // run() has not begun (or is beginning): it will see the flag
            l = loop;
            if (l == null) {
                return;
            }
        }
        try { // the body may be running: deliver the cancellation on its loop
            l.execute(scope::cancel);
        } catch (LoopClosedException closed) {
            // the loop cancels everything as it closes
        }
    }

    /** {@return whether the scope was cancelled, by {@link #cancel()} or its deadline. Any thread} */
    public boolean isCancelled() {
        return scope.cancelled();
    }

    /**
     * {@return whether the scope caught its own cancellation: its body ended with it, and {@link #run} returned {@code null}. Any thread, after {@code run} returned}
     *
     */
    public boolean cancelledCaught() {
        return caught != null;
    }

    /** The cancellation the scope caught, or {@code null}. */
    Throwable caughtException() {
        return caught;
    }

    /**
     * {@return the deadline on the loop's clock ({@link EventLoop#now()}), or {@link Long#MAX_VALUE} when there is none (or when {@link #deadlineAfter} was given before {@link #run}, which counts from the start of {@code run})}
     *
     */
    public long deadline() {
        return scope.deadline();
    }

    /**
     * Sets or moves the deadline; a deadline that has passed cancels the scope at once. Moving it
     * has no effect once the scope is cancelled.
     *
     * @param deadlineNanos a time of the loop's clock ({@link EventLoop#now()});
     *     {@link Long#MAX_VALUE} for none
     * @return this scope
     * @throws IllegalStateException if called off the scope's loop while its body runs
     */
    public CancelScope deadline(long deadlineNanos) {
        checkLoop("deadline()");
        scope.deadline(deadlineNanos);
        return this;
    }

    /**
     * Sets or moves the deadline to {@code timeout} from now on the loop's clock, or, before
     * {@link #run}, from the start of {@code run}.
     *
     * @param timeout how long from now; zero or negative cancels the scope once it runs
     * @return this scope
     * @throws IllegalStateException if called off the scope's loop while its body runs
     */
    public CancelScope deadlineAfter(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        checkLoop("deadlineAfter()");
        scope.deadlineAfter(timeout);
        return this;
    }

    /** {@return whether the scope shields its body from the cancellations outside it} */
    public boolean isShielded() {
        return scope.shield();
    }

    /**
     * Turns the shield on or off. Turning it off while the body runs delivers a cancellation that
     * is pending outside (the task's, an outer deadline's) at once.
     *
     * @param shield whether to hide the cancellations outside the scope from its body
     * @return this scope
     * @throws IllegalStateException if called off the scope's loop while its body runs
     */
    public CancelScope shield(boolean shield) {
        checkLoop("shield()");
        scope.shield(shield);
        return this;
    }

    /** While the body runs, its loop owns the scope's deadline and shield. */
    private void checkLoop(String what) {
        EventLoop l = loop;
        if (l != null && scope.running() && !l.inLoop()) {
            throw new IllegalStateException("CancelScope." + what + " was called from thread '" + Thread.currentThread().getName()
                    + "' while the scope runs on loop '" + l.name() + "': change its deadline or shield on that loop "
                    + "(in a fiber or with loop.execute(...)); cancel() works from any thread");
        }
    }

    @Override
    public String toString() {
        return "CancelScope[" + (scope.running() ? "running" : "not running") + (isCancelled() ? ", cancelled" : "")
                + (cancelledCaught() ? ", caught" : "") + (isShielded() ? ", shielded" : "")
                + (deadline() != Long.MAX_VALUE ? ", deadline " + deadline() : "") + "]";
    }
}
