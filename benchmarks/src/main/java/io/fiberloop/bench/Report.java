package io.fiberloop.bench;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** The load harnesses' console summary of a cell: a markdown table of medians and ratios, the verdicts, raw's spread. */
final class Report {
    private Report() {
    }

    /**
     * Prints one cell's summary.
     *
     * @param c the summary
     * @param op what one operation is, {@code req} or {@code rt}
     */
    static void print(CellSummary c, String op, PrintStream out) {
        out.println();
        out.printf("### %s (medians over the rounds; ratios: median of the per-round ratios against raw Netty)%n", c.cell());
        out.printf("| server | rounds | %s/s | p50 | p99 | CPU µs/%s (user + sys) | %s/s vs raw | CPU vs raw | user vs raw | p99 vs raw | goals |%n",
                op, op, op);
        out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        for (CellSummary.ServerSummary s : c.servers()) {
            out.printf(Locale.ROOT, "| %s | %d | %,.0f | %s | %s | %.2f (%.2f + %.2f) | %s | %s | %s | %s | %s |%n",
                    s.server(), s.rounds(), s.median().get(Metric.RATE), us(s.median().get(Metric.P50)),
                    us(s.median().get(Metric.P99)), s.median().get(Metric.CPU), s.median().get(Metric.USER),
                    s.median().get(Metric.SYS), ratio(s, Metric.RATE), ratio(s, Metric.CPU), ratio(s, Metric.USER),
                    ratio(s, Metric.P99), s.verdicts().isEmpty() ? "—" : s.goalsMet() ? "**met**" : "missed");
        }
        for (CellSummary.ServerSummary s : c.servers()) {
            if (!s.verdicts().isEmpty()) {
                out.println(verdictLine(c.cell(), s));
            }
        }
        out.println(spreadLine(c));
    }

    /** E.g. {@code verdict fiberloop, http -c100: rate 0.97x (>= 0.95x met), cpu 1.12x (<= 1.10x MISSED) => MISSED}. */
    static String verdictLine(String cell, CellSummary.ServerSummary s) {
        StringBuilder b = new StringBuilder("verdict " + s.server() + ", " + cell + ":");
        String sep = " ";
        for (CellSummary.Verdict v : s.verdicts()) {
            b.append(sep).append(String.format(Locale.ROOT, "%s %.3fx (%s %s %.2fx: %s)", v.goal().metric().label,
                    v.ratio(), v.goal().metric().label, v.goal().atLeast() ? ">=" : "<=", v.goal().bound(),
                    v.met() ? "met" : "MISSED"));
            sep = ", ";
        }
        return b.append(" => ").append(s.goalsMet() ? "goals MET" : "goals MISSED").toString();
    }

    /** Raw Netty's spread of its rate over the rounds, with the warning when it is too wide to compare against. */
    static String spreadLine(CellSummary c) {
        CellSummary.ServerSummary raw = c.server(CellSummary.RAW);
        if (raw == null) {
            return "no raw Netty run in " + c.cell() + ": no ratios, no verdicts";
        }
        String line = String.format(Locale.ROOT, "raw Netty's rate over %d rounds of %s: %,.0f-%,.0f, spread %.1f%% of its median",
                raw.rounds(), c.cell(), raw.min().get(Metric.RATE), raw.max().get(Metric.RATE), 100 * c.rawSpread());
        return c.rawStable() ? line : line + String.format(Locale.ROOT,
                "%nWARNING: raw Netty's spread exceeds %.0f%%: fix the method (longer warm-up or rounds, a quieter machine) before comparing",
                100 * CellSummary.MAX_RAW_SPREAD);
    }

    /** The server that {@code --baseline-jar} adds: the same fiberloop server from another build. */
    static final String BASE = "fiberloop-base";

    /**
     * The A/B of two fiberloop builds in the same rounds, when both ran: per round, fiberloop's
     * rate, user CPU and CPU per operation over {@code fiberloop-base}'s, their median and their
     * spread ({@code max - min}); null when either did not run. With the same build on both sides
     * this spread is the method's resolution.
     */
    static String abLine(String cell, List<Sample> samples) {
        List<Sample> a = samples.stream().filter(s -> s.server().equals("fiberloop")).toList();
        List<Sample> b = samples.stream().filter(s -> s.server().equals(BASE)).toList();
        if (a.isEmpty() || b.isEmpty()) {
            return null;
        }
        StringBuilder out = new StringBuilder("A/B fiberloop / " + BASE + ", " + cell + ", per round:");
        for (Metric m : new Metric[] {Metric.RATE, Metric.USER, Metric.CPU}) {
            double[] r = CellSummary.ratios(a, b, m);
            out.append(String.format(Locale.ROOT, "%n  %-4s", m.label));
            for (double v : r) {
                out.append(String.format(Locale.ROOT, " %.3f", v));
            }
            out.append(String.format(Locale.ROOT, "  (median %.3f, range %.3f-%.3f: spread %.1f%%)", Stats.median(r),
                    Stats.min(r), Stats.max(r), 100 * (Stats.max(r) - Stats.min(r))));
        }
        return out.toString();
    }

    static String ratio(CellSummary.ServerSummary s, Metric m) {
        Double r = s.ratio().get(m);
        return r == null || r.isNaN() ? "—" : String.format(Locale.ROOT, "%.2f", r);
    }

    /** A latency in µs as {@code 512 µs} or {@code 12.3 ms}. */
    static String us(double us) {
        return Double.isNaN(us) ? "-" : us >= 10_000 ? String.format(Locale.ROOT, "%.1f ms", us / 1000)
                : String.format(Locale.ROOT, "%.0f µs", us);
    }
}
