package io.fiberloop.netty.http;

import static io.fiberloop.netty.http.RawH2.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.sync.Event;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.fiberloop.netty.NoLeaks;
import io.fiberloop.netty.TestCerts;
import io.netty.channel.Channel;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient.Version;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * HTTP/2 on the same routes as HTTP/1.1: the JDK's client over TLS (ALPN) and in clear text
 * (its {@code Upgrade: h2c}), and frame by frame with prior knowledge: bodies both ways,
 * trailers, flow control as backpressure per stream, a reset cancelling its handler, and GOAWAY
 * draining the streams in flight on a graceful close.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Http2ServerTest {
    private HttpServer server;
    private final CompletableFuture<Throwable> handlerEnd = new CompletableFuture<>();
    private final CompletableFuture<Void> handlerStarted = new CompletableFuture<>();

    @AfterEach
    void close() {
        if (server != null) {
            server.close(Duration.ofSeconds(1));
        }
    }

    private HttpServerBuilder routes() {
        return HttpServer.builder().port(0)
                .get("/plaintext", req -> HttpResponse.text("Hello, World!"))
                .get("/version", req -> HttpResponse.text(req.version()))
                .post("/echo", req -> HttpResponse.ok().contentType("application/octet-stream").stream(out -> {
                    try (InputStream in = req.bodyStream()) {
                        byte[] buf = new byte[16 * 1024];
                        for (int n; (n = in.read(buf)) > 0; ) {
                            out.write(java.util.Arrays.copyOf(buf, n));
                            out.drain();
                        }
                    }
                }))
                .post("/trailers", req -> {
                    byte[] body = req.bodyBytes();
                    String sent = req.trailer("x-checksum");
                    return HttpResponse.ok().stream(out -> {
                        out.write("got " + body.length + " bytes, trailer " + sent);
                        out.trailer("x-count", Integer.toString(body.length));
                    });
                })
                .get("/big", req -> HttpResponse.ok().stream(out -> {
                    byte[] chunk = new byte[16 * 1024];
                    for (int i = 0; i < 64; i++) {
                        out.write(chunk);
                        out.drain();
                    }
                }))
                .get("/wait", req -> {
                    handlerStarted.complete(null);
                    try {
                        Fibers.sleep(Duration.ofSeconds(30));
                        handlerEnd.complete(null);
                    } catch (Throwable e) {
                        handlerEnd.complete(e);
                        throw e;
                    }
                    return HttpResponse.text("woke");
                })
                .get("/short", req -> {
                    handlerStarted.complete(null);
                    Fibers.sleep(Duration.ofMillis(300));
                    return HttpResponse.text("finished");
                });
    }

    private String base() {
        return "http://127.0.0.1:" + server.port();
    }

    @Test
    void jdkClientUpgradesToH2cAndMultiplexesTheRoutes() throws Exception {
        server = routes().start();
        try (java.net.http.HttpClient c = java.net.http.HttpClient.newBuilder().version(Version.HTTP_2).build()) {
            var first = c.send(java.net.http.HttpRequest.newBuilder(URI.create(base() + "/version")).build(), BodyHandlers.ofString());
            assertEquals(Version.HTTP_2, first.version());
            assertEquals("HTTP/2.0", first.body());
            List<CompletableFuture<java.net.http.HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                all.add(c.sendAsync(java.net.http.HttpRequest.newBuilder(URI.create(base() + "/plaintext")).build(), BodyHandlers.ofString()));
            }
            for (var f : all) {
                var r = f.get(10, TimeUnit.SECONDS);
                assertEquals(Version.HTTP_2, r.version());
                assertEquals("Hello, World!", r.body());
            }
            byte[] big = new byte[1 << 20];
            new Random(7).nextBytes(big);
            var echo = c.send(java.net.http.HttpRequest.newBuilder(URI.create(base() + "/echo")).POST(BodyPublishers.ofByteArray(big)).build(),
                    BodyHandlers.ofByteArray());
            assertEquals(Version.HTTP_2, echo.version());
            assertArrayEquals(big, echo.body());
        }
    }

    @Test
    void jdkClientNegotiatesH2ByAlpnOverTls() throws Exception {
        TestCerts certs = TestCerts.get();
        server = routes().tls(certs.serverWithAlpn()).start();
        try (java.net.http.HttpClient c = java.net.http.HttpClient.newBuilder().version(Version.HTTP_2)
                .sslContext(certs.trustingJdkClient()).build();
             java.net.http.HttpClient h1 = java.net.http.HttpClient.newBuilder().version(Version.HTTP_1_1)
                     .sslContext(certs.trustingJdkClient()).build()) {
            String url = "https://127.0.0.1:" + server.port();
            var r = c.send(java.net.http.HttpRequest.newBuilder(URI.create(url + "/version")).build(), BodyHandlers.ofString());
            assertEquals(Version.HTTP_2, r.version());
            assertEquals("HTTP/2.0", r.body());
            byte[] big = new byte[300_000];
            new Random(3).nextBytes(big);
            var echo = c.send(java.net.http.HttpRequest.newBuilder(URI.create(url + "/echo")).POST(BodyPublishers.ofByteArray(big)).build(),
                    BodyHandlers.ofByteArray());
            assertArrayEquals(big, echo.body());
            var old = h1.send(java.net.http.HttpRequest.newBuilder(URI.create(url + "/version")).build(), BodyHandlers.ofString());
            assertEquals(Version.HTTP_1_1, old.version());
            assertEquals("HTTP/1.1", old.body());
        }
    }

    @Test
    void priorKnowledgeServesHeadersBodiesAndTrailersBothWays() throws Exception {
        server = routes().start();
        try (RawH2 c = RawH2.connect(server.port())) {
            c.request(1, true, "GET", "/plaintext");
            Response r = c.response(1);
            assertEquals(200, r.status());
            assertEquals("Hello, World!", r.text());
            assertEquals("13", r.head().get("content-length").toString());
            assertNull(r.head().get("connection"));

            c.request(3, false, "POST", "/trailers");
            c.data(3, false, "0123456789".getBytes(StandardCharsets.US_ASCII));
            c.frame(HEADERS, END_HEADERS | END_STREAM, 3, c.encode(new io.netty.handler.codec.http2.DefaultHttp2Headers().add("x-checksum", "abc")));
            Response t = c.response(3);
            assertEquals("got 10 bytes, trailer abc", t.text());
            assertEquals("10", t.trailers().get("x-count").toString());

            c.request(5, true, "GET", "/nowhere");
            assertEquals(404, c.response(5).status());
        }
    }

    /**
     * A whole response's header block is built straight from the handler's fields: names in lower
     * case, the fields HTTP/2 forbids dropped ({@code te} kept only as {@code trailers}), the
     * server's own {@code Date} and {@code Content-Length} in place of the handler's, no length
     * for a 204, a length but no DATA for {@code HEAD}. Each route is asked twice: the second time
     * the server's caches hold the handler's constant names and values.
     */
    @Test
    void aWholeResponsesHeaderBlockHasLowerCaseNamesAndNoConnectionFields() throws Exception {
        String perRequest = new String("X-Built-Per-Request".toCharArray());
        server = routes()
                .get("/fields", req -> HttpResponse.text("abc").header("X-Mixed-Case", "v1").header("Connection", "close")
                        .header("Transfer-Encoding", "chunked").header("Keep-Alive", "timeout=5").header("Upgrade", "h2c")
                        .header("Proxy-Connection", "close").header("TE", req.queryParam("te")).header("Content-Length", "999")
                        .header("Date", "yesterday").header(new String(perRequest.toCharArray()), "x").header("x-two", "1")
                        .header("X-Two", "2"))
                .get("/empty", req -> HttpResponse.status(204).header("Content-Length", "5"))
                .start();
        try (RawH2 c = RawH2.connect(server.port())) {
            int id = 1;
            for (int round = 0; round < 2; round++) {
                for (String te : new String[] {"trailers", "gzip"}) {
                    c.request(id, true, "GET", "/fields?te=" + te);
                    Response r = c.response(id);
                    id += 2;
                    assertEquals(200, r.status());
                    assertEquals("abc", r.text());
                    List<String> names = new ArrayList<>();
                    r.head().forEach(e -> names.add(e.getKey().toString()));
                    List<String> expected = new ArrayList<>(List.of(":status", "content-type", "x-mixed-case", "x-built-per-request", "x-two",
                            "x-two", "date", "content-length"));
                    if (te.equals("trailers")) {
                        expected.add(3, "te");
                    }
                    assertEquals(expected, names);
                    assertEquals("v1", r.head().get("x-mixed-case").toString());
                    assertEquals(List.of("1", "2"), r.head().getAll("x-two").stream().map(CharSequence::toString).toList());
                    assertEquals("x", r.head().get("x-built-per-request").toString());
                    assertEquals("3", r.head().get("content-length").toString());
                    assertTrue(r.head().get("date").toString().endsWith(" GMT"), r.head().toString());
                    for (String forbidden : new String[] {"connection", "transfer-encoding", "keep-alive", "upgrade", "proxy-connection"}) {
                        assertNull(r.head().get(forbidden), forbidden + " in " + names);
                    }
                    assertEquals(te.equals("trailers") ? "trailers" : null, r.head().get("te") == null ? null : r.head().get("te").toString());
                }
                c.request(id, true, "GET", "/empty");
                Response empty = c.response(id);
                id += 2;
                assertEquals(204, empty.status());
                assertNull(empty.head().get("content-length"));
                assertEquals(0, empty.body().length);

                c.request(id, true, "HEAD", "/plaintext");
                Response head = c.response(id);
                id += 2;
                assertEquals(200, head.status());
                assertEquals("13", head.head().get("content-length").toString());
                assertEquals(0, head.body().length);
            }
        }
    }

    /**
     * A request's fields read as on HTTP/1.1 (names in any case, split {@code cookie} fields joined,
     * {@code :authority} as {@code Host}, else the {@code host} field, else empty), and the host
     * checks hold: a bad {@code :authority} or two {@code host} fields without one get 400.
     */
    @Test
    void aRequestsFieldsReadAsOnHttp1() throws Exception {
        server = routes().get("/fields-in", req -> HttpResponse.text(req.header("Cookie") + "|" + req.header("HOST") + "|"
                + req.headers("X-Multi") + "|" + req.header("user-agent") + "|" + req.headers().size())).start();
        try (RawH2 c = RawH2.connect(server.port())) {
            c.request(1, true, "GET", "/fields-in", "cookie", "a=1", "x-multi", "1", "cookie", "b=2", "x-multi", "2", "user-agent", "t");
            assertEquals("a=1; b=2|127.0.0.1|[1, 2]|t|5", c.response(1).text());

            java.util.function.Supplier<io.netty.handler.codec.http2.Http2Headers> noAuthority = () ->
                    new io.netty.handler.codec.http2.DefaultHttp2Headers(false).method("GET").path("/fields-in").scheme("http");
            c.frame(HEADERS, END_HEADERS | END_STREAM, 3, c.encode(noAuthority.get().add("host", "example.com:81")));
            assertEquals("null|example.com:81|[]|null|1", c.response(3).text());
            c.frame(HEADERS, END_HEADERS | END_STREAM, 5, c.encode(noAuthority.get()));
            assertEquals("null||[]|null|1", c.response(5).text());
            c.frame(HEADERS, END_HEADERS | END_STREAM, 7, c.encode(noAuthority.get().add("host", "a").add("host", "b")));
            assertEquals(400, c.response(7).status());
            c.frame(HEADERS, END_HEADERS | END_STREAM, 9, c.encode(noAuthority.get().authority("bad host")));
            assertEquals(400, c.response(9).status());
        }
    }

    @Test
    void aStreamWithoutWindowWaitsInDrainWhileTheOtherStreamsGoOn() throws Exception {
        server = routes().start();
        try (RawH2 c = RawH2.connect(server.port(), 0x4, 0)) { // SETTINGS_INITIAL_WINDOW_SIZE = 0: no stream may send DATA yet
            c.request(1, true, "GET", "/big");
            Frame head = c.await(HEADERS, 1);
            assertEquals("200", c.headers(head).status().toString());
            // stream 1 is stalled on its window; stream 3 is served meanwhile (headers need no window)
            c.request(3, true, "GET", "/version");
            Frame h3 = c.await(HEADERS, 3);
            assertEquals("200", c.headers(h3).status().toString());
            c.settings(0x4, 65_535); // open the windows: stream 1's 1 MiB flows as the client gives window
            long got = 0;
            boolean ended = false;
            while (!ended) {
                Frame f = c.read();
                if (f.type() == DATA && f.stream() == 1) {
                    got += f.payload().length;
                    ended = f.has(END_STREAM);
                    if (f.payload().length > 0) {
                        c.windowUpdate(0, f.payload().length);
                        c.windowUpdate(1, f.payload().length);
                    }
                }
            }
            assertEquals(64 * 16 * 1024, got);
        }
    }

    @Test
    void resetFromTheClientCancelsTheHandlersFiber() throws Exception {
        server = routes().start();
        try (RawH2 c = RawH2.connect(server.port())) {
            c.request(1, true, "GET", "/wait");
            handlerStarted.get(10, TimeUnit.SECONDS);
            c.rst(1, CANCEL);
            assertInstanceOf(CancelledException.class, handlerEnd.get(10, TimeUnit.SECONDS));
            c.request(3, true, "GET", "/plaintext");
            assertEquals("Hello, World!", c.response(3).text());
        }
    }

    @Test
    void gracefulCloseSendsGoawayAndLetsTheStreamInFlightFinish() throws Exception {
        server = routes().start();
        try (RawH2 c = RawH2.connect(server.port())) {
            c.request(1, true, "GET", "/short");
            handlerStarted.get(10, TimeUnit.SECONDS);
            HttpServer s = server;
            server = null;
            CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> s.close(Duration.ofSeconds(5)));
            Frame goaway = c.await(GOAWAY, 0);
            assertEquals(NO_ERROR, goaway.errorCode());
            Response r = c.response(1);
            assertEquals("finished", r.text());
            c.untilClosed();
            closing.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void settingsAnnounceTheLimitsAndStreamsPastTheMaximumAreRefused() throws Exception {
        server = routes().http2Options(Http2Options.defaults().maxConcurrentStreams(2)).start();
        try (RawH2 c = RawH2.connect(server.port())) {
            Frame settings = c.await(SETTINGS, 0);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(settings.payload());
            boolean announced = false;
            while (b.remaining() >= 6) {
                int id = b.getShort() & 0xffff;
                int v = b.getInt();
                announced |= id == 0x3 && v == 2;
            }
            assertTrue(announced, "SETTINGS_MAX_CONCURRENT_STREAMS = 2");
            c.frame(SETTINGS, ACK, 0, new byte[0]);
            c.request(1, true, "GET", "/wait");
            c.request(3, true, "GET", "/wait");
            c.request(5, true, "GET", "/plaintext");
            Frame refused = c.await(RST_STREAM, 5);
            assertEquals(REFUSED_STREAM, refused.errorCode());
        }
    }

    /**
     * What the exchanges of one read answer at once leaves in that turn of the loop, in one flush
     * after the batch (as a Netty handler flushes at the end of its read), not when the loop next
     * polls: a fiber the handler wakes runs after the turn, and finds nothing left to write (on
     * NIO, whose flush writes at once; io_uring's would be submitted with the next poll).
     */
    @Test
    void theAnswersOfOneReadAreFlushedInItsTurn() throws Exception {
        try (EventLoop loop = NettyLoops.builder(NettyTransport.NIO).build()) {
            Event answered = Event.create();
            Channel[] conn = new Channel[1];
            CompletableFuture<Void> waiting = new CompletableFuture<>();
            CompletableFuture<Long> unflushed = new CompletableFuture<>();
            HttpServer s = HttpServer.builder().loop(loop).port(0)
                    .get("/now", req -> {
                        conn[0] = req.exchange.conn.channel();
                        answered.set();
                        return HttpResponse.text("now");
                    })
                    .start();
            try {
                Fibers.spawn(loop, () -> {
                    waiting.complete(null);
                    answered.await(); // resumes after the turn that served the request, before the loop polls again
                    unflushed.complete(conn[0].unsafe().outboundBuffer().totalPendingWriteBytes());
                    return null;
                });
                waiting.get(10, TimeUnit.SECONDS);
                try (RawH2 c = RawH2.connect(s.port())) {
                    c.request(1, true, "GET", "/now");
                    assertEquals("now", c.response(1).text());
                }
                assertEquals(0L, unflushed.get(10, TimeUnit.SECONDS), "bytes the turn's answer left unflushed");
            } finally {
                s.close(Duration.ofSeconds(1));
            }
        }
    }

    @Test
    void http2OffServesHttp1Only() throws Exception {
        server = routes().http2(false).start();
        try (java.net.http.HttpClient c = java.net.http.HttpClient.newBuilder().version(Version.HTTP_2).build()) {
            var r = c.send(java.net.http.HttpRequest.newBuilder(URI.create(base() + "/version")).build(), BodyHandlers.ofString());
            assertEquals(Version.HTTP_1_1, r.version());
        }
    }
}
