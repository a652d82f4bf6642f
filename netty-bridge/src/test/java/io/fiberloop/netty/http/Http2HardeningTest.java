package io.fiberloop.netty.http;

import static io.fiberloop.netty.http.RawH2.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.netty.NoLeaks;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The known HTTP/2 attacks, each against a server that goes on serving another client: the
 * attacker is cut off ({@code GOAWAY ENHANCE_YOUR_CALM} and a close, or its stalled stream reset),
 * another connection is served during and after, and what the server holds stays bounded (its
 * requests in flight, and the direct memory of Netty's allocator, which every connection's
 * buffers come from).
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Http2HardeningTest {
    /** What an attack may make the server hold, at most (it holds far less; unbounded growth is many times this). */
    private static final long MAX_GROWTH = 32L << 20;

    private HttpServer server;
    private long directBefore;
    private volatile int maxActive;
    private final java.util.concurrent.atomic.AtomicInteger waitStarted = new java.util.concurrent.atomic.AtomicInteger();
    private final CompletableFuture<Throwable> bigEnded = new CompletableFuture<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.builder().port(0)
                .http2Options(Http2Options.defaults().maxResets(100, Duration.ofSeconds(30)).stallTimeout(Duration.ofMillis(400)))
                .get("/plaintext", req -> HttpResponse.text("Hello, World!"))
                .get("/wait", req -> {
                    waitStarted.incrementAndGet();
                    maxActive = Math.max(maxActive, server.activeRequests());
                    Fibers.sleep(Duration.ofSeconds(20));
                    return HttpResponse.text("late");
                })
                .post("/sink", req -> HttpResponse.text(req.bodyBytes().length + " bytes"))
                .get("/big", req -> HttpResponse.ok().stream(out -> {
                    try {
                        byte[] chunk = new byte[16 * 1024];
                        for (int i = 0; i < 256; i++) {
                            out.write(chunk);
                            out.drain();
                        }
                        bigEnded.complete(null);
                    } catch (Throwable e) {
                        bigEnded.complete(e);
                        throw e;
                    }
                }))
                .start();
        directBefore = direct();
    }

    @AfterEach
    void stop() {
        server.close(Duration.ofSeconds(1));
    }

    private static long direct() {
        return ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory();
    }

    /** Another client is served, and the server holds little more than before the attack. */
    private void othersServedAndMemoryBounded() throws IOException {
        try (RawH2 good = RawH2.connect(server.port())) {
            good.request(1, true, "GET", "/plaintext");
            assertEquals("Hello, World!", good.response(1).text());
        }
        long growth = direct() - directBefore;
        assertTrue(growth < MAX_GROWTH, "direct memory grew by " + growth + " bytes");
    }

    private static Frame goaway(List<Frame> frames) {
        return frames.stream().filter(f -> f.type() == GOAWAY).findFirst()
                .orElseThrow(() -> new AssertionError("no GOAWAY before the close: " + frames));
    }

    @Test
    void rapidResetClosesTheAbuserAndItsHandlersAreCancelled() throws Exception {
        try (RawH2 bad = RawH2.connect(server.port())) {
            bad.floodUntilClosed(20_000, (c, i) -> {
                int id = 1 + 2 * i;
                c.request(id, true, "GET", "/wait");
                c.rst(id, CANCEL);
            });
            Frame g = goaway(bad.untilClosed());
            assertEquals(ENHANCE_YOUR_CALM, g.errorCode());
        }
        // the 101st reset closed the connection: of the 20,000 streams sent, the server started about 100
        assertTrue(waitStarted.get() <= 110, "handlers started: " + waitStarted.get());
        assertTrue(maxActive <= 101, "handlers in flight: " + maxActive);
        othersServedAndMemoryBounded();
    }

    @Test
    void continuationFloodIsCutOffAtTheHeaderListLimit() throws Exception {
        try (RawH2 bad = RawH2.connect(server.port())) {
            byte[] junk = new byte[1024];
            java.util.Arrays.fill(junk, (byte) 0x40);
            int sent = bad.floodUntilClosed(100_000, (c, i) -> {
                if (i == 0) {
                    c.frame(HEADERS, 0, 1, c.block("GET", "/plaintext"));
                } else {
                    c.frame(CONTINUATION, 0, 1, junk);
                }
            });
            List<Frame> frames = bad.untilClosed();
            assertTrue(sent < 100_000, "the server took " + sent + " KiB of one header block");
            assertTrue(frames.stream().anyMatch(f -> f.type() == GOAWAY), "GOAWAY: " + frames);
        }
        othersServedAndMemoryBounded();
    }

    @Test
    void emptyContinuationFloodIsCutOff() throws Exception {
        try (RawH2 bad = RawH2.connect(server.port())) {
            int sent = bad.floodUntilClosed(1_000_000, (c, i) -> {
                if (i == 0) {
                    c.frame(HEADERS, 0, 1, c.block("GET", "/plaintext"));
                } else {
                    c.frame(CONTINUATION, 0, 1, new byte[0]);
                }
            });
            goaway(bad.untilClosed());
            assertTrue(sent < 1_000_000, "the server took " + sent + " empty CONTINUATION frames");
        }
        othersServedAndMemoryBounded();
    }

    @Test
    void pingFloodFromAClientThatReadsNothingIsCutOff() throws Exception {
        try (RawH2 bad = RawH2.connect(server.port())) {
            int sent = bad.floodUntilClosed(500_000, (c, i) -> c.ping(i));
            Frame g = goaway(bad.untilClosed());
            assertEquals(ENHANCE_YOUR_CALM, g.errorCode());
            assertTrue(sent < 500_000, "the server answered " + sent + " PINGs");
        }
        othersServedAndMemoryBounded();
    }

    @Test
    void settingsFloodIsCutOff() throws Exception {
        try (RawH2 bad = RawH2.connect(server.port())) {
            int sent = bad.floodUntilClosed(500_000, (c, i) -> c.settings(0x3, 100));
            Frame g = goaway(bad.untilClosed());
            assertEquals(ENHANCE_YOUR_CALM, g.errorCode());
            assertTrue(sent < 500_000);
        }
        othersServedAndMemoryBounded();
    }

    @Test
    void priorityFloodOnAnOpenStreamIsCutOff() throws Exception {
        try (RawH2 bad = RawH2.connect(server.port())) {
            bad.request(1, true, "GET", "/wait");
            byte[] priority = {0, 0, 0, 0, 16};
            int sent = bad.floodUntilClosed(500_000, (c, i) -> c.frame(PRIORITY, 0, 1, priority));
            Frame g = goaway(bad.untilClosed());
            assertEquals(ENHANCE_YOUR_CALM, g.errorCode());
            assertTrue(sent < 500_000);
        }
        othersServedAndMemoryBounded();
    }

    @Test
    void emptyDataFramesAreCutOff() throws Exception {
        try (RawH2 bad = RawH2.connect(server.port())) {
            bad.request(1, false, "POST", "/sink");
            int sent = bad.floodUntilClosed(1_000_000, (c, i) -> c.data(1, false, new byte[0]));
            goaway(bad.untilClosed());
            assertTrue(sent < 1_000_000);
        }
        othersServedAndMemoryBounded();
    }

    @Test
    void aStreamStalledOnAZeroWindowIsResetAfterTheStallTimeout() throws Exception {
        try (RawH2 bad = RawH2.connect(server.port(), 0x4, 0)) { // no window for any stream, ever
            bad.request(1, true, "GET", "/big");
            Frame reset = bad.await(RST_STREAM, 1);
            assertEquals(CANCEL, reset.errorCode());
            Throwable end = bigEnded.get(10, TimeUnit.SECONDS);
            assertTrue(end instanceof IOException || end instanceof io.fiberloop.fiber.CancelledException, "handler ended with " + end);
            // the connection itself is fine: another stream is served
            bad.request(3, true, "GET", "/plaintext");
            Frame h = bad.await(HEADERS, 3);
            assertEquals("200", bad.headers(h).status().toString());
        }
        othersServedAndMemoryBounded();
    }
}
