package io.fiberloop.netty.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A raw HTTP/2 client for frame-level tests: a blocking socket that writes frames byte by byte as
 * the test says (valid or not) and reads the server's frames, with HPACK from Netty's encoder and
 * decoder. Not a client anyone should use; it is what h2spec does by hand.
 */
final class RawH2 implements Closeable {
    static final int DATA = 0, HEADERS = 1, PRIORITY = 2, RST_STREAM = 3, SETTINGS = 4, PUSH_PROMISE = 5, PING = 6, GOAWAY = 7,
            WINDOW_UPDATE = 8, CONTINUATION = 9;
    static final int END_STREAM = 1, ACK = 1, END_HEADERS = 4, PADDED = 8;
    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    static final int NO_ERROR = 0, PROTOCOL_ERROR = 1, FLOW_CONTROL_ERROR = 3, STREAM_CLOSED = 5, FRAME_SIZE_ERROR = 6,
            REFUSED_STREAM = 7, CANCEL = 8, COMPRESSION_ERROR = 9, ENHANCE_YOUR_CALM = 11;

    /** A frame as read. */
    record Frame(int type, int flags, int stream, byte[] payload, Http2Headers headers) {
        boolean has(int flag) {
            return (flags & flag) != 0;
        }

        /** The error code of a RST_STREAM or GOAWAY. */
        int errorCode() {
            ByteBuffer b = ByteBuffer.wrap(payload);
            return type == GOAWAY ? b.getInt(4) : b.getInt(0);
        }

        @Override
        public String toString() {
            return "Frame[type " + type + ", flags " + flags + ", stream " + stream + ", " + payload.length + " bytes"
                    + (type == GOAWAY || type == RST_STREAM ? ", error " + errorCode() : "") + "]";
        }
    }

    final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
    private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);

    private RawH2(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Connects and sends the preface with {@code settings} (id, value pairs). */
    static RawH2 connect(int port, int... settings) throws IOException {
        RawH2 c = new RawH2(port);
        c.out.write(PREFACE);
        c.settings(settings);
        return c;
    }

    /** Connects without sending anything. */
    static RawH2 connectBare(int port) throws IOException {
        return new RawH2(port);
    }

    void raw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void frame(int type, int flags, int stream, byte[] payload) throws IOException {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >>> 16);
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) (stream >>> 24);
        f[6] = (byte) (stream >>> 16);
        f[7] = (byte) (stream >>> 8);
        f[8] = (byte) stream;
        System.arraycopy(payload, 0, f, 9, payload.length);
        out.write(f);
        out.flush();
    }

    void settings(int... idValues) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(idValues.length / 2 * 6);
        for (int i = 0; i < idValues.length; i += 2) {
            b.putShort((short) idValues[i]).putInt(idValues[i + 1]);
        }
        frame(SETTINGS, 0, 0, b.array());
    }

    void ping(long data) throws IOException {
        frame(PING, 0, 0, ByteBuffer.allocate(8).putLong(data).array());
    }

    void rst(int stream, int error) throws IOException {
        frame(RST_STREAM, 0, stream, ByteBuffer.allocate(4).putInt(error).array());
    }

    void windowUpdate(int stream, int increment) throws IOException {
        frame(WINDOW_UPDATE, 0, stream, ByteBuffer.allocate(4).putInt(increment).array());
    }

    void data(int stream, boolean end, byte[] bytes) throws IOException {
        frame(DATA, end ? END_STREAM : 0, stream, bytes);
    }

    /** The HPACK block of a request {@code method path} plus {@code extra} (name, value) fields. */
    byte[] block(String method, String path, String... extra) throws IOException {
        Http2Headers h = new DefaultHttp2Headers(false).method(method).path(path).scheme("http").authority("127.0.0.1");
        for (int i = 0; i < extra.length; i += 2) {
            h.add(extra[i], extra[i + 1]);
        }
        return encode(h);
    }

    byte[] encode(Http2Headers h) throws IOException {
        ByteBuf buf = Unpooled.buffer();
        try {
            encoder.encodeHeaders(0, h, buf);
            return ByteBufUtil.getBytes(buf);
        } catch (Exception e) {
            throw new IOException(e);
        } finally {
            buf.release();
        }
    }

    /** Sends a request's HEADERS (END_HEADERS, and END_STREAM when {@code end}). */
    void request(int stream, boolean end, String method, String path, String... extra) throws IOException {
        frame(HEADERS, END_HEADERS | (end ? END_STREAM : 0), stream, block(method, path, extra));
    }

    /** Reads the next frame. */
    Frame read() throws IOException {
        int len = in.readUnsignedByte() << 16 | in.readUnsignedByte() << 8 | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & 0x7fffffff;
        byte[] payload = new byte[len];
        in.readFully(payload);
        // every header block is decoded as it is read, so that the HPACK table stays in step
        Http2Headers h = type == HEADERS && (flags & END_HEADERS) != 0 && (flags & PADDED) == 0 ? decode(stream, payload) : null;
        return new Frame(type, flags, stream, payload, h);
    }

    /** Reads until a frame of {@code type} (on {@code stream}, or any when negative), acknowledging SETTINGS on the way. */
    Frame await(int type, int stream) throws IOException {
        for (;;) {
            Frame f = read();
            if (f.type == SETTINGS && !f.has(ACK) && type != SETTINGS) {
                frame(SETTINGS, ACK, 0, new byte[0]);
            }
            if (f.type == type && (stream < 0 || f.stream == stream)) {
                return f;
            }
            if (f.type == GOAWAY && type != GOAWAY) {
                throw new IOException("GOAWAY while waiting for frame type " + type + ": " + f);
            }
        }
    }

    /** The headers of {@code f} (a HEADERS frame with END_HEADERS), decoded when it was read. */
    Http2Headers headers(Frame f) {
        return f.headers;
    }

    private Http2Headers decode(int stream, byte[] block) throws IOException {
        ByteBuf buf = Unpooled.wrappedBuffer(block);
        try {
            return decoder.decodeHeaders(stream, buf);
        } catch (Exception e) {
            throw new IOException(e);
        } finally {
            buf.release();
        }
    }

    /** A whole response on {@code stream}: status, body and trailers (or null). */
    record Response(Http2Headers head, byte[] body, Http2Headers trailers) {
        int status() {
            return Integer.parseInt(head.status().toString());
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** Reads frames until {@code stream} ends, giving back window for its DATA; frames of other streams are dropped. */
    Response response(int stream) throws IOException {
        Http2Headers head = null;
        Http2Headers trailers = null;
        var body = new java.io.ByteArrayOutputStream();
        for (;;) {
            Frame f = read();
            if (f.type == SETTINGS && !f.has(ACK)) {
                frame(SETTINGS, ACK, 0, new byte[0]);
            }
            if (f.type == GOAWAY) {
                throw new IOException("GOAWAY before the response of stream " + stream + " ended: " + f);
            }
            if (f.stream != stream) {
                continue;
            }
            if (f.type == RST_STREAM) {
                throw new IOException("stream " + stream + " reset: " + f);
            }
            if (f.type == HEADERS) {
                Http2Headers h = headers(f);
                if (head == null || head.status() != null && head.status().charAt(0) == '1') {
                    head = h;
                } else {
                    trailers = h;
                }
            } else if (f.type == DATA) {
                body.write(f.payload);
                if (f.payload.length > 0) {
                    giveBack(stream, f.payload.length, f.has(END_STREAM));
                }
            }
            if (f.has(END_STREAM) && (f.type == DATA || f.type == HEADERS)) {
                return new Response(head, body.toByteArray(), trailers);
            }
        }
    }

    /**
     * Gives back the window that {@code n} bytes of DATA on {@code stream} took. A server may close
     * the connection right after its last frames (a graceful close does, once its last stream ended),
     * before this client has read them: the write then fails, while the frames it sent are still
     * there to read. So a failed write is left to the reads that follow, which fail if the response
     * is incomplete.
     */
    private void giveBack(int stream, int n, boolean streamEnded) throws IOException {
        try {
            windowUpdate(0, n);
            if (!streamEnded) {
                windowUpdate(stream, n);
            }
        } catch (SocketException closedByTheServer) {
            // the reads that follow see what the server sent before it closed
        }
    }

    /** Reads until the server closes the connection; returns every frame read. */
    List<Frame> untilClosed() throws IOException {
        List<Frame> all = new ArrayList<>();
        try {
            for (;;) {
                all.add(read());
            }
        } catch (EOFException | java.net.SocketException e) {
            return all;
        } catch (SocketTimeoutException e) {
            throw new IOException("the server did not close the connection; frames read: " + all, e);
        }
    }

    /** Sends frames until the server closes the connection (a write fails), at most {@code max} times. @return how many were sent */
    int floodUntilClosed(int max, FrameWriter w) {
        int i = 0;
        try {
            for (; i < max; i++) {
                w.write(this, i);
            }
        } catch (IOException e) {
            return i;
        }
        return i;
    }

    /** Writes one frame of a flood. */
    interface FrameWriter {
        void write(RawH2 c, int i) throws IOException;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
