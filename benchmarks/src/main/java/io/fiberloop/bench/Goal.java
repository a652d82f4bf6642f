package io.fiberloop.bench;

import java.util.List;
import java.util.Locale;

/**
 * One of issue 20's goals: a bound on the median of the per-round ratios of a figure against raw
 * Netty's in the same round.
 *
 * @param metric the figure
 * @param atLeast whether the ratio must be at least {@code bound} (else at most)
 * @param bound the bound on the ratio
 */
record Goal(Metric metric, boolean atLeast, double bound) {
    /** HTTP {@code /plaintext}: ≥ 0.95× raw's req/s, ≤ 1.10× its CPU and user CPU per request, p99 ≤ 1.2×. */
    static final List<Goal> HTTP = List.of(new Goal(Metric.RATE, true, 0.95), new Goal(Metric.CPU, false, 1.10),
            new Goal(Metric.USER, false, 1.10), new Goal(Metric.P99, false, 1.20));
    /** Echo: ≥ 0.95× raw's round trips a second, ≤ 1.10× its CPU and ≤ 1.25× its user CPU per round trip. */
    static final List<Goal> ECHO = List.of(new Goal(Metric.RATE, true, 0.95), new Goal(Metric.CPU, false, 1.10),
            new Goal(Metric.USER, false, 1.25));
    /** HTTP/2 {@code /plaintext} under {@code h2load -c10 -m100} (issue 25): ≥ 0.9× raw's req/s at ≤ 1.15× its CPU per request. */
    static final List<Goal> H2 = List.of(new Goal(Metric.RATE, true, 0.90), new Goal(Metric.CPU, false, 1.15));

    /** Whether a ratio meets this goal (NaN never does). */
    boolean met(double ratio) {
        return !Double.isNaN(ratio) && (atLeast ? ratio >= bound : ratio <= bound);
    }

    /** E.g. {@code rate >= 0.95x}. */
    String text() {
        return String.format(Locale.ROOT, "%s %s %.2fx", metric.label, atLeast ? ">=" : "<=", bound);
    }
}
