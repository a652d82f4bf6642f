package io.fiberloop.loop;

import io.fiberloop.loop.spi.IoDriver;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.atomic.MpscUnboundedAtomicArrayQueue;

/**
 * How work reaches a loop, and how the loop is woken for it.
 *
 * <h2>Queues</h2>
 * Tasks submitted on the carrier go straight into {@link #localTasks}, an {@link ArrayDeque};
 * tasks from other threads go into a JCTools MPSC queue, which the loop drains into the deque at
 * each turn and before every local submission, so that the queue as a whole stays FIFO. Timers
 * scheduled and cancelled from other threads wait in two more MPSC queues until the loop moves them
 * into (or out of) its heap.
 *
 * <h2>Waking the poller</h2>
 * The loop's work blocks in its I/O driver's poll only when nothing is ready. Both sides write
 * their own volatile, then read the other's (Dekker), so at least one of them sees the other:
 * <pre>
 *   work runner (carrier)                        submitter (any thread)
 *   ─────────────────────                        ──────────────────────
 *   pollerSleeping = true                        offer to a foreign queue
 *   foreign queues empty? ── no ──► poll(0)      pollerSleeping? ── no ──► done (one volatile read)
 *        │ yes                                        │ yes
 *   poll(timeout)  ◄────────── driver.wakeup() ◄── CAS pollerSleeping true → false
 *   pollerSleeping = false
 * </pre>
 *
 * <p>Threading: the {@code local} methods and the drains on the carrier; {@code offer} and
 * {@link #wakeupPoller()} from any thread.
 */
final class Submissions {
    private static final VarHandle POLLER_SLEEPING;

    static {
        try {
            POLLER_SLEEPING = MethodHandles.lookup().findVarHandle(Submissions.class, "pollerSleeping", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final ArrayDeque<Runnable> localTasks = new ArrayDeque<>(256);
    private final MessagePassingQueue<Runnable> foreignTasks = new MpscUnboundedAtomicArrayQueue<>(1024);
    private final MessagePassingQueue.Consumer<Runnable> toLocalTasks = localTasks::addLast;
    private final MessagePassingQueue<ScheduledTimer> foreignTimers = new MpscUnboundedAtomicArrayQueue<>(256);
    private final MessagePassingQueue<ScheduledTimer> foreignCancels = new MpscUnboundedAtomicArrayQueue<>(256);
    private final IoDriver driver;
    private volatile boolean pollerSleeping;

    Submissions(IoDriver driver) {
        this.driver = driver;
    }

    // ------------------------------------------------------------------ tasks

    /** Queues a task submitted on the carrier, after every task submitted before it from anywhere. */
    void addLocal(Runnable task) {
        if (!foreignTasks.isEmpty()) {
            foreignTasks.drain(toLocalTasks);
        }
        localTasks.addLast(task);
    }

    /** Queues a task from another thread and wakes the poller if it sleeps. */
    void offerForeign(Runnable task) {
        foreignTasks.offer(task);
        wakeupPoller();
    }

    /** Moves the tasks other threads submitted into the local queue. Carrier. */
    void drainForeignTasks() {
        if (!foreignTasks.isEmpty()) {
            foreignTasks.drain(toLocalTasks);
        }
    }

    /** {@return whether a task waits, local or foreign. Carrier} */
    boolean tasksPending() {
        return !localTasks.isEmpty() || !foreignTasks.isEmpty();
    }

    /** {@return how many tasks wait, local or foreign (the foreign count racy)} */
    int tasksWaiting(boolean onCarrier, int lastLocal) {
        return (onCarrier ? localTasks.size() : lastLocal) + foreignTasks.size();
    }

    // ------------------------------------------------------------------ timers

    /** Queues a timer scheduled from another thread and wakes the poller. */
    void offerTimer(ScheduledTimer t) {
        foreignTimers.offer(t);
        wakeupPoller();
    }

    /** Queues the removal of a timer cancelled from another thread and wakes the poller. */
    void offerCancel(ScheduledTimer t) {
        foreignCancels.offer(t);
        wakeupPoller();
    }

    /** Applies the cancellations, then adds the timers, that other threads submitted. Carrier. */
    void drainForeignTimers(TimerQueue timers) {
        ScheduledTimer t;
        while ((t = foreignCancels.relaxedPoll()) != null) {
            timers.remove(t);
        }
        while ((t = foreignTimers.relaxedPoll()) != null) {
            if (!t.isCancelled()) {
                timers.add(t);
            }
        }
    }

    /** {@return whether foreign work arrived: tasks or timers} */
    boolean foreignPending() {
        return !foreignTasks.isEmpty() || !foreignTimers.isEmpty();
    }

    // ------------------------------------------------------------------ the poller

    /** The runner is about to block in the driver: submitters from now on wake it. Carrier. */
    void pollerSleeping() {
        POLLER_SLEEPING.setVolatile(this, true);
    }

    /** The runner is back from the driver. Carrier. */
    void pollerAwake() {
        pollerSleeping = false;
    }

    /** Wakes the runner if it is blocked (or about to block) in the driver. Any thread. */
    void wakeupPoller() {
        if (pollerSleeping && POLLER_SLEEPING.compareAndSet(this, true, false)) {
            driver.wakeup();
        }
    }

    // ------------------------------------------------------------------ termination

    /**
     * Drops what other threads submitted while the loop closed: the timers are marked cancelled.
     *
     * @return how many tasks were dropped
     */
    int dropForeign() {
        int count = 0;
        while (foreignTasks.poll() != null) {
            count++;
        }
        ScheduledTimer t;
        while ((t = foreignTimers.poll()) != null) {
            t.markCancelled();
        }
        return count;
    }
}
