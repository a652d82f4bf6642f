package io.fiberloop.samples;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.channel.Channel;
import io.fiberloop.fiber.channel.Select;
import io.fiberloop.netty.http.HttpException;
import io.fiberloop.netty.http.HttpResponse;
import io.fiberloop.netty.http.HttpServer;
import io.fiberloop.netty.http.HttpServerBuilder;
import io.fiberloop.netty.http.StaticFiles;
import io.fiberloop.netty.http.WebSocket;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The HTTP demo's "what you can build" tour, each feature at its own path:
 * <ul>
 *   <li>{@code /api/items}: a JSON CRUD resource over an in-memory map (POST creates, 201 with
 *       {@code Location}; GET lists and gets; DELETE);</li>
 *   <li>{@code /ws/echo}: a WebSocket echo;</li>
 *   <li>{@code /chat}: a WebSocket chat room and its page;</li>
 *   <li>{@code /events}: a server-sent events clock, one event a second;</li>
 *   <li>{@code /static/}: files served from the jar.</li>
 * </ul>
 * The routes are shared by every loop of the server, so their state is thread-safe.
 */
final class WebTour {
    /** An item of {@code /api/items}. */
    record Item(long id, String name, int quantity) {
    }

    /** What a client sends to create an item. */
    record NewItem(String name, int quantity) {
    }

    private final Map<Long, Item> items = new ConcurrentSkipListMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final ChatRoom room = new ChatRoom();

    /** Adds the tour's routes to {@code b}. */
    HttpServerBuilder routes(HttpServerBuilder b) {
        return b
                // a JSON resource: req.body(type) binds (400 for bad JSON), HttpResponse.json(value) answers
                .post("/api/items", req -> {
                    NewItem n = req.body(NewItem.class);
                    if (n.name() == null || n.name().isBlank()) {
                        throw new HttpException(400, "an item needs a name");
                    }
                    Item item = new Item(ids.incrementAndGet(), n.name(), n.quantity());
                    items.put(item.id(), item);
                    return HttpResponse.json(item).withStatus(201).header("Location", "/api/items/" + item.id());
                })
                .get("/api/items", req -> HttpResponse.json(items.values()))
                .get("/api/items/{id}", req -> HttpResponse.json(find(req.pathParam("id", Long.class))))
                .delete("/api/items/{id}", req -> {
                    find(req.pathParam("id", Long.class));
                    items.remove(req.pathParam("id", Long.class));
                    return HttpResponse.status(204);
                })
                .onError(NoSuchElementException.class, (req, e) -> HttpResponse.error(404, e.getMessage() + "\n"))
                // a WebSocket echo: blocking-style receive and send in the connection's fiber
                .websocket("/ws/echo", ws -> {
                    for (WebSocket.Message msg; (msg = ws.receive()) != null; ) {
                        ws.send(msg);
                    }
                })
                // a chat room: the page, and its WebSocket
                .get("/chat", req -> HttpResponse.ok().contentType("text/html; charset=UTF-8").body(page("chat.html")))
                .websocket("/chat/ws", room::join)
                // server-sent events: a clock
                .get("/events", req -> HttpResponse.events(sink -> {
                    long n = sink.lastEventId() == null ? 0 : parseOr(sink.lastEventId(), 0);
                    sink.retry(Duration.ofSeconds(2));
                    while (true) {
                        n++;
                        sink.event("tick", Instant.now().toString(), Long.toString(n));
                        Fibers.sleep(Duration.ofSeconds(1));
                    }
                }))
                // files from the jar
                .get("/static/*", StaticFiles.classpath("static", WebTour.class.getClassLoader()));
    }

    private Item find(long id) {
        Item i = items.get(id);
        if (i == null) {
            throw new NoSuchElementException("no item " + id);
        }
        return i;
    }

    private static long parseOr(String s, long dflt) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return dflt;
        }
    }

    private static byte[] page(String name) throws IOException {
        try (var in = WebTour.class.getResourceAsStream("/static/" + name)) {
            if (in == null) {
                throw new IOException("the samples jar lacks static/" + name);
            }
            return in.readAllBytes();
        }
    }

    /**
     * A chat room: every line a member sends goes to every member. Each member's fiber waits on
     * its socket and on its own outbox channel at once ({@link Select}), so it never needs a
     * second fiber; a member more than {@value #BACKLOG} lines behind misses lines rather than
     * holding up the room.
     */
    static final class ChatRoom {
        static final int BACKLOG = 256;
        private final Map<String, Channel<String>> members = new ConcurrentHashMap<>();
        private final AtomicInteger guests = new AtomicInteger();

        void join(WebSocket ws) throws IOException {
            String wanted = ws.request().queryParam("name");
            String name = wanted == null || wanted.isBlank() ? "guest" + guests.incrementAndGet()
                    : wanted.strip().substring(0, Math.min(20, wanted.strip().length()));
            Channel<String> outbox = Channel.buffered(BACKLOG);
            members.put(name + "#" + System.identityHashCode(ws), outbox);
            try {
                broadcast("* " + name + " joined (" + members.size() + " here)");
                Channel<WebSocket.Message> in = ws.messages();
                for (boolean open = true; open; ) {
                    open = Select.<Boolean>create()
                            .onReceiveOrNull(in, m -> {
                                if (m != null && m.isText() && !m.text().isBlank()) {
                                    broadcast(name + ": " + m.text());
                                }
                                return m != null;
                            })
                            .onReceive(outbox, line -> {
                                send(ws, line);
                                return true;
                            })
                            .run();
                }
            } finally {
                members.remove(name + "#" + System.identityHashCode(ws));
                broadcast("* " + name + " left");
            }
        }

        private static void send(WebSocket ws, String line) {
            try {
                ws.send(line);
            } catch (IOException e) {
                // the member left; its receive side ends the loop
            }
        }

        private void broadcast(String line) {
            for (Channel<String> c : members.values()) {
                c.trySend(line); // a full outbox: that member misses the line
            }
        }
    }
}
