package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.fiber.channel.Channel;
import io.fiberloop.fiber.channel.Select;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import io.fiberloop.loop.VirtualClock;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NoLeaks;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** WebSockets between the server and the fiber client: messages, subprotocols, compression, closing, backpressure, select. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebSocketTest {
    static Served served;
    static EventLoop clientLoop;
    static volatile CompletableFuture<String> ended = new CompletableFuture<>();
    static final AtomicLong serverSent = new AtomicLong();
    static volatile CompletableFuture<Long> flooderStalled = new CompletableFuture<>();

    @BeforeAll
    static void start() throws Exception {
        clientLoop = NettyLoops.builder().name("ws-client").build();
        served = Served.start("WebSocketTest", b -> b
                .websocket("/echo", ws -> {
                    for (WebSocket.Message m; (m = ws.receive()) != null; ) {
                        ws.send(m);
                    }
                    ended.complete(ws.closeCode() + " " + ws.closeReason());
                })
                .websocket("/proto", WebSocketOptions.defaults().subprotocols("v2", "v1").compression(false),
                        ws -> ws.send(ws.subprotocol() + " " + ws.compressed() + " " + ws.request().queryParam("name")))
                .websocket("/origin", WebSocketOptions.defaults().allowOrigin("https://ok.example"::equals), ws -> ws.send("hi"))
                .websocket("/fails", ws -> {
                    ws.receive();
                    throw new IllegalStateException("planted");
                })
                .websocket("/closes", ws -> ws.close(4001, "bye now"))
                .websocket("/flood", ws -> {
                    byte[] chunk = new byte[16 * 1024];
                    long t0 = System.nanoTime();
                    try {
                        for (;;) {
                            ws.send(chunk);
                            long n = serverSent.addAndGet(chunk.length);
                            if (n > 4 * 1024 * 1024 && !flooderStalled.isDone()) {
                                flooderStalled.complete(n);
                            }
                        }
                    } catch (IOException e) {
                        // the client left
                    }
                    assertTrue(System.nanoTime() > t0);
                })
                .websocket("/idle", WebSocketOptions.defaults().pingInterval(Duration.ZERO).idleTimeout(Duration.ofMillis(300)),
                        ws -> ended.complete(ws.receive() == null ? ws.closeCode() + " " + ws.closeReason() : "message"))
                .websocket("/select", ws -> {
                    Channel<String> ticks = Channel.buffered(4);
                    Fibers.spawn(() -> {
                        for (int i = 0; i < 3; i++) {
                            ticks.send("tick " + i);
                        }
                        return null;
                    });
                    Channel<WebSocket.Message> in = ws.messages();
                    List<String> seen = new ArrayList<>();
                    for (boolean open = true; open; ) {
                        open = Select.<Boolean>create()
                                .onReceiveOrNull(in, m -> {
                                    if (m != null) {
                                        seen.add("msg " + m.text());
                                    }
                                    return m != null;
                                })
                                .onReceive(ticks, t -> {
                                    seen.add(t);
                                    return true;
                                })
                                .run();
                        if (seen.size() == 5) {
                            ws.send(String.join(",", seen.stream().sorted().toList()));
                        }
                    }
                })
                .websocket("/spam", ws -> {
                    for (;;) {
                        ws.send("spam"); // no try: the IOException when the client leaves ends the session
                    }
                })
                .get("/plain", req -> HttpResponse.text("still HTTP"))
                );
    }

    @AfterAll
    static void stop() {
        served.close();
        clientLoop.close();
    }

    static String base() {
        return "ws://127.0.0.1:" + served.port();
    }

    @Test
    void echoTextAndBinaryAndACleanClose() throws Exception {
        ended = new CompletableFuture<>();
        String r = clientLoop.run(() -> {
            try (HttpClient client = HttpClient.create(clientLoop)) {
                WebSocket ws = client.webSocket(base() + "/echo");
                assertTrue(ws.compressed(), "permessage-deflate agreed by default");
                ws.send("hello");
                String a = ws.receive().text();
                byte[] big = new byte[300_000];
                new java.util.Random(1).nextBytes(big);
                ws.send(big);
                WebSocket.Message b = ws.receive();
                assertFalse(b.isText());
                assertArrayEquals(big, b.bytes());
                ws.send("é ✓ 😀");
                String c = ws.receive().text();
                ws.close(1000, "done");
                assertNull(ws.receive());
                assertEquals(1000, ws.closeCode());
                return a + "|" + c;
            }
        });
        assertEquals("hello|é ✓ 😀", r);
        assertEquals("1000 done", ended.get(10, TimeUnit.SECONDS));
    }

    /**
     * A received message is the receiver's to keep: still whole after the next receives (its payload is not the
     * frame's buffer, which is reused or released), readable as a read-only view without a copy.
     */
    @Test
    void messagesStayValidAfterLaterReceivesAndOfferABufferView() throws Exception {
        String r = clientLoop.run(() -> {
            try (HttpClient client = HttpClient.create(clientLoop);
                 WebSocket ws = client.webSocket(HttpClient.Request.get(base() + "/echo"), WebSocketOptions.defaults().compression(false))) {
                List<WebSocket.Message> kept = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    byte[] data = new byte[1024];
                    java.util.Arrays.fill(data, (byte) i);
                    ws.send(data);
                    ws.send("text " + i);
                    kept.add(ws.receive());
                    kept.add(ws.receive());
                }
                for (int i = 0; i < 50; i++) {
                    WebSocket.Message b = kept.get(2 * i);
                    java.nio.ByteBuffer view = b.buffer();
                    assertTrue(view.isReadOnly());
                    assertEquals(1024, view.remaining());
                    for (int j = 0; j < 1024; j++) {
                        assertEquals((byte) i, view.get(j), "message " + i + " byte " + j);
                    }
                    assertEquals(1024, b.length());
                    assertEquals("text " + i, kept.get(2 * i + 1).text());
                    assertEquals("text " + i, StandardCharsets.UTF_8.decode(kept.get(2 * i + 1).buffer()).toString());
                }
                return "ok";
            }
        });
        assertEquals("ok", r);
    }

    @Test
    void subprotocolsQueryAndNoCompression() throws Exception {
        String r = clientLoop.run(() -> {
            try (HttpClient client = HttpClient.create(clientLoop)) {
                WebSocket ws = client.webSocket(HttpClient.Request.get(base() + "/proto?name=ann"),
                        WebSocketOptions.defaults().subprotocols("v1", "v2"));
                String got = ws.receive().text() + " " + ws.subprotocol() + " " + ws.compressed();
                assertNull(ws.receive(), "the handler returned: closed");
                assertEquals(1000, ws.closeCode());
                return got;
            }
        });
        assertEquals("v2 false ann v2 false", r);
    }

    @Test
    void refusedUpgrades() throws Exception {
        String r = clientLoop.run(() -> {
            try (HttpClient client = HttpClient.create(clientLoop)) {
                IOException e = assertThrows(IOException.class, () -> client.webSocket(base() + "/origin"));
                WebSocket ok = client.webSocket(HttpClient.Request.get(base() + "/origin").header("Origin", "https://ok.example"),
                        WebSocketOptions.defaults());
                String hi = ok.receive().text();
                IOException none = assertThrows(IOException.class, () -> client.webSocket(base() + "/plain"));
                return e.getMessage() + " | " + hi + " | " + none.getMessage();
            }
        });
        assertTrue(r.contains("403"), r);
        assertTrue(r.contains("| hi |"), r);
        var plainGet = WebClients.get(served.port(), "/echo");
        assertEquals(426, plainGet.statusCode());
        assertEquals("websocket", plainGet.headers().firstValue("Upgrade").orElse(null));
    }

    @Test
    void handlerEndingsBecomeCloseCodes() throws Exception {
        String r = clientLoop.run(() -> {
            try (HttpClient client = HttpClient.create(clientLoop)) {
                WebSocket fails = client.webSocket(base() + "/fails");
                fails.send("go");
                assertNull(fails.receive());
                WebSocket closes = client.webSocket(base() + "/closes");
                assertNull(closes.receive());
                IOException late = assertThrows(IOException.class, () -> closes.send("too late"));
                return fails.closeCode() + " " + closes.closeCode() + " " + closes.closeReason() + " " + late.getMessage().contains("closed");
            }
        });
        assertEquals("1011 4001 bye now true", r);
    }

    @Test
    void receiveTimeoutLeavesTheSocketUsable() throws Exception {
        String r = clientLoop.run(() -> {
            try (HttpClient client = HttpClient.create(clientLoop)) {
                WebSocket ws = client.webSocket(base() + "/echo");
                assertThrows(SocketTimeoutException.class, () -> ws.receive(Duration.ofMillis(50)));
                ws.send("after");
                return ws.receive(Duration.ofSeconds(5)).text();
            }
        });
        assertEquals("after", r);
    }

    @Test
    void aSlowReaderMakesTheSenderWait() throws Exception {
        serverSent.set(0);
        flooderStalled = new CompletableFuture<>();
        clientLoop.run(() -> {
            try (HttpClient client = HttpClient.create(clientLoop)) {
                WebSocket ws = client.webSocket(HttpClient.Request.get(base() + "/flood"),
                        WebSocketOptions.defaults().compression(false).maxMessageSize(64 * 1024));
                WebSocket.Message first = ws.receive();
                assertEquals(16 * 1024, first.length());
                // do not read: the server's sender must come to a stop (it is suspended in send)
                long stalledAt = -1;
                while (serverSent.get() != stalledAt) {
                    stalledAt = serverSent.get();
                    Fibers.sleep(Duration.ofMillis(200));
                }
                assertTrue(stalledAt < 32 * 1024 * 1024, "bounded by the kernel's socket buffers and the high-water mark: " + stalledAt);
                for (int i = 0; i < 300; i++) {
                    ws.receive();
                }
                assertTrue(serverSent.get() > stalledAt, "reading lets it go on");
            }
            return null;
        });
    }

    @Test
    void idleTimeoutClosesWith1001() throws Exception {
        ended = new CompletableFuture<>();
        String r = clientLoop.run(() -> {
            try (HttpClient client = HttpClient.create(clientLoop)) {
                WebSocket ws = client.webSocket(HttpClient.Request.get(base() + "/idle"),
                        WebSocketOptions.defaults().pingInterval(Duration.ZERO));
                assertNull(ws.receive());
                return ws.closeCode() + " " + ws.closeReason();
            }
        });
        assertEquals("1001 idle timeout", r);
        assertEquals("1001 idle timeout", ended.get(10, TimeUnit.SECONDS));
    }

    /**
     * The client's pings and the server's pongs on a clock that moves only when the test moves it,
     * so that no pause of a loaded machine counts as idleness. The server is this test, at the other
     * end of a raw socket: it sees each ping and answers it, then stops answering.
     */
    @Test
    void pingsKeepAnIdleTimeoutAway() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = NettyLoops.builder().name("ws-pinger").clock(clock).build();
             ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> upgraded = new CompletableFuture<>();
            CompletableFuture<Void> goOn = new CompletableFuture<>();
            CompletableFuture<Void> echoed = new CompletableFuture<>();
            Task<String> client = Fibers.spawn(loop, () -> {
                try (HttpClient http = HttpClient.create(loop)) {
                    // the client pings every 50 ms; the pongs count as traffic for its idle timeout of 200 ms
                    WebSocket ws = http.webSocket(HttpClient.Request.get("ws://127.0.0.1:" + listener.getLocalPort() + "/"),
                            WebSocketOptions.defaults().compression(false).pingInterval(Duration.ofMillis(50))
                                    .idleTimeout(Duration.ofMillis(200)));
                    upgraded.complete(null);
                    Fibers.await(goOn);
                    ws.send("alive");
                    String echo = ws.receive().text() + " " + ws.isOpen();
                    echoed.complete(null); // read at 600 ms: the last traffic
                    assertNull(ws.receive(), "the idle timeout ends the session");
                    return echo + ", then " + ws.closeCode() + " " + ws.closeReason();
                }
            });
            try (Socket s = listener.accept()) {
                s.setSoTimeout(10_000);
                ServerEnd server = new ServerEnd(s);
                upgraded.get(10, TimeUnit.SECONDS);
                for (int ms = 50; ms <= 600; ms += 50) { // three idle timeouts, each ping answered
                    clock.advance(Duration.ofMillis(50));
                    RawWebSocket.Frame ping = server.read();
                    assertEquals(RawWebSocket.PING, ping.opcode(), "at " + ms + " ms");
                    server.write(RawWebSocket.PONG, ping.payload());
                }
                loop.execute(() -> goOn.complete(null));
                assertEquals("alive", server.read().text());
                server.write(RawWebSocket.TEXT, "alive".getBytes(StandardCharsets.UTF_8));
                echoed.get(10, TimeUnit.SECONDS); // before the clock moves on, or the client reads it later
                for (int ms = 650; ms <= 750; ms += 50) { // pings no longer answered
                    clock.advance(Duration.ofMillis(50));
                    assertEquals(RawWebSocket.PING, server.read().opcode(), "at " + ms + " ms");
                }
                clock.advance(Duration.ofMillis(50)); // 800 ms: 200 ms without traffic
                RawWebSocket.Frame close = server.read();
                assertEquals(RawWebSocket.CLOSE, close.opcode());
                assertEquals(1001, close.closeCode());
                server.write(RawWebSocket.CLOSE, close.payload());
                s.close(); // a server ends the connection after the closing handshake
                assertEquals("alive true, then 1001 idle timeout", client.get(10, TimeUnit.SECONDS));
            }
        }
    }

    /** The server's end of a WebSocket over a raw socket: answers the upgrade, reads the client's masked frames, writes plain ones. */
    private static final class ServerEnd {
        private final DataInputStream in;
        private final OutputStream out;

        ServerEnd(Socket s) throws Exception {
            in = new DataInputStream(new java.io.BufferedInputStream(s.getInputStream()));
            out = s.getOutputStream();
            String key = null;
            for (String line; !(line = readLine()).isEmpty(); ) {
                if (line.toLowerCase(java.util.Locale.ROOT).startsWith("sec-websocket-key:")) {
                    key = line.substring(line.indexOf(':') + 1).trim();
                }
            }
            byte[] sha1 = java.security.MessageDigest.getInstance("SHA-1")
                    .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
                    + java.util.Base64.getEncoder().encodeToString(sha1) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        private String readLine() throws IOException {
            StringBuilder sb = new StringBuilder();
            for (int c; (c = in.read()) != '\n'; ) {
                if (c < 0) {
                    throw new java.io.EOFException("the client left during its upgrade request: " + sb);
                }
                sb.append((char) c);
            }
            return sb.toString().strip();
        }

        /** Reads one frame of the client (masked, short). */
        RawWebSocket.Frame read() throws IOException {
            int b0 = in.readUnsignedByte();
            int b1 = in.readUnsignedByte();
            assertTrue((b1 & 0x80) != 0 && (b1 & 0x7f) < 126, "a client sends masked frames (short ones here)");
            byte[] mask = in.readNBytes(4);
            byte[] payload = in.readNBytes(b1 & 0x7f);
            for (int i = 0; i < payload.length; i++) {
                payload[i] ^= mask[i & 3];
            }
            return new RawWebSocket.Frame((b0 & 0x80) != 0, b0 & 0x0f, payload);
        }

        void write(int opcode, byte[] payload) throws IOException {
            out.write(RawWebSocket.encode(true, opcode, payload, false));
            out.flush();
        }
    }

    @Test
    void selectOnTheSocketAndAChannel() throws Exception {
        String r = clientLoop.run(() -> {
            try (HttpClient client = HttpClient.create(clientLoop)) {
                WebSocket ws = client.webSocket(base() + "/select");
                ws.send("a");
                ws.send("b");
                return ws.receive().text();
            }
        });
        assertEquals("msg a,msg b,tick 0,tick 1,tick 2", r);
    }

    @Test
    void aClientLeavingWhileTheHandlerSendsIsNotAnError() throws Exception {
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(HttpServer.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> errors = new ch.qos.logback.core.read.ListAppender<>();
        errors.start();
        log.addAppender(errors);
        try {
            clientLoop.run(() -> {
                try (HttpClient client = HttpClient.create(clientLoop)) {
                    WebSocket ws = client.webSocket(HttpClient.Request.get(base() + "/spam"), WebSocketOptions.defaults().compression(false));
                    assertEquals("spam", ws.receive().text());
                    ws.close(1000, "enough");
                }
                return null;
            });
            while (served.server().activeRequests() > 0) {
                Thread.sleep(20); // the session's exchange ends after its handler's exception was handled
            }
            assertTrue(errors.list.stream().noneMatch(e -> e.getLevel() == ch.qos.logback.classic.Level.ERROR),
                    "logged: " + errors.list);
        } finally {
            log.detachAppender(errors);
        }
    }

    @Test
    void serverShutdownSays1001() throws Exception {
        try (EventLoop l = NettyLoops.newLoop()) {
            CompletableFuture<Void> open = new CompletableFuture<>();
            HttpServer s = HttpServer.builder().loop(l).port(0).websocket("/w", ws -> {
                open.complete(null);
                while (ws.receive() != null) {
                    // until closed
                }
            }).start();
            CompletableFuture<String> got = new CompletableFuture<>();
            var t = Fibers.spawn(clientLoop, () -> {
                try (HttpClient client = HttpClient.create(clientLoop)) {
                    WebSocket ws = client.webSocket("ws://127.0.0.1:" + s.port() + "/w");
                    assertNull(ws.receive());
                    got.complete(ws.closeCode() + " " + ws.closeReason());
                }
                return null;
            });
            open.get(10, TimeUnit.SECONDS);
            long t0 = System.nanoTime();
            s.close(Duration.ofSeconds(10));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(8), "the WebSocket did not hold the close for its grace");
            assertEquals("1001 server shutting down", got.get(10, TimeUnit.SECONDS));
            t.get(10, TimeUnit.SECONDS);
        }
    }
}
