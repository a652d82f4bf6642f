package io.fiberloop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class H2OutputTest {
    /** h2load 1.52's output of a timed run ({@code -D}), as printed on this machine (progress lines cut). */
    static final String OUT = """
            starting benchmark...
            spawning thread #0: 10 total client(s). Timing-based test with 0s of warm-up time and 2s of main duration for measurements.
            Application protocol: h2c
            Stopped all clients for thread #0

            finished in 2.00s, 203456.50 req/s, 6.98MB/s
            requests: 406913 total, 407913 started, 406913 done, 406900 succeeded, 3 failed, 2 errored, 1 timeout
            status codes: 406900 2xx, 4 3xx, 5 4xx, 6 5xx
            traffic: 209.46KB (214491) total, 24.50KB (25091) headers (space savings 94.86%), 77.44KB (79300) data
                                 min         max         mean         sd        +/- sd
            time for request:      412us     21.35ms      4.87ms      1.02ms    71.20%
            time for connect:      182us       933us       571us       255us    60.00%
            time to 1st byte:   271.86ms    949.63ms    628.33ms    233.67ms    60.00%
            req/s           :   20300.10    20400.38    20345.19      33.00    70.00%
            """;

    @Test
    void parsesRateCountsTimesAndErrors() {
        H2Output h = H2Output.parse(OUT);
        assertEquals(203456.50, h.requestsPerSec(), 1e-9);
        assertEquals(406913, h.done());
        assertEquals(2.0, h.durationSec(), 1e-9);
        assertEquals(6, h.failed(), "failed + errored + timeout");
        assertEquals(15, h.non2xx());
        assertEquals(4870, h.meanUs(), 1e-6);
        assertEquals(21350, h.maxUs(), 1e-6);
    }

    @Test
    void outputWithoutTheSummaryIsAnErrorQuotingIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> H2Output.parse("connect to 127.0.0.1 failed"));
        assertEquals(true, e.getMessage().contains("connect to 127.0.0.1 failed"), e.getMessage());
    }

    @Test
    void theWarmUpDefaultsTo12SecondsAndCanBeGiven() {
        H2Load h = new H2Load();
        new picocli.CommandLine(h).parseArgs();
        assertEquals(12, h.common.warmup);
        assertEquals(2, h.common.sliceSeconds, "the other options keep LoadOptions' defaults");
        assertEquals(java.util.List.of("fiberloop", "raw", "vertx"), h.servers);
        H2Load g = new H2Load();
        new picocli.CommandLine(g).parseArgs("--warmup", "3");
        assertEquals(3, g.common.warmup);
    }
}
