package io.fiberloop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HarnessTest {
    private static Sample run(String server, int round, double othersPct) {
        return new Sample(server, round, 100, 1, 2, 3, 1, 2, Map.of("othersCorePct", othersPct));
    }

    @Test
    void aRunIsDisturbedWhenTheRestOfTheMachineWasBusierThanTheBound() {
        assertTrue(Harness.disturbed(run("raw", 1, 12.0), 10));
        assertFalse(Harness.disturbed(run("raw", 1, 10.0), 10));
        assertFalse(Harness.disturbed(new Sample("raw", 1, 1, 1, 1, 1, 1, 1, Map.of()), 10), "no figure: kept");
    }

    @Test
    void disturbedRunsAreRunAgainAtMostTwiceAndEveryServerRunsEveryRound() throws Exception {
        LoadOptions common = new LoadOptions();
        common.rounds = 2;
        common.maxOthers = 10;
        List<String> calls = new ArrayList<>();
        ResultsFile results = new ResultsFile("HttpLoad", List.of(), Map.of());
        // fiberloop's first round is disturbed twice, then calm; raw's second round stays disturbed.
        boolean ok = Harness.runCell("cell", "req", Map.of(), Goal.HTTP, common, List.of("fiberloop", "raw"),
                (server, round) -> {
                    calls.add(server + round);
                    long tries = calls.stream().filter(c -> c.equals(server + round)).count();
                    boolean busy = server.equals("fiberloop") && round == 1 && tries <= 2 || server.equals("raw") && round == 2;
                    return run(server, round, busy ? 50.0 : 1.0);
                }, (cell, s) -> { }, s -> true, results);
        assertTrue(ok);
        assertEquals(List.of("fiberloop1", "fiberloop1", "fiberloop1", "raw1", "raw2", "raw2", "raw2", "fiberloop2"), calls);
        var doc = results.document(java.time.Instant.now());
        assertEquals(4, ((List<?>) doc.get("discarded")).size(), "two for fiberloop's round 1, two for raw's round 2");
        ResultsFile.Cell cell = (ResultsFile.Cell) ((List<?>) doc.get("cells")).get(0);
        assertEquals(4, cell.runs().size(), "one kept run per server and round");
    }
}
