package io.fiberloop.test.simnet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import io.fiberloop.netty.Connection;
import io.fiberloop.netty.Tcp;
import io.fiberloop.netty.TcpServer;
import io.fiberloop.test.SimNetwork;
import io.netty.buffer.ByteBuf;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** One seed, one run: the cuts and delays a seed draws are the same every time, on loops of one's own. */
class SimNetworkReplayTest {

    @Test
    @Timeout(60)
    void aSeedReplaysItsRun() {
        List<String> first = trace(42);
        assertEquals(first, trace(42));
        assertNotEquals(first, trace(43));
    }

    /** What each end read, when (virtual time), in an echo of 400 bytes on a jittery network that cuts at random. */
    private static List<String> trace(long seed) {
        SimNetwork net = SimNetwork.create(seed).latency(Duration.ofMillis(1)).jitter(Duration.ofMillis(5))
                .maxSegment(60).randomSegments(true);
        try (EventLoop loop = FiberLoops.builder().clock(LoopClock.autoAdvancing()).ioDriver(net.ioDriver()).build()) {
            return loop.run(() -> {
                List<String> trace = new ArrayList<>();
                try (TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, c -> {
                    for (ByteBuf b; (b = c.read()) != null; ) {
                        trace.add("server " + Duration.ofNanos(loop.now()) + " " + b.readableBytes());
                        c.write(b);
                    }
                    c.close();
                });
                     Connection c = Tcp.connect("127.0.0.1", server.port(), Duration.ofSeconds(5))) {
                    c.write("y".repeat(400));
                    c.shutdownOutput();
                    for (ByteBuf b; (b = c.read()) != null; ) {
                        trace.add("client " + Duration.ofNanos(loop.now()) + " " + b.readableBytes());
                        b.release();
                    }
                }
                return trace;
            });
        }
    }
}
