/** Fibers on fiberloop's event loop. */
module io.fiberloop.fiber {
    requires transitive io.fiberloop.loop;
    requires org.slf4j;

    exports io.fiberloop.fiber;

    provides io.fiberloop.loop.spi.LoopHostProvider with io.fiberloop.fiber.FiberLoopHostProvider;
}
