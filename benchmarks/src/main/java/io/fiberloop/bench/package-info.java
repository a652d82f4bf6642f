/**
 * JMH micro-benchmarks and load benchmarks of fiberloop, each with its baseline in the same run
 * (Netty's event loops, raw continuations, default-scheduler virtual threads). Build with
 * {@code ./fiberloop bench -l} to list them; the figures are in {@code docs/benchmarks.md}.
 */
package io.fiberloop.bench;
