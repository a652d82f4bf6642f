package io.fiberloop.bench;

import java.util.Map;

/**
 * One server's measured run in one round of a cell: the figures every harness reports, plus
 * harness-specific ones in {@code extra} (socket errors, the machine's other load, ...).
 *
 * @param server the server's name ({@code fiberloop}, {@code raw}, {@code vertx}, {@code vertx-vt})
 * @param round 1-based round
 * @param rate requests or round trips a second
 * @param p50Us median latency, µs
 * @param p99Us 99th percentile latency, µs
 * @param cpuUs the server's user + system CPU per request or round trip, µs
 * @param userUs its user CPU per request or round trip, µs
 * @param sysUs its system CPU per request or round trip, µs
 * @param extra further figures of the run, for the result file
 */
record Sample(String server, int round, double rate, double p50Us, double p99Us, double cpuUs, double userUs,
              double sysUs, Map<String, Object> extra) {

    /**
     * The CPU figures per operation from the server's CPU clock ticks over a window.
     *
     * @param userTicks user-mode ticks of the server process in the window
     * @param sysTicks system-mode ticks
     * @param ticksPerSecond the kernel's clock ticks a second ({@code CLK_TCK}, 100 on Linux)
     * @param operations requests or round trips completed in the window
     * @return {@code {cpu, user, sys}} in µs per operation; NaN when there were none
     */
    static double[] cpuPerOp(long userTicks, long sysTicks, long ticksPerSecond, long operations) {
        if (operations <= 0) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN};
        }
        double user = userTicks * 1e6 / ticksPerSecond / operations;
        double sys = sysTicks * 1e6 / ticksPerSecond / operations;
        return new double[] {user + sys, user, sys};
    }
}
