package io.fiberloop.fiber.channel;

/**
 * Raised by a {@link Channel} used past its end: by {@code send}, {@code trySend} and a select's
 * send case once the channel is closed (a sender suspended in {@code send} when the channel closes
 * gets it too: its element was not sent), and by {@code receive} and a select's
 * {@code onReceive} case once the channel is closed <em>and drained</em>. If the channel was closed
 * with {@link Channel#close(Throwable) a cause}, that cause is this exception's cause, and
 * {@code receiveOrNull}, iteration and {@code onReceiveOrNull} raise it too instead of ending
 * quietly.
 *
 * {@snippet :
 * try {
 *     while (true) {
 *         handle(ch.receive());
 *     }
 * } catch (ChannelClosedException end) {
 *     // every element sent before close() was received
 * }
 * }
 *
 * <p>Unchecked, an {@link IllegalStateException}: sending on a closed channel is a programming
 * error, as in Go.
 */
public final class ChannelClosedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    ChannelClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
