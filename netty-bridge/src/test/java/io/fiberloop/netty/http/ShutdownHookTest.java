package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.fiberloop.fiber.Fibers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * {@link HttpServer#closeOnShutdown}: a child JVM serving a slow request gets SIGTERM; the request
 * is answered within the grace period (or cut off after it), and the log says what drained.
 */
@Timeout(90)
class ShutdownHookTest {
    private static final long WAIT_SECONDS = ChildJvm.WAIT_SECONDS;

    /**
     * The child: serves {@code /slow?ms=N} (prints "in flight", then works until N ms after the
     * server began to close, so that the request is in flight when the drain starts however late
     * the signal lands), closes on shutdown with {@code args[0]} ms of grace.
     */
    public static void main(String[] args) throws Exception {
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("io.fiberloop")).setLevel(Level.INFO);
        AtomicReference<HttpServer> self = new AtomicReference<>();
        HttpServer server = HttpServer.builder().host("127.0.0.1").port(0)
                .get("/slow", req -> {
                    System.out.println("in flight");
                    System.out.flush();
                    while (self.get().isOpen()) {
                        Fibers.sleep(Duration.ofMillis(5)); // until the shutdown hook stops the server accepting
                    }
                    Fibers.sleep(Duration.ofMillis(Long.parseLong(req.queryParam("ms"))));
                    return HttpResponse.text("slept");
                })
                .start();
        self.set(server);
        server.closeOnShutdown(Duration.ofMillis(Long.parseLong(args[0])));
        System.out.println("listening on " + server.port());
        System.out.flush();
        new CountDownLatch(1).await(); // until SIGTERM
    }

    @Test
    void sigtermDrainsASlowRequestWithinTheGraceAndLogsIt() throws Exception {
        try (ChildJvm child = child(10_000)) {
            int port = child.awaitPort();
            try (RawHttp c = new RawHttp(port)) {
                c.socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                c.send(RawHttp.get("/slow?ms=200"));
                child.await("in flight");
                child.process.toHandle().destroy(); // SIGTERM
                RawHttp.Resp r = c.read();
                assertNotNull(r, "the connection closed without an answer; the child's output:\n" + child.output);
                assertEquals(200, r.status(), child.output.toString());
                assertEquals("slept", r.text());
                assertEquals("close", r.header("Connection"), "a response during the drain closes its connection");
            }
            String out = child.waitForExit();
            assertTrue(out.contains("JVM shutting down: closing the HTTP server on 127.0.0.1:" + port + " (grace 10000 ms)"), out);
            assertTrue(out.contains("HTTP server on 127.0.0.1:" + port + ": stopped accepting; draining 1 request (GET /slow) on 1 connection within"), out);
            assertTrue(out.contains("HTTP server on 127.0.0.1:" + port + ": drained after "), out);
            assertTrue(out.contains("HTTP server on 127.0.0.1:" + port + " closed after "), out);
            assertFalse(out.contains("cutting off"), out);
        }
    }

    @Test
    void aRequestLongerThanTheGraceIsCutOffAndLoggedByName() throws Exception {
        try (ChildJvm child = child(300)) {
            int port = child.awaitPort();
            try (RawHttp c = new RawHttp(port)) {
                c.socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                c.send(RawHttp.get("/slow?ms=60000"));
                child.await("in flight");
                child.process.toHandle().destroy();
                RawHttp.Resp r = c.read();
                assertNotNull(r, child.output.toString());
                assertEquals(503, r.status(), "cancelled before its response started");
            }
            String out = child.waitForExit();
            assertTrue(out.contains(": the grace period of 300 ms is over; cutting off 1 request (GET /slow) on 1 connection"), out);
        }
    }

    @Test
    void closeOnShutdownChecksItsArguments() throws Exception {
        try (HttpServer server = HttpServer.builder().host("127.0.0.1").port(0).get("/", req -> HttpResponse.text("hi")).start()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> server.closeOnShutdown(Duration.ofSeconds(-1)));
            assertTrue(e.getMessage().contains("Duration.ZERO"), e.getMessage());
            server.closeOnShutdown(Duration.ofSeconds(1));
            assertThrows(IllegalStateException.class, () -> server.closeOnShutdown(Duration.ofSeconds(1)));
            server.close(Duration.ZERO); // removes the hook: this test JVM exits without closing it again
            assertThrows(IllegalStateException.class, () -> server.closeOnShutdown(Duration.ofSeconds(1)));
        }
    }

    private static ChildJvm child(long graceMillis) throws Exception {
        return ChildJvm.start(ShutdownHookTest.class, List.of(), String.valueOf(graceMillis));
    }
}
