package io.fiberloop.netty.http;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderValidationUtil;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * What the server's response path reuses from one response to the next, so that a typical
 * response costs no header validation, no number or date formatting and no char-by-char encoding:
 * <ul>
 *   <li>headers are built without Netty's per-{@code add} validation; {@link #name} and
 *       {@link #value} validate what a handler supplied with the same rules (a header name is a
 *       token, a value has no CR, LF or NUL);</li>
 *   <li>a name or value seen twice as the <em>same</em> {@code String} object (a constant such as
 *       {@code "Content-Type"} or {@code "text/plain"}) is kept, validated, as an
 *       {@link AsciiString}, which Netty's encoder copies in one go; strings built per request never
 *       hit and cost one array store;</li>
 *   <li>{@code Content-Length} values below {@value #LENGTHS} and the {@code Date} value (once a
 *       second) are formatted once.</li>
 * </ul>
 * <p>Threading: one per server, used on its loop only.
 */
final class HeaderCache {
    /** Netty headers without validation: every value put in them is validated here or is the server's own. */
    static final DefaultHttpHeadersFactory UNVALIDATED = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
            .withZone(ZoneOffset.UTC);
    private static final int SLOTS = 64; // a power of two
    private static final int LENGTHS = 4096;
    private static final int MAX_CACHED = 256;

    // names and values apart: a string validated only as a value must not pass as a name
    private final Texts names = new Texts();
    private final Texts values = new Texts();
    private final AsciiString[] lengths = new AsciiString[LENGTHS];
    private long dateSecond = Long.MIN_VALUE;
    private String dateString;
    private AsciiString dateText;

    /** A fresh, empty header set that does not validate (see the class comment). */
    static HttpHeaders newHeaders() {
        return UNVALIDATED.newHeaders();
    }

    /**
     * {@return it, validated, possibly as a cached {@link AsciiString} of the same text}
     *
     * @param name a header name from a handler's response
     * @throws IllegalArgumentException if it is not a valid header name
     */
    CharSequence name(String name) {
        AsciiString cached = names.hit(name);
        if (cached != null) {
            return cached;
        }
        if (name.isEmpty()) {
            throw new IllegalArgumentException("empty headers are not allowed [" + name + ']');
        }
        int bad = HttpHeaderValidationUtil.validateToken(name);
        if (bad != -1) {
            throw new IllegalArgumentException("a header name can only contain \"token\" characters, but found invalid character 0x"
                    + Integer.toHexString(name.charAt(bad)) + " at index " + bad + " of header '" + name + "'.");
        }
        return names.remember(name);
    }

    /**
     * {@return it, validated, possibly as a cached {@link AsciiString} of the same text}
     *
     * @param value a header value from a handler's response
     * @throws IllegalArgumentException if it contains a prohibited character
     */
    CharSequence value(String value) {
        AsciiString cached = values.hit(value);
        if (cached != null) {
            return cached;
        }
        int bad = HttpHeaderValidationUtil.validateValidHeaderValue(value);
        if (bad != -1) {
            throw new IllegalArgumentException("a header value contains prohibited character 0x"
                    + Integer.toHexString(value.charAt(bad)) + " at index " + bad + '.');
        }
        return values.remember(value);
    }

    /**
     * Validated strings, direct-mapped by {@code String} hash: the string last seen in a slot, and
     * its {@link AsciiString} once the same object came by twice.
     */
    private static final class Texts {
        private final String[] keys = new String[SLOTS];
        private final AsciiString[] texts = new AsciiString[SLOTS];

        private static int slot(String s) {
            return s.hashCode() & (SLOTS - 1);
        }

        /** {@return the cached text of this very object, or {@code null} (then validate it and call {@link #remember})} */
        AsciiString hit(String s) {
            int slot = slot(s);
            return keys[slot] == s ? texts[slot] : null;
        }

        /** A validated string: cached as text the second time the same object comes by (only if short and ASCII). */
        CharSequence remember(String s) {
            if (s.length() > MAX_CACHED) {
                return s; // not kept: the cache holds short strings only
            }
            int slot = slot(s);
            if (keys[slot] != s) {
                keys[slot] = s;
                texts[slot] = null;
                return s;
            }
            for (int i = 0; i < s.length(); i++) {
                if (s.charAt(i) >= 0x80) {
                    return s; // the encoder writes a String as US-ASCII ('?' for these); keep that behaviour
                }
            }
            AsciiString t = new AsciiString(s);
            texts[slot] = t;
            return t;
        }
    }

    /** {@return the decimal text of {@code n} ({@code n >= 0})} */
    CharSequence length(long n) {
        if (n < LENGTHS) {
            int i = (int) n;
            AsciiString t = lengths[i];
            if (t == null) {
                t = new AsciiString(Integer.toString(i));
                lengths[i] = t;
            }
            return t;
        }
        return Long.toString(n);
    }

    /** {@return the {@code Date} header's value, formatted once a second} */
    AsciiString date() {
        long s = System.currentTimeMillis() / 1000;
        if (s != dateSecond) {
            dateSecond = s;
            dateString = HTTP_DATE.format(Instant.ofEpochSecond(s));
            dateText = new AsciiString(dateString);
        }
        return dateText;
    }

    /** {@return {@link #date()} as a {@code String}} */
    String dateString() {
        date();
        return dateString;
    }

    /** Loads the date formatter's classes (slow the first time) off the loop. */
    static void warmUp() {
        HTTP_DATE.format(Instant.now());
    }
}
