package io.fiberloop.netty.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Converts between HTTP/2 frames and the HTTP/1.1 message objects the exchange machinery works
 * on: a request's header block becomes a Netty {@code HttpRequest} ({@link Head}: the pseudo-headers
 * give the method and target, {@code :authority} the {@code Host}, split {@code cookie} fields are
 * joined), a whole response's fields become its header block ({@link Names#response}), and a
 * response's {@code HttpResponse}/{@code HttpContent}/{@code LastHttpContent} become
 * {@code HEADERS} and {@code DATA} frames, without the connection-specific fields HTTP/2 forbids
 * ({@code Connection}, {@code Keep-Alive}, {@code Transfer-Encoding}, {@code Upgrade}...).
 * Netty's HPACK decoder has validated the request's fields; the response's were validated by the
 * {@link ResponseWriter}.
 *
 * <p>Threading: pure functions, but {@link Names} is per connection (its loop only).
 */
final class Http2Messages {
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");

    private Http2Messages() {
    }

    /**
     * The request a header block asks for, or {@code null} if it lacks {@code :method},
     * {@code :scheme} or {@code :path} (a malformed request, RFC 9113 8.3.1; {@code CONNECT} is not
     * served). One pass over the block picks up the pseudo-headers (Netty's HPACK decoder has
     * checked them: known, before the regular fields, none twice) and the fields the server checks
     * ({@code host}, {@code expect}, {@code content-length}); the fields are not copied (see
     * {@link Head}). The path and host become strings through {@code names}, which keeps the last
     * ones: a connection's repeated values are the same objects, from HPACK's dynamic table.
     */
    static Head toRequest(Http2Headers h, Names names) {
        CharSequence method = null, path = null, scheme = null, authority = null, host = null, expect = null, length = null;
        int hosts = 0;
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            CharSequence name = e.getKey();
            CharSequence value = e.getValue();
            int n = name.length();
            if (n > 1 && name.charAt(0) == ':') {
                switch (name.charAt(1)) {
                    case 'm' -> method = value;
                    case 'p' -> path = value;
                    case 's' -> scheme = value;
                    case 'a' -> authority = value;
                    default -> { } // :status, :protocol: not a request's
                }
            } else if (n == 4 && HttpHeaderNames.HOST.contentEqualsIgnoreCase(name)) {
                if (hosts++ == 0) {
                    host = value;
                }
            } else if (n == 6 && expect == null && HttpHeaderNames.EXPECT.contentEqualsIgnoreCase(name)) {
                expect = value;
            } else if (n == 14 && length == null && HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name)) {
                length = value;
            }
        }
        if (method == null || path == null || scheme == null || path.isEmpty()) {
            return null;
        }
        return new Head(names.method(method), names.pathText(path), h, authority,
                names.hostText(authority != null ? authority : host != null ? host : ""), authority != null || hosts <= 1, expect, length);
    }

    /**
     * An HTTP/2 request's head as the exchange machinery's HTTP/1.1 request: the method and
     * target, and what {@link RequestHead#parseHttp2} checks, taken from the header block in one
     * pass. Its {@link #headers()} (the regular fields, split {@code cookie} fields joined,
     * {@code :authority} as {@code Host}) are copied from the block the first time something asks
     * for them: a handler that reads no header costs no copy.
     *
     * <p>Threading: the connection's loop.
     */
    static final class Head extends DefaultHttpRequest {
        private final Http2Headers block;
        private final CharSequence authority;
        final String host;
        /** Whether the request names one host ({@code :authority}, or at most one {@code host} field). */
        final boolean oneHost;
        final String expect;
        final String contentLength;
        private HttpHeaders fields;

        private Head(HttpMethod method, String uri, Http2Headers block, CharSequence authority, String host, boolean oneHost,
                     CharSequence expect, CharSequence contentLength) {
            super(HttpVersion.HTTP_1_1, method, uri, EmptyHttpHeaders.INSTANCE);
            this.block = block;
            this.authority = authority;
            this.host = host;
            this.oneHost = oneHost;
            this.expect = expect == null ? null : expect.toString();
            this.contentLength = contentLength == null ? null : contentLength.toString();
        }

        @Override
        public HttpHeaders headers() {
            HttpHeaders f = fields;
            if (f == null) {
                f = HeaderCache.newHeaders();
                copyFields(block, f);
                if (authority != null) {
                    f.set(HttpHeaderNames.HOST, authority);
                } else if (!f.contains(HttpHeaderNames.HOST)) {
                    f.set(HttpHeaderNames.HOST, AsciiString.EMPTY_STRING);
                }
                fields = f;
            }
            return f;
        }
    }

    /** The method named {@code m}: a constant for the common ones without a string, else {@link HttpMethod#valueOf}. */
    private static HttpMethod method(CharSequence m) {
        if (HttpMethod.GET.asciiName().contentEquals(m)) {
            return HttpMethod.GET;
        }
        if (HttpMethod.POST.asciiName().contentEquals(m)) {
            return HttpMethod.POST;
        }
        return HttpMethod.valueOf(m.toString());
    }

    /** Copies the regular fields of {@code h} (not the pseudo-headers) to {@code out}, joining {@code cookie}s with "; ". */
    static void copyFields(Http2Headers h, HttpHeaders out) {
        StringBuilder cookies = null;
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            CharSequence name = e.getKey();
            if (name.length() == 0 || name.charAt(0) != ':') {
                cookies = copyField(name, e.getValue(), out, cookies);
            }
        }
        joinCookies(out, cookies);
    }

    /** Copies one regular field to {@code out}, or adds a {@code cookie} to {@code cookies} (joined at the end). @return the cookies so far */
    private static StringBuilder copyField(CharSequence name, CharSequence value, HttpHeaders out, StringBuilder cookies) {
        if (HttpHeaderNames.COOKIE.contentEqualsIgnoreCase(name)) {
            return cookies == null ? new StringBuilder(value) : cookies.append("; ").append(value);
        }
        out.add(name, value);
        return cookies;
    }

    /** Sets the one {@code Cookie} field of the joined cookies (RFC 9113 8.2.3), if any. */
    private static void joinCookies(HttpHeaders out, StringBuilder cookies) {
        if (cookies != null) {
            out.set(HttpHeaderNames.COOKIE, cookies.toString());
        }
    }

    /**
     * The frames for one part of a response (takes ownership of {@code msg}): a head becomes
     * {@code HEADERS} (ending the stream when a whole response has no body), content {@code DATA},
     * the last content {@code DATA} with {@code END_STREAM} or trailers as a last {@code HEADERS}.
     */
    static List<Object> toFrames(Object msg, Names names, Http2FrameStream stream) {
        List<Object> out = new ArrayList<>(2);
        boolean ok = false;
        try {
            if (msg instanceof HttpResponse res) {
                Http2Headers h = names.headers(res);
                if (res instanceof FullHttpResponse full) {
                    if (res.status().code() < 200) {
                        out.add(new DefaultHttp2HeadersFrame(h, false).stream(stream)); // 100 Continue: the stream goes on
                        full.release();
                        ok = true;
                        return out;
                    }
                    ByteBuf body = full.content();
                    HttpHeaders trailers = full.trailingHeaders();
                    boolean hasBody = body.isReadable();
                    boolean hasTrailers = !trailers.isEmpty();
                    out.add(new DefaultHttp2HeadersFrame(h, !hasBody && !hasTrailers));
                    if (hasBody) {
                        out.add(new DefaultHttp2DataFrame(body, !hasTrailers));
                    } else {
                        full.release();
                    }
                    if (hasTrailers) {
                        out.add(new DefaultHttp2HeadersFrame(names.trailers(trailers), true));
                    }
                    ok = true;
                    for (int i = 0; i < out.size(); i++) {
                        ((Http2StreamFrame) out.get(i)).stream(stream);
                    }
                    return out;
                }
                out.add(new DefaultHttp2HeadersFrame(h, false));
            }
            if (msg instanceof LastHttpContent last) {
                HttpHeaders trailers = last.trailingHeaders();
                if (trailers.isEmpty()) {
                    out.add(new DefaultHttp2DataFrame(last.content(), true));
                } else {
                    if (last.content().isReadable()) {
                        out.add(new DefaultHttp2DataFrame(last.content(), false));
                    } else {
                        last.release();
                    }
                    out.add(new DefaultHttp2HeadersFrame(names.trailers(trailers), true));
                }
            } else if (msg instanceof HttpContent c) {
                out.add(new DefaultHttp2DataFrame(c.content(), false));
            }
            ok = true;
            for (int i = 0; i < out.size(); i++) {
                ((Http2StreamFrame) out.get(i)).stream(stream);
            }
            return out;
        } finally {
            if (!ok) {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    /** {@return whether the frame {@code f} (of {@link #toFrames}) ends its stream} */
    static boolean endsStream(Object f) {
        return f instanceof Http2HeadersFrame h ? h.isEndStream() : f instanceof Http2DataFrame d && d.isEndStream();
    }

    /**
     * The lower-case field names of one connection's responses: the same name object (a constant
     * in a handler, cached by the {@link HeaderCache}) is lower-cased and classified once, not per
     * response. Direct-mapped by identity; a miss costs one conversion.
     */
    static final class Names {
        private static final int SLOTS = 32;
        /** What a name is to a response's header block: a field to send, one HTTP/2 forbids, {@code te}, or one the server sets. */
        private static final byte FIELD = 0, FORBIDDEN = 1, TE = 2, SERVER_SET = 3;
        private final Object[] keys = new Object[SLOTS];
        private final AsciiString[] lower = new AsciiString[SLOTS];
        private final byte[] kinds = new byte[SLOTS];
        /** The last request's path and host, and their strings: {@link #pathText}, {@link #hostText}. */
        private CharSequence lastPath, lastHost;
        private String lastPathText, lastHostText;
        /** The last request's {@code :method} value and its method: {@link #method}. */
        private CharSequence lastMethodValue;
        private HttpMethod lastMethod;
        /** The last head {@link #checked} found good, what its checks depended on, and its path and query. */
        private String checkedUri, checkedHost;
        private HttpMethod checkedMethod;
        private String checkedPath, checkedQuery;
        /** The last block {@link #response} built, and what it was built from (fields only up to {@link #MAX_BLOCK_FIELDS}). */
        private Http2Headers block;
        private int blockStatus;
        private CharSequence blockLength;
        private AsciiString blockDate;
        private String[] blockFields;
        private static final int MAX_BLOCK_FIELDS = 8;

        /**
         * {@return the method named {@code m}, the last one's again if {@code m} is the same object}
         * (HPACK gives {@code :method GET} as its static table's value object every time).
         */
        HttpMethod method(CharSequence m) {
            if (m != lastMethodValue) {
                lastMethod = Http2Messages.method(m);
                lastMethodValue = m;
            }
            return lastMethod;
        }

        /**
         * {@return the request {@code h} asks for, checked ({@link RequestHead#parseHttp2})}: when
         * it has the same target, host and method objects as the last good head (the strings
         * {@link #pathText} and {@link #hostText} keep) and nothing else the checks look at (one
         * host, no {@code expect}, no {@code content-length}), the checks are not run again and the
         * last head's decoded path and query are reused: a client that asks for the same target
         * again is checked once per connection.
         *
         * @throws HttpException the rejection, as {@link RequestHead#parseHttp2}
         */
        HttpRequest checked(Head h, long maxBodySize) {
            boolean plain = h.oneHost && h.expect == null && h.contentLength == null;
            String uri = h.uri();
            if (plain && uri == checkedUri && h.host == checkedHost && h.method() == checkedMethod) {
                return new HttpRequest(h, checkedPath, checkedQuery, false, true);
            }
            HttpRequest r = RequestHead.parseHttp2(h, maxBodySize);
            if (plain) {
                checkedUri = uri;
                checkedHost = h.host;
                checkedMethod = h.method();
                checkedPath = r.path();
                checkedQuery = r.rawQuery();
            }
            return r;
        }

        /**
         * {@return {@code path} as a string: the last one's again if it has the same text} HPACK
         * gives a value it indexed as its dynamic table's object each time, but a client may send
         * the path as a literal each time (nghttp2 never indexes {@code :path}): the text is
         * compared (a few bytes), so a client that asks for the same path again costs no new
         * string, and the same string lets {@link #checked} skip the checks.
         */
        String pathText(CharSequence path) {
            if (path != lastPath && !sameText(path, lastPath)) {
                lastPathText = path.toString();
            }
            lastPath = path;
            return lastPathText;
        }

        /**
         * {@return whether {@code a} has the text of {@code last}} For HPACK's values (each an
         * {@link AsciiString} over its own bytes) one comparison of the byte ranges, without the
         * hash codes {@link AsciiString#contentEquals} computes for two {@code AsciiString}s first.
         */
        private static boolean sameText(CharSequence a, CharSequence last) {
            if (a instanceof AsciiString x && last instanceof AsciiString y) {
                int n = x.length();
                return n == y.length() && Arrays.equals(x.array(), x.arrayOffset(), x.arrayOffset() + n,
                        y.array(), y.arrayOffset(), y.arrayOffset() + n);
            }
            return last != null && AsciiString.contentEquals(a, last);
        }

        /** {@return {@code host} as a string, the last one's again if it has the same text (as {@link #pathText})} */
        String hostText(CharSequence host) {
            if (host != lastHost && !sameText(host, lastHost)) {
                lastHostText = host.toString();
            }
            lastHost = host;
            return lastHostText;
        }

        Http2Headers headers(HttpResponse res) {
            DefaultHttp2Headers h = new DefaultHttp2Headers(false, res.headers().size() + 1);
            h.status(res.status().codeAsText());
            copy(res.headers(), h);
            return h;
        }

        Http2Headers trailers(HttpHeaders trailers) {
            DefaultHttp2Headers h = new DefaultHttp2Headers(false, trailers.size());
            copy(trailers, h);
            return h;
        }

        /**
         * The header block of a whole response, built straight from a handler's fields (no HTTP/1.1
         * headers in between): each name and value validated by {@code cache}, the name lower-cased,
         * the fields HTTP/2 forbids dropped, and {@code Date} and {@code Content-Length} the
         * server's (a handler's own are replaced, as on HTTP/1.1). A response like the last one
         * (the same status, the same field name and value objects, length and date) gets the last
         * one's block again: nothing changes a block once it is built (Netty's encoder only reads it),
         * so a handler that answers with constants costs one block per connection and second.
         *
         * @param status the status code
         * @param raw the handler's fields: name, value, name, value...
         * @param end where the fields end in {@code raw}
         * @param cache validates the handler's names and values; gives the date
         * @param length the {@code Content-Length} value, or {@code null} for a status without a body
         * @throws IllegalArgumentException if a name or value is not valid
         */
        Http2Headers response(int status, String[] raw, int end, HeaderCache cache, CharSequence length) {
            AsciiString date = cache.date();
            if (status == blockStatus && length == blockLength && date == blockDate && sameFields(raw, end)) {
                return block;
            }
            DefaultHttp2Headers h = new DefaultHttp2Headers(false, end / 2 + 3);
            h.status(io.netty.handler.codec.http.HttpResponseStatus.valueOf(status).codeAsText());
            for (int i = 0; i < end; i += 2) {
                CharSequence name = cache.name(raw[i]);
                CharSequence value = cache.value(raw[i + 1]);
                int slot = slot(name);
                byte kind = kinds[slot];
                if (kind == FIELD || kind == TE && HttpHeaderValues.TRAILERS.contentEqualsIgnoreCase(value)) {
                    h.add(lower[slot], value);
                }
            }
            h.add(HttpHeaderNames.DATE, date);
            if (length != null) {
                h.add(HttpHeaderNames.CONTENT_LENGTH, length);
            }
            block = h;
            blockStatus = status;
            blockLength = length;
            blockDate = date;
            blockFields = end <= 2 * MAX_BLOCK_FIELDS ? Arrays.copyOf(raw, end) : null;
            return h;
        }

        /** {@return whether {@code raw} holds the very field objects the last block was built from} */
        private boolean sameFields(String[] raw, int end) {
            String[] f = blockFields;
            if (f == null || f.length != end) {
                return false;
            }
            for (int i = 0; i < end; i++) {
                if (f[i] != raw[i]) {
                    return false;
                }
            }
            return true;
        }

        private void copy(HttpHeaders from, Http2Headers to) {
            for (Iterator<Map.Entry<CharSequence, CharSequence>> it = from.iteratorCharSequence(); it.hasNext(); ) {
                Map.Entry<CharSequence, CharSequence> e = it.next();
                int slot = slot(e.getKey());
                byte kind = kinds[slot];
                if (kind == FIELD || kind == SERVER_SET || kind == TE && HttpHeaderValues.TRAILERS.contentEqualsIgnoreCase(e.getValue())) {
                    to.add(lower[slot], e.getValue());
                }
            }
        }

        /** {@return the slot that holds {@code name}'s lower-case text and kind, filled now if it held another name} */
        private int slot(CharSequence name) {
            int slot = System.identityHashCode(name) & (SLOTS - 1);
            if (keys[slot] != name) {
                AsciiString l = AsciiString.of(name).toLowerCase();
                keys[slot] = name;
                lower[slot] = l;
                kinds[slot] = kind(l);
            }
            return slot;
        }

        private static byte kind(AsciiString name) {
            if (name.contentEquals(HttpHeaderNames.CONNECTION) || name.contentEquals(HttpHeaderNames.TRANSFER_ENCODING)
                    || name.contentEquals(HttpHeaderNames.KEEP_ALIVE) || name.contentEquals(HttpHeaderNames.UPGRADE)
                    || name.contentEquals(PROXY_CONNECTION)) {
                return FORBIDDEN;
            }
            if (name.contentEquals(HttpHeaderNames.TE)) {
                return TE;
            }
            if (name.contentEquals(HttpHeaderNames.DATE) || name.contentEquals(HttpHeaderNames.CONTENT_LENGTH)) {
                return SERVER_SET;
            }
            return FIELD;
        }
    }
}
