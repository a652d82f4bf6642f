package io.fiberloop.netty.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes a whole HTTP/1.x response (a status, headers and a body held as bytes) straight into one
 * buffer: the bytes Netty's {@code HttpResponseEncoder} would write for the same response, without
 * building Netty's response and header objects first. Handles the common case only
 * ({@link #handles}); the rest goes through Netty's encoder.
 *
 * <p>The header names and values come validated from the {@link HeaderCache}; a response whose
 * header fails validation throws before anything is allocated. The server's own fields
 * ({@code Date}, {@code Content-Length}, {@code Connection}) replace a handler's, and a handler's
 * {@code Transfer-Encoding} is dropped, as on the other path. Strings are written as US-ASCII the
 * way Netty's encoder writes them (a char above 0xFF becomes {@code '?'}).
 *
 * <p>Threading: one per server and loop, used by fibers of its loop (never across a suspension).
 */
final class WholeResponseEncoder {
    private static final AsciiString DATE = AsciiString.cached("date");
    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");
    private static final AsciiString CONNECTION = AsciiString.cached("connection");
    private static final int CRLF = ('\r' << 8) | '\n';
    private static final int COLON_SP = (':' << 8) | ' ';

    /** Status lines with their CRLF, by status code, for HTTP/1.1 and HTTP/1.0; made on first use. */
    private final byte[][] lines11 = new byte[600][];
    private final byte[][] lines10 = new byte[600][];
    /** The validated names and values of the response being encoded (cleared after each). */
    private CharSequence[] scratch = new CharSequence[16];

    /**
     * {@return whether a response with this status to a request of this version is written here}
     * Statuses without a body or with rules of their own (1xx, 204, 205, 304) and versions other
     * than HTTP/1.0 and 1.1 are left to Netty's encoder.
     *
     * @param status the status code
     * @param v the request's version
     */
    static boolean handles(int status, HttpVersion v) {
        return status >= 200 && status < 600 && status != 204 && status != 205 && status != 304
                && (v == HttpVersion.HTTP_1_1 || v == HttpVersion.HTTP_1_0);
    }

    /**
     * Encodes a response that {@link #handles} accepts.
     *
     * @param alloc where the buffer comes from
     * @param v the request's version
     * @param status the status code
     * @param res the handler's response, for its headers
     * @param hc validates (and caches) names and values
     * @param body the body's bytes (its length is the {@code Content-Length})
     * @param sendBody whether the body is written (not for a {@code HEAD} request)
     * @param connection the {@code Connection} header's value, or {@code null} for none
     * @return the encoded response (the caller owns it)
     * @throws IllegalArgumentException if a header name or value is not valid
     */
    ByteBuf encode(ByteBufAllocator alloc, HttpVersion v, int status, HttpResponse res, HeaderCache hc, byte[] body,
            boolean sendBody, AsciiString connection) {
        byte[] line = statusLine(v, status);
        AsciiString date = hc.date();
        CharSequence length = hc.length(body.length);
        String[] raw = res.rawHeaders();
        int n = res.headerEnd();
        CharSequence[] kept = n <= scratch.length ? scratch : (scratch = new CharSequence[n]);
        int size = line.length + DATE.length() + date.length() + CONTENT_LENGTH.length() + length.length() + 4 * 2 + 2;
        if (connection != null) {
            size += CONNECTION.length() + connection.length() + 4;
        }
        int k = 0;
        try {
            for (int i = 0; i < n; i += 2) {
                String name = raw[i];
                if (serverOwned(name)) {
                    continue;
                }
                CharSequence nm = hc.name(name);
                CharSequence val = hc.value(raw[i + 1]);
                kept[k++] = nm;
                kept[k++] = val;
                size += nm.length() + val.length() + 4;
            }
            if (sendBody) {
                size += body.length;
            }
            ByteBuf out = alloc.buffer(size);
            out.writeBytes(line);
            for (int i = 0; i < k; i += 2) {
                field(out, kept[i], kept[i + 1]);
            }
            field(out, DATE, date);
            field(out, CONTENT_LENGTH, length);
            if (connection != null) {
                field(out, CONNECTION, connection);
            }
            out.writeShort(CRLF);
            if (sendBody) {
                out.writeBytes(body);
            }
            return out;
        } finally {
            Arrays.fill(kept, 0, k, null);
        }
    }

    private static void field(ByteBuf out, CharSequence name, CharSequence value) {
        out.writeCharSequence(name, StandardCharsets.US_ASCII);
        out.writeShort(COLON_SP);
        out.writeCharSequence(value, StandardCharsets.US_ASCII);
        out.writeShort(CRLF);
    }

    /** Whether the server writes this field itself (ignoring case): Date, Content-Length, Connection, Transfer-Encoding. */
    private static boolean serverOwned(String name) {
        return switch (name.length()) {
            case 4 -> name.equalsIgnoreCase("date");
            case 10 -> name.equalsIgnoreCase("connection");
            case 14 -> name.equalsIgnoreCase("content-length");
            case 17 -> name.equalsIgnoreCase("transfer-encoding");
            default -> false;
        };
    }

    private byte[] statusLine(HttpVersion v, int status) {
        byte[][] lines = v == HttpVersion.HTTP_1_1 ? lines11 : lines10;
        byte[] line = lines[status];
        if (line == null) {
            HttpResponseStatus s = HttpResponseStatus.valueOf(status);
            line = (v.text() + ' ' + s.codeAsText() + ' ' + s.reasonPhrase() + "\r\n").getBytes(StandardCharsets.US_ASCII);
            lines[status] = line;
        }
        return line;
    }
}
