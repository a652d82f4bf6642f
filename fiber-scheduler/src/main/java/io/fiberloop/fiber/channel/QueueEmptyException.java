package io.fiberloop.fiber.channel;

import java.util.NoSuchElementException;

/**
 * Thrown by {@link FiberQueue#getNow} when no item is available (asyncio's {@code QueueEmpty}). A
 * {@link NoSuchElementException}, as {@link java.util.Queue#remove} throws when empty.
 *
 * {@snippet :
 * try {
 *     handle(queue.getNow());
 * } catch (QueueEmptyException empty) {
 *     // nothing to do now
 * }
 * }
 */
public final class QueueEmptyException extends NoSuchElementException {
    private static final long serialVersionUID = 1L;

    QueueEmptyException(String message) {
        super(message);
    }
}
