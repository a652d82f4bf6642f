package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.channel.Channel;
import io.fiberloop.fiber.channel.Select;
import io.fiberloop.fiber.sync.Lock;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

/**
 * The snippets of docs/http.md marked "compiled", verbatim: this file compiles them, and
 * {@link #everyMarkedSnippetIsHereVerbatim()} fails when the page and this file drift apart.
 */
class DocSnippetsTest {
    /** What the snippets use: a store of items and a chat room. */
    record Item(long id, String name) {
    }

    record NewItem(String name) {
    }

    interface Store {
        Item add(NewItem item);

        void save(Item item);

        Iterator<Item> all();

        Item get(long id);

        List<Item> page(int page);
    }

    interface Room {
        void broadcast(String line);
    }

    void webSocketEcho() throws IOException {
        HttpServer server = HttpServer.builder()
                .websocket("/ws/echo", ws -> {
                    for (WebSocket.Message msg; (msg = ws.receive()) != null; ) {   // null once closed
                        ws.send(msg);                                                 // waits while the client is slow
                    }
                })
                .start();
        server.close();
    }

    void webSocketOptions(HttpServerBuilder builder) {
        WebSocketOptions options = WebSocketOptions.defaults()
                .maxMessageSize(64 * 1024)
                .subprotocols("chat.v2", "chat.v1")                          // the server's preference first
                .allowOrigin(origin -> "https://chat.example.com".equals(origin))   // else 403
                .pingInterval(Duration.ofSeconds(20))
                .idleTimeout(Duration.ofSeconds(60));
        builder.websocket("/chat/{room}", options, ws -> {
            String room = ws.request().pathParam("room");
            ws.send("welcome to " + room + " (" + ws.subprotocol() + ")");
        });
    }

    void webSocketSelect(WebSocket ws, Room room) {
        Channel<String> outbox = Channel.buffered(256);          // what the room sends this member
        Channel<WebSocket.Message> in = ws.messages();
        for (boolean open = true; open; ) {
            open = Select.<Boolean>create()
                    .onReceiveOrNull(in, m -> {                     // null: the socket closed
                        if (m != null) {
                            room.broadcast(m.text());
                        }
                        return m != null;
                    })
                    .onReceive(outbox, line -> {
                        send(ws, line);                         // ws.send, its IOException caught (the socket side sees the close)
                        return true;
                    })
                    .run();
        }
    }

    static void send(WebSocket ws, String line) {
        try {
            ws.send(line);
        } catch (IOException e) {
            // the member left
        }
    }

    void webSocketClient(EventLoop loop) throws IOException {
        try (HttpClient client = HttpClient.create(loop);
             WebSocket ws = client.webSocket("ws://127.0.0.1:8080/ws/echo")) {
            ws.send("hello");
            String echo = ws.receive().text();
        }
    }

    void serverSentEvents(HttpServerBuilder builder) {
        builder.get("/events", req -> HttpResponse.events(sink -> {
            long n = sink.lastEventId() == null ? 0 : Long.parseLong(sink.lastEventId());   // a reconnecting browser
            sink.retry(Duration.ofSeconds(2));
            while (true) {
                n++;
                sink.event("tick", Instant.now().toString(), Long.toString(n));   // name, data, id
                Fibers.sleep(Duration.ofSeconds(1));
            }
        }));
    }

    void json(HttpServerBuilder builder) {
        record User(String name, int age) { }

        builder.post("/users", req -> {
            User u = req.body(User.class);                      // malformed or mistyped JSON: 400, never 500
            return HttpResponse.json(u).withStatus(201).header("Location", "/users/" + u.name());
        });
    }

    void jsonArrays(HttpServerBuilder builder, Store store) {
        builder.post("/items/import", req -> {
            long n = 0;
            for (Iterator<Item> it = req.bodyArray(Item.class); it.hasNext(); n++) {   // parsed as the bytes arrive
                store.save(it.next());
            }
            return HttpResponse.json(Map.of("imported", n));
        });
        builder.get("/items/export", req -> HttpResponse.jsonArray(store.all()));  // chunked, with backpressure
    }

    void errorMapping(HttpServerBuilder builder, Store store) {
        builder.get("/items/{id}", req -> HttpResponse.json(store.get(req.pathParam("id", Long.class))))   // "abc": 400
               .get("/items", req -> HttpResponse.json(store.page(req.queryParam("page", Integer.class, 1))))
               .onError(NoSuchElementException.class, (req, e) -> HttpResponse.error(404, e.getMessage() + "\n"))
               .onError(IllegalArgumentException.class, (req, e) -> HttpResponse.error(400, e.getMessage() + "\n"));
    }

    void staticFiles(HttpServerBuilder builder) {
        builder.get("/static/*", StaticFiles.classpath("static"))                  // static/app.js in the jar
               .get("/files/*", StaticFiles.directory(Path.of("public")).cacheControl("max-age=3600"))
               .get("/report.pdf", req -> HttpResponse.file(Path.of("reports/latest.pdf")));
    }

    void compression() {
        HttpServer.builder().compression(Compression.defaults().minSize(1024).level(6));
    }

    void cors(HttpServerBuilder builder) {
        builder.cors(Cors.builder()
                .allowOrigins("https://app.example.com")
                .allowMethods("GET", "POST", "DELETE")
                .allowHeaders("Content-Type", "Authorization")
                .exposeHeaders("Location")
                .maxAge(Duration.ofHours(1))
                .build());
    }

    void readmeTour(Store store) {
        HttpServerBuilder tour = HttpServer.builder()
        .post("/api/items", req -> {                                   // JSON (add io.fiberloop:fiberloop-jackson)
            NewItem n = req.body(NewItem.class);                          // bad JSON: 400, never 500
            Item item = store.add(n);
            return HttpResponse.json(item).withStatus(201).header("Location", "/api/items/" + item.id());
        })
        .get("/api/items/{id}", req -> HttpResponse.json(store.get(req.pathParam("id", Long.class))))   // "x": 400
        .onError(NoSuchElementException.class, (req, e) -> HttpResponse.error(404, e.getMessage()))
        .websocket("/ws/echo", ws -> {                                  // WebSockets, blocking style
            for (WebSocket.Message msg; (msg = ws.receive()) != null; ) {
                ws.send(msg);                                               // suspends while the client is slow
            }
        })
        .get("/events", req -> HttpResponse.events(sink -> {            // server-sent events
            for (long n = 1; ; n++) {
                sink.event("tick", Instant.now().toString(), Long.toString(n));
                Fibers.sleep(Duration.ofSeconds(1));
            }
        }))
        .get("/static/*", StaticFiles.classpath("static"))              // ETag/304, Range/206, no traversal
        .compression(Compression.defaults())                            // gzip/deflate by Accept-Encoding
        .cors(Cors.builder().allowOrigins("https://app.example.com").build());
        assertTrue(tour != null);
    }

    private static List<String> stripped(List<String> lines) {
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            if (!l.isBlank()) {
                out.add(l.strip());
            }
        }
        return out;
    }

    /** docs/operations.md: shutting down gracefully, health checks. */
    void operations() throws IOException {
        {
            HttpServer server = HttpServer.builder().port(8080).get("/", req -> HttpResponse.text("hi")).start();
            server.closeOnShutdown(Duration.ofSeconds(10));   // kill -TERM drains for up to 10 s, then exits
            server.close();
        }
        {
            HttpServer server = HttpServer.builder().port(8080)
                    .health("/health")
                    .get("/", req -> HttpResponse.text("hi"))
                    .start();
            server.close();
        }
        {
            EventLoop app = NettyLoops.builder().name("app").build();
            EventLoop management = NettyLoops.builder().name("management").build();
            HttpServer server = HttpServer.builder().loop(app).port(8080).get("/", req -> HttpResponse.text("hi")).start();
            HttpServer probes = HttpServer.builder().loop(management).port(8081).health("/health", server.loops()).start();
            probes.close();
            server.close();
        }
    }

    /** docs/operations.md: a named lock for the FiberParkedHoldingLock event. */
    Lock namedLock() {
        Lock accounts = Lock.named("accounts");   // "Lock 'accounts'" in the event; unnamed: "Lock@1b6d3586"
        return accounts;
    }

    @Test
    void everyMarkedSnippetIsHereVerbatim() throws IOException {
        assertTrue(check(Path.of("..", "docs", "http.md")) >= 11, "compiled snippets in docs/http.md");
        assertTrue(check(Path.of("..", "README.md")) >= 1, "compiled snippets in README.md");
        assertTrue(check(Path.of("..", "docs", "operations.md")) >= 4, "compiled snippets in docs/operations.md");
    }

    /** Checks every snippet marked "compiled" in {@code doc}; returns how many there are. */
    private static int check(Path doc) throws IOException {
        List<String> page = Files.readAllLines(doc);
        List<String> me = stripped(Files.readAllLines(Path.of("src", "test", "java", "io", "fiberloop", "netty", "http",
                "DocSnippetsTest.java")));
        int checked = 0;
        for (int i = 0; i < page.size(); i++) {
            if (!page.get(i).contains("<!-- compiled: DocSnippetsTest -->")) {
                continue;
            }
            assertEquals("```java", page.get(i + 1), "a compiled marker is followed by a java block, line " + (i + 2));
            int end = i + 2;
            while (!page.get(end).equals("```")) {
                end++;
            }
            List<String> snippet = stripped(page.subList(i + 2, end));
            assertTrue(java.util.Collections.indexOfSubList(me, snippet) >= 0,
                    doc + " line " + (i + 3) + ": the snippet is not in DocSnippetsTest verbatim:\n" + String.join("\n", snippet));
            checked++;
        }
        return checked;
    }
}
