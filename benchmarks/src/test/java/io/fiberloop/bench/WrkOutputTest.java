package io.fiberloop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WrkOutputTest {
    /** wrk 4.1's output with --latency, as printed on this machine (the figures shortened). */
    static final String OUT = """
            Running 10s test @ http://127.0.0.1:40411/plaintext
              1 threads and 100 connections
              Thread Stats   Avg      Stdev     Max   +/- Stdev
                Latency   658.31us  424.50us  21.68ms   97.11%
                Req/Sec   153.14k     5.76k  161.49k    80.00%
              Latency Distribution
                 50%  612.00us
                 75%  687.00us
                 90%  778.00us
                 99%    1.52ms
              1523966 requests in 10.00s, 187.48MB read
              Socket errors: connect 0, read 3, write 1, timeout 2
              Non-2xx or 3xx responses: 7
            Requests/sec: 152388.79
            Transfer/sec:     18.75MB
            """;

    @Test
    void parsesRateCountsPercentilesAndErrors() {
        WrkOutput w = WrkOutput.parse(OUT);
        assertEquals(152388.79, w.requestsPerSec(), 1e-9);
        assertEquals(1523966, w.requests());
        assertEquals(10.0, w.durationSec(), 1e-9);
        assertEquals(612, w.p50Us(), 1e-9);
        assertEquals(778, w.p90Us(), 1e-9);
        assertEquals(1520, w.p99Us(), 1e-9);
        assertEquals(21680, w.maxUs(), 1e-9);
        assertEquals(6, w.socketErrors());
        assertEquals(7, w.non2xx());
    }

    @Test
    void secondsAndMinutesConvert() {
        assertEquals(2_000_000, WrkOutput.toUs("2.00", "s"), 1e-9);
        assertEquals(60_000_000, WrkOutput.toUs("1.00", "m"), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> WrkOutput.toUs("1", "h"));
    }

    @Test
    void outputWithoutLatencyIsRejectedWithTheText() {
        String noLatency = OUT.replaceAll("(?m)^\\s+(50|75|90|99)%.*\\n", "");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> WrkOutput.parse(noLatency));
        assertTrue(e.getMessage().contains("--latency") && e.getMessage().contains("Requests/sec"), e.getMessage());
    }
}
