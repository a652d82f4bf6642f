package io.fiberloop.fiber;

/**
 * A doubly-linked FIFO whose nodes carry their own links: adding, and unlinking a node from
 * anywhere in the list (a waiter that gives up: cancelled, timed out), are O(1), allocate nothing,
 * and leave no dead entry behind. The waiter queues of the synchronisation primitives
 * ({@link Waiters}), of {@link FiberQueue} and of {@link Channel} are all this list.
 *
 * <p>Not thread-safe: its owner guards it (a loop's thread, or a channel's lock).
 *
 * @param <N> the node type
 */
class IntrusiveList<N extends IntrusiveList.Node<N>> {
    /** The links of a node; {@code linked} says whether it is on a list now. */
    abstract static class Node<N extends Node<N>> {
        N prev;
        N next;
        boolean linked;
    }

    N head;
    N tail;
    private int size;

    /** Appends {@code n} (the newest). It must not be on a list. */
    final void add(N n) {
        assert !n.linked : "already on a list: " + n;
        n.prev = tail;
        n.next = null;
        if (tail == null) {
            head = n;
        } else {
            tail.next = n;
        }
        tail = n;
        n.linked = true;
        size++;
    }

    /** Removes {@code n} if it is still on the list. @return whether it was */
    final boolean unlink(N n) {
        if (!n.linked) {
            return false;
        }
        N p = n.prev;
        N x = n.next;
        if (p == null) {
            head = x;
        } else {
            p.next = x;
        }
        if (x == null) {
            tail = p;
        } else {
            x.prev = p;
        }
        n.prev = null;
        n.next = null;
        n.linked = false;
        size--;
        return true;
    }

    /** @return the oldest node, or {@code null} */
    final N peek() {
        return head;
    }

    /** Removes and returns the oldest node, or {@code null}. */
    final N poll() {
        N n = head;
        if (n != null) {
            unlink(n);
        }
        return n;
    }

    final boolean isEmpty() {
        return head == null;
    }

    final int size() {
        return size;
    }
}
