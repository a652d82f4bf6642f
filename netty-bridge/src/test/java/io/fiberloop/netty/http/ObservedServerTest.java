package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NoLeaks;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * What an operator sees of a server: the access log in the Combined Log Format, the observers'
 * calls, the requests' task names, and the JFR events of requests and connections.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ObservedServerTest {
    /** Combined Log Format plus the time taken in microseconds. */
    static final Pattern COMBINED = Pattern.compile(
            "(\\S+) - - \\[(\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4})] \"(.*?)\" (\\d{3}) (\\d+|-) \"(.*?)\" \"(.*?)\" (\\d+)");

    static EventLoop loop;
    static HttpServer server;
    static final BlockingQueue<String> accessLines = new LinkedBlockingQueue<>();
    static final BlockingQueue<HttpObserver.Request> observed = new LinkedBlockingQueue<>();
    static final BlockingQueue<String> connections = new LinkedBlockingQueue<>();
    static final BlockingQueue<String> taskNames = new LinkedBlockingQueue<>();
    static AppenderBase<ILoggingEvent> appender;
    static final java.util.concurrent.CompletableFuture<String> parked = new java.util.concurrent.CompletableFuture<>();

    @BeforeAll
    static void start() throws Exception {
        appender = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent e) {
                accessLines.add(e.getFormattedMessage());
            }
        };
        Logger access = (Logger) LoggerFactory.getLogger(HttpServer.ACCESS_LOGGER);
        appender.setContext(access.getLoggerContext());
        appender.start();
        access.addAppender(appender);
        access.setLevel(ch.qos.logback.classic.Level.INFO);
        access.setAdditive(false);
        loop = NettyLoops.builder().name("observed").build();
        server = HttpServer.builder().loop(loop).port(0).accessLog(true)
                .observer(new HttpObserver() {
                    @Override
                    public void requestDone(Request request) {
                        observed.add(request);
                    }

                    @Override
                    public void connectionOpened(EventLoop l, SocketAddress remote) {
                        connections.add("open " + l.name() + " " + ((java.net.InetSocketAddress) remote).getPort());
                    }

                    @Override
                    public void connectionClosed(EventLoop l, SocketAddress remote) {
                        connections.add("closed " + l.name() + " " + ((java.net.InetSocketAddress) remote).getPort());
                    }
                })
                .get("/users/{id}", req -> {
                    taskNames.add(Fiber.current().name());
                    return HttpResponse.text("user " + req.pathParam("id"));
                })
                .get("/slow", req -> {
                    Fibers.sleep(Duration.ofMillis(20));
                    taskNames.add(Fiber.current().name());
                    return HttpResponse.text("slept");
                })
                .post("/upload", req -> HttpResponse.text("got " + req.bodyBytes().length))
                .get("/parked", req -> HttpResponse.text(Fibers.await(parked)))
                .fiberDump("/debug/fibers")
                .start();
    }

    @AfterAll
    static void stop() {
        server.close();
        loop.close();
        Logger access = (Logger) LoggerFactory.getLogger(HttpServer.ACCESS_LOGGER);
        access.detachAppender(appender);
        access.setAdditive(true);
    }

    static String nextLine() throws InterruptedException {
        String line = accessLines.poll(10, TimeUnit.SECONDS);
        assertNotNull(line, "no access log line");
        return line;
    }

    /** Waits for an observer's connection call (other tests' connections may come in between). */
    static void awaitConnection(String what) throws InterruptedException {
        for (;;) {
            String c = connections.poll(10, TimeUnit.SECONDS);
            assertNotNull(c, "no " + what);
            if (c.equals(what)) {
                return;
            }
        }
    }

    @Test
    void accessLogIsCombinedLogFormatWithTheDuration() throws Exception {
        accessLines.clear();
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("GET /users/7?x=1 HTTP/1.1\r\nHost: localhost\r\nReferer: http://example.org/\r\nUser-Agent: evil\"agent\\\r\n\r\n");
            assertEquals(200, c.read().status());
            String line = nextLine();
            Matcher m = COMBINED.matcher(line);
            assertTrue(m.matches(), "not Combined Log Format: " + line);
            assertEquals("127.0.0.1", m.group(1));
            assertEquals("GET /users/7?x=1 HTTP/1.1", m.group(3));
            assertEquals("200", m.group(4));
            assertEquals(String.valueOf("user 7".length()), m.group(5));
            assertEquals("http://example.org/", m.group(6));
            assertEquals("evil\\\"agent\\\\", m.group(7), "quotes and backslashes are escaped, so a client cannot forge a field");

            // a head refused before routing: "-" as the request line, and no size for an empty body
            c.send("GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
            assertEquals(400, c.read().status());
            m = COMBINED.matcher(nextLine());
            assertTrue(m.matches());
            assertEquals("-", m.group(3));
            assertEquals("400", m.group(4));
        }
    }

    @Test
    void observersSeeRoutesStatusesBytesAndConnections() throws Exception {
        observed.clear();
        int port;
        try (RawHttp c = new RawHttp(server.port())) {
            port = c.socket.getLocalPort();
            c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
            assertEquals("got 5", c.read().text());
            HttpObserver.Request r = observed.poll(10, TimeUnit.SECONDS);
            assertNotNull(r);
            assertEquals(new HttpObserver.Request("POST", "/upload", 200, r.durationNanos(), 5, "got 5".length(), "HTTP/1.1"), r);
            assertTrue(r.durationNanos() > 0);

            c.send(RawHttp.get("/nowhere"));
            assertEquals(404, c.read().status());
            r = observed.poll(10, TimeUnit.SECONDS);
            assertNotNull(r);
            assertNull(r.route(), "no route matched");
            assertEquals(404, r.status());
        }
        awaitConnection("open observed " + port);
        awaitConnection("closed observed " + port);
    }

    @Test
    void requestTasksAreNamedAfterTheirRouteTemplate() throws Exception {
        taskNames.clear();
        try (RawHttp c = new RawHttp(server.port())) {
            c.send(RawHttp.get("/users/42"));
            assertEquals(200, c.read().status());
            assertEquals("GET /users/{id}", taskNames.poll(10, TimeUnit.SECONDS));
            c.send(RawHttp.get("/slow"));
            assertEquals(200, c.read().status());
            assertEquals("GET /slow", taskNames.poll(10, TimeUnit.SECONDS), "the name stays once the task suspended");
        }
    }

    @Test
    void theFiberDumpRouteShowsARequestInFlightByItsRoute() throws Exception {
        try (RawHttp waiting = new RawHttp(server.port()); RawHttp debug = new RawHttp(server.port())) {
            waiting.send(RawHttp.get("/parked"));
            String text;
            do { // until the request has arrived and parked (each dump is a round trip to the loop)
                text = debug.send(RawHttp.get("/debug/fibers")).read().text();
            } while (!text.contains("GET /parked ["));
            assertTrue(text.startsWith("loop 'observed' ACTIVE, "), text);
            assertTrue(text.contains("\n  GET /parked [SUSPENDED] waiting in Fibers.await\n      at "), text);
            assertTrue(text.contains("  GET /debug/fibers ["), "the dump's own request: " + text);
            String json = debug.send(RawHttp.get("/debug/fibers?format=json")).read().text();
            assertTrue(json.contains("{\"name\":\"GET /parked\",\"state\":\"SUSPENDED\",\"waitingIn\":\"Fibers.await\""), json);
            parked.complete("unparked");
            assertEquals("unparked", waiting.read().text());
        }
    }

    @Test
    void jfrRecordsRequestsAndConnections() throws Exception {
        Path file = Files.createTempFile("fiberloop-http", ".jfr");
        int port;
        try (Recording rec = new Recording()) {
            rec.enable("io.fiberloop.HttpRequest");
            rec.enable("io.fiberloop.ConnectionOpened");
            rec.enable("io.fiberloop.ConnectionClosed");
            rec.start();
            observed.clear();
            try (RawHttp c = new RawHttp(server.port())) {
                port = c.socket.getLocalPort();
                c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
                assertEquals(200, c.read().status());
                assertNotNull(observed.poll(10, TimeUnit.SECONDS)); // the exchange has been recorded
            }
            awaitConnection("closed observed " + port); // its JFR event was committed just before
            rec.stop();
            rec.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        Files.delete(file);
        RecordedEvent req = events.stream().filter(e -> e.getEventType().getName().equals("io.fiberloop.HttpRequest")).findFirst().orElseThrow();
        assertEquals("POST", req.getString("method"));
        assertEquals("/upload", req.getString("route"));
        assertEquals(200, req.getInt("status"));
        assertEquals(3, req.getLong("bytesReceived"));
        assertEquals("got 3".length(), req.getLong("bytesSent"));
        assertTrue(req.getDuration().toNanos() > 0);
        String peer = "/127.0.0.1:" + port;
        assertTrue(events.stream().anyMatch(e -> e.getEventType().getName().equals("io.fiberloop.ConnectionOpened")
                && e.getString("loop").equals("observed") && e.getString("remoteAddress").equals(peer)));
        assertTrue(events.stream().anyMatch(e -> e.getEventType().getName().equals("io.fiberloop.ConnectionClosed")
                && e.getString("remoteAddress").equals(peer) && e.getDuration("lifetime").toNanos() > 0));
    }
}
