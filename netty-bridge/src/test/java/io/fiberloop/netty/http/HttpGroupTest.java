package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopGroup;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.fiberloop.netty.NoLeaks;
import java.net.ConnectException;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link HttpServerBuilder#group}: one listener per loop on one port (SO_REUSEPORT), or on NIO one
 * acceptor handing connections out round-robin; each connection stays on its loop.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HttpGroupTest {
    private static final int CONNECTIONS = 32;

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void connectionsAreSpreadOverTheLoopsAndEachKeepsItsLoop(NettyTransport transport) throws Exception {
        Map<String, AtomicInteger> perLoop = new ConcurrentHashMap<>();
        try (LoopGroup group = NettyLoops.newGroup(2, transport)) {
            HttpServer server = HttpServer.builder().group(group).port(0)
                    .get("/where", req -> {
                        String here = EventLoop.current().name();
                        perLoop.computeIfAbsent(here, k -> new AtomicInteger()).incrementAndGet();
                        return HttpResponse.text(here);
                    })
                    .start();
            assertEquals(group.loops(), server.loops());
            for (int i = 0; i < CONNECTIONS; i++) {
                try (RawHttp c = new RawHttp(server.port())) {
                    // three requests on one keep-alive connection: all on the loop that accepted it
                    Set<String> loops = new HashSet<>();
                    for (int r = 0; r < 3; r++) {
                        RawHttp.Resp resp = c.send(RawHttp.get("/where")).read();
                        assertEquals(200, resp.status(), resp.text());
                        loops.add(resp.text());
                    }
                    assertEquals(1, loops.size(), "connection " + i + " moved between loops: " + loops);
                }
            }
            assertEquals(3 * CONNECTIONS, perLoop.values().stream().mapToInt(AtomicInteger::get).sum(), "per loop: " + perLoop);
            // SO_REUSEPORT hashes each connection's addresses (32 all on one loop has odds of 2^-31);
            // NIO's single acceptor deals them out in turn
            assertEquals(2, perLoop.size(), "both loops serve, per loop: " + perLoop);
            if (!transport.supportsReusePort()) {
                assertEquals(3 * CONNECTIONS / 2, perLoop.values().iterator().next().get(), "round-robin, per loop: " + perLoop);
            }
            server.close(Duration.ofSeconds(5));
            assertFalse(server.isOpen());
            for (int i = 0; i < 8; i++) {
                // neither loop still listens: every connect is refused
                assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", server.port()).close());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void activeRequestsCountsTheRequestsInFlightOnEveryLoop(NettyTransport transport) throws Exception {
        BlockingQueue<String> holding = new LinkedBlockingQueue<>();
        CompletableFuture<Void> release = new CompletableFuture<>();
        List<RawHttp> clients = new ArrayList<>();
        try (LoopGroup group = NettyLoops.newGroup(2, transport)) {
            HttpServer server = HttpServer.builder().group(group).port(0)
                    .get("/hold", req -> {
                        holding.add(EventLoop.current().name());
                        Fibers.await(release);
                        return HttpResponse.text("released");
                    })
                    .start();
            // new connections until a request is held on each loop (the kernel picks the loop)
            Set<String> loops = new HashSet<>();
            while (loops.size() < 2 && clients.size() < 64) {
                RawHttp c = new RawHttp(server.port());
                clients.add(c);
                c.send(RawHttp.get("/hold"));
                String loop = holding.poll(10, TimeUnit.SECONDS);
                assertNotNull(loop, "request " + clients.size() + " did not reach its handler");
                loops.add(loop);
            }
            assertEquals(2, loops.size(), "a request held on each loop after " + clients.size() + " connections");
            assertEquals(clients.size(), server.activeRequests(), "held on " + loops);
            release.complete(null);
            for (RawHttp c : clients) {
                assertEquals("released", c.read().text());
            }
            server.close(Duration.ofSeconds(5));
        } finally {
            release.complete(null);
            for (RawHttp c : clients) {
                c.close();
            }
        }
    }

    @Test
    void aLoopAndAGroupTogetherAreRefusedWithWhatToDoInstead() throws Exception {
        try (LoopGroup group = NettyLoops.newGroup(2);
             EventLoop loop = NettyLoops.newLoop()) {
            IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                    () -> HttpServer.builder().group(group).loop(loop).port(0).start());
            assertTrue(both.getMessage().contains("loop(...) and group(...)"), both.getMessage());
        }
    }
}
