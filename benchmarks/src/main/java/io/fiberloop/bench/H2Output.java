package io.fiberloop.bench;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one {@code h2load} run printed, parsed. {@code h2load} reports no latency percentiles, only
 * the mean, least and greatest time per request.
 *
 * @param requestsPerSec its {@code req/s}
 * @param done requests completed in the run (with {@code -D}, the ones still in flight at its end are not)
 * @param durationSec the run's length, s
 * @param failed failed + errored + timed-out requests
 * @param non2xx responses with another status than 2xx
 * @param meanUs the mean time per request, µs
 * @param maxUs the longest, µs
 */
record H2Output(double requestsPerSec, long done, double durationSec, long failed, long non2xx, double meanUs, double maxUs) {
    private static final Pattern FINISHED = Pattern.compile("^finished in ([0-9.]+)(us|ms|s|m), ([0-9.]+) req/s.*$");
    private static final Pattern REQUESTS = Pattern.compile(
            "^requests: \\d+ total, \\d+ started, (\\d+) done, (\\d+) succeeded, (\\d+) failed, (\\d+) errored, (\\d+) timeout\\s*$");
    private static final Pattern STATUS = Pattern.compile("^status codes: (\\d+) 2xx, (\\d+) 3xx, (\\d+) 4xx, (\\d+) 5xx\\s*$");
    private static final Pattern TIME = Pattern.compile(
            "^time for request:\\s+[0-9.]+(?:us|ms|s|m)\\s+([0-9.]+)(us|ms|s|m)\\s+([0-9.]+)(us|ms|s|m)\\s.*$");

    /**
     * Parses the output of {@code h2load}.
     *
     * @throws IllegalStateException, quoting the output, when it lacks the rate or the request counts
     */
    static H2Output parse(String out) {
        double rps = Double.NaN;
        double dur = Double.NaN;
        double mean = Double.NaN;
        double max = Double.NaN;
        long done = -1;
        long failed = 0;
        long non2xx = 0;
        for (String line : out.split("\n")) {
            Matcher m;
            if ((m = FINISHED.matcher(line)).matches()) {
                dur = WrkOutput.toUs(m.group(1), m.group(2)) / 1e6;
                rps = Double.parseDouble(m.group(3));
            } else if ((m = REQUESTS.matcher(line)).matches()) {
                done = Long.parseLong(m.group(1));
                failed = Long.parseLong(m.group(3)) + Long.parseLong(m.group(4)) + Long.parseLong(m.group(5));
            } else if ((m = STATUS.matcher(line)).matches()) {
                non2xx = Long.parseLong(m.group(2)) + Long.parseLong(m.group(3)) + Long.parseLong(m.group(4));
            } else if ((m = TIME.matcher(line)).matches()) {
                max = WrkOutput.toUs(m.group(1), m.group(2));
                mean = WrkOutput.toUs(m.group(3), m.group(4));
            }
        }
        if (Double.isNaN(rps) || done < 0) {
            throw new IllegalStateException("could not parse h2load's output:\n" + out);
        }
        return new H2Output(rps, done, dur, failed, non2xx, mean, max);
    }
}
