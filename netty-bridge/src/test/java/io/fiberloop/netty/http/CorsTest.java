package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.netty.NoLeaks;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** CORS: preflight answers and the headers on actual responses, checked with curl and the JDK client. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CorsTest {
    static Served served;
    static final String APP = "https://app.example.com";

    @BeforeAll
    static void start() throws Exception {
        served = Served.start("CorsTest", b -> b
                .cors(Cors.builder().allowOrigins(APP).allowMethods("GET", "POST", "DELETE").allowHeaders("Content-Type", "X-Token")
                        .exposeHeaders("Location").allowCredentials(true).maxAge(Duration.ofMinutes(10)).build())
                .before(req -> req.header("X-Token") == null && req.method().equals("DELETE") ? HttpResponse.error(401, "no token") : null)
                .get("/items", req -> HttpResponse.json("[]"))
                .delete("/items/{id}", req -> HttpResponse.status(204))
                );
    }

    @AfterAll
    static void stop() {
        served.close();
    }

    @Test
    void preflightIsAnsweredBeforeOtherFilters() throws Exception {
        WebClients.Run r = WebClients.curl("-i", "-X", "OPTIONS", "-H", "Origin: " + APP, "-H", "Access-Control-Request-Method: DELETE",
                "-H", "Access-Control-Request-Headers: x-token, content-type", "http://127.0.0.1:" + served.port() + "/items/7");
        String out = r.out().replace("\r\n", "\n").toLowerCase(java.util.Locale.ROOT);
        assertTrue(out.startsWith("http/1.1 204"), out);
        assertTrue(out.contains("access-control-allow-origin: " + APP + "\n"), out);
        assertTrue(out.contains("access-control-allow-methods: get, post, delete\n"), out);
        assertTrue(out.contains("access-control-allow-headers: x-token, content-type\n"), out);
        assertTrue(out.contains("access-control-max-age: 600\n"), out);
        assertTrue(out.contains("access-control-allow-credentials: true\n"), out);
        assertTrue(out.contains("vary: origin\n"), out);
    }

    @Test
    void refusedPreflights() throws Exception {
        int port = served.port();
        assertEquals(403, WebClients.send(port, "OPTIONS", "/items", new byte[0], "Origin", "https://evil.example",
                "Access-Control-Request-Method", "GET").statusCode());
        assertEquals(403, WebClients.send(port, "OPTIONS", "/items", new byte[0], "Origin", APP,
                "Access-Control-Request-Method", "PATCH").statusCode());
        var h = WebClients.send(port, "OPTIONS", "/items", new byte[0], "Origin", APP, "Access-Control-Request-Method", "GET",
                "Access-Control-Request-Headers", "X-Other");
        assertEquals(403, h.statusCode());
        assertTrue(h.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
        var plain = WebClients.send(port, "OPTIONS", "/items", new byte[0]);
        assertEquals(204, plain.statusCode(), "an OPTIONS without Origin is not a preflight");
        assertEquals("GET, HEAD, OPTIONS", plain.headers().firstValue("Allow").orElse(null));
    }

    @Test
    void actualRequestsGetTheHeadersOnlyForAllowedOrigins() throws Exception {
        var ok = WebClients.get(served.port(), "/items", "Origin", APP);
        assertEquals(APP, ok.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
        assertEquals("Location", ok.headers().firstValue("Access-Control-Expose-Headers").orElse(null));
        assertEquals("true", ok.headers().firstValue("Access-Control-Allow-Credentials").orElse(null));
        var denied = WebClients.send(served.port(), "DELETE", "/items/1", new byte[0], "Origin", APP);
        assertEquals(401, denied.statusCode());
        assertEquals(APP, denied.headers().firstValue("Access-Control-Allow-Origin").orElse(null), "error responses carry them too");
        var evil = WebClients.get(served.port(), "/items", "Origin", "https://evil.example");
        assertEquals(200, evil.statusCode());
        assertNull(evil.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
        assertEquals("Origin", evil.headers().firstValue("Vary").orElse(null));
        var none = WebClients.get(served.port(), "/items");
        assertTrue(none.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
    }
}
