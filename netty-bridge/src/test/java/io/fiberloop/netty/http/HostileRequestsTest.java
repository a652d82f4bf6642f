package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NoLeaks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed and hostile requests, each with the status it must get (the connection is then closed,
 * unless the case says it stays open), and a good request served right after each.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HostileRequestsTest {
    static EventLoop loop;
    static HttpServer server;

    /** @param dripMillis > 0: send one byte at a time with this pause (slowloris) */
    record Case(String name, String request, int status, boolean staysOpen, int dripMillis, String body) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Case c(String name, String request, int status) {
        return new Case(name, request, status, false, 0, null);
    }

    static final String H = "Host: x\r\n";

    static List<Case> cases() {
        return List.of(
                c("bad method token", "G(T / HTTP/1.1\r\n" + H + "\r\n", 400),
                new Case("unknown method (a normal answer: the connection stays open)", "BREW /nothing HTTP/1.1\r\n" + H + "\r\n", 501, true, 0, null),
                c("bad version", "GET / HTTP/1.x\r\n" + H + "\r\n", 400),
                c("HTTP/2.0 on the wire", "GET / HTTP/2.0\r\n" + H + "\r\n", 505),
                c("unknown protocol", "GET / FOO/1.1\r\n" + H + "\r\n", 400),
                c("missing version", "GET /\r\n" + H + "\r\n", 400),
                c("header line without colon", "GET / HTTP/1.1\r\n" + H + "NoColonHere\r\n\r\n", 400),
                c("space before colon", "GET / HTTP/1.1\r\n" + H + "X-A : b\r\n\r\n", 400),
                new Case("obsolete line folding is unfolded (RFC 9112 5.2)", "GET /echo-header HTTP/1.1\r\n" + H + "X-A: a\r\n b\r\n\r\n", 200, true, 0, "a b"),
                c("oversized header", "GET / HTTP/1.1\r\n" + H + "X-Big: " + "x".repeat(9000) + "\r\n\r\n", 431),
                c("request line too long", "GET /" + "a".repeat(5000) + " HTTP/1.1\r\n" + H + "\r\n", 414),
                c("NUL in a header value", "GET / HTTP/1.1\r\n" + H + "X-A: a\0b\r\n\r\n", 400),
                c("NUL in the request line", "GET /a\0b HTTP/1.1\r\n" + H + "\r\n", 400),
                c("CR alone in a header value", "GET / HTTP/1.1\r\n" + H + "X-A: a\rb\r\n\r\n", 400),
                c("bare LF line endings", "GET / HTTP/1.1\n" + H.replace("\r\n", "\n") + "\n", 400),
                c("binary garbage", "\u0001\u0002\u0003\u00ff garbage \r\n\r\n", 400),
                c("request target without a slash", "GET foo HTTP/1.1\r\n" + H + "\r\n", 400),
                c("missing Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", 400),
                c("two Host headers", "GET / HTTP/1.1\r\n" + H + H + "\r\n", 400),
                c("two Host headers, named in different cases", "GET / HTTP/1.1\r\nHost: x\r\nhOST: x\r\n\r\n", 400),
                c("two Host headers in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400),
                new Case("header names are case-insensitive", "GET /plaintext HTTP/1.1\r\nhOsT: x\r\nCONNECTION: Keep-Alive\r\n\r\n",
                        200, true, 0, "Hello, World!"),
                c("Connection: close in capitals closes", "GET /plaintext HTTP/1.1\r\n" + H + "CONNECTION: CLOSE\r\n\r\n", 200),
                c("an expectation named in capitals", "POST /echo HTTP/1.1\r\n" + H + "Content-Length: 1\r\nEXPECT: teapot\r\n\r\nx", 417),
                c("negative Content-Length", "POST /echo HTTP/1.1\r\n" + H + "Content-Length: -1\r\n\r\n", 400),
                c("non-numeric Content-Length", "POST /echo HTTP/1.1\r\n" + H + "Content-Length: abc\r\n\r\n", 400),
                c("conflicting Content-Lengths", "POST /echo HTTP/1.1\r\n" + H + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
                c("Content-Length list with different values", "POST /echo HTTP/1.1\r\n" + H + "Content-Length: 3, 4\r\n\r\nabcd", 400),
                c("Content-Length and Transfer-Encoding", "POST /echo HTTP/1.1\r\n" + H + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
                c("Transfer-Encoding not chunked", "POST /echo HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip\r\n\r\nabc", 400),
                c("chunked applied twice", "POST /echo HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
                c("Transfer-Encoding in HTTP/1.0", "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
                c("chunk size not hex", "POST /echo HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),
                c("chunk size overflows", "POST /echo HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nabc\r\n0\r\n\r\n", 400),
                c("negative chunk size", "POST /echo HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n-5\r\nabc\r\n0\r\n\r\n", 400),
                c("unsupported expectation", "POST /echo HTTP/1.1\r\n" + H + "Content-Length: 1\r\nExpect: teapot\r\n\r\nx", 417),
                c("fragment in the target", "GET /a#b HTTP/1.1\r\n" + H + "\r\n", 400),
                c("fragment after the query", "GET /a?b#c HTTP/1.1\r\n" + H + "\r\n", 400),
                new Case("a percent-encoded path is decoded", "GET /users/a%20b?x=%2F HTTP/1.1\r\n" + H + "\r\n", 200, true, 0, "a b"),
                new Case("a percent-encoding in the query leaves the path alone", "GET /users/7?x=%zz HTTP/1.1\r\n" + H + "\r\n",
                        200, true, 0, "7"),
                c("bad percent-encoding", "GET /users/%zz HTTP/1.1\r\n" + H + "\r\n", 400),
                c("lower-case protocol name (RFC 9112 2.3: case-sensitive)", "GET / http/1.1\r\n" + H + "\r\n", 400),
                c("mixed-case protocol name", "GET / Http/1.1\r\n" + H + "\r\n", 400),
                c("Host with a space (RFC 9112 3.2)", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
                c("Host with a path and user info", "GET / HTTP/1.1\r\nHost: a/b@c\r\n\r\n", 400),
                c("Host with a bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400),
                c("Host with an unclosed IP literal", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400),
                new Case("Host with a port and an IPv6 literal", "GET /plaintext HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 200, true, 0, "Hello, World!"),
                new Case("empty Host (RFC 9112 3.2 allows it)", "GET /plaintext HTTP/1.1\r\nHost:\r\n\r\n", 200, true, 0, "Hello, World!"),
                c("a transfer coding the server does not implement (RFC 9112 6.1)",
                        "POST /echo HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 501),
                c("a transfer coding the server does not implement, named in capitals",
                        "POST /echo HTTP/1.1\r\n" + H + "TRANSFER-ENCODING: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 501),
                new Case("Expect: 100-continue is ignored in HTTP/1.0 (RFC 9110 10.1.1)",
                        "POST /echo HTTP/1.0\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\nx", 200, false, 0, "x"),
                new Case("OPTIONS * names the server (RFC 9110 9.3.7)", "OPTIONS * HTTP/1.1\r\n" + H + "\r\n", 200, true, 0, ""),
                new Case("slowloris: one byte at a time", "GET /plaintext HTTP/1.1\r\n" + H + "X-Slow: " + "s".repeat(200) + "\r\n\r\n", 408, false, 15, null));
    }

    @BeforeAll
    static void start() throws IOException {
        loop = NettyLoops.builder().name("http-hostile").build();
        server = HttpServer.builder().loop(loop).port(0)
                .requestTimeout(Duration.ofMillis(400))
                .get("/", req -> HttpResponse.text("root"))
                .get("/plaintext", req -> HttpResponse.text("Hello, World!"))
                .get("/echo-header", req -> HttpResponse.text(req.header("X-A")))
                .get("/users/{id}", req -> HttpResponse.text(req.pathParam("id")))
                .post("/echo", req -> HttpResponse.ok().body(req.bodyBytes()))
                .start();
    }

    @AfterAll
    static void stop() {
        server.close(Duration.ofSeconds(1));
        loop.close();
    }

    @org.junit.jupiter.api.Test
    void optionsStarListsTheMethodsTheServerAnswers() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            RawHttp.Resp r = c.send("OPTIONS * HTTP/1.1\r\n" + H + "\r\n").read();
            assertEquals(200, r.status());
            assertEquals("GET, HEAD, OPTIONS, POST", r.header("allow"));
            RawHttp.Resp path = c.send("OPTIONS /users/7 HTTP/1.1\r\n" + H + "\r\n").read();
            assertEquals(204, path.status(), "OPTIONS on a routed path answers with what it allows");
            assertEquals("GET, HEAD, OPTIONS", path.header("allow"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void hostileRequestGetsItsStatusAndTheServerStillServes(Case k) throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            byte[] bytes = k.request().getBytes(StandardCharsets.ISO_8859_1);
            try {
                if (k.dripMillis() > 0) {
                    for (byte b : bytes) {
                        c.send(new byte[] {b});
                        Thread.sleep(k.dripMillis()); // the client's own pace, not a wait for the server
                        if (c.in.available() > 0) {
                            break; // the server answered already
                        }
                    }
                } else {
                    c.send(bytes);
                }
            } catch (IOException closedWhileSending) {
                // the server may close before it has read everything: still read what it answered
            }
            RawHttp.Resp r = c.read();
            assertNotNull(r, "no response");
            assertEquals(k.status(), r.status(), "response body: " + r.text());
            if (k.body() != null) {
                assertEquals(k.body(), r.text());
            }
            if (k.staysOpen()) {
                assertEquals(null, r.header("connection"));
                assertEquals(200, c.send(RawHttp.get("/plaintext")).read().status(), "the same connection serves on");
            } else {
                assertEquals("close", r.header("connection"));
                assertTrue(c.closedByServer(), "the connection should be closed");
            }
        }
        try (RawHttp good = new RawHttp(server.port())) {
            RawHttp.Resp r = good.send(RawHttp.get("/plaintext")).read();
            assertEquals(200, r.status());
            assertEquals("Hello, World!", r.text());
        }
    }
}
