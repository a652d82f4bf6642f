/**
 * The context that travels with work as it is handed over: {@link io.fiberloop.fiber.context.FiberLocal}
 * values, SLF4J's MDC and registered {@code ScopedValue}s, captured at a spawn or an offload
 * ({@link io.fiberloop.fiber.context.FiberContext}), as Python's {@code contextvars} do for
 * asyncio's tasks.
 */
package io.fiberloop.fiber.context;
