package io.fiberloop.netty.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;

/**
 * The body of one request as it arrives: Netty's side offers the decoded pieces
 * ({@link #offer}), the handler's fiber takes them ({@link #next()}), asking the connection for
 * more only when it has taken what arrived (so a large upload to a slow handler is slowed by TCP
 * flow control instead of filling memory). Sends {@code 100 Continue} on the first read when the
 * client expects it. A body over the server's limit, malformed, cut short by a half-close or
 * stalled past the request timeout fails the read with its {@link HttpException}.
 *
 * <p>The body half of an {@link Exchange}, which extends it: one object per request holds the
 * server's state of the exchange and of its body.
 *
 * <p>Threading: the carrier of the connection's loop (Netty's side and the exchange's fibers).
 */
abstract sealed class RequestBody permits Exchange {
    /** The connection the exchange runs on. */
    final HttpConnection conn;
    private final boolean expectContinue;
    /** Pieces not taken yet; created by the first non-empty piece (a request without a body never needs it). */
    private ArrayDeque<ByteBuf> inbox;
    private long inboxBytes;
    private long received;
    private boolean ended;
    private HttpException failure;
    private boolean continueSent;
    private boolean taken;
    /** The trailer fields that came with the last piece, or {@code null}. */
    private io.netty.handler.codec.http.HttpHeaders trailers;
    /** The piece a {@link Stream} is reading from. */
    private ByteBuf streamChunk;

    RequestBody(HttpConnection conn, boolean expectContinue) {
        this.conn = conn;
        this.expectContinue = expectContinue;
    }

    /** The exchange this is the body of. */
    private Exchange exchange() {
        return (Exchange) this;
    }

    // ------------------------------------------------------------------ Netty's side

    /** A body piece decoded by Netty (owning thread). Takes ownership. @return whether this was the last */
    boolean offer(HttpContent c) {
        boolean last = c instanceof LastHttpContent;
        if (c.decoderResult().isFailure()) {
            c.release();
            fail(new HttpException(400, "malformed request body: " + c.decoderResult().cause().getMessage()));
            return true;
        }
        ByteBuf b = c.content();
        int n = b.readableBytes();
        received += n;
        if (exchange().done || failure != null || n == 0) {
            c.release();
        } else if (received > conn.config.maxBodySize) {
            c.release();
            fail(new HttpException(413, "request body larger than " + conn.config.maxBodySize + " bytes"));
            return true;
        } else {
            if (inbox == null) {
                inbox = new ArrayDeque<>(4);
            }
            inbox.addLast(b);
            inboxBytes += n;
        }
        if (last) {
            ended = true;
            if (c instanceof LastHttpContent l && !l.trailingHeaders().isEmpty()) {
                trailers = l.trailingHeaders();
            }
        }
        conn.bodyArrived();
        return last;
    }

    /** The body can never be complete (the client half-closed, or it is malformed): reading it fails. Carrier. */
    void fail(HttpException why) {
        if (!ended) {
            if (failure == null) {
                failure = why;
            }
            conn.closeAfter = true;
            ended = true;
            conn.bodyArrived();
        }
    }

    /** Whether every piece arrived (or the body failed). */
    boolean ended() {
        return ended;
    }

    /** {@return the trailer fields received with the end of the body (empty until then, or without any)} */
    java.util.List<java.util.Map.Entry<String, String>> trailers() {
        return trailers == null ? java.util.List.of() : trailers.entries();
    }

    /** {@return the first value of the trailer field {@code name}, or {@code null}} */
    String trailer(String name) {
        return trailers == null ? null : trailers.get(name);
    }

    /** {@return the body bytes received so far (for the access log and the metrics)} */
    long received() {
        return received;
    }

    /** {@return the bytes received and not taken yet} */
    long bufferedBytes() {
        return inboxBytes;
    }

    /** Whether nothing is buffered. */
    boolean inboxEmpty() {
        return inbox == null || inbox.isEmpty();
    }

    /** Releases what is still held. Carrier. */
    void release() {
        ArrayDeque<ByteBuf> in = inbox;
        if (in != null) {
            ByteBuf b;
            while ((b = in.pollFirst()) != null) {
                b.release();
            }
        }
        inboxBytes = 0;
        if (streamChunk != null) {
            streamChunk.release();
            streamChunk = null;
        }
    }

    /** Whether a 100-continue was expected and never sent (so the client may not send the body). */
    boolean continueWithheld() {
        return expectContinue && !continueSent;
    }

    // ------------------------------------------------------------------ the handler's side

    /** Marks the body taken by one of the ways to read it. */
    void take(String what) {
        conn.checkLoop("HttpRequest." + what);
        if (taken) {
            throw new IllegalStateException("the body of " + exchange().request + " was already read; " + what
                    + " reads it once: keep what the first read returned");
        }
        taken = true;
    }

    /** Whether one of the ways to read the body was used. */
    boolean taken() {
        return taken;
    }

    /** The next piece (the caller owns it), or {@code null} at the end. A fiber of the loop; suspends it. */
    ByteBuf next() throws IOException {
        conn.checkLoop("HttpRequest.readChunk()");
        if (expectContinue && !continueSent && !ended && !exchange().headSent) {
            // (once the response's head is out, a 100 would come after the final status: not sent)
            continueSent = true;
            conn.sendResponsePart(new DefaultFullHttpResponse(exchange().request.head.protocolVersion(), HttpResponseStatus.CONTINUE,
                    Unpooled.EMPTY_BUFFER));
        }
        for (;;) {
            ByteBuf b = inbox == null ? null : inbox.pollFirst();
            if (b != null) {
                inboxBytes -= b.readableBytes();
                if (inbox.isEmpty() && !ended) {
                    conn.wantBody(); // read ahead while the handler works on this piece
                }
                return b;
            }
            if (failure != null) {
                throw failure;
            }
            if (ended) {
                return null;
            }
            if (!conn.isOpen()) {
                throw new IOException("the client closed the connection before the request body was received");
            }
            conn.wantBody();
            long timeout = conn.config.requestTimeoutNanos;
            if (!conn.awaitBody(() -> !inboxEmpty() || ended, timeout)) {
                conn.closeAfter = true;
                throw new HttpException(408, "the request body stalled for longer than " + Duration.ofNanos(timeout).toMillis() + " ms");
            }
        }
    }

    /** The whole body. */
    byte[] bytes(long contentLength) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(contentLength > 0 && contentLength < 1 << 20 ? (int) contentLength : 256);
        ByteBuf b;
        while ((b = next()) != null) {
            try {
                b.readBytes(out, b.readableBytes());
            } finally {
                b.release();
            }
        }
        return out.toByteArray();
    }

    /** The body as a stream, read on demand. */
    InputStream stream() {
        return new Stream();
    }

    private final class Stream extends InputStream {
        private boolean eof;

        private ByteBuf current() throws IOException {
            while (!eof && (streamChunk == null || !streamChunk.isReadable())) {
                if (streamChunk != null) {
                    streamChunk.release();
                    streamChunk = null;
                }
                ByteBuf next = next();
                if (next == null) {
                    eof = true;
                } else {
                    streamChunk = next;
                }
            }
            return eof ? null : streamChunk;
        }

        @Override
        public int read() throws IOException {
            ByteBuf b = current();
            return b == null ? -1 : b.readUnsignedByte();
        }

        @Override
        public int read(byte[] dst, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, dst.length);
            if (len == 0) {
                return 0;
            }
            ByteBuf b = current();
            if (b == null) {
                return -1;
            }
            int n = Math.min(len, b.readableBytes());
            b.readBytes(dst, off, n);
            return n;
        }

        @Override
        public int available() {
            return (streamChunk == null ? 0 : streamChunk.readableBytes()) + (int) Math.min(Integer.MAX_VALUE / 2, inboxBytes);
        }

        @Override
        public void close() {
            if (streamChunk != null) {
                streamChunk.release();
                streamChunk = null;
            }
            eof = true;
        }
    }
}
