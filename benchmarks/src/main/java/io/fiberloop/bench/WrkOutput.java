package io.fiberloop.bench;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one {@code wrk --latency} run printed, parsed.
 *
 * @param requestsPerSec wrk's {@code Requests/sec}
 * @param requests requests completed
 * @param durationSec the run's length, s
 * @param p50Us median latency, µs
 * @param p90Us 90th percentile, µs
 * @param p99Us 99th percentile, µs
 * @param maxUs the largest latency, µs
 * @param socketErrors connect + read + write + timeout errors
 * @param non2xx responses with another status than 2xx or 3xx
 */
record WrkOutput(double requestsPerSec, long requests, double durationSec, double p50Us, double p90Us, double p99Us,
                 double maxUs, long socketErrors, long non2xx) {

    private static final Pattern LAT_PCT = Pattern.compile("^\\s*(50|75|90|99)%\\s+([0-9.]+)(us|ms|s|m)\\s*$");
    private static final Pattern LAT_LINE = Pattern.compile("^\\s*Latency\\s+\\S+\\s+\\S+\\s+([0-9.]+)(us|ms|s|m)\\b.*$");
    private static final Pattern REQS = Pattern.compile("^\\s*(\\d+) requests in ([0-9.]+)(us|ms|s|m),.*$");
    private static final Pattern RPS = Pattern.compile("^Requests/sec:\\s+([0-9.]+)\\s*$");
    private static final Pattern SOCK = Pattern.compile("^\\s*Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)\\s*$");
    private static final Pattern NON2XX = Pattern.compile("^\\s*Non-2xx or 3xx responses: (\\d+)\\s*$");

    /** A wrk duration ({@code 512.00us}, {@code 1.20ms}, {@code 2.00s}, {@code 1.00m}) in µs. */
    static double toUs(String number, String unit) {
        double v = Double.parseDouble(number);
        return switch (unit) {
            case "us" -> v;
            case "ms" -> v * 1e3;
            case "s" -> v * 1e6;
            case "m" -> v * 60e6;
            default -> throw new IllegalArgumentException("unknown wrk time unit " + unit + ": expected us, ms, s or m");
        };
    }

    /**
     * Parses the output of {@code wrk --latency}.
     *
     * @throws IllegalStateException, quoting the output, when it lacks the request count, the rate or the p50/p99
     */
    static WrkOutput parse(String out) {
        double rps = Double.NaN;
        double dur = Double.NaN;
        double p50 = Double.NaN;
        double p90 = Double.NaN;
        double p99 = Double.NaN;
        double max = Double.NaN;
        long reqs = -1;
        long sock = 0;
        long non2xx = 0;
        for (String line : out.split("\n")) {
            Matcher m;
            if ((m = LAT_PCT.matcher(line)).matches()) {
                double us = toUs(m.group(2), m.group(3));
                switch (m.group(1)) {
                    case "50" -> p50 = us;
                    case "90" -> p90 = us;
                    case "99" -> p99 = us;
                    default -> {
                        // 75%: not reported
                    }
                }
            } else if ((m = LAT_LINE.matcher(line)).matches()) {
                max = toUs(m.group(1), m.group(2));
            } else if ((m = REQS.matcher(line)).matches()) {
                reqs = Long.parseLong(m.group(1));
                dur = toUs(m.group(2), m.group(3)) / 1e6;
            } else if ((m = RPS.matcher(line)).matches()) {
                rps = Double.parseDouble(m.group(1));
            } else if ((m = SOCK.matcher(line)).matches()) {
                for (int g = 1; g <= 4; g++) {
                    sock += Long.parseLong(m.group(g));
                }
            } else if ((m = NON2XX.matcher(line)).matches()) {
                non2xx = Long.parseLong(m.group(1));
            }
        }
        if (Double.isNaN(rps) || reqs < 0 || Double.isNaN(p50) || Double.isNaN(p99)) {
            throw new IllegalStateException("could not parse wrk's output (was --latency given?):\n" + out);
        }
        return new WrkOutput(rps, reqs, dur, p50, p90, p99, max, sock, non2xx);
    }
}
