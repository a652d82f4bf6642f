package io.fiberloop.fiber.internal;

import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.internal.MustLog;
import io.fiberloop.loop.spi.LoopHost;
import io.fiberloop.loop.spi.LoopWork;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fiber side of one loop, its {@link LoopHost}: runs the loop's carrier ({@link CarrierLoop}:
 * continuations, the work fiber and its hand-over), creates the virtual threads of its fibers (each
 * scheduled by its own {@link Strand}), runs the loop's main in a root task, keeps the loop's live
 * tasks so that closing the loop cancels them, and tells the watchdog which fiber is mounted.
 *
 * <p>Loop thread only, but for {@link #of}, {@link #ofOrNull}, {@link #wakeCarrier()} and
 * {@link #describeRunning()}.
 */
public final class FiberHost implements LoopHost {
    private static final Logger log = LoggerFactory.getLogger(io.fiberloop.fiber.Fiber.class);
    private static volatile boolean gcChecked;

    final CarrierLoop carrier;
    final EventLoop loop;
    /** Set around an unpark or a start that must run next (a direct switch). */
    boolean directNext;
    /**
     * The strand whose continuation the carrier runs now: how code finds its current fiber
     * ({@link Strand#here()}). Carrier only, plain field; the watchdog reads it racily, which at
     * worst names the fiber that ran a moment before.
     */
    Strand mounted;
    /** Head of the intrusive list of live tasks (through Strand.livePrev/liveNext). */
    private Strand liveHead;
    /**
     * Tests only (fiberloop-test): the tasks that failed with nobody watching, and the failures
     * {@link #report}ed, kept so that a test can fail on them; {@code null} (nothing kept) unless
     * {@link #keepFailures()} was called. Loop thread.
     */
    private List<Task<?>> unwatchedFailures;
    private List<Throwable> reported;
    /** How many strands the live list holds; written on the loop, read racily from any thread by {@link #liveCount()}. */
    private int liveCount;
    /** Set once the loop has terminated: spawning on it is refused. */
    private volatile boolean terminated;
    /** Set as the loop begins to close ({@link #onClose()}), when its live tasks are cancelled. Loop thread. */
    boolean closing;

    private FiberHost(LoopWork work) {
        this.loop = work.loop();
        this.carrier = new CarrierLoop(work, this);
    }

    /**
     * Creates the fiber host of a new loop: the {@link io.fiberloop.loop.spi.LoopHostFactory} of
     * {@code FiberLoops}.
     *
     * @param work the loop's work
     * @return the host
     * @throws IllegalStateException if fibers cannot run in this JVM (the message names the flag)
     */
    public static FiberHost create(LoopWork work) {
        JdkReach.checkVirtualThreads();
        JdkPoller.ensureInitialized();
        checkGarbageCollection();
        FiberHost h = new FiberHost(work);
        synchronized (HOSTS) {
            HOSTS.add(h);
        }
        return h;
    }

    /** The hosts of the loops not terminated yet, for fiber dumps; held by their loops, so weakly here. */
    private static final java.util.Set<FiberHost> HOSTS = java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>());

    /**
     * The hosts of every fiber loop not terminated yet, in no particular order. Any thread.
     *
     * @return a copy
     */
    public static List<FiberHost> all() {
        synchronized (HOSTS) {
            return List.copyOf(HOSTS);
        }
    }

    /**
     * The live tasks, newest first: exact on the loop's thread; from another thread a racy read
     * (a task starting or ending meanwhile may be missed), bounded by {@code max}.
     *
     * @param max the most to return
     * @return the strands
     */
    public List<Strand> liveSnapshot(int max) {
        includeRunningCall();
        List<Strand> all = new ArrayList<>();
        for (Strand s = liveHead; s != null && all.size() < max; s = s.liveNext) {
            all.add(s);
        }
        return all;
    }

    private static void checkGarbageCollection() {
        if (gcChecked) {
            return;
        }
        gcChecked = true;
        if (!"false".equals(System.getProperty("jdk.trackAllThreads"))) {
            MustLog.warn(log, "-Djdk.trackAllThreads=false is not set: a suspended fiber that becomes unreachable will never be "
                    + "garbage-collected (the JDK keeps every parked virtual thread reachable). "
                    + "Add -Djdk.trackAllThreads=false to the JVM's flags (./fiberloop and fiberloop's tests do).");
        }
    }

    /**
     * The host of {@code loop}. Any thread; no map lookup.
     *
     * @param loop a loop
     * @return its host, or {@code null} if it hosts no fibers or has terminated
     */
    public static FiberHost ofOrNull(EventLoop loop) {
        return loop instanceof LoopWork w && w.host() instanceof FiberHost h && !h.terminated ? h : null;
    }

    /**
     * The host of {@code loop}. Any thread.
     *
     * @param loop a loop
     * @return its host
     * @throws IllegalStateException if the loop hosts no fibers or is closed
     */
    public static FiberHost of(EventLoop loop) {
        FiberHost h = ofOrNull(loop);
        if (h == null) {
            throw new IllegalStateException("loop '" + loop.name() + "' does not host fibers (" + (loop.state() == EventLoop.State.CLOSED
                    ? "it is closed" : "it was built with EventLoop.create() or EventLoop.builder(), which make plain loops")
                    + "): build a fiber loop with FiberLoops.newLoop() or FiberLoops.builder() (NettyLoops' loops host fibers too)");
        }
        return h;
    }

    /**
     * The fiber host of the code running now: the current fiber's, or the current loop's.
     *
     * @param what the operation, for the message
     * @param fix what to do instead when the caller is not on a loop
     * @return the host
     * @throws IllegalStateException off a loop, or on a loop that hosts no fibers
     */
    public static FiberHost here(String what, String fix) {
        Strand s = Strand.here();
        if (s != null) {
            return s.host();
        }
        EventLoop loop = EventLoop.currentOrNull();
        if (loop == null) {
            throw new IllegalStateException(what + " needs an event loop, and thread '" + Thread.currentThread().getName()
                    + "' is not on one: " + fix);
        }
        return of(loop);
    }

    /** {@return the loop} */
    public EventLoop loop() {
        return loop;
    }

    /** {@return whether the caller runs on this loop's carrier (in a fiber or a callback)} */
    public boolean onCarrier() {
        return loop.inLoop();
    }

    /**
     * Whether the caller is the strand mounted on this loop's carrier: true for the synchronous
     * submission that a direct switch makes, false for any other thread (which may read a stale
     * {@link #directNext}). Checks the mounted strand first, which is cheaper than asking for the
     * carrier thread.
     */
    boolean onThisLoopsFiber() {
        Strand m = mounted;
        // implicit fibers run without `mounted` set: ask for the carrier then
        return m != null && m.thread() == Thread.currentThread() || loop.inLoop();
    }

    Thread newThread(Strand strand, String name, Runnable body) {
        return JdkReach.newVirtualThread(strand, name, body);
    }

    /** An unstarted work fiber of this loop that runs {@code body}. */
    Thread newWorkFiber(String name, Runnable body) {
        return new Strand(this, Strand.Kind.WORK, null).newThread(name, body);
    }

    // ------------------------------------------------------------------ LoopHost: the carrier

    @Override
    public void runCarrier() {
        carrier.run();
    }

    @Override
    public boolean runTasksBeside() {
        return carrier.runTasksBeside();
    }

    @Override
    public boolean hasReadyWork() {
        return carrier.hasReadyWork();
    }

    @Override
    public void wakeCarrier() {
        carrier.wakeCarrier();
    }

    @Override
    public long workRun() {
        return carrier.continuationsRun();
    }

    @Override
    public <T> void startMain(Callable<T> main, CompletableFuture<T> result) {
        FiberAccess.get().startMain(this, main, result);
    }

    // ------------------------------------------------------------------ live tasks

    /**
     * Adds a task's strand to the live tasks, which closing the loop cancels. Loop thread.
     *
     * @param s the strand of a task about to start
     */
    public void addLive(Strand s) {
        s.live = true;
        s.liveNext = liveHead;
        if (liveHead != null) {
            liveHead.livePrev = s;
        }
        liveHead = s;
        liveCount++;
    }

    /**
     * Removes a task's strand from the live tasks, if it is there. Loop thread.
     *
     * @param s the strand of a task that ended
     */
    public void taskEnded(Strand s) {
        if (!s.live) {
            return;
        }
        s.live = false;
        if (s.livePrev != null) {
            s.livePrev.liveNext = s.liveNext;
        } else {
            liveHead = s.liveNext;
        }
        if (s.liveNext != null) {
            s.liveNext.livePrev = s.livePrev;
        }
        s.livePrev = null;
        s.liveNext = null;
        liveCount--;
    }

    /**
     * The loop's live tasks (started and not ended, including those suspended). Any thread: from
     * another thread the count may be a moment old.
     *
     * @return the number of live tasks
     */
    public int liveCount() {
        includeRunningCall();
        return liveCount;
    }

    private List<Strand> liveTasks() {
        includeRunningCall();
        List<Strand> all = new ArrayList<>();
        for (Strand s = liveHead; s != null; s = s.liveNext) {
            all.add(s);
        }
        return all;
    }

    /**
     * Called from an {@link InlineCall} that has no task yet (a handler that asks how many tasks
     * live, dumps them, or closes the loop): makes it a task first, so that it counts as one.
     * Nothing on another thread, or outside an inline call.
     */
    private void includeRunningCall() {
        Strand m = mounted;
        if (m != null && m.lazy != null && m.thread() == Thread.currentThread()) {
            m.lazy.becomeTask(true);
        }
    }

    /**
     * Reports a failure nobody can receive.
     *
     * @param error the failure
     * @param what what failed, and why nobody receives it
     */
    public void report(Throwable error, String what) {
        if (reported != null) {
            reported.add(new IllegalStateException(what, error));
        }
        log.error("loop '{}': {}", loop.name(), what, error);
    }

    // ------------------------------------------------------------------ for fiberloop-test

    /**
     * Keeps, from now on, the tasks that fail with nobody watching and the failures reported, so
     * that a test can fail on them ({@link #unretrievedFailures()}). Loop thread, or before the
     * loop starts.
     */
    public void keepFailures() {
        unwatchedFailures = new ArrayList<>();
        reported = new ArrayList<>();
    }

    /**
     * Task only: {@code task} failed and nobody watched it then.
     *
     * @param task the task
     */
    public void failedUnwatched(Task<?> task) {
        if (unwatchedFailures != null) {
            unwatchedFailures.add(task);
        }
    }

    /**
     * The failures kept since {@link #keepFailures()} that nobody has retrieved: each a
     * {@link IllegalStateException} naming the task (or what was reported), caused by the failure.
     * Loop thread.
     *
     * @return the failures, oldest first; empty if none or if nothing is kept
     */
    public List<Throwable> unretrievedFailures() {
        List<Throwable> out = new ArrayList<>();
        if (unwatchedFailures == null) {
            return out;
        }
        FiberAccess access = FiberAccess.get();
        for (Task<?> t : unwatchedFailures) {
            Throwable e = access.unretrievedFailure(t);
            if (e != null) {
                out.add(new IllegalStateException("task '" + t.name() + "' failed and nobody joined it", e));
            }
        }
        out.addAll(reported);
        return out;
    }

    /**
     * The live tasks of this loop (those started and not ended). Loop thread.
     *
     * @return their strands, newest first
     */
    public List<Strand> liveTaskStrands() {
        return liveTasks();
    }

    /**
     * Whether a fiber other than the loop's work fiber is ready to run. Loop thread (a fiber of
     * this loop asks whether every other fiber is blocked).
     *
     * @return whether one is ready
     */
    public boolean fiberReady() {
        return carrier.fiberReady();
    }

    @Override
    public String describeRunning() {
        Strand s = mounted;
        if (s == null) {
            return null;
        }
        InlineCall<?> call = s.lazy; // an inline call that has no task yet: named as its task would be
        StringBuilder sb = new StringBuilder(call != null ? call.describe() : String.valueOf(s));
        Thread t = s.thread();
        if (t != null) {
            for (StackTraceElement e : t.getStackTrace()) {
                sb.append("\n      at ").append(e);
            }
        }
        return sb.toString();
    }

    @Override
    public void onClose() {
        closing = true;
        carrier.closing();
        for (Strand s : liveTasks()) {
            s.requestCancel();
        }
    }

    @Override
    public void onTerminated() {
        List<Strand> left = liveTasks();
        liveHead = null;
        liveCount = 0;
        FiberAccess access = FiberAccess.get();
        for (Strand s : left) {
            s.live = false;
            access.abandon(s, "loop '" + loop.name() + "' closed before task '" + s.fiber().name() + "' finished");
        }
        terminated = true;
        synchronized (HOSTS) {
            HOSTS.remove(this);
        }
    }
}
