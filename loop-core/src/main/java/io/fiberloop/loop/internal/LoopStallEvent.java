package io.fiberloop.loop.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * JFR event {@code io.fiberloop.LoopStall}: the watchdog saw one piece of work hold a loop's
 * carrier longer than its threshold (the {@code StallReport} the loop logs). Committed on the
 * watchdog's thread, once per stall; costs nothing while loops run normally.
 */
@Name("io.fiberloop.LoopStall")
@Label("Loop Stall")
@Category({"fiberloop", "Loop"})
@Description("A fiberloop event loop's carrier was held by one piece of work for longer than the watchdog's threshold")
@StackTrace(false)
public final class LoopStallEvent extends Event {
    /** An event to fill in and commit. */
    public LoopStallEvent() {
    }

    /** The loop's name. */
    @Label("Loop")
    public String loop;

    /** How long the carrier had made no progress when the watchdog reported it. */
    @Label("Stalled For")
    @Timespan(Timespan.NANOSECONDS)
    public long stalledFor;

    /** What the loop's host says runs (a fiber's name and stack), or null. */
    @Label("Running")
    public String running;

    /** The top of the carrier thread's stack. */
    @Label("Carrier Stack")
    public String carrierStack;
}
