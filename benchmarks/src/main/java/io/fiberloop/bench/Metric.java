package io.fiberloop.bench;

/**
 * A figure of one load run ({@link Sample}) that the harnesses take medians and ratios of. The rate
 * is requests (HTTP) or round trips (echo) a second; the others are per request or round trip.
 */
enum Metric {
    /** Requests or round trips a second. */
    RATE("rate", "/s"),
    /** Median latency, µs. */
    P50("p50", "µs"),
    /** 99th percentile latency, µs. */
    P99("p99", "µs"),
    /** The server's CPU time (user + system) per request or round trip, µs. */
    CPU("cpu", "µs"),
    /** The server's user CPU time per request or round trip, µs. */
    USER("user", "µs"),
    /** The server's system CPU time per request or round trip, µs. */
    SYS("sys", "µs");

    /** The name in result files and tables. */
    final String label;
    /** The unit. */
    final String unit;

    Metric(String label, String unit) {
        this.label = label;
        this.unit = unit;
    }

    /** The label: result files write metrics by it. */
    @Override
    public String toString() {
        return label;
    }

    /** This figure of a run. */
    double of(Sample s) {
        return switch (this) {
            case RATE -> s.rate();
            case P50 -> s.p50Us();
            case P99 -> s.p99Us();
            case CPU -> s.cpuUs();
            case USER -> s.userUs();
            case SYS -> s.sysUs();
        };
    }
}
