/**
 * Metrics of fiberloop's loops and HTTP servers in a Micrometer registry
 * ({@link io.fiberloop.micrometer.FiberloopMetrics}): add {@code io.fiberloop:fiberloop-micrometer}
 * and, for Prometheus, {@code io.micrometer:micrometer-registry-prometheus}.
 */
package io.fiberloop.micrometer;
