package io.fiberloop.fiber.internal;

import io.fiberloop.fiber.Task;
import java.util.concurrent.Callable;

/**
 * A call that runs on the loop's work fiber ({@link Inline#run(InlineCall)}) and becomes a task
 * only when something needs one. A server's handler that answers at once then costs no task, no
 * fiber, no entry in the loop's live tasks and no settling; one that needs to be a task becomes
 * one at that moment, with the same name, and from then on is the task it would have been from
 * the start. It becomes one when:
 * <ul>
 *   <li>code inside asks for the current strand ({@link Strand#here()}): {@code Fiber.current()},
 *       {@code Task} waits, every suspension point, cancel scopes and deadlines, fiber locals, a
 *       spawn (the child's spawner), the loop's live tasks ({@code FiberLoops.liveTasks}, a fiber
 *       dump) or closing the loop;</li>
 *   <li>it suspends without asking (a JDK blocking call inside the body): the work fiber's
 *       scheduler makes it one as the thread leaves the carrier, before the loop hands its work to
 *       a new work fiber;</li>
 *   <li>someone who may cancel it asks for it ({@link #task()}, {@link #cancel()}): a connection
 *       that closes, a server that closes;</li>
 *   <li>its body throws: the failure goes through a task, which reports it (a JFR task-end event,
 *       the log of a failure nobody retrieved) as any task's does.</li>
 * </ul>
 * A call made before its loop began to close, and run after, starts as a cancelled task, as a live
 * task would have.
 *
 * <p>Threading: the carrier of the loop ({@link #run}: a loop task on the work fiber; the others
 * in the loop's fibers and callbacks), but for {@link #describe()} (any thread, racy).
 *
 * @param <T> the body's result type
 */
public final class InlineCall<T> {
    private static final int NEW = 0;
    private static final int RUNNING = 1;
    private static final int DONE = 2;

    private final FiberHost host;
    private final Callable<T> body;
    /** Whether the loop was open when the call was made: if it closes before the call runs, the call starts cancelled. */
    private final boolean madeOpen;
    /** The task's name, until there is a task (then the task's fiber keeps it). */
    private String name;
    /** The task, once it is one; from then on every question goes to it. */
    private Task<T> task;
    private int state = NEW;
    /** While it runs: the work strand it runs on. */
    private Strand work;
    /** The work strand's thread's name, while that thread stands in for the task. */
    private String workName;
    /** What the body returned, once it returned without a task (for a {@link #task()} asked for later). */
    private Object result;

    InlineCall(FiberHost host, String name, Callable<T> body) {
        this.host = host;
        this.name = name;
        this.body = body;
        this.madeOpen = !host.closing;
    }

    /**
     * Runs the call on {@code work}, the calling work strand: see {@link Inline#run(InlineCall)}.
     *
     * @param work the calling work strand
     */
    void run(Strand work) {
        if (task != null || host.closing) {
            runAsTask(work);
            return;
        }
        state = RUNNING;
        this.work = work;
        work.lazy = this;
        Object r = null;
        Throwable failure = null;
        try {
            r = body.call();
        } catch (Throwable e) {
            failure = e;
        }
        state = DONE;
        FiberAccess access = FiberAccess.get();
        Task<T> t = task;
        if (t == null) {
            work.lazy = null;
            this.work = null;
            if (failure == null) {
                result = r;
                return;
            }
            // a failure is reported through a task, as any task's is
            t = newTask();
            Strand s = access.strandOf(t);
            String own = work.thread().getName();
            work.beginStandIn(s, true);
            access.finishInline(t, null, failure);
            work.endStandIn(s, own);
            return;
        }
        access.finishInline(t, r, failure);
        work.endStandIn(access.strandOf(t), workName);
        this.work = null;
    }

    /** Asked for before it ran, or run on a closing loop: an ordinary inline task, from its start. */
    private void runAsTask(Strand work) {
        FiberAccess access = FiberAccess.get();
        Task<T> t = task;
        if (t == null) {
            t = newTask();
            if (madeOpen) {
                access.strandOf(t).requestCancel(); // closing the loop cancelled the live tasks it would have been one of
            }
        }
        state = DONE;
        access.runInline(work, t);
    }

    /**
     * Makes the running call a task now: it joins the loop's live tasks, and its work strand
     * stands in for the task's strand from here on. Carrier only, while the call runs without a
     * task.
     *
     * @param mountedNow whether the work strand's thread is mounted (asked from inside the body),
     *     rather than leaving the carrier (the body suspended)
     * @return the task's strand
     */
    Strand becomeTask(boolean mountedNow) {
        Strand w = work;
        Strand s = FiberAccess.get().strandOf(newTask());
        w.lazy = null;
        workName = w.thread().getName();
        w.beginStandIn(s, mountedNow);
        return s;
    }

    private Task<T> newTask() {
        Task<T> t = FiberAccess.get().newInlineTask(host, name, body);
        task = t;
        return t;
    }

    /**
     * The call's task, made now if it is none yet: for whoever may have to cancel the call, wait
     * for it or report it. A call that has not run becomes a task that has not started (live:
     * closing the loop cancels it); one that runs becomes the running task; one that has returned
     * becomes a task that succeeded.
     *
     * @return the task
     * @throws IllegalStateException off the loop's carrier
     */
    public Task<T> task() {
        Task<T> t = task;
        if (t != null) {
            return t;
        }
        checkCarrier("task()");
        switch (state) {
            case NEW -> t = newTask();
            case RUNNING -> {
                becomeTask(host.mounted == work);
                t = task;
            }
            default -> {
                t = newTask();
                FiberAccess.get().finishInline(t, result, null);
            }
        }
        return t;
    }

    /**
     * Cancels the call as {@link Task#cancel()} cancels a task: one that has not run is done at
     * once (it will not run), one that runs is cancelled at its next suspension point.
     *
     * @return false if it had returned already
     * @throws IllegalStateException off the loop's carrier
     */
    public boolean cancel() {
        if (task == null && state == DONE) {
            return false;
        }
        checkCarrier("cancel()");
        return task().cancel();
    }

    /** {@return whether the call is a task (it was made one), for tests} */
    boolean isTask() {
        return task != null;
    }

    /** {@return whether the call has returned or thrown (a task's: it is done)} */
    public boolean isDone() {
        Task<T> t = task;
        return t != null ? t.isDone() : state == DONE;
    }

    /** {@return whether the call was cancelled} */
    public boolean isCancelled() {
        Task<T> t = task;
        return t != null && t.isCancelled();
    }

    /**
     * Names the call's task: what thread dumps, fiber dumps, stall reports and failure logs show.
     *
     * @param newName the name
     */
    public void name(String newName) {
        Task<T> t = task;
        if (t != null) {
            t.fiber().name(newName);
        } else {
            name = newName;
        }
    }

    /**
     * The task's name: the one given, or the one its task generates (which makes the task).
     *
     * @return the name
     */
    public String name() {
        Task<T> t = task;
        if (t != null) {
            return t.name();
        }
        String n = name;
        return n != null ? n : task().name();
    }

    /**
     * The call as the stall report shows the running fiber, {@code Fiber[GET /users/{id}, RUNNING]}.
     * Any thread (the watchdog's): a racy read.
     *
     * @return the description
     */
    public String describe() {
        Task<T> t = task;
        if (t != null) {
            return t.fiber().toString();
        }
        String n = name;
        return "Fiber[" + (n != null ? n : "an unnamed inline task") + ", " + (state == DONE ? "ENDED" : "RUNNING") + "]";
    }

    private void checkCarrier(String what) {
        if (!host.onCarrier()) {
            throw new IllegalStateException("InlineCall." + what + " was called from thread '" + Thread.currentThread().getName()
                    + "', not on loop '" + host.loop().name() + "': call it on the loop (Task.cancel() may be called from any thread)");
        }
    }

    @Override
    public String toString() {
        return "InlineCall[" + describe() + "]";
    }
}
