package io.fiberloop.loop;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** A timer of the heap in {@link TimerQueue}: ordered by deadline, then by submission. */
final class ScheduledTimer implements TimerHandle {
    static final int PENDING = 0;
    static final int FIRED = 1;
    static final int CANCELLED = 2;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(ScheduledTimer.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final DefaultEventLoop loop;
    final long deadline;
    /** A wake-up ({@link EventLoop#scheduleWake}): it may fire in the middle of the driver's poll. */
    final boolean wake;
    long seq;
    /** Position in the heap, or -1 when not in it. Loop thread only. */
    int index = -1;
    Runnable task;
    private volatile int state;

    ScheduledTimer(DefaultEventLoop loop, Runnable task, long deadline, boolean wake) {
        this.loop = loop;
        this.task = task;
        this.deadline = deadline;
        this.wake = wake;
    }

    boolean before(ScheduledTimer o) {
        return deadline < o.deadline || (deadline == o.deadline && seq < o.seq);
    }

    /** Loop thread: claims the timer for firing; false if it was cancelled meanwhile. */
    boolean markFired() {
        return STATE.compareAndSet(this, PENDING, FIRED);
    }

    /** Loop thread, as the loop closes. */
    void markCancelled() {
        STATE.compareAndSet(this, PENDING, CANCELLED);
        task = null;
    }

    @Override
    public boolean cancel() {
        if (!STATE.compareAndSet(this, PENDING, CANCELLED)) {
            return false;
        }
        loop.timerCancelled(this);
        return true;
    }

    @Override
    public boolean isCancelled() {
        return state == CANCELLED;
    }

    @Override
    public boolean hasFired() {
        return state == FIRED;
    }

    @Override
    public long deadlineNanos() {
        return deadline;
    }

    @Override
    public String toString() {
        String s = switch (state) {
            case PENDING -> "pending";
            case FIRED -> "fired";
            default -> "cancelled";
        };
        return "Timer[" + s + ", deadline=" + deadline + ", loop=" + loop.name() + "]";
    }
}
