package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

/** The per-connection conversions of a request's header block ({@link Http2Messages.Names}). */
class Http2MessagesTest {
    private static final AsciiString GET = AsciiString.cached("GET");
    private static final AsciiString HTTP = AsciiString.cached("http");
    /** As HPACK's dynamic table gives them: the same value objects for each request that repeats them. */
    private static final AsciiString PATH = new AsciiString("/plaintext?x=1");
    private static final AsciiString HOST = new AsciiString("localhost:8080");

    private static Http2Headers block(CharSequence method, CharSequence path, CharSequence authority) {
        Http2Headers h = new DefaultHttp2Headers(false);
        h.method(method).scheme(HTTP).path(path);
        if (authority != null) {
            h.authority(authority);
        }
        return h;
    }

    private static HttpRequest check(Http2Messages.Names names, Http2Headers block) {
        return names.checked(Http2Messages.toRequest(block, names), 1 << 20);
    }

    @Test
    void aRepeatedTargetIsCheckedOnceAndItsPartsReused() {
        Http2Messages.Names names = new Http2Messages.Names();
        HttpRequest first = check(names, block(GET, PATH, HOST));
        assertEquals("/plaintext", first.path());
        assertEquals("x=1", first.rawQuery());
        Http2Messages.Head again = Http2Messages.toRequest(block(GET, PATH, HOST), names);
        assertSame(HttpMethod.GET, again.method());
        HttpRequest second = names.checked(again, 1 << 20);
        assertNotSame(first, second, "a request object per exchange");
        assertSame(again, second.head);
        assertSame(first.path(), second.path(), "the same target, host and method objects: the last head's path, not decoded again");
        assertSame(first.rawQuery(), second.rawQuery());
        assertEquals(false, second.expectContinue);
    }

    @Test
    void anotherTargetOrHostIsCheckedAgainAndABadOneRejected() {
        Http2Messages.Names names = new Http2Messages.Names();
        HttpRequest good = check(names, block(GET, PATH, HOST));
        HttpException badTarget = assertThrows(HttpException.class, () -> check(names, block(GET, new AsciiString("/a#b"), HOST)));
        assertEquals(400, badTarget.status());
        HttpException badHost = assertThrows(HttpException.class, () -> check(names, block(GET, PATH, new AsciiString("a b"))));
        assertEquals(400, badHost.status());
        assertNotSame(good.path(), check(names, block(GET, new AsciiString("/plaintext?y=2"), HOST)).path(),
                "another target: checked again");
    }

    @Test
    void aRepeatedTargetSentAsLiteralsIsCheckedOnce() {
        // nghttp2 (h2load, curl) never indexes :path: each request's path is a new object with the same text
        Http2Messages.Names names = new Http2Messages.Names();
        HttpRequest first = check(names, block(GET, new AsciiString("/plaintext?x=1"), new AsciiString("localhost:8080")));
        Http2Messages.Head again = Http2Messages.toRequest(
                block(GET, new AsciiString("/plaintext?x=1"), new AsciiString("localhost:8080")), names);
        assertSame(first.head.uri(), again.uri(), "the same text: the last one's string");
        assertSame(((Http2Messages.Head) first.head).host, again.host);
        HttpRequest second = names.checked(again, 1 << 20);
        assertSame(first.path(), second.path(), "not decoded again");
        assertSame(first.rawQuery(), second.rawQuery());
    }

    @Test
    void aHeadWithExpectOrContentLengthIsCheckedEveryTime() {
        Http2Messages.Names names = new Http2Messages.Names();
        check(names, block(GET, PATH, HOST));
        Http2Headers expect = block(GET, PATH, HOST).add("expect", "nonsense");
        assertEquals(417, assertThrows(HttpException.class, () -> check(names, expect)).status());
        Http2Headers tooLong = block(GET, PATH, HOST).add("content-length", "99999999");
        assertEquals(413, assertThrows(HttpException.class, () -> check(names, tooLong)).status());
        Http2Headers continues = block(GET, PATH, HOST).add("expect", "100-continue");
        assertTrue(check(names, continues).expectContinue);
        assertEquals(false, check(names, block(GET, PATH, HOST)).expectContinue, "the plain head's parts, not the last one's");
    }

    @Test
    void aResponseLikeTheLastGetsItsHeaderBlockAgain() {
        Http2Messages.Names names = new Http2Messages.Names();
        HeaderCache cache = new HeaderCache();
        String type = "Content-Type", plain = "text/plain";
        Http2Headers first = names.response(200, new String[] {type, plain, null, null}, 2 * 1, cache, cache.length(13));
        assertEquals("200", first.status().toString());
        assertEquals("text/plain", first.get("content-type").toString());
        assertEquals("13", first.get("content-length").toString());
        Http2Headers again = names.response(200, new String[] {type, plain}, 2, cache, cache.length(13));
        if (first.get("date") == cache.date()) { // (not across a second's turn: the date changed)
            assertSame(first, again, "the same field objects, status, length and date: the last block");
        }
        Http2Headers other = names.response(200, new String[] {type, "text/html"}, 2, cache, cache.length(13));
        assertNotSame(again, other);
        assertEquals("text/html", other.get("content-type").toString());
        Http2Headers status = names.response(404, new String[] {type, "text/html"}, 2, cache, cache.length(13));
        assertEquals("404", status.status().toString());
        Http2Headers length = names.response(404, new String[] {type, "text/html"}, 2, cache, cache.length(14));
        assertEquals("14", length.get("content-length").toString());
        assertEquals("text/plain", first.get("content-type").toString(), "a block given out is never changed");
        assertThrows(IllegalArgumentException.class, () -> names.response(200, new String[] {"Bad Name", "x"}, 2, cache, null));
    }
}
