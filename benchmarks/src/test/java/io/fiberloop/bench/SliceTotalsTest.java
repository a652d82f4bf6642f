package io.fiberloop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SliceTotalsTest {
    private static Harness.Slice slice(long ops, double seconds, double p50, double p99, Map<String, Object> extra) {
        return new Harness.Slice(ops, seconds, p50, p99, 0, extra);
    }

    @Test
    void passesRotateSoThatEveryServerLeadsEquallyOften() {
        List<String> abc = List.of("A", "B", "C");
        assertEquals(List.of("A", "B", "C"), SliceTotals.rotation(abc, 0));
        assertEquals(List.of("B", "C", "A"), SliceTotals.rotation(abc, 1));
        assertEquals(List.of("C", "A", "B"), SliceTotals.rotation(abc, 2));
        assertEquals(List.of("A", "B", "C"), SliceTotals.rotation(abc, 3));
        assertEquals(List.of("A"), SliceTotals.rotation(List.of("A"), 5), "a sequential run is one server");

        // Over six passes each server runs first, second and third twice, and every pass runs each once.
        Map<String, int[]> positions = new HashMap<>();
        for (int pass = 0; pass < 6; pass++) {
            List<String> order = SliceTotals.rotation(abc, pass);
            assertEquals(3, order.stream().distinct().count());
            for (int i = 0; i < order.size(); i++) {
                positions.computeIfAbsent(order.get(i), k -> new int[3])[i]++;
            }
        }
        positions.values().forEach(p -> assertEquals(List.of(2, 2, 2), List.of(p[0], p[1], p[2])));
    }

    @Test
    void figuresAreSumsOverTheSlicesAndLatencyTheMedianOfTheSlices() {
        SliceTotals t = new SliceTotals("fiberloop", 100);
        // Three slices: 200k, 100k and 300k requests in 2 s each.
        t.add(slice(200_000, 2.0, 500, 4000, Map.of()), 60, 140, 1, 20, 240, 2.0);
        t.add(slice(100_000, 2.0, 900, 9000, Map.of()), 40, 100, 0, 10, 160, 2.0);
        t.add(slice(300_000, 2.0, 400, 3000, Map.of()), 80, 180, 1, 30, 300, 2.0);
        Sample s = t.sample(3);

        assertEquals("fiberloop", s.server());
        assertEquals(3, s.round());
        assertEquals(100_000, s.rate(), 1e-9);                   // 600k over 6 s, not a mean of the slices' rates
        assertEquals(180 * 1e4 / 600_000, s.userUs(), 1e-12);     // 180 ticks of 10 ms over 600k requests = 3 µs
        assertEquals(420 * 1e4 / 600_000, s.sysUs(), 1e-12);
        assertEquals(s.userUs() + s.sysUs(), s.cpuUs(), 1e-12);
        assertEquals(500, s.p50Us());                             // median of 500, 900, 400
        assertEquals(4000, s.p99Us());                            // median of 4000, 9000, 3000
        assertEquals(600_000L, s.extra().get("operations"));
        assertEquals(3, s.extra().get("slices"));
        assertEquals(List.of(100_000.0, 50_000.0, 150_000.0), s.extra().get("sliceRates"));
        assertEquals(List.of(3.0, 4.0, 80 * 1e4 / 300_000), s.extra().get("sliceUserUs"));
        assertEquals(100.0, (double) s.extra().get("serverCorePct"), 1e-9);      // 600 ticks in 6 s
        assertEquals(10.0, (double) s.extra().get("loadCorePct"), 1e-9);         // 60 ticks in 6 s
        assertEquals(2.0 / 6, (double) s.extra().get("idleServersCorePct"), 1e-9);
        assertEquals((700 - 600 - 2 - 60) / 6.0, (double) s.extra().get("othersCorePct"), 1e-9);
    }

    @Test
    void extrasMergeByKind() {
        SliceTotals t = new SliceTotals("raw", 100);
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("errors", 1L);
        a.put("maxUs", 10.0);
        a.put("minRate", 5.0);
        a.put("p90Us", 7.0);
        a.put("firstError", null);
        Map<String, Object> b = new LinkedHashMap<>(a);
        b.put("errors", 2L);
        b.put("maxUs", 30.0);
        b.put("minRate", 3.0);
        b.put("p90Us", 9.0);
        b.put("firstError", "boom");
        Map<String, Object> c = new LinkedHashMap<>(a);
        c.put("p90Us", 8.0);
        t.add(slice(1, 1, 1, 1, a), 0, 0, 0, 0, 0, 1);
        t.add(slice(1, 1, 1, 1, b), 0, 0, 0, 0, 0, 1);
        t.add(slice(1, 1, 1, 1, c), 0, 0, 0, 0, 0, 1);
        Map<String, Object> x = t.sample(1).extra();

        assertEquals(4L, x.get("errors"));          // counts add up
        assertEquals(30.0, x.get("maxUs"));         // max... the greatest
        assertEquals(3.0, x.get("minRate"));        // min... the least
        assertEquals(8.0, x.get("p90Us"));          // other figures: the median
        assertEquals("boom", x.get("firstError"));  // text: the first there is
        assertNull(SliceTotals.merge("firstError", java.util.Arrays.asList(null, null)));
    }

    @Test
    void aServerWithNoOperationsHasNoCpuPerOperation() {
        SliceTotals t = new SliceTotals("raw", 100);
        t.add(slice(0, 2, Double.NaN, Double.NaN, Map.of()), 10, 10, 0, 0, 20, 2);
        Sample s = t.sample(1);
        assertEquals(Double.NaN, s.cpuUs());
        assertEquals(0.0, s.rate());
    }

    @Test
    void theModeOptionsAreChecked() {
        LoadOptions o = new LoadOptions();
        o.mode = "interleaved";
        o.slices = 8;
        o.sliceSeconds = 2;
        o.warmup = 5;
        o.seconds = 10;
        o.rounds = 5;
        o.maxOthers = 10;
        o.transport = "nio";
        o.validate();
        assertEquals(16, o.measuredSeconds());
        o.mode = "sequential";
        assertEquals(10, o.measuredSeconds());
        o.mode = "alternating";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, o::validate);
        assertEquals("--mode must be interleaved or sequential, not alternating", e.getMessage());
        o.mode = "interleaved";
        o.slices = 0;
        assertEquals("--slices must be 1..100, not 0", assertThrows(IllegalArgumentException.class, o::validate).getMessage());
    }
}
