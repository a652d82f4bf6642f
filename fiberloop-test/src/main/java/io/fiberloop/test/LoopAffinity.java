package io.fiberloop.test;

import io.fiberloop.loop.EventLoop;

/**
 * The loop an unsynchronized helper belongs to: the loop of its first caller; every later call
 * must come from that loop, which is checked (a helper shared between loops or plain threads
 * would race).
 *
 * <p>Threading: the helper's loop; the check itself is what tells other threads off.
 */
final class LoopAffinity {
    private final String what;
    private volatile EventLoop loop;

    LoopAffinity(String what) {
        this.what = what;
    }

    /**
     * @throws IllegalStateException off a loop, or on another loop than the first caller's
     */
    void check() {
        EventLoop here = EventLoop.currentOrNull();
        if (here == null) {
            throw new IllegalStateException("this " + what + " is used on thread '" + Thread.currentThread().getName()
                    + "', which is not on a loop: use it from the fibers of one loop (the test's)");
        }
        EventLoop mine = loop;
        if (mine == null) {
            loop = here;
        } else if (mine != here) {
            throw new IllegalStateException("this " + what + " belongs to loop '" + mine.name() + "' and is used on loop '"
                    + here.name() + "': give each loop its own");
        }
    }
}
