/**
 * Netty I/O driven by fiberloop's event loop: the Netty I/O driver, await on Netty futures, and
 * fiber-style TCP connections and servers.
 *
 * <p>On the module path, {@code --add-opens io.netty.transport/io.netty.channel=io.fiberloop.netty}
 * lets the driver move Netty's loop ownership to a new work fiber of the loop (see
 * {@code docs/netty.md}); on the class path nothing is needed.
 */
@SuppressWarnings("module") // the qualified export names io.fiberloop.test, built after this module
module io.fiberloop.netty {
    requires transitive io.fiberloop.fiber;
    requires transitive io.netty.transport;
    requires transitive io.netty.buffer;
    requires transitive io.netty.common;
    requires transitive io.netty.handler;
    requires io.netty.codec.http;
    requires io.netty.codec.http2;
    requires io.netty.codec;
    requires io.netty.codec.compression;
    requires io.netty.transport.classes.epoll;
    requires io.netty.transport.classes.io_uring;
    requires io.netty.transport.classes.kqueue;
    requires org.slf4j;
    requires jdk.jfr;

    exports io.fiberloop.netty;
    exports io.fiberloop.netty.http;
    exports io.fiberloop.netty.internal.inmemory to io.fiberloop.test;

    uses io.fiberloop.netty.http.JsonCodec;
}
