package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.netty.NoLeaks;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Server-sent events: the wire format read by curl and a raw socket, Last-Event-ID, a client that leaves. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SseTest {
    static Served served;
    static volatile CompletableFuture<Throwable> endless = new CompletableFuture<>();

    @BeforeAll
    static void start() throws Exception {
        served = Served.start("SseTest", b -> b
                .get("/three", req -> HttpResponse.events(sink -> {
                    sink.retry(Duration.ofMillis(1500));
                    sink.comment("hello");
                    sink.data("one");
                    sink.event("named", "two\nlines", "2");
                    sink.event(null, "last=" + sink.lastEventId(), "3");
                }))
                .get("/endless", req -> HttpResponse.events(sink -> {
                    try {
                        for (int i = 0; ; i++) {
                            sink.event("tick", "x".repeat(1000), Integer.toString(i));
                            if (i % 100 == 0) {
                                Fibers.sleep(Duration.ofMillis(1));
                            }
                        }
                    } catch (Throwable e) {
                        endless.complete(e);
                        throw e;
                    }
                }))
                .get("/bad", req -> HttpResponse.events(sink -> sink.event("two\nlines", "data")))
                );
    }

    @AfterAll
    static void stop() {
        served.close();
    }

    @Test
    void curlReadsTheEventStream() throws Exception {
        WebClients.Run r = WebClients.curl("-i", "-N", "-H", "Last-Event-ID: 41", "http://127.0.0.1:" + served.port() + "/three");
        assertEquals(0, r.exit(), r.toString());
        String out = r.out().replace("\r\n", "\n");
        String head = out.substring(0, out.indexOf("\n\n")).toLowerCase(java.util.Locale.ROOT);
        assertTrue(head.contains("content-type: text/event-stream; charset=utf-8\n"), out);
        assertTrue(head.contains("cache-control: no-cache\n"), out);
        String body = out.substring(out.indexOf("\n\n") + 2);
        assertEquals("retry: 1500\n\n: hello\ndata: one\n\nevent: named\nid: 2\ndata: two\ndata: lines\n\nid: 3\ndata: last=41\n\n", body);
    }

    @Test
    void aClientThatLeavesEndsTheHandler() throws Exception {
        endless = new CompletableFuture<>();
        try (Socket s = new Socket("127.0.0.1", served.port())) {
            OutputStream out = s.getOutputStream();
            out.write("GET /endless HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("HTTP/1.1 200 OK", in.readLine());
            int events = 0;
            for (String line; events < 50 && (line = in.readLine()) != null; ) {
                if (line.startsWith("event: tick")) {
                    events++;
                }
            }
            assertEquals(50, events);
            // now stop reading: the handler must wait (backpressure), not buffer without bound
            Thread.sleep(300);
            assertTrue(!endless.isDone(), "the handler still runs while the client merely reads slowly");
        }
        Throwable end = endless.get(10, TimeUnit.SECONDS);
        assertTrue(end instanceof CancelledException || end instanceof java.io.IOException, end.toString());
    }

    @Test
    void aMultiLineEventNameIsRefused() throws Exception {
        WebClients.Run r = WebClients.curl("-N", "http://127.0.0.1:" + served.port() + "/bad");
        assertTrue(r.exit() != 0 || r.out().isEmpty(), "the stream broke off: " + r);
        assertThrows(IllegalArgumentException.class, () -> new SseWriter(null, null).event("a\rb", "x"));
    }
}
