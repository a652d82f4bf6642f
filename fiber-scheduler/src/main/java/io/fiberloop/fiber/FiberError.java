package io.fiberloop.fiber;

/**
 * An illegal switch between fibers: to itself, to a fiber that has ended, to a fiber of another
 * loop, to a fiber that waits in {@code await} rather than in {@code switchTo}, or a value passed to
 * a fiber that has not started. The message says which, and what to do instead. Unchecked, as
 * python-fibers' {@code fibers.error}.
 */
public final class FiberError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * An illegal switch or throw.
     *
     * @param message what was illegal
     */
    public FiberError(String message) {
        super(message);
    }
}
