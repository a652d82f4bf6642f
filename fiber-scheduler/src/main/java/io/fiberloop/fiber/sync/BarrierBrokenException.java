package io.fiberloop.fiber.sync;

/**
 * Thrown by {@link Barrier#await()} when the barrier is broken: a waiter of the same generation was
 * cancelled or timed out, the barrier action failed, or {@link Barrier#abort()} or
 * {@link Barrier#reset()} was called (Python's {@code BrokenBarrierError}). Unchecked. The barrier
 * stays broken until {@link Barrier#reset()}.
 */
public final class BarrierBrokenException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what broke the barrier
     */
    public BarrierBrokenException(String message) {
        super(message);
    }
}
