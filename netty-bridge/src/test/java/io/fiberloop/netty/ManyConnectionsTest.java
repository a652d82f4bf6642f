package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fiberloop.loop.EventLoop;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** A thousand connections open at the same time, each echoing correctly (one loop, the default transport). */
@ExtendWith(NoLeaks.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ManyConnectionsTest {

    @Test
    void aThousandConcurrentConnectionsEchoCorrectly() throws Exception {
        int connections = 1000;
        int roundTrips = 5;
        try (EventLoop loop = NettyLoops.builder().name("echo1000").build();
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, Echo.HANDLER);
            CyclicBarrier allOpen = new CyclicBarrier(connections); // all 1,000 are connected at once before any echo
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                long seed = i;
                results.add(clients.submit(() -> {
                    try (Socket s = new Socket("127.0.0.1", server.port())) {
                        allOpen.await(60, TimeUnit.SECONDS);
                        for (int r = 0; r < roundTrips; r++) {
                            byte[] msg = Echo.random(1024, seed * 1000 + r);
                            assertArrayEquals(msg, Echo.roundTrip(s, msg));
                        }
                    }
                    return roundTrips;
                }));
            }
            int total = 0;
            for (Future<Integer> f : results) {
                total += f.get(90, TimeUnit.SECONDS);
            }
            assertEquals(connections * roundTrips, total);
            server.close();
        }
    }
}
