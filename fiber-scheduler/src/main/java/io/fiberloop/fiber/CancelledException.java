package io.fiberloop.fiber;

import java.util.concurrent.CancellationException;

/**
 * Raised in a fiber at its suspension points once its task has been cancelled, or once one of its
 * deadline scopes ({@link Fibers#withTimeout}) has expired. Unchecked; {@code finally} blocks run
 * as it unwinds. It extends {@link CancellationException}, so a cancelled {@link Task} reports
 * {@link java.util.concurrent.Future.State#CANCELLED}.
 *
 * <p>Cancellation is <em>level-triggered</em>: every later suspension point of a cancelled fiber
 * raises it again, so a fiber that swallows it cannot keep running as a zombie. Cleanup that must
 * suspend runs inside {@link Fibers#nonCancellable}.
 */
public class CancelledException extends CancellationException {
    private static final long serialVersionUID = 1L;
    /** The deadline scope that expired, or {@code null} for a cancelled task. */
    final transient Object scope;

    /**
     * A cancellation with a message.
     *
     * @param message why the fiber was cancelled
     */
    public CancelledException(String message) {
        this(message, null);
    }

    CancelledException(String message, Object scope) {
        super(message);
        this.scope = scope;
    }
}
