package io.fiberloop.test;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.util.ResourceLeakDetector;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;

/**
 * Netty's buffer leak reports, per test: a listener on Netty's {@code ByteBuf} leak detector
 * collects its reports, and at the end of a test a garbage collection makes the detector report
 * the buffers that became unreachable unreleased (Netty reports a leak only once the buffer has
 * been collected, at its next tracked allocation). Only at the PARANOID level, where every buffer
 * is tracked: below it the detector samples, and a test could not rely on the check.
 *
 * <p>Threading: JUnit's test thread; the listener runs on whichever thread allocates.
 */
final class LeakWatch {
    private static final List<String> REPORTS = new ArrayList<>();
    private static boolean installed;

    private LeakWatch() {
    }

    /** {@return whether leaks are checked: Netty's detector runs at PARANOID} */
    static boolean enabled() {
        return ResourceLeakDetector.getLevel() == ResourceLeakDetector.Level.PARANOID;
    }

    /**
     * Installs the listener (once), and sets aside what the detector reported before the test: it
     * belongs to earlier code, and is printed, not charged to this test. (A buffer leaked earlier
     * and not yet collected is reported at this test's end, and charged to it.)
     *
     * @param test the test's name, for that message
     */
    static void start(String test) {
        synchronized (LeakWatch.class) {
            if (!installed) {
                ByteBufUtil.setLeakListener((type, records) -> {
                    synchronized (LeakWatch.class) {
                        REPORTS.add(type + " leaked:" + records);
                    }
                });
                installed = true;
            }
        }
        List<String> earlier = drain();
        if (!earlier.isEmpty()) {
            System.err.println("fiberloop-test: " + earlier.size() + " ByteBuf(s) leaked before " + test
                    + " (by code that ran earlier in this JVM; not charged to it):\n" + String.join("\n", earlier));
        }
    }

    /**
     * Makes the detector report what leaked, and returns the reports since {@link #start}.
     *
     * @return Netty's leak records, one per leaked buffer (empty if none)
     */
    static List<String> finish() {
        ReferenceQueue<Object> queue = new ReferenceQueue<>();
        WeakReference<Object> sentinel = new WeakReference<>(new Object(), queue);
        System.gc();
        try {
            // the sentinel is enqueued once the collector has handed the cleared references on
            queue.remove(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sentinel.clear();
        return drain();
    }

    /** Lets the detector report what was collected (at a tracked allocation), and takes the reports. */
    private static List<String> drain() {
        ByteBufAllocator.DEFAULT.buffer(1).release();
        synchronized (LeakWatch.class) {
            List<String> out = List.copyOf(REPORTS);
            REPORTS.clear();
            return out;
        }
    }
}
