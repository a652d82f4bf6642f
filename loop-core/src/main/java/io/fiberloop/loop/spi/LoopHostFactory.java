package io.fiberloop.loop.spi;

/**
 * Creates the {@link LoopHost} of a new loop: given to
 * {@link io.fiberloop.loop.EventLoop.Builder#host(LoopHostFactory)}. fiberloop's fibers provide one
 * ({@code io.fiberloop.fiber.FiberLoops}); applications ask for a fiber loop there and never call
 * this themselves.
 */
@FunctionalInterface
public interface LoopHostFactory {

    /**
     * Creates the host. Called once, on the thread that builds the loop, before its carrier starts.
     *
     * @param work the loop's work, which the host runs
     * @return the host, owned by the loop from now on
     * @throws IllegalStateException when the host cannot run in this JVM; the message must say how
     *     to fix it (for instance which {@code --add-opens} flag is missing)
     */
    LoopHost create(LoopWork work);
}
