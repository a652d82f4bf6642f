package io.fiberloop.fiber;

/**
 * The FIFO list of fibers waiting on one synchronisation primitive: an intrusive doubly-linked
 * list, so that a waiter that gives up (cancelled, timed out) leaves it in O(1) and the list never
 * holds a dead entry. One loop's thread only: no atomics, no locks.
 */
final class Waiters {
    /**
     * A fiber waiting for a grant. Whoever grants it sets {@link #granted} and calls
     * {@link Fiber#wake()}; the waiter suspends in {@link Fiber#awaitUntil} with itself as the
     * condition.
     */
    static class Waiter implements Fiber.Until {
        final Fiber fiber;
        /** Set by the granter: the permit, token, lock or wake-up is this waiter's now. */
        boolean granted;
        Waiter prev;
        Waiter next;
        boolean linked;

        Waiter(Fiber fiber) {
            this.fiber = fiber;
        }

        @Override
        public boolean done() {
            return granted;
        }

        /** Grants and wakes: the waiter must have been taken off its list already. */
        final void grant() {
            granted = true;
            fiber.wake();
        }
    }

    private Waiter head;
    private Waiter tail;
    private int size;

    /** Appends {@code w} (the newest waiter). */
    void add(Waiter w) {
        assert !w.linked;
        w.prev = tail;
        w.next = null;
        if (tail == null) {
            head = w;
        } else {
            tail.next = w;
        }
        tail = w;
        w.linked = true;
        size++;
    }

    /** @return the oldest waiter, or {@code null} */
    Waiter peek() {
        return head;
    }

    /** Removes and returns the oldest waiter, or {@code null}. */
    Waiter poll() {
        Waiter w = head;
        if (w != null) {
            unlink(w);
        }
        return w;
    }

    /** Removes {@code w} if it is still on the list. @return whether it was */
    boolean unlink(Waiter w) {
        if (!w.linked) {
            return false;
        }
        Waiter p = w.prev;
        Waiter n = w.next;
        if (p == null) {
            head = n;
        } else {
            p.next = n;
        }
        if (n == null) {
            tail = p;
        } else {
            n.prev = p;
        }
        w.prev = null;
        w.next = null;
        w.linked = false;
        size--;
        return true;
    }

    boolean isEmpty() {
        return head == null;
    }

    int size() {
        return size;
    }
}
