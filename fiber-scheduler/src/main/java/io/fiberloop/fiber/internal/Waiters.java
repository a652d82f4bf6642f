package io.fiberloop.fiber.internal;

/**
 * The FIFO list of fibers waiting on one synchronisation primitive (an {@link IntrusiveList}, so a
 * waiter that gives up leaves it in O(1)). One loop's thread only: no atomics, no locks.
 */
public final class Waiters extends IntrusiveList<Waiters.Waiter> {

    /** An empty list. */
    public Waiters() {
    }

    /**
     * A fiber waiting for a grant. Whoever grants it takes it off its list and calls
     * {@link #grant()}; the waiter suspends in {@link Strand#awaitUntil} with itself as the
     * condition.
     */
    public static class Waiter extends IntrusiveList.Node<Waiter> implements Until {
        /** The waiting fiber. */
        public final Strand strand;
        /** Set by the granter: the permit, token, lock or wake-up is this waiter's now. */
        public boolean granted;

        /**
         * A waiter for {@code strand}, not granted yet.
         *
         * @param strand the waiting fiber
         */
        public Waiter(Strand strand) {
            this.strand = strand;
        }

        @Override
        public boolean done() {
            return granted;
        }

        /** Grants and wakes: the waiter must have been taken off its list already. */
        public final void grant() {
            granted = true;
            strand.wake();
        }
    }
}
