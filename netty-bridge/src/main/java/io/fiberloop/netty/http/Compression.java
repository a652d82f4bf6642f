package io.fiberloop.netty.http;

import java.util.Locale;

/**
 * Response compression for an {@link HttpServer} ({@link HttpServerBuilder#compression}):
 * {@code gzip} or {@code deflate}, as the request's {@code Accept-Encoding} prefers (by its
 * q-values; {@code gzip} on a tie).
 * {@snippet :
 * HttpServer.builder().compression(Compression.defaults().minSize(512).level(4));
 * }
 *
 * <h2>What is compressed</h2>
 * Bodies of text types (HTML, CSS, JavaScript, JSON, XML, SVG, plain text; not event streams) of
 * at least {@link #minSize} bytes (a streamed body of unknown size always), in {@code 200} and
 * other full answers; never a response that already has a {@code Content-Encoding} (say, a
 * precompressed file), a range ({@code 206}), a {@code HEAD} answer, or media that are compressed
 * already (images, video, archives). A compressible response carries {@code Vary: Accept-Encoding}
 * either way. A streamed body is compressed as it is written and flushed at every
 * {@code flush()}/{@code drain()}, so streaming stays streaming. {@code br} is not offered: Netty's
 * Brotli codec needs a native library that fiberloop does not ship.
 *
 * <p>Request bodies sent with {@code Content-Encoding: gzip} or {@code deflate} are inflated for
 * the handler whether or not this is on; see {@link HttpRequest#bodyStream()}.
 *
 * <p>Threading: immutable; shared by every loop of the server.
 */
public final class Compression {
    private static final Compression DEFAULTS = new Compression(1024, 6);

    private final int minSize;
    private final int level;

    private Compression(int minSize, int level) {
        this.minSize = minSize;
        this.level = level;
    }

    /** {@return gzip/deflate at level 6 for bodies of at least 1 KiB} */
    public static Compression defaults() {
        return DEFAULTS;
    }

    /**
     * {@return a changed copy}
     *
     * @param bytes the smallest body compressed (smaller ones gain nothing)
     */
    public Compression minSize(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("minSize must be >= 0, was " + bytes);
        }
        return new Compression(bytes, level);
    }

    /**
     * {@return a changed copy}
     *
     * @param level the deflate level, 1 (fastest) to 9 (smallest)
     */
    public Compression level(int level) {
        if (level < 1 || level > 9) {
            throw new IllegalArgumentException("level must be 1..9, was " + level);
        }
        return new Compression(minSize, level);
    }

    /** {@return the smallest body compressed} */
    public int minSize() {
        return minSize;
    }

    /** {@return the deflate level} */
    public int level() {
        return level;
    }

    /**
     * The coding for {@code res}, or {@code null}; adds {@code Vary} to a compressible response.
     * The request's fiber.
     */
    String choose(HttpRequest req, HttpResponse res, boolean isHead, boolean noBody) {
        int st = res.status();
        if (noBody || st == 206 || res.headerOrNull("Content-Encoding") != null || res.headerOrNull("Content-Range") != null
                || !ContentTypes.compressible(res.headerOrNull("Content-Type"))) {
            return null;
        }
        res.header("Vary", "Accept-Encoding");
        if (isHead) {
            return null;
        }
        byte[] body = res.bodyBytes();
        if (body != null ? body.length < minSize : res.streamBody() == null) {
            return null;
        }
        String length = res.headerOrNull("Content-Length");
        if (body == null && length != null && length.length() < 10 && Long.parseLong(length.trim()) < minSize) {
            return null;
        }
        return negotiate(req.header("Accept-Encoding"));
    }

    /** The preferred of gzip and deflate in an {@code Accept-Encoding} value, or {@code null}. */
    static String negotiate(String accept) {
        if (accept == null) {
            return null;
        }
        double gzip = -1;
        double deflate = -1;
        double star = -1;
        for (String part : accept.split(",")) {
            String[] p = part.trim().split(";");
            String coding = p[0].trim().toLowerCase(Locale.ROOT);
            double q = 1;
            for (int i = 1; i < p.length; i++) {
                String param = p[i].trim();
                if (param.startsWith("q=") || param.startsWith("Q=")) {
                    try {
                        q = Double.parseDouble(param.substring(2));
                    } catch (NumberFormatException e) {
                        q = 0;
                    }
                }
            }
            switch (coding) {
                case "gzip", "x-gzip" -> gzip = q;
                case "deflate" -> deflate = q;
                case "*" -> star = q;
                default -> {
                }
            }
        }
        if (gzip < 0) {
            gzip = star;
        }
        if (deflate < 0) {
            deflate = star;
        }
        if (gzip <= 0 && deflate <= 0) {
            return null;
        }
        return gzip >= deflate ? "gzip" : "deflate";
    }
}
