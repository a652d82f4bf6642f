package io.fiberloop.netty.http;

import io.fiberloop.fiber.channel.Channel;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;

/**
 * One WebSocket connection (RFC 6455), on the server ({@link HttpServerBuilder#websocket}) or
 * the client ({@link HttpClient#webSocket}), in blocking style: {@link #receive()} suspends the
 * fiber until a whole message arrives, {@link #send(String)} suspends it while the peer reads
 * slowly.
 * {@snippet :
 * .websocket("/ws/echo", ws -> {
 *     for (WebSocket.Message msg; (msg = ws.receive()) != null; ) {
 *         ws.send(msg);
 *     }
 * })
 * }
 *
 * <h2>Messages</h2>
 * Text and binary messages; fragmented messages are reassembled up to
 * {@link WebSocketOptions#maxMessageSize} (a larger one closes the connection with {@code 1009});
 * text is checked to be UTF-8 (invalid: {@code 1007}). Pings are answered with pongs by the
 * connection itself.
 *
 * <h2>Closing</h2>
 * {@link #receive()} returns {@code null} once the connection is closed: by the peer's close
 * frame (answered, then the connection ends), by {@link #close(int, String)} here, by a protocol
 * error of the peer (the connection sent the matching close code), by the idle timeout, or by the
 * peer vanishing ({@code 1006}). {@link #closeCode()} and {@link #closeReason()} then tell why. On
 * the server, a handler that returns closes the connection with {@code 1000}, one that throws with
 * {@code 1011}, and a server shutting down with {@code 1001}.
 *
 * <h2>Waiting on a socket and a channel together</h2>
 * {@link #messages()} delivers the messages into a {@link Channel}, so that one fiber can
 * {@link io.fiberloop.fiber.channel.Select} on the socket and on other channels at once:
 * {@snippet :
 * Channel<WebSocket.Message> in = ws.messages();
 * for (boolean open = true; open; ) {
 *     open = Select.<Boolean>create()
 *             .onReceiveOrNull(in, m -> { if (m != null) room.broadcast(m.text()); return m != null; })
 *             .onReceive(myOutbox, line -> { send(ws, line); return true; })
 *             .run();
 * }
 * }
 *
 * <h2>Threading</h2>
 * Fibers of the connection's loop only. One fiber may receive while another sends; two fibers may
 * not send (or receive) at the same time: give the socket one writer fiber, fed by a channel, as
 * the chat sample does.
 */
public interface WebSocket extends AutoCloseable {
    /** The close code of a normal closure. */
    int NORMAL_CLOSURE = 1000;
    /** The close code of an endpoint going away (a server shutting down, an idle timeout). */
    int GOING_AWAY = 1001;
    /** The close code of a protocol error. */
    int PROTOCOL_ERROR = 1002;
    /** The close code of a text message that is not UTF-8. */
    int INVALID_PAYLOAD = 1007;
    /** The close code of a policy violation. */
    int POLICY_VIOLATION = 1008;
    /** The close code of a message larger than the receiver accepts. */
    int MESSAGE_TOO_BIG = 1009;
    /** The close code of an unexpected condition in the server (a handler that threw). */
    int INTERNAL_ERROR = 1011;
    /** The close code reported when a close frame carried no code. */
    int NO_STATUS = 1005;
    /** The close code reported when the connection ended without a close frame. */
    int ABNORMAL_CLOSURE = 1006;

    /**
     * Waits for the next whole message.
     * <p>Threading: a fiber of the connection's loop; suspends it.
     *
     * @return the message, or {@code null} once the connection is closed (see "Closing")
     * @throws IOException never for a closed connection (that returns {@code null}); subclasses
     *         for timeouts
     * @throws IllegalStateException if another fiber is receiving, or {@link #messages()} was used
     */
    Message receive() throws IOException;

    /**
     * As {@link #receive()}, waiting at most {@code timeout}; the connection stays usable after a
     * timeout.
     *
     * @param timeout the longest wait
     * @return the message, or {@code null} once the connection is closed
     * @throws SocketTimeoutException if no message arrived in time
     * @throws IOException as {@link #receive()}
     */
    Message receive(Duration timeout) throws IOException;

    /**
     * Sends a text message, then waits while the peer is slow (more than the high-water mark,
     * 64 KiB, waits to go out).
     * <p>Threading: a fiber of the connection's loop; suspends it while the peer is slow.
     *
     * @param text the message
     * @throws IOException if the connection is closed or closing
     */
    void send(String text) throws IOException;

    /**
     * Sends a binary message (the array is copied), then waits while the peer is slow.
     *
     * @param data the message
     * @throws IOException if the connection is closed or closing
     */
    void send(byte[] data) throws IOException;

    /**
     * Sends {@code message} as it is (text or binary), then waits while the peer is slow.
     *
     * @param message the message
     * @throws IOException if the connection is closed or closing
     */
    void send(Message message) throws IOException;

    /**
     * Sends a ping (the connection answers pongs on its own, and pings by itself every
     * {@link WebSocketOptions#pingInterval}).
     *
     * @param data at most 125 bytes
     * @throws IOException if the connection is closed or closing
     */
    void ping(byte[] data) throws IOException;

    /**
     * Closes with {@code 1000}: see {@link #close(int, String)}.
     */
    @Override
    void close();

    /**
     * Starts the closing handshake: sends a close frame with {@code code} and {@code reason}, waits
     * (at most {@link WebSocketOptions#closeTimeout}) for the peer's, then ends the connection.
     * Messages that arrive meanwhile are dropped. Idempotent.
     * <p>Threading: a fiber of the connection's loop; suspends it (not cancellable, bounded by the
     * close timeout).
     *
     * @param code a close code RFC 6455 lets an endpoint send (1000..1003, 1007..1014, 3000..4999)
     * @param reason at most 123 bytes in UTF-8
     * @throws IllegalArgumentException for another code or a longer reason
     */
    void close(int code, String reason);

    /** {@return whether no close frame was sent or received and the connection is up} */
    boolean isOpen();

    /**
     * {@return the close code: the peer's (or {@link #NO_STATUS}), the one sent for the peer's protocol error, this side's, or {@link #ABNORMAL_CLOSURE}; {@code -1} while open}
     *
     */
    int closeCode();

    /** {@return the close reason that went with {@link #closeCode()}, or {@code ""}} */
    String closeReason();

    /** {@return the subprotocol agreed in the handshake, or {@code null}} */
    String subprotocol();

    /** {@return whether the connection compresses its messages (permessage-deflate agreed)} */
    boolean compressed();

    /**
     * {@return the upgrade request on the server (its path and query parameters, headers); {@code null} on the client}
     *
     */
    HttpRequest request();

    /** {@return the peer's address} */
    SocketAddress remoteAddress();

    /**
     * The messages as a {@link Channel}, for {@link io.fiberloop.fiber.channel.Select}: a fiber of
     * the connection's loop receives into a small buffered channel (so backpressure still reaches
     * the peer), and closes the channel when the connection closes. After this,
     * {@link #receive()} must not be used. The same channel on every call.
     * <p>Threading: a fiber of the connection's loop; the channel may be read from any fiber.
     *
     * @return the channel of incoming messages
     */
    Channel<Message> messages();

    /**
     * A whole WebSocket message: text or binary. Immutable, and the receiver's to keep: its payload
     * was copied out of the frame, so a message stays valid after the next {@link #receive()} and may
     * be handed to other fibers (a chat room's broadcast). Read a binary payload with
     * {@link #buffer()} (a read-only view, no copy) or {@link #bytes()} (a copy).
     */
    final class Message {
        private final String text;
        private final byte[] data;

        private Message(String text, byte[] data) {
            this.text = text;
            this.data = data;
        }

        /**
         * {@return a text message}
         *
         * @param text the text
         */
        public static Message text(String text) {
            return new Message(Objects.requireNonNull(text, "text"), null);
        }

        /**
         * {@return a binary message}
         *
         * @param data the bytes (copied)
         */
        public static Message binary(byte[] data) {
            return new Message(null, Objects.requireNonNull(data, "data").clone());
        }

        /** A binary message that takes {@code data} as it is (the server's own arrays). */
        static Message wrap(byte[] data) {
            return new Message(null, data);
        }

        /** {@return whether this is a text message} */
        public boolean isText() {
            return text != null;
        }

        /**
         * {@return the text}
         *
         * @throws IllegalStateException if this is a binary message (use {@link #bytes()})
         */
        public String text() {
            if (text == null) {
                throw new IllegalStateException("a binary message of " + data.length + " bytes has no text: use bytes()");
            }
            return text;
        }

        /** {@return the bytes (a copy): a binary message's, or a text message's in UTF-8} */
        public byte[] bytes() {
            return text != null ? text.getBytes(StandardCharsets.UTF_8) : data.clone();
        }

        /**
         * {@return the payload as a read-only buffer from position 0 to its length: a binary message's
         * bytes without a copy, a text message's in UTF-8} Each call returns a new buffer (its own
         * position and limit) over the same bytes.
         */
        public ByteBuffer buffer() {
            return (text != null ? ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)) : ByteBuffer.wrap(data)).asReadOnlyBuffer();
        }

        /** {@return the payload's length in bytes} */
        public int length() {
            return text != null ? text.getBytes(StandardCharsets.UTF_8).length : data.length;
        }

        /** The binary payload without copying (the server's own use). */
        byte[] rawBytes() {
            return data;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Message m && Objects.equals(text, m.text) && Arrays.equals(data, m.data);
        }

        @Override
        public int hashCode() {
            return text != null ? text.hashCode() : Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return text != null ? "Message[text, " + text.length() + " chars]" : "Message[binary, " + data.length + " bytes]";
        }
    }
}
