package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NoLeaks;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Pipelining, backpressure and half-close: what a client may do with one connection, and what the
 * server owes it (RFC 9112 9.3.2 and 9.6): every request answered in order, memory bounded
 * whatever the client does, and a half-closed client still gets its answers.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PipeliningTest {
    /** A response body of about 1 KiB, so that unread responses add up fast. */
    static final String PADDING = "x".repeat(1000);

    static EventLoop loop;
    static HttpServer server;
    static final java.util.concurrent.atomic.AtomicInteger served = new java.util.concurrent.atomic.AtomicInteger();
    static volatile int servedTarget = -1;
    static volatile CompletableFuture<Void> allServed = new CompletableFuture<>();

    @BeforeAll
    static void start() throws IOException {
        loop = NettyLoops.builder().name("http-pipelining").build();
        server = HttpServer.builder().loop(loop).port(0)
                .get("/n/{i}", req -> {
                    if (served.incrementAndGet() == servedTarget) {
                        allServed.complete(null);
                    }
                    return HttpResponse.text(req.pathParam("i") + "\n" + PADDING);
                })
                .get("/slow/{i}", req -> {
                    Fibers.sleep(Duration.ofMillis(20));
                    return HttpResponse.text(req.pathParam("i"));
                })
                .post("/echo", req -> HttpResponse.ok().body(req.bodyBytes()))
                .start();
    }

    @AfterAll
    static void stop() {
        server.close(Duration.ofSeconds(1));
        loop.close();
    }

    static String get(String path) {
        return RawHttp.get(path);
    }

    /** Issue 19 item 2: a client may pipeline any number of requests in one write. */
    @Test
    void threeHundredRequestsInOneWriteAreAllAnsweredInOrder() throws Exception {
        int n = 300;
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < n; i++) {
            all.append(get("/n/" + i));
        }
        try (RawHttp c = new RawHttp(server.port())) {
            c.send(all.toString());
            for (int i = 0; i < n; i++) {
                RawHttp.Resp r = c.read();
                assertNotNull(r, "the connection ended after " + i + " of " + n + " responses");
                assertEquals(200, r.status());
                assertEquals(i + "\n" + PADDING, r.text());
            }
            assertEquals(200, c.send(get("/n/last")).read().status(), "the connection serves on");
        }
    }

    /**
     * Issue 19 item 1: a client that pipelines and never reads. The server must stop reading while
     * its unwritten responses are above a bound, and go on when the client reads: no response is
     * lost, and what the server buffers for the client stays bounded.
     */
    @Test
    void aClientThatNeverReadsCannotFillTheServersMemory() throws Exception {
        int total = 50_000; // ~55 MB of responses if the server buffered them all: more than the kernel's socket buffers
        server.resetStats();
        served.set(0);
        allServed = new CompletableFuture<>();
        servedTarget = total;
        try (RawHttp c = new RawHttp(server.port())) {
            CompletableFuture<Integer> written = new CompletableFuture<>();
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    OutputStream out = c.out;
                    StringBuilder batch = new StringBuilder();
                    for (int i = 0; i < total; i += 20) {
                        batch.setLength(0);
                        for (int k = i; k < i + 20; k++) {
                            batch.append(get("/n/" + k));
                        }
                        out.write(batch.toString().getBytes(StandardCharsets.ISO_8859_1));
                    }
                    out.flush();
                    written.complete(total);
                } catch (IOException e) {
                    written.completeExceptionally(e);
                }
            });
            // Either the server pushes back (it stopped reading), or it answered everything into its
            // own buffers (the defect): only then does the client start to read.
            CompletableFuture.anyOf(server.readPaused(), allServed).get(60, TimeUnit.SECONDS);
            for (int i = 0; i < total; i++) {
                RawHttp.Resp r = c.read();
                assertNotNull(r, "the connection ended after " + i + " of " + total + " responses");
                assertEquals(i + "\n" + PADDING, r.text());
            }
            assertEquals(total, written.get(30, TimeUnit.SECONDS));
            writer.join();
        }
        long bound = HttpServer.WRITE_BUFFER_HIGH_WATER_MARK + 2 * 1024;
        assertTrue(server.maxBufferedResponseBytes() <= bound, "the server buffered " + server.maxBufferedResponseBytes()
                + " bytes of responses for a client that did not read, more than " + bound);
        assertTrue(server.readPaused().isDone(), "the server never stopped reading");
    }

    /** Issue 19 item 3: a half-close means "no more requests", not "gone". */
    @Test
    void aHalfClosedClientGetsItsAnswersThenTheConnectionCloses() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.send(get("/n/1") + get("/slow/2") + get("/n/3"));
            c.socket.shutdownOutput();
            assertEquals("1\n" + PADDING, c.read().text());
            assertEquals("2", c.read().text());
            RawHttp.Resp last = c.read();
            assertEquals("3\n" + PADDING, last.text());
            assertNull(c.read(), "the server closes once it has answered");
        }
    }

    /** A half-close in the middle of a body: that request cannot complete, so the server answers 400 and closes. */
    @Test
    void aHalfCloseInTheMiddleOfABodyIsABadRequest() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
            c.socket.shutdownOutput();
            RawHttp.Resp r = c.read();
            assertEquals(400, r.status());
            assertNull(c.read());
        }
    }
}
