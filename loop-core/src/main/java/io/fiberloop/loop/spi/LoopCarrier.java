package io.fiberloop.loop.spi;

import io.fiberloop.loop.EventLoop;
import java.util.concurrent.Executor;

/**
 * What a loop offers its {@link LoopHost}: the queue of continuations that its carrier thread
 * runs. A host uses {@link #continuations()} as the scheduler of its virtual threads.
 */
public interface LoopCarrier {

    /** @return the loop this carrier belongs to */
    EventLoop loop();

    /**
     * The scheduler of the loop's fibers: each submitted continuation runs on the carrier, in
     * FIFO order with the others. Safe from any thread; a submission from another thread wakes
     * the carrier. Never runs the continuation inline.
     *
     * @return the continuation executor
     */
    Executor continuations();

    /**
     * Makes {@code continuation} the very next thing the carrier runs, ahead of everything queued
     * (a direct switch). Only one continuation can be pending there at a time.
     *
     * <p>Threading: on the carrier only (from a fiber of this loop).
     *
     * @param continuation the continuation to run next
     * @throws IllegalStateException if another direct continuation is already pending
     */
    void runNext(Runnable continuation);

    /**
     * Whether the calling code runs on this loop's carrier thread, either directly or inside one
     * of its fibers.
     *
     * @return {@code true} on the carrier
     */
    boolean onCarrier();

    /**
     * The host of this loop, so that a host can find itself from the current thread cheaply
     * ({@code EventLoop.currentOrNull()} is this carrier when called on the loop).
     *
     * @return the loop's host, or {@code null} for a loop that hosts no fibers
     */
    LoopHost host();

    /** @return the loop's carrier thread; {@code null} until the loop has started */
    Thread carrierThread();
}
