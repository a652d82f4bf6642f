/**
 * fiberloop's event loop.
 *
 * <p>An {@link io.fiberloop.loop.EventLoop} owns one platform carrier thread and runs, one at a
 * time and in FIFO order, the tasks submitted to it, its timers (on the system clock or a
 * {@link io.fiberloop.loop.VirtualClock}) and its I/O driver's events. A
 * {@link io.fiberloop.loop.LoopGroup} holds one loop per core. A loop knows nothing of fibers; a
 * host runs fibers on its carrier ({@link io.fiberloop.loop.spi.LoopHost}): fiberloop's fiber
 * module does, for the loops it builds ({@code io.fiberloop.fiber.FiberLoops}).
 *
 * <h2>Threading rules</h2>
 * <ol>
 *   <li>Everything of a loop runs on its carrier, one thing at a time: no locks are needed between
 *       the tasks, timers and fibers of one loop.</li>
 *   <li>Other threads talk to a loop only through its thread-safe entry points:
 *       {@code execute}, {@code schedule}, {@code scheduleAt}, {@code stop}, {@code close}, and
 *       completing futures the loop awaits.</li>
 *   <li>Blocking entry points ({@code run}, {@code runForever}) refuse to run on the loop itself,
 *       with an exception that says what to call instead.</li>
 *   <li>A task must not block the carrier: a task that runs too long is reported by the watchdog,
 *       with the carrier's stack.</li>
 * </ol>
 */
package io.fiberloop.loop;
