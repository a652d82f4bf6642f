package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.fiberloop.netty.NoLeaks;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The server's WebSocket reads on every transport of this machine: the next read is asked inside
 * Netty's read on epoll and NIO and from the queued operations on io_uring, and either way a
 * pipelined echo never stalls (pings are off, so nothing else would re-arm a missed read) and a
 * peer's reset ends the session with {@code 1006}.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebSocketTransportsTest {
    static EventLoop clientLoop;

    @BeforeAll
    static void start() {
        clientLoop = NettyLoops.builder().name("ws-transports-client").build();
    }

    @AfterAll
    static void stop() {
        clientLoop.close();
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void pipelinedEchoAndAResetOn(NettyTransport transport) throws Exception {
        BlockingQueue<String> ends = new LinkedBlockingQueue<>();
        // io_uring may see a reset that closely follows data only at the next write: pings find it there
        Duration pings = transport == NettyTransport.IO_URING ? Duration.ofMillis(200) : Duration.ZERO;
        EventLoop loop = NettyLoops.builder(transport).name("ws-" + transport).build();
        try {
            HttpServer server = HttpServer.builder().loop(loop).port(0)
                    .websocket("/echo", WebSocketOptions.defaults().compression(false).pingInterval(pings), ws -> {
                        for (WebSocket.Message m; (m = ws.receive()) != null; ) {
                            ws.send(m);
                        }
                        ends.add(ws.closeCode() + " " + ws.closeReason());
                    })
                    .start();
            try {
                String base = "ws://127.0.0.1:" + server.port();
                int echoed = clientLoop.run(() -> {
                    try (HttpClient client = HttpClient.create(clientLoop);
                         WebSocket ws = client.webSocket(HttpClient.Request.get(base + "/echo"), WebSocketOptions.defaults().compression(false))) {
                        ArrayDeque<byte[]> inFlight = new ArrayDeque<>();
                        int n = 0;
                        for (int i = 0; i < 300; i++) {
                            byte[] m = new byte[i % 60 == 7 ? 70_000 : 1 + (i * 97) % 2_000]; // a few past the read-ahead's 64 KiB
                            Arrays.fill(m, (byte) i);
                            ws.send(m);
                            inFlight.add(m);
                            if (inFlight.size() == 16) {
                                assertArrayEquals(inFlight.poll(), ws.receive().bytes(), "message " + n);
                                n++;
                            }
                        }
                        while (!inFlight.isEmpty()) {
                            assertArrayEquals(inFlight.poll(), ws.receive().bytes(), "message " + n);
                            n++;
                        }
                        return n;
                    }
                });
                assertEquals(300, echoed);
                assertEquals("1000 ", ends.poll(10, TimeUnit.SECONDS));

                RawWebSocket raw = new RawWebSocket(server.port(), "/echo");
                assertTrue(raw.upgraded(), raw.responseHead);
                raw.text("before the reset");
                assertEquals("before the reset", raw.read().text());
                raw.socket.setSoLinger(true, 0); // a reset, not a FIN
                raw.close();
                String end = ends.poll(10, TimeUnit.SECONDS);
                assertTrue(end != null && end.startsWith("1006 "), "the handler saw " + end);
            } finally {
                server.close(Duration.ofSeconds(1));
            }
        } finally {
            loop.close();
        }
    }
}
