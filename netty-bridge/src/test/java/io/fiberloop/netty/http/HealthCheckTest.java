package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.StallReport;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NoLeaks;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link HttpServerBuilder#health}: a management server on a loop of its own answers {@code 200}
 * while the application's loop runs, {@code 503} while a handler blocks it, and {@code 200} again
 * once it moves on.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HealthCheckTest {

    @Test
    void theHealthCheckIs503WhileTheWatchedLoopIsStalled() throws Exception {
        CompletableFuture<StallReport> stalled = new CompletableFuture<>();
        CountDownLatch entered = new CountDownLatch(1);
        AtomicBoolean release = new AtomicBoolean();
        try (EventLoop app = NettyLoops.builder().name("app").watchdog(Duration.ofMillis(50)).onStall(stalled::complete).build();
             EventLoop management = NettyLoops.builder().name("management").build();
             HttpServer server = HttpServer.builder().loop(app).host("127.0.0.1").port(0)
                     .get("/block", req -> {
                         entered.countDown();
                         while (!release.get()) {
                             Thread.onSpinWait(); // holds the loop's carrier (a parking wait would let it go): what a health check must notice
                         }
                         return HttpResponse.text("unblocked");
                     })
                     .get("/", req -> HttpResponse.text("hi"))
                     .start();
             HttpServer probes = HttpServer.builder().loop(management).host("127.0.0.1").port(0)
                     .health("/health", server.loops()).start();
             RawHttp probe = new RawHttp(probes.port());
             RawHttp client = new RawHttp(server.port())) {
            RawHttp.Resp up = probe.send(RawHttp.get("/health")).read();
            assertEquals(200, up.status(), up.text());
            assertEquals("application/json", up.header("Content-Type"));
            assertEquals("{\"status\":\"UP\",\"loops\":[{\"name\":\"app\",\"state\":\"ACTIVE\",\"stalledMs\":0,\"stalls\":0,\"queueDepth\":0,\"liveTasks\":0}]}",
                    up.text());

            client.send(RawHttp.get("/block"));
            try {
                assertTrue(entered.await(10, TimeUnit.SECONDS));
                stalled.get(10, TimeUnit.SECONDS); // the watchdog saw it
                RawHttp.Resp down = probe.send(RawHttp.get("/health")).read();
                assertEquals(503, down.status(), down.text());
                assertTrue(down.text().startsWith("{\"status\":\"DOWN\",\"loops\":[{\"name\":\"app\",\"state\":\"ACTIVE\",\"stalledMs\":"), down.text());
            } finally {
                release.set(true); // a failed assertion must not leave the loop spinning: closing it would wait forever
            }
            assertEquals("unblocked", client.read().text());
            assertEquals("hi", client.send(RawHttp.get("/")).read().text()); // the loop moved on
            RawHttp.Resp again = probe.send(RawHttp.get("/health")).read();
            assertEquals(200, again.status(), again.text());
        }
    }

    @Test
    void aServerWatchesItsOwnLoopsByDefaultAndClosedLoopsAreDown() throws Exception {
        EventLoop other = NettyLoops.builder().name("other").build();
        try (EventLoop loop = NettyLoops.builder().name("self").build();
             HttpServer server = HttpServer.builder().loop(loop).host("127.0.0.1").port(0)
                     .health("/health")
                     .health("/health/other", List.of(other))
                     .start();
             RawHttp c = new RawHttp(server.port())) {
            RawHttp.Resp self = c.send(RawHttp.get("/health")).read();
            assertEquals(200, self.status(), self.text());
            assertTrue(self.text().contains("\"name\":\"self\""), self.text());
            other.close();
            RawHttp.Resp closed = c.send(RawHttp.get("/health/other")).read();
            assertEquals(503, closed.status(), closed.text());
            assertTrue(closed.text().contains("\"state\":\"CLOSED\""), closed.text());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HttpServer.builder().health("/h", List.of()));
        assertTrue(e.getMessage().contains("health(path)"), e.getMessage());
    }
}
