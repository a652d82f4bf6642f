package io.fiberloop.fiber;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.spi.LoopCarrier;
import io.fiberloop.loop.spi.LoopHost;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fiber side of one loop: creates the virtual threads of its fibers (each with its own
 * {@link FiberExecutor}), runs the loop's main in a root fiber, keeps the loop's live tasks so that
 * closing the loop cancels them, and tells the watchdog which fiber is mounted.
 *
 * <p>Loop thread only, but for {@link #of} and {@link #describeRunning()}.
 */
final class FiberHost implements LoopHost {
    private static final Logger log = LoggerFactory.getLogger(Fiber.class);

    final LoopCarrier carrier;
    final EventLoop loop;
    /** Set around an unpark or a start that must run next (a direct switch). */
    boolean directNext;
    /**
     * The fiber whose continuation the carrier runs now: how code finds its current fiber
     * ({@link Fiber#here()}). Carrier only, plain field; the watchdog reads it racily, which at
     * worst names the fiber that ran a moment before.
     */
    Fiber mounted;
    /** Head of the intrusive list of live tasks (through Fiber.livePrev/liveNext). */
    private Fiber liveHead;
    /** Set once the loop has terminated: spawning on it is refused. */
    volatile boolean terminated;

    FiberHost(LoopCarrier carrier) {
        this.carrier = carrier;
        this.loop = carrier.loop();
    }

    /** The host of {@code loop}, or {@code null} if it hosts no fibers or has terminated. Any thread; no map lookup. */
    static FiberHost ofOrNull(EventLoop loop) {
        // Only the loop-core event loop (a LoopCarrier) can host fibers.
        return loop instanceof io.fiberloop.loop.spi.LoopCarrier c && c.host() instanceof FiberHost h && !h.terminated ? h : null;
    }

    static FiberHost of(EventLoop loop) {
        FiberHost h = ofOrNull(loop);
        if (h == null) {
            throw new IllegalStateException("loop '" + loop.name() + "' does not host fibers (it was built with hostFibers(false), "
                    + "or is closed): use a loop built with the default settings");
        }
        return h;
    }

    /**
     * Whether the caller is the fiber mounted on this loop's carrier: true for the synchronous
     * submission that a direct switch makes, false for any other thread (which may read a stale
     * {@link #directNext}). Checks the mounted fiber first, which is cheaper than asking for the
     * carrier thread.
     */
    boolean onThisLoopsFiber() {
        Fiber m = mounted;
        // implicit fibers run without `mounted` set: ask for the carrier then
        return m != null && m.thread == Thread.currentThread() || carrier.onCarrier();
    }

    Thread newFiberThread(Fiber fiber, Runnable body) {
        Thread.Builder.OfVirtual b = VirtualThreads.builder(new FiberExecutor(this, fiber));
        String name = fiber.givenName();
        return (name != null ? b.name(name) : b).unstarted(body);
    }

    @Override
    public Thread newWorkFiber(String name, Runnable body) {
        Fiber work = new Fiber(this, null, null, Fiber.Kind.WORK, name);
        Thread t = newFiberThread(work, body);
        work.thread = t;
        work.state = Fiber.State.RUNNING;
        return t;
    }

    @Override
    public <T> void startMain(Callable<T> main, CompletableFuture<T> result) {
        Task<T> task = spawn(loop.name() + "-main", main);
        task.whenComplete((v, e) -> {
            if (e != null) {
                result.completeExceptionally(e);
            } else {
                result.complete(v);
            }
        });
    }

    /** Creates and starts a task on this loop. Loop thread only. */
    <T> Task<T> spawn(String name, Callable<T> body) {
        body = FiberContext.inherit(body); // fiber-locals and MDC of the spawner, captured now
        Fiber f = new Fiber(this, body, null, Fiber.Kind.TASK, name);
        Task<T> task = new Task<>(f);
        f.task = task;
        addLive(f);
        f.start();
        return task;
    }

    /** Creates a task to be started on this loop later ({@link #startTask}). Any thread. */
    <T> Task<T> prepare(String name, Callable<T> body) {
        body = FiberContext.inherit(body); // fiber-locals and MDC of the spawner, captured now
        Fiber f = new Fiber(this, body, null, Fiber.Kind.TASK, name);
        Task<T> task = new Task<>(f);
        f.task = task;
        return task;
    }

    /** Loop thread: starts a prepared task, unless it was cancelled before it could start. */
    void startTask(Task<?> task) {
        Fiber f = task.fiber;
        if (f.state != Fiber.State.NEW) {
            return;
        }
        addLive(f);
        f.start();
    }

    void taskEnded(Fiber f) {
        if (f.livePrev == null && f.liveNext == null && liveHead != f) {
            return;
        }
        if (f.livePrev != null) {
            f.livePrev.liveNext = f.liveNext;
        } else {
            liveHead = f.liveNext;
        }
        if (f.liveNext != null) {
            f.liveNext.livePrev = f.livePrev;
        }
        f.livePrev = null;
        f.liveNext = null;
    }

    private void addLive(Fiber f) {
        f.liveNext = liveHead;
        if (liveHead != null) {
            liveHead.livePrev = f;
        }
        liveHead = f;
    }

    private List<Fiber> liveTasks() {
        List<Fiber> all = new ArrayList<>();
        for (Fiber f = liveHead; f != null; f = f.liveNext) {
            all.add(f);
        }
        return all;
    }

    /** Reports a failure nobody can receive, through the loop's exception handler. */
    void report(Throwable error, String what) {
        log.error("loop '{}': {}", loop.name(), what, error);
    }

    @Override
    public String describeRunning() {
        Fiber f = mounted;
        if (f == null) {
            return null;
        }
        StringBuilder sb = new StringBuilder(String.valueOf(f));
        Thread t = f.thread;
        if (t != null) {
            for (StackTraceElement e : t.getStackTrace()) {
                sb.append("\n      at ").append(e);
            }
        }
        return sb.toString();
    }

    @Override
    public void onClose() {
        for (Fiber f : liveTasks()) {
            f.requestCancel();
        }
    }

    @Override
    public void onTerminated() {
        List<Fiber> left = liveTasks();
        liveHead = null;
        for (Fiber f : left) {
            if (f.task != null) {
                f.task.settle(null, new CancelledException("loop '" + loop.name() + "' closed before task '" + f.name() + "' finished"));
            }
        }
        terminated = true;
    }
}
