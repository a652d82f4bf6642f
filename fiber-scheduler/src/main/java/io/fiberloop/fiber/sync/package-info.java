/**
 * Coordination of the fibers of one loop, as asyncio's and trio's: {@link io.fiberloop.fiber.sync.Lock},
 * {@link io.fiberloop.fiber.sync.Semaphore}, {@link io.fiberloop.fiber.sync.BoundedSemaphore},
 * {@link io.fiberloop.fiber.sync.CapacityLimiter}, {@link io.fiberloop.fiber.sync.Event},
 * {@link io.fiberloop.fiber.sync.Condition} and {@link io.fiberloop.fiber.sync.Barrier}.
 *
 * <p>A primitive belongs to one loop, and its state is plain fields: no atomics, no locks. Every
 * primitive serves its waiters first come, first served, is cancellation-safe (a waiter cancelled
 * while waiting takes nothing, or hands on what it was granted), and refuses use from another loop
 * or a plain thread with a message that points to {@link io.fiberloop.fiber.channel.Channel},
 * the thread-safe way to talk across loops.
 */
package io.fiberloop.fiber.sync;
