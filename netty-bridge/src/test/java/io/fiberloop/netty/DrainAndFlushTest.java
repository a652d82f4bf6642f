package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.netty.handler.codec.string.StringEncoder;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * When {@code drain()} and {@code flush()} suspend. A "witness" fiber spawned on the loop runs only
 * when the fiber under test suspends (a task never runs inline, and the loop runs one fiber at a
 * time), so whether it ran tells whether the call suspended.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DrainAndFlushTest {

    static Stream<NettyTransport> lendingTransports() {
        return Echo.transports().filter(t -> t != NettyTransport.NIO);
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void drainBelowTheHighWaterMarkReturnsAtOnceAndTheTurnFlushes(NettyTransport transport) throws Exception {
        byte[] data = Echo.random(1024, 1);
        CompletableFuture<Boolean> witnessRanDuringDrain = new CompletableFuture<>();
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                AtomicBoolean ran = new AtomicBoolean();
                Fibers.spawn(() -> {
                    ran.set(true);
                    return null;
                });
                conn.write(data);
                conn.drain();
                witnessRanDuringDrain.complete(ran.get());
                conn.read(); // wait for the client to close
            });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                assertArrayEquals(data, s.getInputStream().readNBytes(data.length), "the write went out with the turn's flush");
            }
            assertFalse(witnessRanDuringDrain.get(10, TimeUnit.SECONDS), "drain() below the high-water mark suspended");
            server.close();
        }
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void aLoopOfWriteAndDrainOfSmallMessagesStillYields(NettyTransport transport) throws Exception {
        int lines = 1000;
        CompletableFuture<Boolean> witnessRan = new CompletableFuture<>();
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, p -> p.addLast(new StringEncoder(StandardCharsets.UTF_8)),
                    (MessageConnection<Object, String> conn) -> {
                        AtomicBoolean ran = new AtomicBoolean();
                        Fibers.spawn(() -> {
                            ran.set(true);
                            return null;
                        });
                        for (int i = 0; i < lines; i++) {
                            conn.write("line " + i + "\n"); // counts no bytes until encoded
                            conn.drain();
                        }
                        witnessRan.complete(ran.get());
                        conn.flush();
                    });
            try (Socket s = new Socket("127.0.0.1", server.port());
                 BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
                for (int i = 0; i < lines; i++) {
                    assertEquals("line " + i, in.readLine());
                }
            }
            assertTrue(witnessRan.get(10, TimeUnit.SECONDS), "1000 writes with drain() never let another fiber run");
            server.close();
        }
    }

    @ParameterizedTest
    @MethodSource("lendingTransports")
    void flushHandsTheWritesToTheSocketWithoutWaitingForTheLoop(NettyTransport transport) throws Exception {
        byte[] data = Echo.random(4096, 2);
        CompletableFuture<Boolean> witnessRanDuringFlush = new CompletableFuture<>();
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                AtomicBoolean ran = new AtomicBoolean();
                Fibers.spawn(() -> {
                    ran.set(true);
                    return null;
                });
                conn.write(data);
                conn.flush();
                witnessRanDuringFlush.complete(ran.get());
                conn.read();
            });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                assertArrayEquals(data, s.getInputStream().readNBytes(data.length));
            }
            assertFalse(witnessRanDuringFlush.get(10, TimeUnit.SECONDS), "flush() on " + transport + " waited for the loop's next poll");
            server.close();
        }
    }
}
