package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopGroup;
import io.netty.buffer.ByteBuf;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A server on a LoopGroup accepts on every loop; each connection lives on one loop. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class MultiCoreTest {

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void fiftyConnectionsAreServedByBothLoopsAndEchoCorrectly(NettyTransport transport) throws Exception {
        int connections = 50;
        Map<String, AtomicInteger> perLoop = new ConcurrentHashMap<>();
        try (LoopGroup group = NettyLoops.newGroup(2, transport);
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            TcpServer server = TcpServer.bind(group, "127.0.0.1", 0, conn -> {
                EventLoop here = EventLoop.currentOrNull();
                perLoop.computeIfAbsent(here.name(), k -> new AtomicInteger()).incrementAndGet();
                ByteBuf b;
                while ((b = conn.read()) != null) {
                    if (EventLoop.currentOrNull() != here) {
                        b.release();
                        throw new AssertionError("the connection's fiber moved from " + here.name());
                    }
                    conn.write(b);
                    conn.drain();
                }
            });
            assertEquals(transport.supportsReusePort(), server.usesReusePort());
            assertEquals(2, server.loops().size());
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                long seed = i;
                results.add(clients.submit(() -> {
                    try (Socket s = new Socket("127.0.0.1", server.port())) {
                        for (int r = 0; r < 5; r++) {
                            byte[] msg = Echo.random(4096, seed * 100 + r);
                            assertArrayEquals(msg, Echo.roundTrip(s, msg));
                        }
                    }
                    return 5;
                }));
            }
            int total = 0;
            for (Future<Integer> f : results) {
                total += f.get(60, TimeUnit.SECONDS);
            }
            assertEquals(connections * 5, total);
            server.close();
            int served = perLoop.values().stream().mapToInt(AtomicInteger::get).sum();
            assertEquals(connections, served, "per loop: " + perLoop);
            assertEquals(2, perLoop.size(), "both loops should serve connections, per loop: " + perLoop);
            for (EventLoop l : group) {
                assertTrue(perLoop.get(l.name()).get() > 0, "per loop: " + perLoop);
            }
        }
    }
}
