package io.fiberloop.netty.http;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;
import java.util.zip.ZipException;

/**
 * A request body sent with {@code Content-Encoding: gzip} or {@code deflate}, inflated as the
 * handler reads it, and bounded: more than the server's body limit once inflated is a
 * {@code 413} (a compression bomb never fills memory), a corrupt stream a {@code 400}, a coding
 * the server does not know a {@code 415}.
 *
 * <p>Threading: the request's fiber.
 */
final class InflatingStream extends InputStream {
    private final InputStream raw;
    private final boolean gzip;
    private final long limit;
    private InputStream in; // made on the first read: a gzip stream reads its header at once
    private long inflated;

    private InflatingStream(InputStream raw, boolean gzip, long limit) {
        this.raw = raw;
        this.gzip = gzip;
        this.limit = limit;
    }

    /**
     * {@code raw} decoded by {@code contentEncoding}, or {@code raw} itself for none or identity.
     *
     * @throws HttpException 415 for a coding other than gzip, deflate or identity
     */
    static InputStream decode(InputStream raw, String contentEncoding, long limit) {
        if (contentEncoding == null) {
            return raw;
        }
        String c = contentEncoding.trim().toLowerCase(Locale.ROOT);
        return switch (c) {
            case "", "identity" -> raw;
            case "gzip", "x-gzip" -> new InflatingStream(raw, true, limit);
            case "deflate" -> new InflatingStream(raw, false, limit);
            default -> throw new HttpException(415, "Content-Encoding '" + contentEncoding
                    + "' is not supported: send the body as gzip, deflate or identity");
        };
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n;
        try {
            if (in == null) {
                in = gzip ? new GZIPInputStream(raw, 8 * 1024) : new InflaterInputStream(raw);
            }
            n = in.read(b, off, len);
        } catch (ZipException | EOFException e) {
            throw new HttpException(400, "the compressed request body is corrupt: " + e.getMessage(), e);
        }
        if (n > 0) {
            inflated += n;
            if (inflated > limit) {
                throw new HttpException(413, "request body larger than " + limit + " bytes once decompressed");
            }
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        (in != null ? in : raw).close();
    }
}
