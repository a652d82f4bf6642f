package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.netty.NoLeaks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The WebSocket server against clients no one here wrote: Node's {@code ws} package (installed
 * from the npm registry into {@code target/}) and Python's {@code websockets} (Debian's
 * {@code python3-websockets}): echo of text, binary and fragmented messages, pings,
 * permessage-deflate, subprotocols, close codes (1000/4000, 1009, 1007, 1011, a handler's own),
 * a refused origin, and an abrupt disconnect. Each client prints one line per check.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class WebSocketClientsTest {
    static Served served;
    static final BlockingQueue<String> ends = new LinkedBlockingQueue<>();

    @BeforeAll
    static void start() throws Exception {
        WebSocketOptions opts = WebSocketOptions.defaults().maxMessageSize(300 * 1024);
        served = Served.start("ws-clients", b -> b
                .websocket("/echo", opts, ws -> {
                    for (WebSocket.Message m; (m = ws.receive()) != null; ) {
                        ws.send(m);
                    }
                    ends.add(ws.closeCode() + " " + ws.closeReason());
                })
                .websocket("/proto", opts.subprotocols("v2", "v1"), ws -> ws.send("hello " + ws.subprotocol()))
                .websocket("/fail", opts, ws -> {
                    ws.receive();
                    throw new IllegalStateException("planted");
                })
                .websocket("/closes", opts, ws -> ws.close(4001, "closed by the handler"))
                .websocket("/origin", opts.allowOrigin(o -> o == null || o.startsWith("http://127.0.0.1")), ws -> ws.send("hi")));
    }

    @AfterAll
    static void stop() {
        served.close();
    }

    private static Map<String, String> lines(String out) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            int c = line.indexOf(": ");
            if (c > 0) {
                m.put(line.substring(0, c), line.substring(c + 2));
            }
        }
        return m;
    }

    @Test
    void nodeWs() throws Exception {
        Assumptions.assumeTrue(WebClients.onPath("node") && WebClients.onPath("npm"),
                "node and npm are not installed: skipping the Node ws conformance run (install Node.js 18+ with npm)");
        Path dir = Path.of("target", "node-ws");
        Files.createDirectories(dir);
        Path src = Path.of("src", "test", "node");
        for (String f : new String[] {"package.json", "ws-client.mjs"}) {
            Files.copy(src.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        if (!Files.isDirectory(dir.resolve("node_modules").resolve("ws"))) {
            WebClients.Run install = WebClients.run(Duration.ofMinutes(3), dir, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error");
            assertEquals(0, install.exit(), "npm install ws failed: " + install);
        }
        ends.clear();
        WebClients.Run r = WebClients.run(Duration.ofMinutes(1), dir, "node", "ws-client.mjs", "ws://127.0.0.1:" + served.port());
        Map<String, String> got = lines(r.out());
        assertEquals("ok", got.get("done"), r.toString());
        assertEquals("permessage-deflate", got.get("extensions"));
        assertEquals("text hello from node ✓", got.get("text"));
        assertEquals("binary 0,1,2,254,255", got.get("binary"));
        assertEquals("fragmented", got.get("fragmented"));
        assertEquals("are you there", got.get("pong"));
        assertEquals("204800 true", got.get("big"));
        assertEquals("4000 ", got.get("close"), "the server echoes the code");
        assertEquals("v2 hello v2", got.get("protocol"));
        assertEquals("1000 ", got.get("proto-close"));
        assertTrue(got.get("too-big").startsWith("1009 "), r.toString());
        assertTrue(got.get("bad-utf8").startsWith("1007 "), r.toString());
        assertEquals("1011 internal server error", got.get("fail"));
        assertEquals("4001 closed by the handler", got.get("closes"));
        assertTrue(got.get("origin").contains("403"), r.toString());
        assertEndsSeen("4000 node done", "1009 ", "1007 ", "1006 ");
    }

    @Test
    void pythonWebsockets() throws Exception {
        String python = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
        WebClients.Run probe = WebClients.run(Duration.ofSeconds(30), null, python, "-c", "import websockets");
        Assumptions.assumeTrue(probe.exit() == 0,
                "Python's websockets is not installed: skipping its conformance run (apt-get install python3-websockets)");
        ends.clear();
        WebClients.Run r = WebClients.run(Duration.ofMinutes(1), null, python, Path.of("src", "test", "python", "ws_client.py").toString(),
                "ws://127.0.0.1:" + served.port());
        Map<String, String> got = lines(r.out());
        assertEquals("ok", got.get("done"), r.toString());
        assertEquals("permessage-deflate", got.get("extensions"));
        assertEquals("hello from python ✓", got.get("text"));
        assertEquals("bytes 0,1,2,254,255", got.get("binary"));
        assertEquals("fragmented", got.get("fragmented"));
        assertEquals("ok", got.get("pong"));
        assertEquals("204800 True", got.get("big"));
        assertEquals("4000 ", got.get("close"), "the server echoes the code");
        assertEquals("v2 hello v2", got.get("protocol"));
        assertEquals("1000 ", got.get("proto-close"));
        assertTrue(got.get("too-big").startsWith("1009 "), r.toString());
        assertEquals("1011 internal server error", got.get("fail"));
        assertEquals("4001 closed by the handler", got.get("closes"));
        assertEquals("HTTP 403", got.get("origin"));
        assertEndsSeen("4000 python done", "1009 ");
    }

    private static void assertEndsSeen(String... prefixes) throws InterruptedException {
        StringBuilder seen = new StringBuilder();
        for (String p : prefixes) {
            boolean found = false;
            for (int i = 0; i < 10 && !found; i++) {
                String e = ends.poll(10, TimeUnit.SECONDS);
                if (e == null) {
                    break;
                }
                seen.append('[').append(e).append(']');
                found = e.startsWith(p);
            }
            assertTrue(found, "the echo handler saw the end '" + p + "': " + seen);
        }
    }
}
