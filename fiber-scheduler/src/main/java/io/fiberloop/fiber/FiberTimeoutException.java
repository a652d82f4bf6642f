package io.fiberloop.fiber;

import java.time.Duration;

/**
 * Thrown by {@link Fibers#withTimeout} when its body did not finish before the deadline; the body
 * was cancelled at its suspension point and has unwound. Unchecked, like asyncio's
 * {@code TimeoutError}.
 */
public final class FiberTimeoutException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Duration timeout;

    FiberTimeoutException(Duration timeout, Throwable cause) {
        super("timed out after " + timeout.toMillis() + " ms", cause);
        this.timeout = timeout;
    }

    /** {@return the timeout that expired} */
    public Duration timeout() {
        return timeout;
    }
}
