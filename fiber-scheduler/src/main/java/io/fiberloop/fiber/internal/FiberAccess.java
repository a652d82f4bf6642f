package io.fiberloop.fiber.internal;

import io.fiberloop.fiber.Fiber;
import java.lang.invoke.MethodHandles;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/**
 * What this package needs from the package-private parts of {@code io.fiberloop.fiber}: creating
 * a fiber or a task there, and settling a task. That package installs the one implementation when
 * {@link Fiber} is initialised (the JDK's {@code SharedSecrets} pattern), so that neither side
 * has to make these operations public.
 */
public abstract class FiberAccess {
    private static volatile FiberAccess instance;

    /** For the implementation in {@code io.fiberloop.fiber}. */
    protected FiberAccess() {
    }

    /**
     * Installs the implementation; called once, by {@link Fiber}'s class initialiser.
     *
     * @param access the implementation
     */
    public static void install(FiberAccess access) {
        instance = access;
    }

    static FiberAccess get() {
        FiberAccess a = instance;
        if (a == null) {
            try {
                MethodHandles.lookup().ensureInitialized(Fiber.class);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot initialise " + Fiber.class, e);
            }
            a = instance;
        }
        return a;
    }

    /**
     * Creates the fiber of a virtual thread that was started inside a fiber and is running now.
     *
     * @param host the loop's fiber host
     * @param thread the virtual thread
     * @return the new fiber's strand
     */
    public abstract Strand newImplicitFiber(FiberHost host, Thread thread);

    /**
     * Starts the loop's main in a root task.
     *
     * @param host the loop's fiber host
     * @param main the main
     * @param result completed with its outcome
     * @param <T> its result type
     */
    public abstract <T> void startMain(FiberHost host, Callable<T> main, CompletableFuture<T> result);

    /**
     * Completes the task of {@code strand} as cancelled: its loop has closed and it will never run
     * again.
     *
     * @param strand the strand of a live task
     * @param why the cancellation's message
     */
    public abstract void abandon(Strand strand, String why);

    /**
     * A task that {@link #runInline} runs on a work fiber; live, not started, inheriting no context.
     *
     * @param host the loop's fiber host
     * @param name its name, or {@code null}
     * @param body its work
     * @param <T> its result type
     * @return the task
     */
    public abstract <T> io.fiberloop.fiber.Task<T> newInlineTask(FiberHost host, String name, Callable<T> body);

    /**
     * Runs {@code task} on the work strand {@code work}, which is the caller (see {@link Inline}).
     *
     * @param work the calling work strand
     * @param task a task from {@link #newInlineTask}
     */
    public abstract void runInline(Strand work, io.fiberloop.fiber.Task<?> task);

    /**
     * The strand of a task's fiber.
     *
     * @param task a task
     * @return its strand
     */
    public abstract Strand strandOf(io.fiberloop.fiber.Task<?> task);

    /**
     * Ends the fiber of an inline task whose body ran outside it ({@link InlineCall}): as if its
     * target had returned {@code result} or thrown {@code failure}; settles the task.
     *
     * @param task a task from {@link #newInlineTask} whose strand runs
     * @param result what the body returned
     * @param failure what it threw, or {@code null}
     */
    public abstract void finishInline(io.fiberloop.fiber.Task<?> task, Object result, Throwable failure);

    /**
     * The failure of a task that nobody has retrieved (joined, read, watched) yet.
     *
     * @param task a task
     * @return its failure if it failed and nobody retrieved it, else {@code null}
     */
    public abstract Throwable unretrievedFailure(io.fiberloop.fiber.Task<?> task);
}
