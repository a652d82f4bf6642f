package io.fiberloop.fiber.channel;

/**
 * Thrown by {@link FiberQueue#putNow} when the queue is full (asyncio's {@code QueueFull}). An
 * {@link IllegalStateException}, as {@link java.util.Queue#add} throws when full.
 *
 * {@snippet :
 * try {
 *     queue.putNow(item);
 * } catch (QueueFullException full) {
 *     reject(item);
 * }
 * }
 */
public final class QueueFullException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    QueueFullException(String message) {
        super(message);
    }
}
