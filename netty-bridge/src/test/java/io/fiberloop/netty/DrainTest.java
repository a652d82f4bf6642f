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
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * When {@code drain()} suspends. A "witness" fiber spawned on the loop runs only
 * when the fiber under test suspends (a task never runs inline, and the loop runs one fiber at a
 * time), so whether it ran tells whether the call suspended.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DrainTest {

    /** A connection operation that takes the bytes written. */
    interface WriteOp {
        void run(Connection conn, byte[] data) throws Exception;
    }

    /**
     * Serves one connection that runs {@code op} with a witness fiber spawned just before, checks
     * that the client receives {@code data}, and returns whether the witness ran during {@code op}
     * (that is, whether {@code op} suspended).
     */
    private static boolean suspends(NettyTransport transport, byte[] data, WriteOp op) throws Exception {
        CompletableFuture<Boolean> witnessRan = new CompletableFuture<>();
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                AtomicBoolean ran = new AtomicBoolean();
                Fibers.spawn(() -> {
                    ran.set(true);
                    return null;
                });
                op.run(conn, data);
                witnessRan.complete(ran.get());
                conn.read(); // wait for the client to close
            });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                assertArrayEquals(data, s.getInputStream().readNBytes(data.length), "the write reached the client");
            }
            boolean r = witnessRan.get(10, TimeUnit.SECONDS);
            server.close();
            return r;
        }
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void drainBelowTheHighWaterMarkReturnsAtOnceAndTheTurnFlushes(NettyTransport transport) throws Exception {
        assertFalse(suspends(transport, Echo.random(1024, 1), (conn, data) -> {
            conn.write(data);
            conn.drain();
        }), "drain() below the high-water mark suspended");
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
}
