package io.fiberloop.fiber;

/**
 * The FIFO list of fibers waiting on one synchronisation primitive (an {@link IntrusiveList}, so a
 * waiter that gives up leaves it in O(1)). One loop's thread only: no atomics, no locks.
 */
final class Waiters extends IntrusiveList<Waiters.Waiter> {
    /**
     * A fiber waiting for a grant. Whoever grants it sets {@link #granted} and calls
     * {@link Fiber#wake()}; the waiter suspends in {@link Fiber#awaitUntil} with itself as the
     * condition.
     */
    static class Waiter extends IntrusiveList.Node<Waiter> implements Fiber.Until {
        final Fiber fiber;
        /** Set by the granter: the permit, token, lock or wake-up is this waiter's now. */
        boolean granted;

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
}
