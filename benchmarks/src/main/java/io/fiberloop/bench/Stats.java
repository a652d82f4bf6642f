package io.fiberloop.bench;

import java.util.Arrays;

/** The order statistics the load harnesses report: median, extremes and spread of a few rounds' figures. */
final class Stats {
    private Stats() {
    }

    /** The median (the mean of the middle two for an even count); NaN for none. NaN values are left out. */
    static double median(double... values) {
        double[] s = Arrays.stream(values).filter(v -> !Double.isNaN(v)).sorted().toArray();
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** The smallest value that is not NaN; NaN for none. */
    static double min(double... values) {
        return Arrays.stream(values).filter(v -> !Double.isNaN(v)).min().orElse(Double.NaN);
    }

    /** The largest value that is not NaN; NaN for none. */
    static double max(double... values) {
        return Arrays.stream(values).filter(v -> !Double.isNaN(v)).max().orElse(Double.NaN);
    }

    /** {@code (max - min) / median}: how far the rounds spread, as a fraction of their median; NaN for none. */
    static double spread(double... values) {
        double m = median(values);
        return m == 0 ? Double.NaN : (max(values) - min(values)) / m;
    }
}
