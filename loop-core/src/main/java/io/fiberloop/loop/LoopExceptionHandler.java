package io.fiberloop.loop;

/**
 * Receives the exceptions that escape a loop's tasks and timer callbacks (asyncio's
 * {@code set_exception_handler}). The default logs each one through SLF4J at ERROR, with the
 * loop's name; the loop keeps running either way.
 *
 * <p>Threading: called on the loop, in place of the task that failed. An exception thrown by the
 * handler itself is logged and otherwise ignored.
 */
@FunctionalInterface
public interface LoopExceptionHandler {

    /**
     * Handles a failure.
     *
     * @param loop the loop on which it happened
     * @param error what was thrown
     * @param source the task, timer callback or other work that threw it (for messages)
     */
    void handle(EventLoop loop, Throwable error, Object source);
}
