/**
 * Netty 4.2 I/O on fiberloop's event loop: {@link io.fiberloop.netty.NettyLoops} builds loops
 * whose I/O driver is a Netty {@code ManualIoEventLoop} (io_uring, epoll or NIO, see
 * {@link io.fiberloop.netty.NettyTransport}); {@link io.fiberloop.netty.NettyFutures} awaits Netty
 * futures from fibers; {@link io.fiberloop.netty.TcpServer}, {@link io.fiberloop.netty.Tcp} and
 * {@link io.fiberloop.netty.Connection} give fiber-style, blocking-looking TCP with backpressure.
 * See {@code docs/netty.md}.
 */
package io.fiberloop.netty;
