package io.fiberloop.loop;

import java.time.Duration;
import java.util.List;

/**
 * What the watchdog saw when a loop's carrier was held by one piece of work for longer than the
 * threshold ({@link EventLoop.Builder#watchdog(Duration)}).
 *
 * @param loopName the loop's name
 * @param stalledFor how long the carrier had made no progress when the report was made
 * @param carrierStack the carrier thread's stack at that moment (for a hosted loop, the frames
 *     of the fiber mounted on it are in {@code running})
 * @param running what the loop's host says is running (a fiber's name and stack), or {@code null}
 */
public record StallReport(String loopName, Duration stalledFor, List<StackTraceElement> carrierStack, String running) {

    /** {@return a multi-line description, the form in which the default handler logs it} */
    public String describe() {
        StringBuilder sb = new StringBuilder(256)
                .append("loop '").append(loopName).append("' stalled: one piece of work has held its carrier for ")
                .append(stalledFor.toMillis()).append(" ms (blocking call, pinned fiber, or a long computation: ")
                .append("offload it or split it)");
        if (running != null) {
            sb.append("\n  running: ").append(running);
        }
        sb.append("\n  carrier stack:");
        for (StackTraceElement e : carrierStack) {
            sb.append("\n    at ").append(e);
        }
        return sb.toString();
    }
}
