/**
 * Passing values between fibers: {@link io.fiberloop.fiber.channel.Channel} (thread-safe, with
 * backpressure, across loops and plain threads, as Go's and kotlinx's channels),
 * {@link io.fiberloop.fiber.channel.Select} (wait on several channel operations at once) and
 * {@link io.fiberloop.fiber.channel.FiberQueue} (asyncio's queues, inside one loop).
 */
package io.fiberloop.fiber.channel;
