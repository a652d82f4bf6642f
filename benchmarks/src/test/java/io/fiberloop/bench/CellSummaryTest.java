package io.fiberloop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CellSummaryTest {
    private static Sample sample(String server, int round, double rate, double p99, double user, double sys) {
        return new Sample(server, round, rate, p99 / 2, p99, user + sys, user, sys, Map.of());
    }

    @Test
    void mediansAndExtremesOverRounds() {
        assertEquals(3.0, Stats.median(5, 1, 3));
        assertEquals(2.5, Stats.median(4, 1, 3, 2));
        assertEquals(2.0, Stats.median(1, Double.NaN, 3));
        assertTrue(Double.isNaN(Stats.median()));
        assertEquals(0.2, Stats.spread(90, 100, 110), 1e-12);
    }

    @Test
    void ratiosAreTheMedianOfPerRoundRatiosAgainstRawOfTheSameRound() {
        List<Sample> s = new ArrayList<>();
        // raw: 100, 200, 100 req/s; fiberloop: 96, 180, 99 -> per-round 0.96, 0.90, 0.99 -> median 0.96.
        s.add(sample("raw", 1, 100, 1000, 4, 6));
        s.add(sample("fiberloop", 1, 96, 1100, 4.2, 6));
        s.add(sample("fiberloop", 2, 180, 1100, 4.4, 6));
        s.add(sample("raw", 2, 200, 1000, 4, 6));
        s.add(sample("raw", 3, 100, 1000, 4, 6));
        s.add(sample("fiberloop", 3, 99, 1300, 4.8, 6));
        CellSummary c = CellSummary.of("http -c100", s, Goal.HTTP);

        CellSummary.ServerSummary f = c.server("fiberloop");
        assertEquals(3, f.rounds());
        assertEquals(0.96, f.ratio().get(Metric.RATE), 1e-12);
        assertEquals(1.10, f.ratio().get(Metric.USER), 1e-12);         // 1.05, 1.10, 1.20
        assertEquals(1.1, f.ratio().get(Metric.P99), 1e-12);
        assertEquals(99, f.median().get(Metric.RATE));
        assertEquals(96, f.min().get(Metric.RATE));
        assertEquals(180, f.max().get(Metric.RATE));
        assertTrue(c.server("raw").ratio().isEmpty(), "raw has no ratio against itself");
        assertTrue(c.server("raw").verdicts().isEmpty());
        assertEquals(1.0, c.rawSpread(), 1e-12);                        // (200 - 100) / 100
        assertFalse(c.rawStable());
    }

    @Test
    void aGoalIsMetOnlyWhenTheMedianMeetsIt() {
        List<Sample> s = new ArrayList<>();
        for (int r = 1; r <= 5; r++) {
            s.add(sample("raw", r, 100, 1000, 2, 8));
            // rate ratios 0.90, 0.94, 0.96, 0.97, 1.2: median 0.96 (met) though two rounds miss.
            double[] rates = {90, 94, 96, 97, 120};
            // user ratios 1.30 in three rounds: median misses the echo bound of 1.25.
            double user = r <= 3 ? 2.6 : 2.2;
            s.add(sample("fiberloop", r, rates[r - 1], 1000, user, 8 - (user - 2)));
        }
        CellSummary c = CellSummary.of("echo 1 KiB x 50", s, Goal.ECHO);
        CellSummary.ServerSummary f = c.server("fiberloop");
        assertEquals(3, f.verdicts().size());
        CellSummary.Verdict rate = f.verdicts().get(0);
        assertEquals(Metric.RATE, rate.goal().metric());
        assertTrue(rate.met(), "median 0.96 >= 0.95");
        CellSummary.Verdict cpu = f.verdicts().get(1);
        assertTrue(cpu.met(), "CPU per round trip is level: " + cpu.ratio());
        CellSummary.Verdict user = f.verdicts().get(2);
        assertEquals(1.3, user.ratio(), 1e-12);
        assertFalse(user.met());
        assertFalse(f.goalsMet());
        assertTrue(c.rawStable(), "raw did not move");
        assertEquals(0.0, c.rawSpread());
        assertTrue(Report.verdictLine(c.cell(), f).endsWith("=> goals MISSED"), Report.verdictLine(c.cell(), f));
    }

    @Test
    void roundsWithoutARawRunGiveNoRatioAndNaNNeverMeetsAGoal() {
        List<Sample> s = List.of(sample("fiberloop", 1, 100, 1000, 1, 1), sample("raw", 2, 100, 1000, 1, 1));
        CellSummary.ServerSummary f = CellSummary.of("x", s, Goal.HTTP).server("fiberloop");
        assertTrue(Double.isNaN(f.ratio().get(Metric.RATE)));
        assertFalse(f.goalsMet());
        assertTrue(f.verdicts().stream().noneMatch(CellSummary.Verdict::met));
    }

    @Test
    void spreadBeyondTenPercentPrintsTheWarning() {
        List<Sample> s = List.of(sample("raw", 1, 100, 1, 1, 1), sample("raw", 2, 112, 1, 1, 1), sample("raw", 3, 105, 1, 1, 1));
        CellSummary c = CellSummary.of("http -c1000", s, Goal.HTTP);
        assertTrue(Report.spreadLine(c).contains("WARNING"), Report.spreadLine(c));
        List<Sample> calm = List.of(sample("raw", 1, 100, 1, 1, 1), sample("raw", 2, 109, 1, 1, 1));
        assertFalse(Report.spreadLine(CellSummary.of("http -c1000", calm, Goal.HTTP)).contains("WARNING"));
    }

    @Test
    void cpuPerOperationFromClockTicks() {
        double[] cpu = Sample.cpuPerOp(30, 70, 100, 1_000_000);   // 0.3 s user, 0.7 s system, 1 M requests
        assertEquals(1.0, cpu[0], 1e-12);
        assertEquals(0.3, cpu[1], 1e-12);
        assertEquals(0.7, cpu[2], 1e-12);
        assertTrue(Double.isNaN(Sample.cpuPerOp(1, 1, 100, 0)[0]));
    }

    @Test
    void roundsAlternateTheOrder() {
        List<String> servers = List.of("fiberloop", "raw", "vertx");
        assertEquals(servers, LoadOptions.roundOrder(servers, 1));
        assertEquals(List.of("vertx", "raw", "fiberloop"), LoadOptions.roundOrder(servers, 2));
        assertEquals(servers, LoadOptions.roundOrder(servers, 3));
    }

    @Test
    void theAbLinePairsTwoBuildsRoundByRound() {
        List<Sample> s = new ArrayList<>();
        s.add(sample("fiberloop", 1, 102, 1000, 4.0, 6));
        s.add(sample("fiberloop-base", 1, 100, 1000, 4.0, 6));
        s.add(sample("fiberloop", 2, 49, 1000, 8.4, 12));
        s.add(sample("fiberloop-base", 2, 50, 1000, 8.0, 12));
        s.add(sample("raw", 1, 100, 1000, 4.0, 6));
        String line = Report.abLine("http -c100", s);
        assertTrue(line.contains("rate 1.020 0.980  (median 1.000, range 0.980-1.020: spread 4.0%)"), line);
        assertTrue(line.contains("user 1.000 1.050  (median 1.025"), line);
        assertEquals(null, Report.abLine("http -c100", s.stream().filter(x -> !x.server().equals("fiberloop-base")).toList()));
    }
}
