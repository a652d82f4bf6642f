/** Netty I/O driven by fiberloop's event loop. */
module io.fiberloop.netty {
    requires transitive io.fiberloop.fiber;
    requires io.netty.transport;
    requires org.slf4j;

    // exports io.fiberloop.netty; (once the package has its first type: issue 5)
}
