package io.fiberloop.loop;

import java.time.Duration;

/**
 * A snapshot of a loop's counters, from {@link EventLoop#stats()}. Counters only grow; take two
 * snapshots to measure an interval.
 *
 * @param tasksRun tasks run (including timer callbacks)
 * @param timersFired timer callbacks run
 * @param continuationsRun fiber continuations run by the carrier (zero on a loop without fibers)
 * @param longestTask the longest single task or timer callback so far, sampled (one task in 64 is
 *     timed on its own, since reading the clock costs about as much as a short task; the watchdog
 *     reports any long one exactly)
 * @param meanTask the mean time of a task or timer callback (whole batches are timed)
 * @param queueDepth tasks waiting to run when the snapshot was taken
 * @param pendingTimers timers pending when the snapshot was taken
 * @param maxLag the latest a timer has fired after its deadline (loop lag)
 * @param meanLag the mean lateness of fired timers
 * @param stalls how many times the watchdog reported a stall
 * @param stalledFor how long the loop has been stalled now: from the last progress of a stall the
 *     watchdog reported and that still goes on, else zero (and always zero without a watchdog).
 *     A health check reads it from another thread (a stalled loop cannot answer for itself)
 */
public record LoopStats(
        long tasksRun,
        long timersFired,
        long continuationsRun,
        Duration longestTask,
        Duration meanTask,
        int queueDepth,
        int pendingTimers,
        Duration maxLag,
        Duration meanLag,
        long stalls,
        Duration stalledFor) {

    /** {@return whether the loop is stalled now ({@link #stalledFor()} is not zero)} */
    public boolean stalled() {
        return !stalledFor.isZero();
    }
}
