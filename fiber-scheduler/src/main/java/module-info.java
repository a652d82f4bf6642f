/** Fibers on fiberloop's event loop. */
module io.fiberloop.fiber {
    requires transitive io.fiberloop.loop;
    requires org.slf4j;

    // exports io.fiberloop.fiber; (once the package has its first type: issue 3)
}
