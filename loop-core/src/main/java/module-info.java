/**
 * fiberloop's event loop: one carrier thread per loop, a FIFO ready queue, timers on a real or
 * virtual clock, an I/O-driver SPI, loop groups and a watchdog.
 *
 * <p>Exports {@code io.fiberloop.loop} (the API) and {@code io.fiberloop.loop.spi} (for I/O
 * drivers and loop hosts such as fiberloop's fiber scheduler).
 */
@SuppressWarnings("module") // the qualified export names modules built after this one
module io.fiberloop.loop {
    requires org.slf4j;
    requires org.jctools.core;
    requires jdk.jfr;

    exports io.fiberloop.loop;
    exports io.fiberloop.loop.spi;
    exports io.fiberloop.loop.internal to io.fiberloop.fiber, io.fiberloop.netty, io.fiberloop.test;
}
