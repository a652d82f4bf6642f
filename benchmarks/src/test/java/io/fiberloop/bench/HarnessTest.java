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
        LoadOptions common = options("sequential");
        List<String> calls = new ArrayList<>();
        ResultsFile results = new ResultsFile("HttpLoad", List.of(), Map.of());
        // fiberloop's first round is disturbed twice, then calm; raw's second round stays disturbed.
        boolean ok = Harness.runCell("cell", "req", Map.of(), Goal.HTTP, common, List.of("fiberloop", "raw"),
                (group, round) -> {
                    assertEquals(1, group.size(), "sequential: one server at a time");
                    String server = group.get(0);
                    calls.add(server + round);
                    long tries = calls.stream().filter(c -> c.equals(server + round)).count();
                    boolean busy = server.equals("fiberloop") && round == 1 && tries <= 2 || server.equals("raw") && round == 2;
                    return List.of(run(server, round, busy ? 50.0 : 1.0));
                }, (cell, s) -> { }, s -> true, results);
        assertTrue(ok);
        assertEquals(List.of("fiberloop1", "fiberloop1", "fiberloop1", "raw1", "raw2", "raw2", "raw2", "fiberloop2"), calls);
        var doc = results.document(java.time.Instant.now());
        assertEquals(4, ((List<?>) doc.get("discarded")).size(), "two for fiberloop's round 1, two for raw's round 2");
        ResultsFile.Cell cell = (ResultsFile.Cell) ((List<?>) doc.get("cells")).get(0);
        assertEquals(4, cell.runs().size(), "one kept run per server and round");
    }

    private static LoadOptions options(String mode) {
        LoadOptions common = new LoadOptions();
        common.mode = mode;
        common.rounds = 2;
        common.maxOthers = 10;
        common.slices = 2;
        common.sliceSeconds = 1;
        common.warmup = 1;
        common.seconds = 3;
        return common;
    }

    @Test
    void interleavedRoundsMeasureAllServersTogetherAndRunADisturbedRoundAgain() {
        LoadOptions common = options("interleaved");
        List<String> calls = new ArrayList<>();
        ResultsFile results = new ResultsFile("HttpLoad", List.of(), Map.of());
        boolean ok = Harness.runCell("cell", "req", Map.of(), Goal.HTTP, common, List.of("fiberloop", "raw"),
                (group, round) -> {
                    calls.add(String.join("+", group) + round);
                    boolean busy = round == 2 && calls.size() == 2; // round 2's first try
                    return group.stream().map(s -> run(s, round, busy && s.equals("raw") ? 50.0 : 1.0)).toList();
                }, (cell, s) -> { }, s -> true, results);
        assertTrue(ok);
        assertEquals(List.of("fiberloop+raw1", "raw+fiberloop2", "raw+fiberloop2"), calls, "the whole round again");
        ResultsFile.Cell cell = (ResultsFile.Cell) ((List<?>) results.document(java.time.Instant.now()).get("cells")).get(0);
        assertEquals(4, cell.runs().size());
    }

    /** A stand-in server: the harness JVM itself as its process, a fixed count per slice, every call logged. */
    private static Harness.Contender fake(String name, List<String> log, String failOnSlice) {
        return new Harness.Contender() {
            @Override
            public ChildJvm.Child child() {
                throw new UnsupportedOperationException("no child: pid() and alive() say so");
            }

            @Override
            public long pid() {
                return ProcessHandle.current().pid();
            }

            @Override
            public boolean alive() {
                return true;
            }

            @Override
            public void warmUp(int seconds) {
                log.add("warm " + name + " " + seconds);
            }

            @Override
            public Harness.Slice slice(int seconds) {
                log.add("slice " + name + " " + seconds);
                if (name.equals(failOnSlice)) {
                    throw new IllegalStateException(name + " broke");
                }
                return new Harness.Slice(1000, seconds, 100, 900, 0, Map.of("errors", 1L));
            }

            @Override
            public void close() {
                log.add("close " + name);
            }
        };
    }

    @Test
    void aRoundStartsAndWarmsEveryServerThenRotatesTheSlicesAndSumsThem() throws Exception {
        List<String> log = new ArrayList<>();
        List<Sample> got = Harness.measure(List.of("A", "B", "C"), 4, options("interleaved"), s -> {
            log.add("start " + s);
            return fake(s, log, null);
        });
        assertEquals(List.of("start A", "start B", "start C", "warm A 1", "warm B 1", "warm C 1",
                "slice A 1", "slice B 1", "slice C 1", "slice B 1", "slice C 1", "slice A 1",
                "close A", "close B", "close C"), log);
        assertEquals(List.of("A", "B", "C"), got.stream().map(Sample::server).toList());
        for (Sample s : got) {
            assertEquals(4, s.round());
            assertEquals(1000.0, s.rate());                 // 2,000 operations over 2 s
            assertEquals(2000L, s.extra().get("operations"));
            assertEquals(2L, s.extra().get("errors"));
            assertEquals(900.0, s.p99Us());
        }
    }

    @Test
    void aSequentialRunIsOneSliceOfTheWholeLength() throws Exception {
        List<String> log = new ArrayList<>();
        List<Sample> got = Harness.measure(List.of("A"), 1, options("sequential"), s -> fake(s, log, null));
        assertEquals(List.of("warm A 1", "slice A 3", "close A"), log);
        assertEquals(1, got.get(0).extra().get("slices"));
    }

    @Test
    void aFailedSliceStopsEveryServerOfTheRound() {
        List<String> log = new ArrayList<>();
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> Harness.measure(List.of("A", "B"), 1, options("interleaved"), s -> fake(s, log, "B")));
        assertEquals("B broke", e.getMessage());
        assertEquals(List.of("warm A 1", "warm B 1", "slice A 1", "slice B 1", "close A", "close B"), log);
    }
}
