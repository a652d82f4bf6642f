package io.fiberloop.netty.http;

/**
 * Parses a {@code Range} header (RFC 9110 §14) for one range of bytes.
 *
 * <p>Threading: any thread.
 */
final class Ranges {
    /** The answer for a range that selects nothing of the representation: {@code 416}. */
    static final long[] UNSATISFIABLE = new long[0];

    private Ranges() {
    }

    /**
     * {@return {@code [first, last]} (inclusive), {@link #UNSATISFIABLE}, or {@code null} to ignore the header and send the whole (several ranges, another unit, bad syntax)}
     *
     * @param header the {@code Range} header
     * @param size the representation's length
     */
    static long[] single(String header, long size) {
        String h = header.trim();
        if (!h.regionMatches(true, 0, "bytes=", 0, 6)) {
            return null;
        }
        String spec = h.substring(6).trim();
        if (spec.indexOf(',') >= 0) {
            return null; // several ranges: the whole representation is a valid answer
        }
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        try {
            String a = spec.substring(0, dash).trim();
            String b = spec.substring(dash + 1).trim();
            if (a.isEmpty()) {
                long suffix = Long.parseLong(b);
                if (suffix <= 0) {
                    return UNSATISFIABLE;
                }
                return size == 0 ? UNSATISFIABLE : new long[] {Math.max(0, size - suffix), size - 1};
            }
            long first = Long.parseLong(a);
            long last = b.isEmpty() ? Long.MAX_VALUE : Long.parseLong(b);
            if (first < 0 || last < first) {
                return null;
            }
            if (first >= size) {
                return UNSATISFIABLE;
            }
            return new long[] {first, Math.min(last, size - 1)};
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
