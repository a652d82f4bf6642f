package io.fiberloop.netty.http;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import java.util.function.UnaryOperator;

/** A server on a loop of its own, on a free port: the fixture of the web-feature tests. */
record Served(EventLoop loop, HttpServer server) implements AutoCloseable {

    /** Starts a server with {@code routes} on a new loop named {@code name}. */
    static Served start(String name, UnaryOperator<HttpServerBuilder> routes) throws Exception {
        EventLoop loop = NettyLoops.builder().name(name).build();
        try {
            return new Served(loop, routes.apply(HttpServer.builder().loop(loop).port(0)).start());
        } catch (Exception | Error e) {
            loop.close();
            throw e;
        }
    }

    int port() {
        return server.port();
    }

    @Override
    public void close() {
        server.close();
        loop.close();
    }
}
