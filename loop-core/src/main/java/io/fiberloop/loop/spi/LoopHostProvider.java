package io.fiberloop.loop.spi;

/**
 * Discovered with {@link java.util.ServiceLoader}: when a provider is present (fiberloop's
 * fiber module is one), every {@link io.fiberloop.loop.EventLoop} is built as a fiber host: its
 * tasks, timer callbacks and I/O run inside a work fiber, and {@code run(main)} runs the main in
 * a root fiber. {@link io.fiberloop.loop.EventLoop.Builder#hostFibers(boolean)} can opt out.
 */
public interface LoopHostProvider {

    /**
     * Creates the host of a new loop. Called on the thread that builds the loop, before the
     * loop's carrier starts.
     *
     * @param carrier what the loop offers its host: the carrier's continuation queue
     * @return the host, owned by the loop from now on
     * @throws IllegalStateException when fibers cannot run in this JVM; the message must say how
     *     to fix it (for instance which {@code --add-opens} flag is missing)
     */
    LoopHost create(LoopCarrier carrier);
}
