package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NoLeaks;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoLeaks.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HttpServerTest {
    static EventLoop loop;
    static HttpServer server;
    static java.net.http.HttpClient jdk;
    static final Set<String> remotes = ConcurrentHashMap.newKeySet();
    static volatile CompletableFuture<Void> hangStarted = new CompletableFuture<>();
    static volatile CompletableFuture<Throwable> hangEnded = new CompletableFuture<>();

    static HttpServerBuilder routes(HttpServerBuilder b) {
        return b
                .get("/plaintext", req -> HttpResponse.text("Hello, World!"))
                .get("/users/{id}", req -> HttpResponse.text("user " + req.pathParam("id") + " q=" + req.queryParams()))
                .get("/files/*", req -> HttpResponse.text("file " + req.pathParam("*")))
                .get("/boom", req -> {
                    throw new IllegalStateException("planted failure");
                })
                .get("/teapot", req -> {
                    throw new HttpException(418, "short and stout");
                })
                .post("/echo", req -> HttpResponse.ok().contentType("application/octet-stream").body(req.bodyBytes()))
                .post("/reject", req -> HttpResponse.error(401, "no"))
                .post("/upload", req -> {
                    CRC32 crc = new CRC32();
                    long n = 0;
                    byte[] buf = new byte[8192];
                    try (InputStream in = req.bodyStream()) {
                        int r;
                        while ((r = in.read(buf)) > 0) {
                            crc.update(buf, 0, r);
                            n += r;
                        }
                    }
                    return HttpResponse.text(n + " " + crc.getValue());
                })
                .get("/download", req -> {
                    long size = Long.parseLong(req.queryParam("size"));
                    return HttpResponse.ok().contentType("application/octet-stream").stream(out -> {
                        byte[] chunk = new byte[64 * 1024];
                        long left = size;
                        long i = 0;
                        while (left > 0) {
                            int n = (int) Math.min(chunk.length, left);
                            for (int k = 0; k < n; k++) {
                                chunk[k] = (byte) (i++ * 31);
                            }
                            out.write(java.util.Arrays.copyOf(chunk, n));
                            out.drain();
                            left -= n;
                        }
                    });
                })
                .get("/slow", req -> {
                    Fibers.sleep(Duration.ofMillis(Long.parseLong(req.queryParam("ms"))));
                    return HttpResponse.text("slept");
                })
                .get("/hang", req -> {
                    hangStarted.complete(null);
                    try {
                        Fibers.sleep(Duration.ofHours(1));
                    } catch (CancelledException e) {
                        hangEnded.complete(e);
                        throw e;
                    }
                    return HttpResponse.text("never");
                })
                .get("/constant-headers", req -> HttpResponse.text("ok").header("X-Constant", "same value").header("Cache-Control", "no-store"))
                .get("/header", req -> HttpResponse.text("ok").header(req.queryParam("name"), req.queryParam("value")))
                // the same interned literal as X-Constant's value, now as a name: validated as a name all the same
                .get("/value-as-name", req -> HttpResponse.text("ok").header("same value", "x"))
                .before(req -> {
                    remotes.add(String.valueOf(req.remoteAddress()));
                    return req.path().equals("/secret") ? HttpResponse.error(401, "who are you?") : null;
                })
                .after((req, res) -> res.header("X-Route", req.route() == null ? "-" : req.route()));
    }

    @BeforeAll
    static void start() throws IOException {
        loop = NettyLoops.builder().name("http-test").build();
        server = routes(HttpServer.builder().loop(loop).port(0).accessLog(true)).start();
        jdk = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
    }

    @AfterAll
    static void stop() {
        server.close(Duration.ofSeconds(1));
        loop.close();
        jdk.close();
    }

    static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    static java.net.http.HttpResponse<String> get(String path) throws Exception {
        return jdk.send(java.net.http.HttpRequest.newBuilder(uri(path)).build(), BodyHandlers.ofString());
    }

    @Test
    void routesPathParamsQueryAndFallbacks() throws Exception {
        var r = get("/plaintext");
        assertEquals(200, r.statusCode());
        assertEquals("Hello, World!", r.body());
        assertEquals("text/plain; charset=UTF-8", r.headers().firstValue("content-type").orElseThrow());
        assertEquals("13", r.headers().firstValue("content-length").orElseThrow());
        assertTrue(r.headers().firstValue("date").orElseThrow().endsWith(" GMT"));
        assertEquals("/plaintext", r.headers().firstValue("x-route").orElseThrow());

        r = get("/users/42?x=1&x=2&y=%20z");
        assertEquals("user 42 q={x=[1, 2], y=[ z]}", r.body());
        assertEquals("/users/{id}", r.headers().firstValue("x-route").orElseThrow());
        assertEquals("file a/b/c.txt", get("/files/a/b/c.txt").body());
        assertEquals("user caf\u00e9 q={}", get("/users/caf%C3%A9").body());

        r = get("/nope");
        assertEquals(404, r.statusCode());
        assertEquals("-", r.headers().firstValue("x-route").orElseThrow());
        var post = jdk.send(java.net.http.HttpRequest.newBuilder(uri("/plaintext")).POST(BodyPublishers.ofString("x")).build(), BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("allow").orElseThrow());
        assertEquals(401, get("/secret").statusCode());
        assertEquals(418, get("/teapot").statusCode());
        assertEquals("short and stout\n", get("/teapot").body());
    }

    @Test
    void headAnswersWithTheLengthButNoBody() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("HEAD /plaintext HTTP/1.1\r\nHost: x\r\n\r\n" + RawHttp.get("/plaintext"));
            RawHttp.Resp head = c.read(true);
            assertEquals(200, head.status());
            assertEquals("13", head.header("content-length"));
            RawHttp.Resp next = c.read();  // would be garbled if HEAD had sent a body
            assertEquals("Hello, World!", next.text());
        }
    }

    @Test
    void keepAliveServesManyRequestsOnOneConnection() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            for (int i = 0; i < 20; i++) {
                c.send(RawHttp.get("/users/" + i));
                RawHttp.Resp r = c.read();
                assertEquals("user " + i + " q={}", r.text());
                assertNull(r.header("connection"));
            }
            c.send("GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            RawHttp.Resp last = c.read();
            assertEquals("close", last.header("connection"));
            assertTrue(c.closedByServer());
        }
        try (RawHttp c = new RawHttp(server.port())) { // HTTP/1.0 keep-alive
            c.send("GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            assertEquals("keep-alive", c.read().header("connection"));
            c.send("GET /plaintext HTTP/1.0\r\n\r\n");
            assertEquals("close", c.read().header("connection"));
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void jdkClientReusesItsConnection() throws Exception {
        java.net.http.HttpClient one = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
        try (one) {
            remotes.clear();
            for (int i = 0; i < 10; i++) {
                assertEquals(200, one.send(java.net.http.HttpRequest.newBuilder(uri("/plaintext")).build(), BodyHandlers.ofString()).statusCode());
            }
            assertEquals(1, remotes.size(), "one keep-alive connection: " + remotes);
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.send(RawHttp.get("/slow?ms=100") + RawHttp.get("/users/2") + RawHttp.get("/users/3"));
            assertEquals("slept", c.read().text());
            assertEquals("user 2 q={}", c.read().text());
            assertEquals("user 3 q={}", c.read().text());
        }
    }

    @Test
    void largeBodiesStreamBothWays() throws Exception {
        int size = 8 * 1024 * 1024;
        byte[] data = new byte[size];
        new java.util.Random(7).nextBytes(data);
        CRC32 crc = new CRC32();
        crc.update(data);
        // chunked upload (length unknown to the JDK client)
        var up = jdk.send(java.net.http.HttpRequest.newBuilder(uri("/upload"))
                .POST(BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(data))).build(), BodyHandlers.ofString());
        assertEquals(200, up.statusCode());
        assertEquals(size + " " + crc.getValue(), up.body());
        // fixed-length upload
        up = jdk.send(java.net.http.HttpRequest.newBuilder(uri("/upload")).POST(BodyPublishers.ofByteArray(data)).build(), BodyHandlers.ofString());
        assertEquals(size + " " + crc.getValue(), up.body());
        // streamed, chunked download
        var down = jdk.send(java.net.http.HttpRequest.newBuilder(uri("/download?size=" + size)).build(), BodyHandlers.ofInputStream());
        assertEquals(200, down.statusCode());
        assertEquals("chunked", down.headers().firstValue("transfer-encoding").orElseThrow());
        long n = 0;
        try (InputStream in = down.body()) {
            byte[] buf = new byte[65536];
            int r;
            while ((r = in.read(buf)) > 0) {
                for (int k = 0; k < r; k++) {
                    if (buf[k] != (byte) ((n + k) * 31)) {
                        throw new AssertionError("byte " + (n + k) + " differs");
                    }
                }
                n += r;
            }
        }
        assertEquals(size, n);
    }

    @Test
    void handlerExceptionIs500AndTheConnectionKeepsServing() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.send(RawHttp.get("/boom"));
            RawHttp.Resp r = c.read();
            assertEquals(500, r.status());
            assertEquals("internal server error\n", r.text());
            c.send(RawHttp.get("/plaintext"));
            assertEquals("Hello, World!", c.read().text());
        }
    }

    @Test
    void responseHeadersAreValidatedAndConstantsReused() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            for (int i = 0; i < 5; i++) { // the same String constants each time: cached after the first
                c.send(RawHttp.get("/constant-headers"));
                RawHttp.Resp r = c.read();
                assertEquals(200, r.status());
                assertEquals("same value", r.header("x-constant"));
                assertEquals("no-store", r.header("cache-control"));
                assertEquals("2", r.header("content-length"));
                assertNotNull(r.header("date"));
            }
            c.send(RawHttp.get("/value-as-name")); // a cached value is no valid name: 500
            assertEquals(500, c.read().status());
            c.send(RawHttp.get("/header?name=X-Fine&value=a%20b"));
            assertEquals("a b", c.read().header("x-fine"));
            // a value with CR LF (header injection) and a name that is no token are refused: 500, nothing injected
            c.send(RawHttp.get("/header?name=X-Evil&value=a%0D%0AInjected:%20yes"));
            RawHttp.Resp evil = c.read();
            assertEquals(500, evil.status());
            assertNull(evil.header("injected"));
            assertNull(evil.header("x-evil"));
            c.send(RawHttp.get("/header?name=Bad%20Name&value=1"));
            assertEquals(500, c.read().status());
            c.send(RawHttp.get("/plaintext")); // the connection goes on
            assertEquals("Hello, World!", c.read().text());
        }
    }

    @Test
    void expectContinueSendsOneHundredOnlyWhenTheBodyIsRead() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            assertEquals(100, c.read().status());
            c.send("hello");
            RawHttp.Resp r = c.read();
            assertEquals(200, r.status());
            assertEquals("hello", r.text());
        }
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("POST /reject HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            RawHttp.Resp r = c.read();
            assertEquals(401, r.status());  // no 100 before it
            assertEquals("close", r.header("connection"));
            assertTrue(c.closedByServer());
        }
        var viaJdk = jdk.send(java.net.http.HttpRequest.newBuilder(uri("/echo")).expectContinue(true)
                .POST(BodyPublishers.ofString("abc")).build(), BodyHandlers.ofString());
        assertEquals("abc", viaJdk.body());
    }

    @Test
    void clientDisconnectCancelsTheRequestFiber() throws Exception {
        hangStarted = new CompletableFuture<>();
        hangEnded = new CompletableFuture<>();
        try (RawHttp c = new RawHttp(server.port())) {
            c.send(RawHttp.get("/hang"));
            hangStarted.get(10, TimeUnit.SECONDS);
            c.socket.setSoLinger(true, 0); // an abortive close (RST): the client is gone (a half-close is not, see PipeliningTest)
        }
        assertTrue(hangEnded.get(10, TimeUnit.SECONDS) instanceof CancelledException);
    }

    @Test
    void aThousandConcurrentKeepAliveClients() throws Exception {
        int clients = 1_000;
        int requests = 5;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Integer>> fs = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int id = i;
                fs.add(pool.submit(() -> {
                    int ok = 0;
                    try (RawHttp c = new RawHttp(server.port())) {
                        for (int k = 0; k < requests; k++) {
                            c.send(RawHttp.get("/users/" + id + "-" + k));
                            if (c.read().text().equals("user " + id + "-" + k + " q={}")) {
                                ok++;
                            }
                        }
                    }
                    return ok;
                }));
            }
            int total = 0;
            for (Future<Integer> f : fs) {
                total += f.get(60, TimeUnit.SECONDS);
            }
            assertEquals(clients * requests, total);
        }
    }

    @Test
    void fiberClientTalksToTheServerAndReusesConnections() throws Exception {
        try (EventLoop clientLoop = NettyLoops.builder().name("http-client").build()) {
            remotes.clear();
            String result = clientLoop.run(() -> {
                try (HttpClient client = HttpClient.create(clientLoop)) {
                    String base = "http://127.0.0.1:" + server.port();
                    HttpClient.Response a = client.send(HttpClient.Request.get(base + "/plaintext"));
                    HttpClient.Response b = client.send(HttpClient.Request.post(base + "/echo", "ping"));
                    HttpClient.Response c = client.send(HttpClient.Request.get(base + "/users/9?k=v").header("X-Test", "1"));
                    HttpClient.Response d = client.send(HttpClient.Request.get(base + "/nope"));
                    return a.status() + " " + a.bodyString() + " | " + b.bodyString() + " | " + c.bodyString() + " | " + d.status();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertEquals("200 Hello, World! | ping | user 9 q={k=[v]} | 404", result);
            assertEquals(1, remotes.size(), "the client reused one connection: " + remotes);
        }
    }

    @Test
    void fiberClientOnTheServersOwnLoop() throws Exception {
        String body = loop.run(() -> {
            try (HttpClient client = HttpClient.create(loop)) {
                return client.send(HttpClient.Request.get("http://127.0.0.1:" + server.port() + "/slow?ms=10")).bodyString();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertEquals("slept", body);
    }

    // ------------------------------------------------------------------ limits

    @Test
    void limitsAnswerWithTheirStatusAndClose() throws Exception {
        try (EventLoop l = NettyLoops.builder().name("http-limits").build()) {
            HttpServer s = routes(HttpServer.builder().loop(l).port(0)
                    .maxInitialLineLength(256).maxHeaderSize(512).maxBodySize(1000)
                    .requestTimeout(Duration.ofMillis(300)).idleTimeout(Duration.ofMillis(400))).start();
            int port = s.port();
            expectStatusAndClose(port, "GET /" + "a".repeat(400) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414);
            expectStatusAndClose(port, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(1000) + "\r\n\r\n", 431);
            expectStatusAndClose(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n", 413);
            expectStatusAndClose(port, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "3e8\r\n" + "c".repeat(1000) + "\r\n10\r\n" + "d".repeat(16) + "\r\n0\r\n\r\n", 413);
            // a head that never completes: 408
            try (RawHttp c = new RawHttp(port)) {
                c.send("GET /plaintext HTTP/1.1\r\nHost: x\r\n");
                RawHttp.Resp r = c.read();
                assertEquals(408, r.status());
                assertTrue(c.closedByServer());
            }
            // a body that stalls: 408
            try (RawHttp c = new RawHttp(port)) {
                c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
                assertEquals(408, c.read().status());
                assertTrue(c.closedByServer());
            }
            // an idle keep-alive connection is closed without a response
            try (RawHttp c = new RawHttp(port)) {
                c.send(RawHttp.get("/plaintext"));
                assertEquals(200, c.read().status());
                assertTrue(c.closedByServer());
            }
            assertEquals(200, new RawHttp(port).send(RawHttp.get("/plaintext")).read().status());
            s.close(Duration.ofSeconds(1));
        }
    }

    static void expectStatusAndClose(int port, String request, int status) throws IOException {
        try (RawHttp c = new RawHttp(port)) {
            c.send(request);
            RawHttp.Resp r = c.read();
            assertNotNull(r, "no response, expected " + status);
            assertEquals(status, r.status(), r.text());
            assertTrue(c.closedByServer(), "the server should close after " + status);
        }
    }

    // ------------------------------------------------------------------ shutdown

    @Test
    void gracefulShutdownLetsRequestsInFlightFinish() throws Exception {
        try (EventLoop l = NettyLoops.builder().name("http-shutdown").build();
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<Void> started = new CompletableFuture<>();
            CompletableFuture<Void> release = new CompletableFuture<>();
            HttpServer s = HttpServer.builder().loop(l).port(0)
                    .get("/work", req -> {
                        started.complete(null);
                        Fibers.await(release);
                        return HttpResponse.text("finished");
                    })
                    .get("/forever", req -> {
                        Fibers.sleep(Duration.ofHours(1));
                        return HttpResponse.text("never");
                    })
                    .start();
            int port = s.port();
            RawHttp idle = new RawHttp(port);
            idle.send(RawHttp.get("/nope"));
            assertEquals(404, idle.read().status());
            Future<RawHttp.Resp> inFlight = pool.submit(() -> {
                try (RawHttp c = new RawHttp(port)) {
                    return c.send(RawHttp.get("/work")).read();
                }
            });
            started.get(10, TimeUnit.SECONDS);
            Future<?> closing = pool.submit(() -> s.close(Duration.ofSeconds(30)));
            assertTrue(idle.closedByServer(), "idle keep-alive connections close at once");
            idle.close();
            l.execute(() -> release.complete(null));
            RawHttp.Resp r = inFlight.get(10, TimeUnit.SECONDS);
            assertEquals("finished", r.text());
            assertEquals("close", r.header("connection"));
            closing.get(10, TimeUnit.SECONDS);
            assertFalse(s.isOpen());
            assertThrows(ConnectException.class, () -> new RawHttp(port).close());
        }
    }

    @Test
    void shutdownCancelsRequestsThatOutliveTheGrace() throws Exception {
        try (EventLoop l = NettyLoops.builder().name("http-shutdown2").build();
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<Throwable> ended = new CompletableFuture<>();
            CompletableFuture<Void> started = new CompletableFuture<>();
            HttpServer s = HttpServer.builder().loop(l).port(0)
                    .get("/forever", req -> {
                        started.complete(null);
                        try {
                            Fibers.sleep(Duration.ofHours(1));
                        } catch (CancelledException e) {
                            ended.complete(e);
                            throw e;
                        }
                        return HttpResponse.text("never");
                    })
                    .start();
            Future<RawHttp.Resp> inFlight = pool.submit(() -> {
                try (RawHttp c = new RawHttp(s.port())) {
                    return c.send(RawHttp.get("/forever")).read();
                }
            });
            started.get(10, TimeUnit.SECONDS);
            s.close(Duration.ofMillis(100));
            assertTrue(ended.get(10, TimeUnit.SECONDS) instanceof CancelledException);
            RawHttp.Resp r = inFlight.get(10, TimeUnit.SECONDS);
            assertEquals(503, r.status());
        }
    }

    @Test
    void serverWithItsOwnLoop() throws Exception {
        HttpServer s = HttpServer.builder().port(0).get("/", req -> HttpResponse.text("own loop")).start();
        try (RawHttp c = new RawHttp(s.port())) {
            assertEquals("own loop", c.send(RawHttp.get("/")).read().text());
        }
        s.close();
        assertEquals(EventLoop.State.CLOSED, s.loop().state());
    }

    @Test
    @Timeout(30)
    void aHandlerThatClosesAServerWithItsOwnLoopClosesTheLoopToo() throws Exception {
        AtomicReference<HttpServer> self = new AtomicReference<>();
        CountDownLatch closed = new CountDownLatch(1);
        HttpServer s = HttpServer.builder().port(0).get("/stop", req -> {
            self.get().close(Duration.ZERO); // from a fiber of the server's own loop
            closed.countDown();
            return HttpResponse.text("stopping");
        }).start();
        self.set(s);
        try (RawHttp c = new RawHttp(s.port())) {
            c.send(RawHttp.get("/stop"));
            assertTrue(closed.await(20, TimeUnit.SECONDS), "the handler's close() did not return");
        }
        s.loop().terminationFuture().get(20, TimeUnit.SECONDS); // before the fix: the loop lived on, its carrier leaked
        assertEquals(EventLoop.State.CLOSED, s.loop().state());
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
