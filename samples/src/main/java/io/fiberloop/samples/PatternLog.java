package io.fiberloop.samples;

import io.fiberloop.loop.EventLoop;
import java.util.ArrayList;
import java.util.List;

/**
 * What a pattern sample observed, in order: one line per event, stamped with the loop's clock in
 * milliseconds since the sample started ({@code "[ 100 ms] ticker: tick 1"}). With a virtual clock
 * the stamps are exact, which is what the tests assert; with the system clock they are rounded down.
 *
 * <p>Threading: the fibers of one loop (not thread-safe; a loop runs one fiber at a time).
 */
final class PatternLog {
    private final EventLoop loop;
    private final long t0;
    private final List<String> lines = new ArrayList<>();

    PatternLog(EventLoop loop) {
        this.loop = loop;
        this.t0 = loop.now();
    }

    /** Milliseconds on the loop's clock since this log was created. */
    long ms() {
        return (loop.now() - t0) / 1_000_000;
    }

    /** Records {@code what}, said by {@code who}, at the current time. */
    void add(String who, String what) {
        lines.add(String.format("[%4d ms] %s: %s", ms(), who, what));
    }

    /** Every line so far, oldest first. */
    List<String> lines() {
        return List.copyOf(lines);
    }

    /** Prints every line to standard output. */
    static void print(List<String> lines) {
        lines.forEach(System.out::println);
    }
}
