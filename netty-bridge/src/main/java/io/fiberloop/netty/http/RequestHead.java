package io.fiberloop.netty.http;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * Request heads, checked: the one place that decides whether a decoded request line and headers
 * make a request the server serves (the {@link io.fiberloop.netty.http.HttpRequest} its handler
 * sees), or a rejection with its status. Netty's decoder has already applied its strict parsing
 * ({@code HttpDecoderConfig}); this adds what RFC 9112 and RFC 9110 leave to the server. An
 * HTTP/1.x head's fields are read in one pass over Netty's headers.
 *
 * <p>Threading: pure functions of their arguments, any thread.
 */
final class RequestHead {
    private RequestHead() {
    }

    /**
     * Checks {@code r}. Does not release it (the caller releases in one place).
     *
     * @param r the decoded head
     * @param maxBodySize the largest body accepted
     * @return the request the handler sees (not yet part of an exchange)
     * @throws HttpException the rejection: its status and a short message for the client
     */
    static io.fiberloop.netty.http.HttpRequest parse(HttpRequest r, long maxBodySize) {
        DecoderResult dr = r.decoderResult();
        if (dr.isFailure()) {
            Throwable c = dr.cause();
            int st = c instanceof TooLongHttpLineException ? 414
                    : c instanceof TooLongHttpHeaderException ? 431
                    : c instanceof TooLongFrameException ? 431 : 400;
            throw new HttpException(st, st == 400 ? "bad request: " + c.getMessage() : c.getMessage());
        }
        HttpVersion v = r.protocolVersion();
        if (!"HTTP".equals(v.protocolName())) {
            throw new HttpException(400, "bad request: unknown protocol " + v.protocolName());
        }
        if (v.majorVersion() != 1) {
            throw new HttpException(505, "HTTP version " + v.text() + " is not supported");
        }
        // one pass over the fields, in the order received (so the first value of each is what get() returns)
        HttpHeaders h = r.headers();
        int hosts = 0;
        String host = null;
        String expect = null;
        String length = null;
        boolean codings = false;
        boolean connection = false;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            CharSequence name = e.getKey();
            switch (name.length()) {
                case 4 -> {
                    if (named(name, "host") && hosts++ == 0) {
                        host = e.getValue().toString();
                    }
                }
                case 6 -> {
                    if (expect == null && named(name, "expect")) {
                        expect = e.getValue().toString();
                    }
                }
                case 10 -> connection |= named(name, "connection");
                case 14 -> {
                    if (length == null && named(name, "content-length")) {
                        length = e.getValue().toString();
                    }
                }
                case 17 -> codings |= named(name, "transfer-encoding");
                default -> {
                }
            }
        }
        if (v.minorVersion() >= 1 && hosts != 1) {
            throw new HttpException(400, "bad request: an HTTP/1.1 request needs exactly one Host header");
        }
        if (host != null && (hosts != 1 || !RequestRules.validHost(host))) {
            throw new HttpException(400, "bad request: the Host header is not host[:port]");
        }
        String coding = codings ? RequestRules.unsupportedTransferCoding(h) : null;
        if (coding != null) {
            throw new HttpException(501, "transfer coding '" + coding + "' is not implemented; send the body with chunked alone or a Content-Length");
        }
        boolean keepAlive = connection ? HttpUtil.isKeepAlive(r) : v.isKeepAliveDefault();
        return target(r, expect, length, v.minorVersion() >= 1, maxBodySize, keepAlive);
    }

    /** Whether a field's name is {@code lower} (a lower-case name of the same length), ignoring case. */
    private static boolean named(CharSequence name, String lower) {
        return name instanceof String s ? s.equalsIgnoreCase(lower) : AsciiString.contentEqualsIgnoreCase(name, lower);
    }

    /**
     * Checks the head of an HTTP/2 request ({@link Http2Messages#toRequest}, or the request an
     * {@code Upgrade: h2c} came with): what HTTP/1.1 needs checked of the version, the {@code Host}
     * count and transfer codings is settled by HTTP/2 itself (Netty's HPACK decoder rejects
     * connection-specific fields, and {@code :authority} stands for {@code Host}; without either
     * the host is empty); the rest is as {@link #parse}.
     *
     * @param r the head
     * @param maxBodySize the largest body accepted
     * @return the request the handler sees (not yet part of an exchange)
     * @throws HttpException the rejection: its status and a short message for the client
     */
    static io.fiberloop.netty.http.HttpRequest parseHttp2(HttpRequest r, long maxBodySize) {
        String host, expect, length;
        boolean oneHost, keepAlive;
        if (r instanceof Http2Messages.Head h2) {
            host = h2.host;
            oneHost = h2.oneHost;
            expect = h2.expect;
            length = h2.contentLength;
            keepAlive = true; // HTTP/2 has no Connection field: the connection outlives its streams
        } else {
            HttpHeaders h = r.headers();
            host = h.get(HttpHeaderNames.HOST);
            oneHost = exactlyOne(h, HttpHeaderNames.HOST);
            expect = h.get(HttpHeaderNames.EXPECT);
            length = h.get(HttpHeaderNames.CONTENT_LENGTH);
            keepAlive = HttpUtil.isKeepAlive(r);
        }
        if (host != null && !host.isEmpty() && (!RequestRules.validHost(host) || !oneHost)) {
            throw new HttpException(400, "bad request: the Host header is not host[:port]");
        }
        return target(r, expect, length, true, maxBodySize, keepAlive);
    }

    /**
     * The checks of both protocols: the request target, {@code Expect}, {@code Content-Length}
     * (their first values, or {@code null}); makes the request the handler sees.
     */
    private static io.fiberloop.netty.http.HttpRequest target(HttpRequest r, String expect, String length, boolean continueAllowed,
            long maxBodySize, boolean keepAlive) {
        // one pass over the target: no control characters or non-ASCII, where the query starts, any
        // fragment, any percent-encoding in the path
        String uri = r.uri();
        int n = uri.length();
        int q = -1;
        boolean fragment = false;
        boolean escaped = false;
        for (int i = 0; i < n; i++) {
            char ch = uri.charAt(i);
            if (ch <= ' ' || ch >= 0x7f) {
                throw new HttpException(400, "bad request: a control character or non-ASCII byte in the request target");
            }
            if (ch == '?') {
                if (q < 0) {
                    q = i;
                }
            } else if (ch == '#') {
                fragment = true;
            } else if (ch == '%' && q < 0) {
                escaped = true;
            }
        }
        String rawPath;
        String rawQuery = null;
        if (n > 0 && uri.charAt(0) == '/') {
            if (fragment) {
                throw new HttpException(400, "bad request: a request target has no fragment");
            }
            rawPath = q < 0 ? uri : uri.substring(0, q);
            rawQuery = q < 0 ? null : uri.substring(q + 1);
        } else if (uri.equals("*") && r.method().equals(HttpMethod.OPTIONS)) {
            rawPath = "*";
        } else if (uri.startsWith("http://") || uri.startsWith("https://")) {
            int slash = uri.indexOf('/', uri.indexOf("//") + 2);
            String rest = slash < 0 ? "/" : uri.substring(slash);
            int rq = rest.indexOf('?');
            rawPath = rq < 0 ? rest : rest.substring(0, rq);
            rawQuery = rq < 0 ? null : rest.substring(rq + 1);
            escaped = rawPath.indexOf('%') >= 0;
        } else {
            throw new HttpException(400, "bad request: bad request target");
        }
        String path;
        try {
            path = !escaped ? rawPath : QueryStringDecoder.decodeComponent(rawPath.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new HttpException(400, "bad request: bad percent-encoding in the path");
        }
        boolean expectContinue = false;
        if (expect != null) {
            if (!expect.equalsIgnoreCase(HttpHeaderValues.CONTINUE.toString())) {
                throw new HttpException(417, "expectation not supported: " + expect);
            }
            // RFC 9110 10.1.1: a server MUST ignore a 100-continue expectation in an HTTP/1.0 request
            expectContinue = continueAllowed;
        }
        long cl;
        try {
            // as HttpUtil.getContentLength(r, -1), less its WebSocket-draft lookups (their length 8 is under any limit)
            cl = length == null ? -1L : Long.parseLong(length);
        } catch (NumberFormatException e) {
            throw new HttpException(400, "bad request: bad Content-Length");
        }
        if (cl > maxBodySize) {
            throw new HttpException(413, "request body larger than " + maxBodySize + " bytes");
        }
        return new io.fiberloop.netty.http.HttpRequest(r, path, rawQuery, expectContinue, keepAlive);
    }

    /** Whether {@code h} has exactly one {@code name} header (without building the list of values). */
    private static boolean exactlyOne(HttpHeaders h, CharSequence name) {
        Iterator<? extends CharSequence> it = h.valueCharSequenceIterator(name);
        if (!it.hasNext()) {
            return false;
        }
        it.next();
        return !it.hasNext();
    }
}
