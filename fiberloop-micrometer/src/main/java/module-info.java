/**
 * Metrics of fiberloop's loops and HTTP servers through Micrometer, and a Prometheus scrape route
 * ({@link io.fiberloop.micrometer.FiberloopMetrics}). Optional: the core modules do not need it.
 */
module io.fiberloop.micrometer {
    requires transitive io.fiberloop.netty;
    requires transitive micrometer.core;
    requires static micrometer.registry.prometheus;

    exports io.fiberloop.micrometer;
}
