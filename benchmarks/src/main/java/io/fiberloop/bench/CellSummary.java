package io.fiberloop.bench;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one cell (one workload: HTTP at 100 connections, echo 1 KiB × 50, ...) of a load run comes
 * to over its rounds: per server the medians of every {@link Metric}, the median of the per-round
 * ratios against raw Netty's run of the same round, the verdict of each {@link Goal} on those
 * medians, and how far raw Netty's own rate spread over the rounds.
 *
 * @param cell the cell's name, e.g. {@code http -c100}
 * @param servers one summary per server, in the order the servers were first seen
 * @param rawSpread raw Netty's {@code (max - min) / median} rate over the rounds; NaN without raw
 * @param rawStable whether that spread is within {@link #MAX_RAW_SPREAD}
 */
record CellSummary(String cell, List<ServerSummary> servers, double rawSpread, boolean rawStable) {
    /** The baseline every ratio is taken against. */
    static final String RAW = "raw";
    /** Above this spread of raw Netty's own rate, ratios against it say more about the machine than the servers. */
    static final double MAX_RAW_SPREAD = 0.10;

    /**
     * One server's figures in a cell.
     *
     * @param server its name
     * @param rounds how many rounds it completed
     * @param median per metric, the median over the rounds
     * @param min per metric, the lowest round
     * @param max per metric, the highest round
     * @param ratio per metric, the median over the rounds of (this server's figure / raw's figure of the same
     *     round); empty for raw itself and when raw did not run
     * @param verdicts one per goal, on {@code ratio}; empty for raw
     * @param goalsMet whether every goal is met (false when there are none)
     */
    record ServerSummary(String server, int rounds, Map<Metric, Double> median, Map<Metric, Double> min,
                         Map<Metric, Double> max, Map<Metric, Double> ratio, List<Verdict> verdicts, boolean goalsMet) {
    }

    /**
     * One goal's verdict.
     *
     * @param goal the goal
     * @param ratio the median per-round ratio it is judged on
     * @param met whether that median meets it
     */
    record Verdict(Goal goal, double ratio, boolean met) {
    }

    /**
     * Summarises one cell's runs.
     *
     * @param cell the cell's name
     * @param samples every completed run of the cell, any order
     * @param goals the goals to judge each server other than raw by
     */
    static CellSummary of(String cell, List<Sample> samples, List<Goal> goals) {
        Set<String> names = new LinkedHashSet<>();
        samples.forEach(s -> names.add(s.server()));
        List<Sample> raw = samples.stream().filter(s -> s.server().equals(RAW)).toList();
        List<ServerSummary> out = new ArrayList<>();
        for (String name : names) {
            List<Sample> mine = samples.stream().filter(s -> s.server().equals(name)).toList();
            Map<Metric, Double> median = new EnumMap<>(Metric.class);
            Map<Metric, Double> min = new EnumMap<>(Metric.class);
            Map<Metric, Double> max = new EnumMap<>(Metric.class);
            Map<Metric, Double> ratio = new EnumMap<>(Metric.class);
            for (Metric m : Metric.values()) {
                double[] v = mine.stream().mapToDouble(m::of).toArray();
                median.put(m, Stats.median(v));
                min.put(m, Stats.min(v));
                max.put(m, Stats.max(v));
                if (!name.equals(RAW) && !raw.isEmpty()) {
                    ratio.put(m, Stats.median(ratios(mine, raw, m)));
                }
            }
            List<Verdict> verdicts = new ArrayList<>();
            if (!ratio.isEmpty()) {
                for (Goal g : goals) {
                    double r = ratio.get(g.metric());
                    verdicts.add(new Verdict(g, r, g.met(r)));
                }
            }
            boolean met = !verdicts.isEmpty() && verdicts.stream().allMatch(Verdict::met);
            out.add(new ServerSummary(name, mine.size(), median, min, max, ratio, verdicts, met));
        }
        double spread = Stats.spread(raw.stream().mapToDouble(Sample::rate).toArray());
        return new CellSummary(cell, out, spread, !Double.isNaN(spread) && spread <= MAX_RAW_SPREAD);
    }

    /** Per round in which both ran: this server's figure over raw's. */
    static double[] ratios(List<Sample> mine, List<Sample> raw, Metric m) {
        List<Double> r = new ArrayList<>();
        for (Sample s : mine) {
            raw.stream().filter(x -> x.round() == s.round()).findFirst().ifPresent(x -> r.add(m.of(s) / m.of(x)));
        }
        return r.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The summary of one server, or null. */
    ServerSummary server(String name) {
        return servers.stream().filter(s -> s.server().equals(name)).findFirst().orElse(null);
    }
}
