package io.fiberloop.fiber.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR events of tasks that did not succeed: {@code io.fiberloop.TaskFailed} (the task threw) and
 * {@code io.fiberloop.TaskCancelled} (it ended cancelled). Committed on the loop's thread as the
 * task settles; a task that succeeds costs nothing, a failed one an {@code isEnabled} check.
 */
public final class TaskEndEvent {
    private TaskEndEvent() {
    }

    /** {@code io.fiberloop.TaskFailed}. */
    @Name("io.fiberloop.TaskFailed")
    @Label("Task Failed")
    @Category({"fiberloop", "Tasks"})
    @Description("A fiberloop task ended by throwing")
    @StackTrace(false)
    public static final class Failed extends Event {
        /** An event to fill in and commit. */
        public Failed() {
        }

        /** The task's name. */
        @Label("Task")
        public String task;

        /** The loop's name. */
        @Label("Loop")
        public String loop;

        /** The exception's class. */
        @Label("Exception")
        public String exception;

        /** The exception's message. */
        @Label("Message")
        public String message;
    }

    /** {@code io.fiberloop.TaskCancelled}. */
    @Name("io.fiberloop.TaskCancelled")
    @Label("Task Cancelled")
    @Category({"fiberloop", "Tasks"})
    @Description("A fiberloop task ended cancelled")
    @StackTrace(false)
    public static final class Cancelled extends Event {
        /** An event to fill in and commit. */
        public Cancelled() {
        }

        /** The task's name. */
        @Label("Task")
        public String task;

        /** The loop's name. */
        @Label("Loop")
        public String loop;

        /** Why, the cancellation's message. */
        @Label("Reason")
        public String reason;
    }

    /**
     * Records a task that ended with {@code failure}, if a recording wants it.
     *
     * @param task the task's name
     * @param loop the loop's name
     * @param failure the failure; a {@link java.util.concurrent.CancellationException} counts as cancelled
     */
    public static void ended(String task, String loop, Throwable failure) {
        if (failure instanceof java.util.concurrent.CancellationException) {
            Cancelled e = new Cancelled();
            if (e.isEnabled()) {
                e.task = task;
                e.loop = loop;
                e.reason = failure.getMessage();
                e.commit();
            }
        } else {
            Failed e = new Failed();
            if (e.isEnabled()) {
                e.task = task;
                e.loop = loop;
                e.exception = failure.getClass().getName();
                e.message = failure.getMessage();
                e.commit();
            }
        }
    }
}
