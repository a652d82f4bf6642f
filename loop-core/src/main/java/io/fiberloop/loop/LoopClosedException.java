package io.fiberloop.loop;

import java.util.concurrent.RejectedExecutionException;

/**
 * Thrown when work is submitted to a loop that is closing or closed. The message names the loop;
 * submit to a loop that is still open (for instance another loop of its {@link LoopGroup}).
 */
public final class LoopClosedException extends RejectedExecutionException {
    private static final long serialVersionUID = 1L;

    /**
     * A refusal of a closed (or closing) loop.
     *
     * @param message what was refused, and why
     */
    public LoopClosedException(String message) {
        super(message);
    }
}
