/**
 * Fibers on fiberloop's event loop.
 *
 * <p>A loop hosts fibers when it is built by {@code io.fiberloop.fiber.FiberLoops}; nothing is
 * discovered from the class path.
 *
 * <p>Exports the API: {@code io.fiberloop.fiber} (fiber loops, fibers, tasks, timeouts, scopes),
 * {@code io.fiberloop.fiber.sync} (locks, semaphores, events, conditions, barriers),
 * {@code io.fiberloop.fiber.channel} (channels, select, queues) and
 * {@code io.fiberloop.fiber.context} (fiber locals, context propagation).
 * {@code io.fiberloop.fiber.internal} is the runtime behind them: not an API, exported only to
 * fiberloop's Netty module and its test kit.
 */
@SuppressWarnings("module") // the qualified export names io.fiberloop.netty and io.fiberloop.test, built after this module
module io.fiberloop.fiber {
    requires transitive io.fiberloop.loop;
    requires org.slf4j;
    requires java.management;
    requires jdk.jfr;
    requires org.jctools.core;

    exports io.fiberloop.fiber;
    exports io.fiberloop.fiber.sync;
    exports io.fiberloop.fiber.channel;
    exports io.fiberloop.fiber.context;
    exports io.fiberloop.fiber.internal to io.fiberloop.netty, io.fiberloop.test;
}
