package io.fiberloop.fiber.internal;

import java.util.concurrent.Callable;

/**
 * Tasks that run on the loop's work fiber until they first suspend: a server's handler that
 * answers at once then costs no fiber of its own, no hand-over and no second thread's stack, and
 * one that suspends (to sleep, read a body, await) carries on as its own fiber while the loop
 * hands its work to a new work fiber (the carrier-deadlock rule's hand-over, see
 * {@code docs/design.md}). Inside, the task is a task like any other: {@code Fiber.current()},
 * cancellation, deadlines, fiber locals and every suspension point work.
 * {@snippet :
 * loop.execute(() -> {                       // a loop task, on the work fiber
 *     InlineCall<Void> c = Inline.call(host, "GET /users/{id}", () -> { serve(); return null; });
 *     exchange.call = c;                     // whoever may cancel it needs it first
 *     Inline.run(c);                         // returns when the body has returned
 * });
 * }
 * An {@link InlineCall} becomes a task only when something needs one, so that a handler that
 * answers at once costs no task at all. Not an API: netty-bridge's HTTP server runs its exchanges
 * as calls, its TCP read handlers each read.
 *
 * <p>Threading: both methods in a loop task (a callback of {@code execute}) of a loop that hosts
 * fibers, on its work fiber.
 */
public final class Inline {
    private Inline() {
    }

    /**
     * A call to run with {@link #run(InlineCall)}: a task only once something needs one (see
     * {@link InlineCall}). What a server makes per request, where most handlers answer at once.
     *
     * @param host the loop's fiber host
     * @param name the task's name, or {@code null}
     * @param body the work
     * @param <T> its result type
     * @return the call, not started
     */
    public static <T> InlineCall<T> call(FiberHost host, String name, Callable<T> body) {
        return new InlineCall<>(host, name, body);
    }

    /**
     * Runs {@code call} on the calling work fiber: returns when its body has returned or thrown, or,
     * if it suspended, when the work fiber may go on after the body finally returns (the loop's
     * work has moved on to a new work fiber meanwhile).
     *
     * @param call a call from {@link #call} that has not run
     * @return true if the body returned without suspending: the calling work fiber goes on with
     *     the loop's work; false if it suspended: the calling work fiber was retired meanwhile
     *     (another one carries the loop's work) and must only end
     * @throws IllegalStateException if not called on a work fiber
     */
    public static boolean run(InlineCall<?> call) {
        Strand work = workHere();
        int before = work.unmounts;
        call.run(work);
        return work.unmounts == before;
    }

    private static Strand workHere() {
        Strand work = Strand.here();
        if (work == null || work.kind() != Strand.Kind.WORK) {
            throw new IllegalStateException("Inline.run() runs a task on the loop's work fiber: call it from a loop task (execute()), "
                    + "not from " + (work == null ? "thread '" + Thread.currentThread().getName() + "'" : work));
        }
        return work;
    }
}
