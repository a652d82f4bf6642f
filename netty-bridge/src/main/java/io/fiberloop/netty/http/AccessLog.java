package io.fiberloop.netty.http;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log of one loop of a server: one INFO line per answered request to the logger
 * {@value HttpServer#ACCESS_LOGGER}, in the Combined Log Format (Apache's {@code combined}, which
 * nginx writes by default too) with the time taken in microseconds as one more field (Apache's
 * {@code %D}):
 * <pre>
 * 127.0.0.1 - - [06/Dec/2026:22:41:07 +0000] "GET /users/7 HTTP/1.1" 200 13 "-" "curl/8.5.0" 412
 * </pre>
 * The remote host is the client's address (no port, no name lookup); the size is the body bytes
 * sent ({@code -} for none); a request that was refused before it was parsed (a {@code 400},
 * {@code 414}, {@code 431}) shows {@code "-"} as its request line. Quotes, backslashes and control
 * characters inside quoted fields are escaped as Apache does ({@code \"}, {@code \\}, {@code \xhh}),
 * so a client cannot forge a line.
 *
 * <p>Threading: the loop's carrier (one instance per loop: the date is cached per second).
 */
final class AccessLog {
    static final Logger log = LoggerFactory.getLogger(HttpServer.ACCESS_LOGGER);
    private static final DateTimeFormatter CLF_DATE = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT)
            .withZone(ZoneId.systemDefault());

    private long dateSecond = Long.MIN_VALUE;
    private String date;

    /**
     * Writes one line.
     *
     * @param remote the client's address, or {@code null}
     * @param req the request, or {@code null} for one refused before it was parsed
     * @param status the status sent
     * @param bytes body bytes sent
     * @param nanos time from the request's head to the end of its response
     */
    void write(SocketAddress remote, HttpRequest req, int status, long bytes, long nanos) {
        if (!log.isInfoEnabled()) {
            return;
        }
        StringBuilder sb = new StringBuilder(160);
        sb.append(host(remote)).append(" - - [").append(now()).append("] \"");
        if (req == null) {
            sb.append('-');
        } else {
            escape(sb, req.method());
            sb.append(' ');
            escape(sb, req.uri());
            sb.append(' ');
            escape(sb, req.version());
        }
        sb.append("\" ").append(status).append(' ');
        if (bytes > 0) {
            sb.append(bytes);
        } else {
            sb.append('-');
        }
        sb.append(" \"");
        escapeOrDash(sb, req == null ? null : req.header("Referer"));
        sb.append("\" \"");
        escapeOrDash(sb, req == null ? null : req.header("User-Agent"));
        sb.append("\" ").append(nanos / 1000);
        log.info(sb.toString());
    }

    private String now() {
        long ms = System.currentTimeMillis();
        long second = ms / 1000;
        if (second != dateSecond) {
            date = CLF_DATE.format(Instant.ofEpochSecond(second));
            dateSecond = second;
        }
        return date;
    }

    private static String host(SocketAddress remote) {
        if (remote instanceof InetSocketAddress isa) {
            return isa.getAddress() != null ? isa.getAddress().getHostAddress() : isa.getHostString();
        }
        return remote == null ? "-" : remote.toString();
    }

    private static void escapeOrDash(StringBuilder sb, String s) {
        if (s == null || s.isEmpty()) {
            sb.append('-');
        } else {
            escape(sb, s);
        }
    }

    /** Apache's escaping of quoted fields: {@code "} and {@code \} by a backslash, other bytes outside printable ASCII as {@code \xhh}. */
    static void escape(StringBuilder sb, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || (c >= 0x7f && c <= 0xff)) {
                sb.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
            } else {
                sb.append(c);
            }
        }
    }
}
