package io.fiberloop.fiber.internal;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.internal.Exploration;
import io.fiberloop.loop.internal.LoopInternals;
import io.fiberloop.loop.spi.LoopWork;
import io.fiberloop.loop.spi.WorkRunner;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.atomic.MpscUnboundedAtomicArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The carrier thread of a fiber loop. It runs only continuations of virtual threads, from its own
 * FIFO queue (a local deque, and an MPSC queue that other threads' submissions go through, drained
 * into it) plus a one-slot <em>run-next</em> for direct switches, which goes before everything.
 *
 * <h2>The work fiber and the hand-over</h2>
 * The loop's own work (tasks, timers, the I/O poll: {@link LoopWork#run}) runs inside a <em>work
 * fiber</em>, a virtual thread on this carrier. This is the carrier-deadlock rule: if a callback
 * blocks on a monitor or lock that a parked fiber holds, only the work fiber parks, and the carrier
 * goes on running the fiber that will release it. After each continuation the carrier checks
 * whether the current work fiber is suspended <em>inside a task</em>; if it is, the carrier
 * {@linkplain #handOver hands the loop's work over} to a fresh work fiber, so that timers and I/O
 * go on, and the blocked one retires once its task returns. A work fiber is never replaced while it
 * is inside the driver's poll (it is not in a task then).
 * <pre>
 *   work fiber:  RUNNING TURNS ──(suspended inside a task, seen by the carrier)──► RETIRED
 *                                                                                    │ its task returns
 *   a new work fiber runs the turns from here on ◄── hand-over                     ENDS
 * </pre>
 *
 * <h2>The side fiber</h2>
 * While the work fiber is inside the driver's poll and yields between slices of a long run, the
 * loop may ask for its queued tasks to run meanwhile ({@link #runTasksBeside()}): a second work
 * fiber, the <em>side fiber</em>, runs them ({@link LoopWork#runBeside}) and parks until the next
 * batch. It is started, or unparked, before the work fiber yields, so it runs first. If the
 * carrier finds it suspended inside a task, it retires it as it would the work fiber (it ends once
 * its task returns), and the next batch starts a new one; no hand-over is needed, since the work
 * fiber goes on with the loop's work.
 *
 * <h2>Idle and waking</h2>
 * With nothing to run, the carrier parks: the work fiber is then either blocked in the driver's
 * poll (which pins the carrier: nothing else is ready), or suspended. A submission from another
 * thread enqueues, wakes the driver's poll, and unparks the carrier if it sleeps.
 *
 * <p>Threading: {@link #execute} from any thread; everything else on the carrier.
 */
final class CarrierLoop implements Executor {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
    /** How many continuations may run after the loop's work has finished before the carrier gives up on them. */
    private static final int AFTER_CLOSE_LIMIT = 1024 * 64;

    private final LoopWork work;
    private final EventLoop loop;
    private final FiberHost host;
    private final ArrayDeque<Runnable> local = new ArrayDeque<>(256);
    private final MessagePassingQueue<Runnable> foreign = new MpscUnboundedAtomicArrayQueue<>(1024);
    private final MessagePassingQueue.Consumer<Runnable> toLocal = local::addLast;
    /** Schedule exploration (tests only), or null: FIFO order. */
    private final Exploration exploration;
    /** The continuation of a direct switch: it runs before anything queued. */
    private Runnable next;
    private volatile Thread carrierThread;
    private volatile boolean sleeping;
    private WorkRunner runner;
    private int runners;
    /** The side fiber's runner, or null (none yet, or the last one was retired). */
    private WorkRunner side;
    private Thread sideThread;
    /** A batch of tasks was asked of the side fiber and has not begun. */
    private boolean sideAsked;
    /** The side fiber is parked, waiting for a batch. */
    private boolean sideParked;
    /**
     * Set as the loop begins to close ({@link FiberHost#onClose()}): only from then on does the
     * carrier ask, after each continuation, whether the loop's work has finished.
     */
    private boolean closing;
    /** Continuations run, for the loop's statistics (read racily). */
    private long run;

    CarrierLoop(LoopWork work, FiberHost host) {
        this.work = work;
        this.loop = work.loop();
        this.host = host;
        this.exploration = LoopInternals.get().exploration(loop);
    }

    // ------------------------------------------------------------------ the queue

    /** Queues a continuation (FIFO). Any thread; never runs it inline. */
    @Override
    public void execute(Runnable continuation) {
        if (loop.inLoop()) {
            if (!foreign.isEmpty()) {
                foreign.drain(toLocal);
            }
            local.addLast(continuation);
            return;
        }
        EventLoop.State s = loop.state();
        if (s == EventLoop.State.CLOSED) {
            log.debug("loop '{}' is closed: a fiber's continuation was dropped", loop.name());
            return;
        }
        foreign.offer(continuation);
        if (s == EventLoop.State.NEW) {
            loop.execute(() -> { }); // starts the loop's carrier, which then drains the queue
        }
        work.wakeupPoller();
        wakeCarrier();
    }

    /**
     * Makes {@code continuation} the very next thing the carrier runs, ahead of everything queued
     * (a direct switch). Carrier only, from a fiber of this loop.
     *
     * @throws IllegalStateException if another direct continuation is already pending
     */
    void runNext(Runnable continuation) {
        if (next != null) {
            throw new IllegalStateException("a direct switch is already pending on loop '" + loop.name() + "'");
        }
        next = continuation;
    }

    /** {@return whether a continuation is ready to run. Carrier} */
    boolean hasReadyWork() {
        return next != null || !local.isEmpty() || !foreign.isEmpty();
    }

    /** Unparks the carrier if it sleeps. Any thread. */
    void wakeCarrier() {
        if (sleeping) {
            Thread t = carrierThread;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    /** The loop begins to close (its host was told): the side fiber ends. Carrier. */
    void closing() {
        closing = true;
        if (sideParked) {
            LockSupport.unpark(sideThread);
        }
    }

    /** {@return how many continuations ran} */
    long continuationsRun() {
        return run;
    }

    // ------------------------------------------------------------------ the carrier's loop

    /** The carrier's body: runs continuations until the loop's work has finished closing. */
    void run() {
        carrierThread = Thread.currentThread();
        startRunner();
        int afterClose = 0;
        while (true) {
            Runnable c = next;
            if (c != null) {
                next = null;
            } else if (exploration == null) {
                c = local.pollFirst();
                if (c == null && !foreign.isEmpty()) {
                    foreign.drain(toLocal);
                    c = local.pollFirst();
                }
            } else {
                c = pickExplored();
            }
            if (c == null) {
                if (work.finished()) {
                    return;
                }
                park();
                continue;
            }
            if (work.idle()) {
                // a continuation runs while the work fiber is inside a blocking poll (a driver that
                // lets fibers run mid-poll, e.g. Netty's io_uring and epoll slices): the loop is busy,
                // so the watchdog must see it
                work.idle(false);
            }
            c.run();
            run++;
            work.progressed();
            WorkRunner w = runner;
            WorkRunner sw = side;
            if (sw != null && sw.inTask()) {
                retireSide(sw);
            }
            if (w.inTask() && !work.finished()) {
                handOver(w);
            } else if (closing && work.finished() && ++afterClose > AFTER_CLOSE_LIMIT) {
                log.warn("loop '{}' closed with fibers still runnable; they will not run again", loop.name());
                return;
            }
        }
    }

    /**
     * Schedule exploration: takes the continuation the seed picks among all the ready ones (those
     * from other threads drained first). A direct switch's run-next is never overtaken: it is
     * part of {@code switchTo}'s contract.
     */
    private Runnable pickExplored() {
        if (!foreign.isEmpty()) {
            foreign.drain(toLocal);
        }
        int n = local.size();
        if (n <= 1) {
            return local.pollFirst();
        }
        for (int k = exploration.pick(n); k > 0; k--) {
            local.addLast(local.pollFirst());
        }
        return local.pollFirst();
    }

    /**
     * Whether a fiber other than the loop's work fibers is ready to run. Carrier (fiberloop-test's
     * waitAllTasksBlocked, called from a fiber of this loop).
     *
     * @return whether any continuation but a work fiber's waits
     */
    boolean fiberReady() {
        if (!foreign.isEmpty()) {
            return true;
        }
        if (next != null && !isWorkFiber(next)) {
            return true;
        }
        for (Runnable c : local) {
            if (!isWorkFiber(c)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isWorkFiber(Runnable c) {
        return c instanceof Strand s && s.kind() == Strand.Kind.WORK;
    }

    /** Nothing to run: park until a continuation arrives from another thread. */
    private void park() {
        sleeping = true;
        if (foreign.isEmpty() && next == null) {
            work.idle(true);
            LockSupport.park(this);
            work.idle(false);
        }
        sleeping = false;
    }

    /**
     * The work fiber is suspended inside a task: gives the loop's work to a fresh work fiber; the
     * blocked one retires once its task returns.
     */
    private void handOver(WorkRunner blocked) {
        blocked.retire();
        log.debug("loop '{}': work fiber {} blocked inside a task; starting another", loop.name(), blocked.id());
        startRunner();
    }

    /**
     * Asks the side fiber for a batch of the loop's tasks (see the class comment): starts one, or
     * unparks the parked one. Carrier, from the work fiber inside the driver's poll.
     *
     * @return true: a batch will run before the work fiber resumes from its next yield
     */
    boolean runTasksBeside() {
        if (closing) {
            return false;
        }
        sideAsked = true;
        if (side == null) {
            WorkRunner w = new WorkRunner(++runners);
            side = w;
            sideThread = host.newWorkFiber(loop.name() + "-side-" + w.id(), () -> work.runBeside(w, () -> nextSideBatch(w)));
            sideThread.start();
        } else if (sideParked) {
            LockSupport.unpark(sideThread);
        }
        return true;
    }

    /** The side fiber waits for its next batch: true to run it, false to end. On the side fiber. */
    private boolean nextSideBatch(WorkRunner w) {
        while (true) {
            if (w != side || closing) {
                return false;
            }
            if (sideAsked) {
                sideAsked = false;
                return true;
            }
            sideParked = true;
            try {
                LockSupport.park(this);
            } finally {
                sideParked = false;
            }
        }
    }

    /** The side fiber is suspended inside a task: it ends once that returns; the next batch gets a new one. */
    private void retireSide(WorkRunner blocked) {
        blocked.retire();
        side = null;
        sideThread = null;
        sideAsked = false;
        log.debug("loop '{}': side fiber {} blocked inside a task; the next batch starts another", loop.name(), blocked.id());
    }

    private void startRunner() {
        WorkRunner w = new WorkRunner(++runners);
        runner = w;
        host.newWorkFiber(loop.name() + "-work-" + w.id(), () -> work.run(w)).start();
    }
}
