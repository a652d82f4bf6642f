package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.netty.NoLeaks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The whole-response encoder writes, byte for byte, what Netty's {@link HttpResponseEncoder}
 * writes for the same response built as the server's other path builds it (Netty's response and
 * headers, the server's fields set last): header order and case, the server's fields replacing a
 * handler's, HTTP/1.0, {@code HEAD}, odd statuses, non-ASCII values, many headers, big bodies.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WholeResponseEncoderTest {
    private final HeaderCache hc = new HeaderCache();
    private final WholeResponseEncoder encoder = new WholeResponseEncoder();

    @Test
    void plainResponsesMatchNettysEncoder() {
        same(HttpVersion.HTTP_1_1, HttpResponse.ok().contentType("text/plain").body("Hello, World!"), true, false);
        same(HttpVersion.HTTP_1_1, HttpResponse.text("x"), false, false);
        same(HttpVersion.HTTP_1_0, HttpResponse.json("{}"), true, false);
        same(HttpVersion.HTTP_1_0, HttpResponse.json("{}"), false, false);
        same(HttpVersion.HTTP_1_1, HttpResponse.status(404), true, false);
        same(HttpVersion.HTTP_1_1, HttpResponse.status(201).header("Location", "/users/7"), true, false);
    }

    @Test
    void headRequestsGetTheLengthWithoutTheBody() {
        same(HttpVersion.HTTP_1_1, HttpResponse.text("twelve bytes"), true, true);
    }

    @Test
    void theServersFieldsReplaceTheHandlers() {
        HttpResponse r = HttpResponse.ok().header("X-A", "1").header("date", "yesterday").header("Content-Length", "99")
                .header("CONNECTION", "upgrade").header("Transfer-Encoding", "chunked").header("X-B", "2").header("x-a", "3")
                .body("body");
        same(HttpVersion.HTTP_1_1, r, true, false);
        same(HttpVersion.HTTP_1_1, r, false, false);
    }

    @Test
    void oddStatusesValuesAndSizes() {
        for (int st : new int[] {200, 202, 206, 299, 301, 400, 418, 451, 500, 503, 599}) {
            same(HttpVersion.HTTP_1_1, HttpResponse.status(st).body("s"), true, false);
        }
        same(HttpVersion.HTTP_1_1, HttpResponse.ok().header("X-Latin", "caf\u00e9").header("X-Wide", "\u0101\u4e2d"), true, false);
        HttpResponse many = HttpResponse.ok();
        for (int i = 0; i < 40; i++) {
            many.header("X-H" + i, "v" + i);
        }
        same(HttpVersion.HTTP_1_1, many.body(new byte[100_000]), true, false);
        same(HttpVersion.HTTP_1_1, many, true, false); // the second time the scratch array is already grown
        // the same String objects twice: the cache then hands out AsciiStrings
        String name = "X-Cached";
        String value = "yes";
        same(HttpVersion.HTTP_1_1, HttpResponse.ok().header(name, value), true, false);
        same(HttpVersion.HTTP_1_1, HttpResponse.ok().header(name, value), true, false);
    }

    @Test
    void whatItLeavesToNettysEncoder() {
        for (int st : new int[] {100, 101, 199, 204, 205, 304}) {
            assertFalse(WholeResponseEncoder.handles(st, HttpVersion.HTTP_1_1), "status " + st);
        }
        assertFalse(WholeResponseEncoder.handles(200, HttpVersion.valueOf("HTTP/1.2")));
        assertTrue(WholeResponseEncoder.handles(200, HttpVersion.HTTP_1_0));
    }

    @Test
    void anInvalidHeaderThrowsBeforeAnythingIsAllocated() {
        HttpResponse r = HttpResponse.ok().header("X-Ok", "fine").header("X-Bad", "a\r\nInjected: yes");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> encoder.encode(ByteBufAllocator.DEFAULT, HttpVersion.HTTP_1_1, 200, r, hc, new byte[0], false, null));
        assertTrue(e.getMessage().contains("prohibited character"), e.getMessage());
        HttpResponse n = HttpResponse.ok().header("Bad Name", "x");
        assertThrows(IllegalArgumentException.class,
                () -> encoder.encode(ByteBufAllocator.DEFAULT, HttpVersion.HTTP_1_1, 200, n, hc, new byte[0], false, null));
    }

    /** Encodes {@code r} both ways and compares the bytes. */
    private void same(HttpVersion v, HttpResponse r, boolean keepAlive, boolean head) {
        byte[] body = r.bodyBytes() == null ? new byte[0] : r.bodyBytes();
        boolean sendBody = !head && body.length > 0;
        AsciiString connection = !keepAlive ? HttpHeaderValues.CLOSE : v.minorVersion() == 0 ? HttpHeaderValues.KEEP_ALIVE : null;
        for (;;) {
            AsciiString date = hc.date(); // the same object all through one second
            ByteBuf ours = encoder.encode(ByteBufAllocator.DEFAULT, v, r.status(), r, hc, body, sendBody, connection);
            try {
                String expected = netty(v, r, body, sendBody, connection);
                if (hc.date() != date) {
                    continue; // the second turned between the two encodings: their Date fields differ; again
                }
                assertEquals(expected, ours.toString(StandardCharsets.ISO_8859_1), "status " + r.status() + ", " + v + (head ? ", HEAD" : ""));
                return;
            } finally {
                ours.release();
            }
        }
    }

    /** What the server's path through Netty's encoder writes (as ResponseWriter builds it there). */
    private String netty(HttpVersion v, HttpResponse r, byte[] body, boolean sendBody, AsciiString connection) {
        HttpHeaders h = HeaderCache.newHeaders();
        var raw = r.rawHeaderList();
        for (int i = 0; i < raw.size(); i += 2) {
            h.add(hc.name(raw.get(i)), hc.value(raw.get(i + 1)));
        }
        h.set(HttpHeaderNames.DATE, hc.date());
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        h.set(HttpHeaderNames.CONTENT_LENGTH, hc.length(body.length));
        if (connection != null) {
            h.set(HttpHeaderNames.CONNECTION, connection);
        } else {
            h.remove(HttpHeaderNames.CONNECTION);
        }
        EmbeddedChannel ch = new EmbeddedChannel(new HttpResponseEncoder());
        ch.writeOutbound(new DefaultFullHttpResponse(v, HttpResponseStatus.valueOf(r.status()),
                sendBody ? Unpooled.wrappedBuffer(body) : Unpooled.EMPTY_BUFFER, h, EmptyHttpHeaders.INSTANCE));
        StringBuilder sb = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            sb.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        ch.finishAndReleaseAll();
        return sb.toString();
    }

    @Test
    void bytesAreWrittenAsNettyWritesStrings() {
        ByteBuf b = encoder.encode(ByteBufAllocator.DEFAULT, HttpVersion.HTTP_1_1, 200, HttpResponse.ok().header("X", "\u00e9\u0101"),
                hc, new byte[0], false, null);
        try {
            String s = ByteBufUtil.hexDump(b);
            assertTrue(s.contains("e93f"), s); // é as its Latin-1 byte, ā as '?'
        } finally {
            b.release();
        }
    }
}
