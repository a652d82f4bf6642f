package io.fiberloop.jackson;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.http.HttpResponse;
import io.fiberloop.netty.http.HttpServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * JSON binding through the codec the server finds by itself, with the JDK's client and a raw socket.
 * (The body paths under it are netty-bridge's, whose tests check them for leaks under PARANOID.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JsonBindingTest {
    record User(String name, int age) {
    }

    record Item(long id, String label) {
    }

    static EventLoop loop;
    static HttpServer server;
    static final HttpClient jdk = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static volatile CompletableFuture<Void> firstParsed = new CompletableFuture<>();
    static volatile CompletableFuture<Void> clientGotFirst = new CompletableFuture<>();

    @BeforeAll
    static void start() throws Exception {
        loop = NettyLoops.newLoop();
        server = HttpServer.builder().loop(loop).port(0)
                .post("/users", req -> {
                    User u = req.body(User.class);
                    return HttpResponse.json(new User(u.name().toUpperCase(), u.age() + 1)).withStatus(201);
                })
                .post("/items/count", req -> {
                    long n = 0;
                    long sum = 0;
                    for (Iterator<Item> it = req.bodyArray(Item.class); it.hasNext(); ) {
                        Item i = it.next();
                        if (n++ == 0) {
                            firstParsed.complete(null);
                        }
                        sum += i.id();
                    }
                    return HttpResponse.json(new long[] {n, sum});
                })
                .get("/items", req -> {
                    long count = req.queryParam("n", Long.class, 10L);
                    return HttpResponse.jsonArray(new Iterator<Item>() {
                        long i;

                        @Override
                        public boolean hasNext() {
                            return i < count;
                        }

                        @Override
                        public Item next() {
                            if (i == 1000) {
                                // the first thousand items must reach the client before the rest is made
                                io.fiberloop.fiber.Fibers.await(clientGotFirst);
                            }
                            if (i >= count) {
                                throw new NoSuchElementException();
                            }
                            return new Item(i, "item " + i++);
                        }
                    });
                })
                .get("/raw", req -> HttpResponse.json("{\"already\":\"json\"}"))
                .onError(NoSuchElementException.class, (req, e) -> HttpResponse.error(404, "none\n"))
                .start();
    }

    @AfterAll
    static void stop() {
        server.close();
        loop.close();
    }

    static java.net.http.HttpResponse<String> post(String path, String body) throws Exception {
        return jdk.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .header("Content-Type", "application/json").POST(BodyPublishers.ofString(body)).build(), BodyHandlers.ofString());
    }

    @Test
    void bindsARecordAndAnswersJson() throws Exception {
        var r = post("/users", "{\"name\":\"ann\",\"age\":41}");
        assertEquals(201, r.statusCode());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(null));
        assertEquals("{\"name\":\"ANN\",\"age\":42}", r.body());
        var raw = jdk.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/raw")).build(), BodyHandlers.ofString());
        assertEquals("{\"already\":\"json\"}", raw.body(), "a String is JSON text already");
    }

    @Test
    void badJsonIs400WithAShortMessage() throws Exception {
        String[][] cases = {
            {"{\"name\":\"ann\",\"age\":\"x\"}", "age"},
            {"{\"name\":\"ann\",\"age\":4", "end-of-input"},
            {"not json", "Unrecognized token"},
            {"", "No content"},
            {"{\"name\":\"ann\",\"age\":1,\"admin\":true}", "admin"},
            {"{\"name\":\"ann\"}", "age"},
            {"{\"name\":\"ann\",\"age\":1} trailing", "trailing"},
            {"[1,2]", "User"},
        };
        for (String[] c : cases) {
            var r = post("/users", c[0]);
            assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
            assertTrue(r.body().startsWith("bad JSON body: "), r.body());
            assertTrue(r.body().contains(c[1]), c[0] + " -> " + r.body());
            assertTrue(r.body().length() < 400, "short: " + r.body());
        }
    }

    @Test
    void aLargeArrayIsParsedAsItArrives() throws Exception {
        firstParsed = new CompletableFuture<>();
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /items/count HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            chunk(out, "[{\"id\":1,\"label\":\"first\"}");
            out.flush();
            firstParsed.get(10, TimeUnit.SECONDS); // parsed before the rest of the body was even sent
            long expected = 1;
            StringBuilder sb = new StringBuilder();
            for (int i = 2; i <= 200_000; i++) {
                sb.append(",{\"id\":").append(i).append(",\"label\":\"item number ").append(i).append("\"}");
                expected += i;
                if (sb.length() > 60_000) {
                    chunk(out, sb.toString());
                    sb.setLength(0);
                }
            }
            chunk(out, sb + "]");
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("HTTP/1.1 200 OK", in.readLine());
            String line;
            while (!(line = in.readLine()).isEmpty()) {
                // headers
            }
            char[] body = new char[64];
            int n = in.read(body);
            assertEquals("[200000," + expected + "]", new String(body, 0, n));
        }
    }

    private static void chunk(OutputStream out, String s) throws java.io.IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write((Integer.toHexString(b.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(b);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void aLargeArrayIsStreamedOut() throws Exception {
        clientGotFirst = new CompletableFuture<>();
        var r = jdk.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/items?n=100000")).build(),
                BodyHandlers.ofInputStream());
        assertEquals("chunked", r.headers().firstValue("Transfer-Encoding").orElse(null));
        try (var in = r.body()) {
            byte[] first = in.readNBytes(16 * 1024); // within the first thousand items, which the server made before it waits
            assertTrue(new String(first, StandardCharsets.UTF_8).startsWith("[{\"id\":0,\"label\":\"item 0\"},{\"id\":1,"));
            clientGotFirst.complete(null);
            byte[] rest = in.readAllBytes();
            String all = new String(first, StandardCharsets.UTF_8) + new String(rest, StandardCharsets.UTF_8);
            List<?> items = new com.fasterxml.jackson.databind.ObjectMapper().readValue(all, List.class);
            assertEquals(100_000, items.size());
        }
    }

    @Test
    void theCodecIsFoundByItself() {
        assertTrue(java.util.ServiceLoader.load(io.fiberloop.netty.http.JsonCodec.class).findFirst().orElseThrow() instanceof JacksonCodec);
    }
}
