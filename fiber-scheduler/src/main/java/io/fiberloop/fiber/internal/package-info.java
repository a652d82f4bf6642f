/**
 * The runtime behind fiberloop's fibers; not an API (the module does not export it, but to
 * {@code io.fiberloop.netty}). {@link io.fiberloop.fiber.internal.FiberHost} is the fiber side of
 * one loop, {@link io.fiberloop.fiber.internal.Strand} the runtime of one fiber (its virtual thread
 * and that thread's scheduler, its waits and cancellation); the rest are the waiter lists, the
 * reach into the JDK's virtual-thread builder, and the bridge to the API package's package-private
 * parts ({@link io.fiberloop.fiber.internal.FiberAccess}).
 */
package io.fiberloop.fiber.internal;
