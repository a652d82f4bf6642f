/**
 * fiberloop's test kit: a JUnit 5 extension that runs each test as the main fiber of a fresh fiber
 * loop on an auto-advancing virtual clock ({@link io.fiberloop.test.FiberLoopTest}), helpers for
 * tests of code on fibers ({@link io.fiberloop.test.TestLoop}, {@link io.fiberloop.test.Sequencer},
 * {@link io.fiberloop.test.EventOrder}), and seeded schedule exploration
 * ({@link io.fiberloop.test.Explore}), and a simulated network for servers and clients on the
 * test's virtual clock ({@link io.fiberloop.test.SimNetwork}).
 *
 * <p>Exports {@code io.fiberloop.test} only; opens it to JUnit, which instantiates its extensions.
 */
module io.fiberloop.test {
    requires transitive io.fiberloop.fiber;
    requires transitive org.junit.jupiter.api;
    requires org.opentest4j;
    requires io.fiberloop.netty;

    exports io.fiberloop.test;
    opens io.fiberloop.test to org.junit.platform.commons;
}
