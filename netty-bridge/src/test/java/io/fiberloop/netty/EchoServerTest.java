package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(NoLeaks.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class EchoServerTest {

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void echoesToAPlainSocketClient(NettyTransport transport) throws Exception {
        try (EventLoop loop = NettyLoops.builder(transport).name("echo-" + transport).build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, Echo.HANDLER);
            assertTrue(server.port() > 0);
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                assertArrayEquals("hello\n".getBytes(), Echo.roundTrip(s, "hello\n".getBytes()));
                byte[] big = Echo.random(300_000, 1);
                assertArrayEquals(big, Echo.roundTrip(s, big));
            }
            server.close();
            assertEquals(false, server.isOpen());
        }
    }

    @Test
    void connectionTasksAreNamedAfterTheirPeer() throws Exception {
        java.util.concurrent.CompletableFuture<String> name = new java.util.concurrent.CompletableFuture<>();
        try (EventLoop loop = NettyLoops.builder().name("named").build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> name.complete(io.fiberloop.fiber.Fiber.current().name()));
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                assertEquals("tcp 127.0.0.1:" + s.getLocalPort() + " on :" + server.port(), name.get(10, TimeUnit.SECONDS));
            }
            server.close();
        }
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void twoHundredConcurrentConnectionsEchoCorrectly(NettyTransport transport) throws Exception {
        int connections = 200;
        int roundTrips = 10;
        try (EventLoop loop = NettyLoops.builder(transport).name("echo200-" + transport).build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, Echo.HANDLER);
            int total = Echo.concurrentEchoes(server.port(), connections, roundTrips);
            assertEquals(connections * roundTrips, total);
            server.close();
        }
    }

    @Test
    void closeCancelsHandlersThatOutliveTheGracePeriod() throws Exception {
        try (EventLoop loop = NettyLoops.newLoop()) {
            java.util.concurrent.CompletableFuture<Throwable> ended = new java.util.concurrent.CompletableFuture<>();
            java.util.concurrent.CompletableFuture<Void> reading = new java.util.concurrent.CompletableFuture<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                try {
                    reading.complete(null);
                    conn.read();
                    ended.complete(null);
                } catch (Throwable t) {
                    ended.complete(t);
                    throw t;
                }
            });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                reading.get(10, TimeUnit.SECONDS);
                server.close(java.time.Duration.ofMillis(50));
                assertTrue(ended.get(10, TimeUnit.SECONDS) instanceof java.util.concurrent.CancellationException,
                        "the handler should have been cancelled, got " + ended.get());
                assertEquals(-1, s.getInputStream().read(), "the connection is closed once its handler ends");
            }
        }
    }

    @Test
    void closeStopsAcceptingAndLetsAHandlerFinishWithinTheGracePeriod() throws Exception {
        // a frozen virtual clock: the grace period never runs out, so only the handler's own end lets close return
        io.fiberloop.loop.VirtualClock clock = io.fiberloop.loop.LoopClock.virtual();
        try (EventLoop loop = NettyLoops.builder().name("close-grace").clock(clock).build()) {
            java.util.concurrent.CompletableFuture<Throwable> ended = new java.util.concurrent.CompletableFuture<>();
            java.util.concurrent.CompletableFuture<Void> reading = new java.util.concurrent.CompletableFuture<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                try {
                    reading.complete(null);
                    byte[] last = conn.readExactly(4);
                    conn.write(last);
                    conn.flush();
                    ended.complete(null);
                } catch (Throwable t) {
                    ended.complete(t);
                    throw t;
                }
            });
            int port = server.port();
            try (Socket s = new Socket("127.0.0.1", port)) {
                reading.get(10, TimeUnit.SECONDS);
                Thread closer = Thread.ofPlatform().name("closer").start(() -> server.close(java.time.Duration.ofMinutes(1)));
                while (server.isOpen()) {
                    Thread.onSpinWait(); // close has begun once the server stops accepting
                }
                // the handler is still serving: its connection works while close waits for it
                s.getOutputStream().write("last".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                assertArrayEquals("last".getBytes(java.nio.charset.StandardCharsets.US_ASCII), s.getInputStream().readNBytes(4));
                closer.join();
                assertEquals(null, ended.get(10, TimeUnit.SECONDS), "the handler ended on its own, not cancelled");
                assertEquals(-1, s.getInputStream().read(), "the connection is closed once its handler ends");
            }
            org.junit.jupiter.api.Assertions.assertThrows(java.net.ConnectException.class, () -> new Socket("127.0.0.1", port).close(),
                    "a closed server accepts nothing");
        }
    }
}
