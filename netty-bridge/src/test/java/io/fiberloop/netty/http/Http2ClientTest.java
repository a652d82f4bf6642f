package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NoLeaks;
import io.fiberloop.netty.TestCerts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fiber {@link HttpClient} with {@link HttpClient.Version#HTTP_2}: many fibers' requests on
 * one connection (h2c with prior knowledge, and h2 by ALPN), bodies both ways, and the HTTP/1.1
 * fallback when the server does not offer h2.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Http2ClientTest {

    private static HttpServerBuilder routes(EventLoop serverLoop) {
        return HttpServer.builder().loop(serverLoop).port(0)
                .get("/who", req -> {
                    Fibers.sleep(Duration.ofMillis(20)); // so that the requests overlap
                    return HttpResponse.text(req.version() + " " + req.remoteAddress());
                })
                .post("/echo", req -> HttpResponse.ok().contentType("application/octet-stream").body(req.bodyBytes()));
    }

    private static void manyFibersShareOneConnection(String base, HttpClient client, EventLoop loop) throws Exception {
        loop.run(() -> {
            List<Task<HttpClient.Response>> all = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                all.add(Fibers.spawn(() -> client.send(HttpClient.Request.get(base + "/who"))));
            }
            Set<String> seen = new HashSet<>();
            for (Task<HttpClient.Response> t : all) {
                HttpClient.Response r = t.join();
                assertEquals(200, r.status());
                assertEquals("HTTP/2.0", r.version());
                seen.add(r.bodyString());
            }
            assertEquals(1, seen.size(), "every request came on one connection: " + seen);
            byte[] big = new byte[700_000];
            new Random(5).nextBytes(big);
            HttpClient.Response echo = client.send(HttpClient.Request.of("POST", base + "/echo").body(big));
            assertArrayEquals(big, echo.body());
            return null;
        });
    }

    @Test
    void h2cPriorKnowledgeMultiplexesManyFibersOnOneConnection() throws Exception {
        try (EventLoop serverLoop = NettyLoops.newLoop(); EventLoop loop = NettyLoops.newLoop()) {
            HttpServer server = routes(serverLoop).start();
            try {
                HttpClient client = HttpClient.create(loop).version(HttpClient.Version.HTTP_2);
                manyFibersShareOneConnection("http://127.0.0.1:" + server.port(), client, loop);
                loop.run(() -> {
                    client.close();
                    return null;
                });
            } finally {
                server.close(Duration.ofSeconds(1));
            }
        }
    }

    @Test
    void h2ByAlpnOverTlsAndHttp1WhenTheServerDoesNotOfferIt() throws Exception {
        TestCerts certs = TestCerts.get();
        try (EventLoop serverLoop = NettyLoops.newLoop(); EventLoop loop = NettyLoops.newLoop()) {
            HttpServer h2 = routes(serverLoop).tls(certs.serverWithAlpn()).start();
            HttpServer h1 = routes(serverLoop).tls(certs.server()).start();
            try {
                HttpClient client = HttpClient.create(loop).version(HttpClient.Version.HTTP_2).tls(certs.trustingClientWithAlpn());
                manyFibersShareOneConnection("https://127.0.0.1:" + h2.port(), client, loop);
                loop.run(() -> {
                    HttpClient.Response r = client.send(HttpClient.Request.get("https://127.0.0.1:" + h1.port() + "/who"));
                    assertEquals("HTTP/1.1", r.version());
                    assertEquals(true, r.bodyString().startsWith("HTTP/1.1 "));
                    client.close();
                    return null;
                });
            } finally {
                h2.close(Duration.ofSeconds(1));
                h1.close(Duration.ofSeconds(1));
            }
        }
    }
}
