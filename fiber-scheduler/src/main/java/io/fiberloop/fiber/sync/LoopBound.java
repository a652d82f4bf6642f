package io.fiberloop.fiber.sync;


import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.loop.EventLoop;

/**
 * What every synchronisation primitive of this package shares: the loop it belongs to, and the
 * checks that keep it there. A primitive binds to the loop it is created on; created off any loop
 * (a plain thread, a static initialiser), it binds to the loop of its first use. Using it from
 * another loop or from a plain thread then fails with a message that points to channels.
 *
 * <p>The loop is single-threaded, so the state of a primitive is plain fields: no atomics, no
 * {@code volatile}, no locks.
 */
abstract class LoopBound {
    /** The loop this primitive belongs to; {@code null} until its first use when created off a loop. */
    private EventLoop loop;
    /** The public type name, for messages ("Lock", "BoundedSemaphore", ...). */
    final String kind;

    LoopBound(String kind) {
        this.kind = kind;
        this.loop = EventLoop.currentOrNull();
    }

    /** {@return the loop this primitive is bound to, or {@code null} if not used yet} */
    final EventLoop boundLoop() {
        return loop;
    }

    /**
     * The current fiber, for an operation that may suspend or that needs a fiber as owner or
     * borrower; checks that it runs on this primitive's loop (binding it on first use).
     *
     * @param op the operation, for messages ({@code "Lock.lock()"})
     * @param noWait the non-suspending alternative to suggest in a loop callback, or {@code null}
     * @throws IllegalStateException off the loop, on another loop, or in a loop callback
     */
    final Strand strand(String op, String noWait) {
        Strand me = Strand.currentOrNull();
        if (me != null) {
            EventLoop l = me.loop();
            if (l != loop) {
                bindOrFail(op, l);
            }
            return me;
        }
        EventLoop l = EventLoop.currentOrNull();
        if (l == null) {
            throw offLoop(op);
        }
        if (loop != null && l != loop) {
            throw otherLoop(op, l);
        }
        throw new IllegalStateException(op + " was called from a loop callback (a task submitted with execute() or a timer), "
                + (noWait == null ? "which is not a fiber and must not suspend its loop: "
                        : "which is not a fiber and must not suspend its loop: use " + noWait + ", which never suspends, or ")
                + "call it in a task spawned with Fibers.spawn(...)");
    }

    /**
     * Checks that a non-suspending operation runs on this primitive's loop (a fiber or a loop
     * callback), binding it on first use.
     *
     * @param op the operation, for messages
     * @throws IllegalStateException off the loop or on another loop
     */
    final void onLoop(String op) {
        EventLoop l = EventLoop.currentOrNull();
        if (l == null || l != loop) {
            if (l == null) {
                throw offLoop(op);
            }
            bindOrFail(op, l);
        }
    }

    private void bindOrFail(String op, EventLoop l) {
        if (loop == null) {
            loop = l;
            return;
        }
        throw otherLoop(op, l);
    }

    private IllegalStateException otherLoop(String op, EventLoop l) {
        return new IllegalStateException(op + " was called on loop '" + l.name() + "', but this " + kind + " belongs to loop '"
                + loop.name() + "': " + kind + " coordinates the fibers of one loop only (which is why it needs no atomics); "
                + "to pass values or signals between loops, use a channel (Channel), which is thread-safe");
    }

    private IllegalStateException offLoop(String op) {
        return new IllegalStateException(op + " was called from thread '" + Thread.currentThread().getName()
                + "', which is not on an event loop: " + kind + " coordinates the fibers of one loop and is not thread-safe; "
                + "a plain thread talks to fibers through a channel (Channel), which is thread-safe, "
                + "or submits work to the loop with loop.execute(...) or Fibers.spawn(loop, ...)");
    }

    /** The loop's name for toString, or "unbound". */
    final String loopName() {
        return loop == null ? "unbound" : "loop '" + loop.name() + "'";
    }
}
