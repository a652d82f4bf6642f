package com.example.hello;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.http.HttpClient;
import io.fiberloop.netty.http.HttpServer;
import io.fiberloop.test.FiberLoopTest;
import io.fiberloop.test.SimNetwork;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** fiberloop-test from a user's build: the server's own routes over the simulated network, no sockets. */
@FiberLoopTest
class SimulatedNetworkTest {
    @Test
    void greetsOverASlowNetwork(EventLoop loop, SimNetwork net) throws Exception {
        net.latency(Duration.ofSeconds(2)).maxSegment(3);
        try (HttpServer server = HelloServer.start(loop, 8080); HttpClient client = HttpClient.create(loop)) {
            assertEquals("Hello, sim!", client.send(HttpClient.Request.get("http://127.0.0.1:8080/hello/sim")).bodyString());
        }
    }
}
