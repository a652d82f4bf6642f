/**
 * JMH micro-benchmarks of fiberloop and the load harnesses ({@link io.fiberloop.bench.HttpLoad},
 * {@link io.fiberloop.bench.EchoLoad}), each with its baselines in the same run (Netty's event
 * loops, raw continuations, default-scheduler virtual threads, raw Netty and Vert.x servers), and
 * {@link io.fiberloop.bench.Charts} for the harnesses' result files. {@code ./fiberloop bench -l}
 * lists the JMH benchmarks; the method and the latest figures are in {@code docs/benchmarks.md},
 * the dated runs in {@code benchmarks/results/history.md}.
 */
package io.fiberloop.bench;
