package io.fiberloop.netty.http;

import io.netty.buffer.ByteBuf;
import java.io.IOException;

/**
 * Writes a streamed response body chunk by chunk (see {@link HttpResponse#stream}). Without a
 * {@code Content-Length} header the body goes out with chunked transfer encoding (HTTP/1.1) or is
 * ended by closing the connection (HTTP/1.0).
 * {@snippet :
 * return HttpResponse.ok().contentType("text/plain").stream(out -> {
 *     for (int i = 0; i < 1000; i++) {
 *         out.write("line " + i + "\n");
 *         out.drain();   // waits while the client is slower than us
 *     }
 * });
 * }
 * <p>Threading: only the fiber the body writer was given to.
 * <p>Exceptions: an {@link IOException} when the client has gone; the server then drops the
 * connection. Writes are queued and go out once per loop turn; {@link #drain()} is the backpressure:
 * it waits until what is queued is handed to the socket and the socket buffer is below its
 * high-water mark (64 KiB). A writer that never drains grows its memory without bound.
 */
public interface BodyWriter {
    /**
     * Queues {@code bytes} (copied). Does not suspend.
     *
     * @param bytes the chunk; empty is ignored
     * @throws IOException if the connection is closed
     */
    void write(byte[] bytes) throws IOException;

    /**
     * Queues {@code text} in UTF-8. Does not suspend.
     *
     * @param text the chunk; empty is ignored
     * @throws IOException if the connection is closed
     */
    void write(String text) throws IOException;

    /**
     * Queues {@code buf}, taking ownership of it (it is released even when this throws). Does not suspend.
     *
     * @param buf the chunk
     * @throws IOException if the connection is closed
     */
    void write(ByteBuf buf) throws IOException;

    /**
     * Adds a trailer field, sent after the body (e.g. a checksum or a gRPC status computed while
     * streaming). Trailers need a body whose end the protocol marks: HTTP/2, or HTTP/1.1 chunked
     * encoding (a streamed body without a {@code Content-Length}). Does not suspend.
     *
     * @param name the field name
     * @param value its value
     * @throws IllegalStateException if this response cannot carry trailers (HTTP/1.0, or a
     *         {@code Content-Length} was set): send the value as a header, or drop the length
     * @throws IllegalArgumentException if the name or value is not a valid field
     * @throws UnsupportedOperationException from an implementation that does not override this
     *         method (fiberloop's own writers all do)
     */
    default void trailer(String name, String value) {
        throw new UnsupportedOperationException(getClass().getName() + " does not send trailers: override BodyWriter.trailer "
                + "in it, or send the value as a header");
    }

    /**
     * Waits until everything queued so far has been handed to the socket.
     *
     * @throws IOException if the connection closed first
     */
    void flush() throws IOException;

    /**
     * {@link #flush()}, then waits while the connection's outbound buffer is above its high-water mark.
     *
     * @throws IOException if the connection closed first
     */
    void drain() throws IOException;
}
