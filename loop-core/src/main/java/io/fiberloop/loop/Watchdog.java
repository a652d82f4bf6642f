package io.fiberloop.loop;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One daemon platform thread that watches every loop with a watchdog. A loop publishes, with
 * plain (opaque) stores that cost nothing on its hot path, a progress counter that grows with each
 * task and continuation, and whether it is idle. The watchdog samples them at a quarter of the
 * smallest threshold; a loop that is not idle and whose counter has not moved for longer than its
 * threshold is reported once per stall, with its carrier's stack.
 */
final class Watchdog {
    private static final Logger log = LoggerFactory.getLogger(Watchdog.class);
    private static final CopyOnWriteArrayList<Entry> LOOPS = new CopyOnWriteArrayList<>();
    private static Thread thread;

    private Watchdog() {
    }

    static final class Entry {
        final DefaultEventLoop loop;
        final long thresholdNanos;
        /** The progress counter at the last check; volatile, as {@link #stalledNanos} reads it. */
        volatile long lastProgress = -1;
        /** When progress last moved; volatile, as {@link #stalledNanos} reads it from any thread. */
        volatile long lastChange;
        /** Whether the current stall was reported (and goes on); volatile, as {@link #stalledNanos} reads it. */
        volatile boolean reported;

        Entry(DefaultEventLoop loop, long thresholdNanos) {
            this.loop = loop;
            this.thresholdNanos = thresholdNanos;
        }

        /**
         * {@return how long the loop has been stalled, if a stall was reported and goes on (the loop has made no progress since), else 0. Any thread.}
         *
         */
        long stalledNanos() {
            if (!reported) {
                return 0;
            }
            long since = lastChange;
            return loop.progress() == lastProgress && !loop.isIdle() ? Math.max(0, System.nanoTime() - since) : 0;
        }
    }

    static synchronized Entry register(DefaultEventLoop loop, Duration threshold) {
        Entry e = new Entry(loop, threshold.toNanos());
        e.lastChange = System.nanoTime();
        LOOPS.add(e);
        if (thread == null) {
            thread = Thread.ofPlatform().daemon().name("fiberloop-watchdog").start(Watchdog::watch);
        } else {
            LockSupport.unpark(thread);
        }
        return e;
    }

    static void unregister(Entry e) {
        if (e != null) {
            LOOPS.remove(e);
        }
    }

    private static long period() {
        long min = Long.MAX_VALUE;
        for (Entry e : LOOPS) {
            min = Math.min(min, e.thresholdNanos);
        }
        if (min == Long.MAX_VALUE) {
            return Duration.ofSeconds(1).toNanos();
        }
        return Math.max(Duration.ofMillis(1).toNanos(), min / 4);
    }

    private static void watch() {
        while (true) {
            LockSupport.parkNanos(period());
            long now = System.nanoTime();
            for (Entry e : LOOPS) {
                try {
                    check(e, now);
                } catch (Throwable t) {
                    log.error("fiberloop watchdog failed while checking loop '{}'", e.loop.name(), t);
                }
            }
        }
    }

    private static void check(Entry e, long now) {
        DefaultEventLoop loop = e.loop;
        long progress = loop.progress();
        if (loop.isIdle() || progress != e.lastProgress) {
            e.lastProgress = progress;
            e.lastChange = now;
            e.reported = false;
            return;
        }
        long stalled = now - e.lastChange;
        if (!e.reported && stalled >= e.thresholdNanos) {
            e.reported = true;
            Thread carrier = loop.carrierThread();
            StackTraceElement[] stack = carrier == null ? new StackTraceElement[0] : carrier.getStackTrace();
            StallReport report = new StallReport(loop.name(), Duration.ofNanos(stalled),
                    Arrays.asList(stack), loop.describeRunning());
            loop.stalled(report);
        }
    }
}
