package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import io.fiberloop.loop.VirtualClock;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The idle timeout on a virtual clock: traffic (the peer's data, or the connection's own writes)
 * before the deadline keeps the connection open past its first deadline, and it is closed exactly
 * one timeout after the last traffic.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class IdleTimeoutResetTest {
    private static final Duration IDLE = Duration.ofSeconds(10);
    private static final Duration STEP = Duration.ofSeconds(6);
    private static final int STEPS = 3; // traffic at 6, 12 and 18 s: past the first deadline (10 s) and the re-armed ones

    /** Reads by the server's connection: each line the peer sends restarts the period. */
    @Test
    void dataFromThePeerPostponesTheIdleClose() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = NettyLoops.builder().name("idle-reads").clock(clock).build()) {
            CompletableFuture<Connection> accepted = new CompletableFuture<>();
            CompletableFuture<Throwable> ended = new CompletableFuture<>();
            BlockingQueue<String> received = new LinkedBlockingQueue<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, TcpOptions.defaults().withIdleTimeout(IDLE), conn -> {
                accepted.complete(conn);
                try {
                    for (String line; (line = conn.readLine(100)) != null; ) {
                        received.add(line); // never writes: only the peer's data counts here
                    }
                    ended.complete(null);
                } catch (Throwable t) {
                    ended.complete(t);
                }
            });
            try (Socket sock = new Socket("127.0.0.1", server.port())) {
                sock.setSoTimeout(10_000);
                OutputStream out = sock.getOutputStream();
                Connection conn = accepted.get(10, TimeUnit.SECONDS);
                for (int i = 1; i <= STEPS; i++) {
                    clock.advance(STEP);
                    assertTrue(settle(loop, conn::isOpen), "closed at " + elapsed(clock) + " although data came "
                            + STEP.toSeconds() + " s ago (idle timeout " + IDLE.toSeconds() + " s)");
                    out.write(("line " + i + "\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    assertEquals("line " + i, received.poll(10, TimeUnit.SECONDS), "the server did not read line " + i);
                }
                assertIdleCloseExactlyOneTimeoutAfterTheLastTraffic(clock, loop, conn, ended);
                assertEquals(-1, sock.getInputStream().read(), "the client should see the server close the idle connection");
            }
            server.close();
        }
    }

    /** Writes by the server's connection: each line it writes restarts the period, though the peer sends nothing. */
    @Test
    void writesByTheConnectionPostponeTheIdleClose() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = NettyLoops.builder().name("idle-writes").clock(clock).build()) {
            CompletableFuture<Connection> accepted = new CompletableFuture<>();
            CompletableFuture<Throwable> ended = new CompletableFuture<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, TcpOptions.defaults().withIdleTimeout(IDLE), conn -> {
                accepted.complete(conn);
                try {
                    conn.read(); // the peer never sends; ends with the idle timeout
                    ended.complete(null);
                } catch (Throwable t) {
                    ended.complete(t);
                }
            });
            try (Socket sock = new Socket("127.0.0.1", server.port())) {
                sock.setSoTimeout(10_000);
                BufferedReader in = new BufferedReader(new InputStreamReader(sock.getInputStream(), StandardCharsets.US_ASCII));
                Connection conn = accepted.get(10, TimeUnit.SECONDS);
                for (int i = 1; i <= STEPS; i++) {
                    clock.advance(STEP);
                    assertTrue(settle(loop, conn::isOpen), "closed at " + elapsed(clock) + " although it wrote "
                            + STEP.toSeconds() + " s ago (idle timeout " + IDLE.toSeconds() + " s)");
                    String tick = "tick " + i;
                    Fibers.spawn(loop, () -> { // another fiber of the loop writes while the handler reads
                        conn.write(tick + "\n");
                        conn.flush();
                        return null;
                    }).get(10, TimeUnit.SECONDS);
                    assertEquals(tick, in.readLine());
                }
                assertIdleCloseExactlyOneTimeoutAfterTheLastTraffic(clock, loop, conn, ended);
                assertNull(in.readLine(), "the client should see the server close the idle connection");
            }
            server.close();
        }
    }

    /**
     * The last traffic was at the clock's present time: one millisecond short of a timeout later the
     * connection is open, at the timeout it is closed and its reader gets {@link SocketTimeoutException}.
     */
    private static void assertIdleCloseExactlyOneTimeoutAfterTheLastTraffic(VirtualClock clock, EventLoop loop, Connection conn,
            CompletableFuture<Throwable> ended) throws Exception {
        clock.advance(IDLE.minusMillis(1));
        assertTrue(settle(loop, conn::isOpen), "closed at " + elapsed(clock) + ", before a full idle timeout after the last traffic");
        assertFalse(ended.isDone(), "the handler's read ended early: " + ended.getNow(null));
        clock.advance(Duration.ofMillis(1));
        assertFalse(settle(loop, conn::isOpen), "still open at " + elapsed(clock) + ", a full idle timeout after the last traffic");
        Throwable t = assertInstanceOf(SocketTimeoutException.class, ended.get(10, TimeUnit.SECONDS));
        assertTrue(t.getMessage().contains("idle timeout") && t.getMessage().contains(IDLE.toMillis() + " ms"), t.getMessage());
    }

    private static String elapsed(VirtualClock clock) {
        return Duration.ofNanos(clock.nanoTime()).toMillis() + " ms";
    }

    /**
     * {@code probe}'s value, read on the loop in a turn that began after this call, so after the
     * timers that were due at the call fired (a turn fires its due timers before it runs tasks).
     */
    private static <T> T settle(EventLoop loop, Supplier<T> probe) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> loop.execute(() -> f.complete(probe.get())));
        return f.get(10, TimeUnit.SECONDS);
    }
}
