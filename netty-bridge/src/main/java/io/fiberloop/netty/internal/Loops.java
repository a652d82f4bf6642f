package io.fiberloop.netty.internal;

import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClosedException;
import java.io.IOException;
import java.util.concurrent.CompletionException;

/** Running code in a fiber of a given loop, from anywhere: the servers' and the endpoints' one way to cross over. */
public final class Loops {
    private Loops() {
    }

    /** A callable that may throw {@link IOException}. */
    @FunctionalInterface
    public interface IoCallable<T> {
        /**
         * {@return the result}
         *
         * @throws IOException as the work does
         */
        T call() throws IOException;
    }

    /**
     * Runs {@code body} in a fiber of {@code loop}: inline when the caller is one, else in a new
     * task it waits for (a fiber of another loop is suspended, another thread blocks).
     *
     * @param loop the loop
     * @param body the work
     * @param <T> its result type
     * @return what {@code body} returned
     * @throws IOException what {@code body} threw, or if the loop is closed
     */
    public static <T> T onLoop(EventLoop loop, IoCallable<T> body) throws IOException {
        if (loop.inLoop() && Fiber.currentOrNull() != null) {
            return body.call();
        }
        Task<T> task;
        try {
            task = Fibers.spawn(loop, body::call);
        } catch (LoopClosedException e) {
            throw new IOException("loop '" + loop.name() + "' is closed", e);
        }
        try {
            return task.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw e;
        }
    }
}
