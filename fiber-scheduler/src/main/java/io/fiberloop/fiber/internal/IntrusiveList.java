package io.fiberloop.fiber.internal;


/**
 * A doubly-linked FIFO whose nodes carry their own links: adding, and unlinking a node from
 * anywhere in the list (a waiter that gives up: cancelled, timed out), are O(1), allocate nothing,
 * and leave no dead entry behind. The waiter queues of the synchronisation primitives
 * ({@link Waiters}), of {@code FiberQueue} and of {@code Channel} are all this list.
 *
 * <p>Not thread-safe: its owner guards it (a loop's thread, or a channel's lock).
 *
 * @param <N> the node type
 */
public class IntrusiveList<N extends IntrusiveList.Node<N>> {
    /**
     * The links of a node; {@code linked} says whether it is on a list now.
     *
     * @param <N> the node type
     */
    public abstract static class Node<N extends Node<N>> {
        N prev;
        N next;
        boolean linked;

        /** A node on no list. */
        protected Node() {
        }

        /** {@return the next (newer) node of its list, or {@code null}} */
        public final N next() {
            return next;
        }
    }

    private N head;
    private N tail;
    private int size;

    /** An empty list. */
    public IntrusiveList() {
    }

    /**
     * Appends {@code n} (the newest). It must not be on a list.
     *
     * @param n the node
     */
    public final void add(N n) {
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

    /**
     * Removes {@code n} if it is still on the list.
     *
     * @param n the node
     * @return whether it was
     */
    public final boolean unlink(N n) {
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

    /** {@return the oldest node, or {@code null}} */
    public final N peek() {
        return head;
    }

    /** {@return the oldest node, removed, or {@code null}} */
    public final N poll() {
        N n = head;
        if (n != null) {
            unlink(n);
        }
        return n;
    }

    /** {@return whether no node is on the list} */
    public final boolean isEmpty() {
        return head == null;
    }

    /** {@return how many nodes are on the list} */
    public final int size() {
        return size;
    }
}
