package io.fiberloop.netty.http;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.TimerHandle;

/**
 * The one loop timer of a connection whose deadline moves often: the idle timeout that every
 * request pushes back, a request timeout, a periodic check. Moving the deadline later leaves the
 * armed timer alone ({@link #armBy}): it fires early, and the owner's task, finding its deadline
 * not yet passed, arms again. So a busy connection touches the loop's timer queue about once per
 * timeout, not once per request. Used by the HTTP/1.1 and HTTP/2 connections and the WebSocket.
 *
 * <p>Threading: the loop's carrier (Netty's owning thread and loop tasks).
 */
final class LazyTimer implements Runnable {
    private final EventLoop loop;
    private final Runnable task;
    private TimerHandle handle;
    private long armedFor;

    /**
     * A timer, not yet armed.
     *
     * @param loop the loop whose clock and timers it uses
     * @param task what runs when it goes off (a loop task)
     */
    LazyTimer(EventLoop loop, Runnable task) {
        this.loop = loop;
        this.task = task;
    }

    /**
     * Makes sure the task runs by {@code deadline}: arms the timer unless it is armed for that
     * time or earlier.
     *
     * @param deadline a time on the loop's clock ({@code EventLoop.now()})
     */
    void armBy(long deadline) {
        if (handle != null) {
            if (armedFor <= deadline) {
                return; // fires early and re-arms
            }
            handle.cancel();
        }
        armedFor = deadline;
        handle = loop.scheduleAt(this, deadline);
    }

    /** Disarms the timer (nothing if it is not armed). */
    void cancel() {
        if (handle != null) {
            handle.cancel();
            handle = null;
        }
    }

    /** The timer went off: runs the task, which may arm it again. Loop task. */
    @Override
    public void run() {
        handle = null;
        task.run();
    }
}
