package io.fiberloop.samples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.http.HttpClient;
import io.fiberloop.netty.http.HttpServer;
import io.fiberloop.netty.http.WebSocket;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's pages in a real browser: headless Chromium (Debian's package) loads
 * {@code /static/events.html}, whose {@code EventSource} counts the demo's {@code /events}, and the
 * {@code /chat} page, whose WebSocket talks with a fiber client in the same room. The test drives
 * Chromium through its DevTools protocol, over fiberloop's own WebSocket client.
 */
@Timeout(120)
class BrowserTest {
    private static final Pattern DEVTOOLS = Pattern.compile("DevTools listening on (ws://\\S+)");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path profile;
    static EventLoop loop;
    static HttpServer server;
    static Process chromium;
    static String devtools;

    @BeforeAll
    static void start() throws Exception {
        Path exe = Path.of("/usr/bin/chromium");
        Assumptions.assumeTrue(Files.isExecutable(exe), "Chromium is not installed: skipping the browser test (apt-get install chromium)");
        loop = NettyLoops.builder().name("browser-test").build();
        server = HttpDemo.routes(HttpServer.builder().loop(loop).port(0)).start();
        chromium = new ProcessBuilder(exe.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--user-data-dir=" + profile, "--remote-debugging-port=0", "about:blank")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        CompletableFuture<String> url = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader err = new BufferedReader(new InputStreamReader(chromium.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = err.readLine()) != null; ) {
                    Matcher m = DEVTOOLS.matcher(line);
                    if (m.find()) {
                        url.complete(m.group(1));
                    }
                }
                url.completeExceptionally(new IOException("Chromium ended without a DevTools address"));
            } catch (IOException e) {
                url.completeExceptionally(e);
            }
        }, "chromium-stderr");
        reader.setDaemon(true);
        reader.start();
        devtools = url.get(60, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        if (chromium != null) {
            chromium.destroy();
            if (!chromium.waitFor(10, TimeUnit.SECONDS)) {
                chromium.destroyForcibly().waitFor();
            }
        }
        if (server != null) {
            server.close();
            loop.close();
        }
    }

    /** One page of the browser, driven through the DevTools protocol (flattened sessions). */
    private static final class Page {
        private final WebSocket ws;
        private String session;
        private int ids;

        Page(WebSocket ws) {
            this.ws = ws;
        }

        JsonNode call(String method, ObjectNode params) throws IOException {
            int id = ++ids;
            ObjectNode msg = JSON.createObjectNode().put("id", id).put("method", method);
            msg.set("params", params == null ? JSON.createObjectNode() : params);
            if (session != null) {
                msg.put("sessionId", session);
            }
            ws.send(JSON.writeValueAsString(msg));
            for (WebSocket.Message m; (m = ws.receive(Duration.ofSeconds(30))) != null; ) {
                JsonNode n = JSON.readTree(m.text());
                if (n.path("id").asInt() == id) {
                    if (n.has("error")) {
                        throw new IOException(method + " failed: " + n.get("error"));
                    }
                    return n.path("result");
                }
            }
            throw new IOException("the DevTools connection closed");
        }

        void open(String url) throws IOException {
            String target = call("Target.createTarget", JSON.createObjectNode().put("url", url)).path("targetId").asText();
            session = call("Target.attachToTarget", JSON.createObjectNode().put("targetId", target).put("flatten", true))
                    .path("sessionId").asText();
        }

        String eval(String expression) throws IOException {
            JsonNode r = call("Runtime.evaluate", JSON.createObjectNode().put("expression", expression).put("returnByValue", true));
            return r.path("result").path("value").asText();
        }

        /** Evaluates {@code expression} every 100 ms until it is true (the test's timeout bounds it). */
        void await(String expression) throws IOException {
            while (!eval(expression).equals("true")) {
                Fibers.sleep(Duration.ofMillis(100));
            }
        }
    }

    @Test
    void eventSourceCountsTheDemosEvents() throws Exception {
        String base = "http://127.0.0.1:" + server.port();
        String count = loop.run(() -> {
            try (HttpClient client = HttpClient.create(loop)) {
                Page page = new Page(client.webSocket(devtools));
                page.open(base + "/static/events.html");
                page.await("Number(document.getElementById('count').textContent) >= 3");
                return page.eval("document.getElementById('count').textContent + ' ' + document.getElementById('last').textContent");
            }
        });
        String[] parts = count.split(" ");
        assertTrue(Integer.parseInt(parts[0]) >= 3 && Integer.parseInt(parts[1]) >= 3, "the page counted: " + count);
    }

    @Test
    void chatPageTalksWithAFiberClient() throws Exception {
        String base = "http://127.0.0.1:" + server.port();
        String log = loop.run(() -> {
            try (HttpClient client = HttpClient.create(loop)) {
                Page page = new Page(client.webSocket(devtools));
                page.open(base + "/chat?name=alice");
                page.await("document.getElementById('log').textContent.includes('* connected')");
                WebSocket bob = client.webSocket("ws://127.0.0.1:" + server.port() + "/chat/ws?name=bob");
                page.await("document.getElementById('log').textContent.includes('* bob joined')");
                bob.send("hi alice");
                page.await("document.getElementById('log').textContent.includes('bob: hi alice')");
                page.eval("ws.send('hello bob'), true");
                for (WebSocket.Message m; (m = bob.receive(Duration.ofSeconds(30))) != null; ) {
                    if (m.text().equals("alice: hello bob")) {
                        break;
                    }
                }
                bob.close();
                page.await("document.getElementById('log').textContent.includes('* bob left')");
                return page.eval("document.getElementById('log').textContent");
            }
        });
        assertTrue(log.contains("bob: hi alice") && log.contains("alice: hello bob") && log.contains("* bob left"), log);
    }
}
