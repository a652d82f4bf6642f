/**
 * Fibers on fiberloop's event loop.
 *
 * <p>Two traditions, both first-class:
 * <ul>
 *   <li><b>Explicit switching</b>, as python-fibers and greenlet: {@link io.fiberloop.fiber.Fiber}
 *       with {@code switchTo}, {@code throwInto}, parents and {@code Fiber.current()}.</li>
 *   <li><b>Scheduled async</b>, as asyncio and trio: {@link io.fiberloop.fiber.Fibers#spawn tasks},
 *       {@link io.fiberloop.fiber.Fibers#await await}, {@link io.fiberloop.fiber.Fibers#sleep sleep},
 *       cancellation, {@link io.fiberloop.fiber.Fibers#withTimeout timeouts} and
 *       {@link io.fiberloop.fiber.TaskScope structured scopes}.</li>
 * </ul>
 *
 * <h2>Packages</h2>
 * This package holds the core: {@link io.fiberloop.fiber.Fiber}, {@link io.fiberloop.fiber.Task},
 * {@link io.fiberloop.fiber.Fibers}, {@link io.fiberloop.fiber.TaskScope},
 * {@link io.fiberloop.fiber.Offload} and the exceptions. Coordination between fibers lives in
 * {@link io.fiberloop.fiber.sync} (locks, semaphores, events, conditions, barriers) and
 * {@link io.fiberloop.fiber.channel} (channels, select, queues); context propagation in
 * {@link io.fiberloop.fiber.context}.
 *
 * <h2>How it works</h2>
 * A fiber is a virtual thread whose scheduler is its loop: with this module present, every
 * {@link io.fiberloop.loop.EventLoop} hosts fibers, its carrier thread runs only their
 * continuations, and the loop's own work (tasks, timers, I/O) runs in a work fiber. Plain JDK
 * blocking calls in a fiber ({@code Thread.sleep}, {@code ReentrantLock}, {@code synchronized}
 * with {@code wait}, sockets, {@code CompletableFuture.get}) suspend only that fiber.
 *
 * <h2>JVM flags</h2>
 * {@code --add-opens java.base/java.lang=ALL-UNNAMED} (to give virtual threads our scheduler;
 * without it, building a loop fails with a message naming the flag) and
 * {@code -Djdk.trackAllThreads=false} (so that unreachable suspended fibers are collected).
 * fiberloop's launcher, test configuration and runnable jars set both.
 */
package io.fiberloop.fiber;
