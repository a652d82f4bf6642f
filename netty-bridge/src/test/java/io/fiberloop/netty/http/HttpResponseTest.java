package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A response's headers as a handler builds them: kept in the order added, several values of a
 * name kept, {@code setHeader} and {@code removeHeader} matching names in any case, however many
 * headers there are.
 */
class HttpResponseTest {

    @Test
    void headersKeepTheirOrderPastTheFirstTwo() {
        HttpResponse r = HttpResponse.text("hi");
        for (int i = 0; i < 9; i++) {
            r.header("X-" + i, i);
        }
        List<Map.Entry<String, String>> h = r.headers();
        assertEquals(10, h.size());
        assertEquals(Map.entry("Content-Type", "text/plain; charset=UTF-8"), h.get(0));
        for (int i = 0; i < 9; i++) {
            assertEquals(Map.entry("X-" + i, String.valueOf(i)), h.get(i + 1));
        }
        assertEquals(List.of("Content-Type", "text/plain; charset=UTF-8", "X-0", "0"), r.rawHeaderList().subList(0, 4));
    }

    @Test
    void setHeaderReplacesEveryValueOfTheNameAndKeepsTheOthersInOrder() {
        HttpResponse r = HttpResponse.ok().header("A", 1).header("Vary", "x").header("B", 2).header("VARY", "y").header("C", 3);
        r.setHeader("vary", "z");
        assertEquals(List.of(Map.entry("A", "1"), Map.entry("B", "2"), Map.entry("C", "3"), Map.entry("vary", "z")), r.headers());
        assertEquals("z", r.headerOrNull("Vary"));
        r.removeHeader("a").removeHeader("C");
        assertEquals(List.of(Map.entry("B", "2"), Map.entry("vary", "z")), r.headers());
        r.removeHeader("b").removeHeader("VARY");
        assertEquals(List.of(), r.headers());
        assertNull(r.headerOrNull("vary"));
        r.header("D", 4);
        assertEquals(List.of(Map.entry("D", "4")), r.headers());
    }

    @Test
    void contentTypeIsOneHeader() {
        HttpResponse r = HttpResponse.json("{}").contentType("application/problem+json");
        assertEquals(List.of(Map.entry("Content-Type", "application/problem+json")), r.headers());
    }

    @Test
    void nullNamesAndValuesAreRefused() {
        HttpResponse r = HttpResponse.ok();
        assertThrows(NullPointerException.class, () -> r.header(null, "v"));
        assertThrows(NullPointerException.class, () -> r.header("N", null));
        assertEquals(List.of(), r.headers());
    }
}
