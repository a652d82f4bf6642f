package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.netty.NoLeaks;
import java.time.LocalDate;
import java.util.NoSuchElementException;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code onError} mappings and typed path and query parameters, through the JDK's client. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ErrorMappingTest {
    enum Color { RED, GREEN }

    static class NotFound extends NoSuchElementException {
        NotFound(String m) {
            super(m);
        }
    }

    static Served served;

    @BeforeAll
    static void start() throws Exception {
        served = Served.start("ErrorMappingTest", b -> b
                .get("/items/{id}", req -> {
                    long id = req.pathParam("id", Long.class);
                    if (id > 100) {
                        throw new NotFound("no item " + id);
                    }
                    return HttpResponse.text("item " + id);
                })
                .get("/typed/{uuid}/{day}/{color}", req -> HttpResponse.text(req.pathParam("uuid", UUID.class) + " "
                        + req.pathParam("day", LocalDate.class).getDayOfWeek() + " " + req.pathParam("color", Color.class)))
                .get("/page", req -> HttpResponse.text("page " + req.queryParam("n", int.class) + " size "
                        + req.queryParam("size", Integer.class, 20) + " flag " + req.queryParam("flag", Boolean.class)))
                .get("/parse", req -> HttpResponse.text("" + Integer.parseInt(req.queryParam("v"))))
                .get("/state", req -> {
                    throw new IllegalStateException("planted");
                })
                .get("/teapot", req -> {
                    throw new HttpException(418, "short and stout");
                })
                .get("/mapper-fails", req -> {
                    throw new UnsupportedOperationException("planted");
                })
                .get("/wrong-name", req -> HttpResponse.text(req.pathParam("nope", Long.class).toString()))
                .onError(NoSuchElementException.class, (req, e) -> HttpResponse.error(404, "mapped: " + e.getMessage()))
                .onError(NumberFormatException.class, (req, e) -> HttpResponse.error(422, "not a number"))
                .onError(HttpException.class, (req, e) -> HttpResponse.json("{\"status\":" + e.status() + "}").withStatus(e.status()))
                .onError(UnsupportedOperationException.class, (req, e) -> {
                    throw new IllegalStateException("the mapper itself fails");
                })
                );
    }

    @AfterAll
    static void stop() {
        served.close();
    }

    @Test
    void typedPathParamsConvertAndBadOnesAre400() throws Exception {
        assertEquals("item 7", WebClients.get(served.port(), "/items/7").body());
        var bad = WebClients.get(served.port(), "/items/abc");
        assertEquals(400, bad.statusCode());
        assertEquals("{\"status\":400}", bad.body(), "the HttpException mapping applies to the server's own 400");
        var plain = HttpServer.builder().port(0).get("/items/{id}", req -> HttpResponse.text("" + req.pathParam("id", long.class)))
                .loop(served.loop()).start();
        try {
            var r = WebClients.get(plain.port(), "/items/12x");
            assertEquals(400, r.statusCode());
            assertEquals("path parameter 'id' must be a Long, was '12x'\n", r.body());
        } finally {
            plain.close();
        }
        String uuid = UUID.randomUUID().toString();
        assertEquals(uuid + " FRIDAY GREEN", WebClients.get(served.port(), "/typed/" + uuid + "/2026-12-04/green").body());
        assertEquals(400, WebClients.get(served.port(), "/typed/" + uuid + "/2026-13-04/RED").statusCode());
        assertEquals(400, WebClients.get(served.port(), "/typed/not-a-uuid/2026-12-04/RED").statusCode());
        assertEquals(400, WebClients.get(served.port(), "/typed/" + uuid + "/2026-12-04/BLUE").statusCode());
    }

    @Test
    void typedQueryParams() throws Exception {
        assertEquals("page 3 size 20 flag null", WebClients.get(served.port(), "/page?n=3").body());
        assertEquals("page 3 size 5 flag true", WebClients.get(served.port(), "/page?n=3&size=5&flag=TRUE").body());
        assertEquals(400, WebClients.get(served.port(), "/page").statusCode(), "a primitive query parameter is required");
        assertEquals(400, WebClients.get(served.port(), "/page?n=3&flag=yes").statusCode());
        assertEquals(400, WebClients.get(served.port(), "/page?n=99999999999").statusCode());
    }

    @Test
    void exceptionsMapByNearestSuperclass() throws Exception {
        var r = WebClients.get(served.port(), "/items/101");
        assertEquals(404, r.statusCode());
        assertEquals("mapped: no item 101", r.body());
        assertEquals(422, WebClients.get(served.port(), "/parse?v=x").statusCode());
        assertEquals("{\"status\":418}", WebClients.get(served.port(), "/teapot").body());
        assertEquals(500, WebClients.get(served.port(), "/state").statusCode(), "unmapped: 500 as before");
        assertEquals(500, WebClients.get(served.port(), "/mapper-fails").statusCode());
        assertEquals(500, WebClients.get(served.port(), "/wrong-name").statusCode(), "a route without the parameter is a bug: 500");
    }

    @Test
    void badMappingsAreRefusedAtBuildTime() {
        HttpServerBuilder b = HttpServer.builder().onError(RuntimeException.class, (req, e) -> null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.onError(RuntimeException.class, (req, x) -> null));
        assertTrue(e.getMessage().contains("twice"), e.getMessage());
        IllegalArgumentException t = assertThrows(IllegalArgumentException.class,
                () -> ParamConverters.convert("path parameter", "x", "1", Object.class));
        assertTrue(t.getMessage().contains("valueOf"), t.getMessage());
    }
}
