package com.example.hello;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.http.HttpResponse;
import io.fiberloop.netty.http.HttpServer;
import io.fiberloop.netty.http.HttpServerBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/** A one-route HTTP server on fiberloop: {@code GET /hello/{name}}, each request in its own fiber. */
public final class HelloServer {
    private HelloServer() {
    }

    /**
     * Starts the server on 127.0.0.1.
     *
     * @param port the TCP port; 0 picks a free one
     * @return the running server; {@link HttpServer#close()} stops it and its loop
     * @throws IOException if the port cannot be bound
     */
    public static HttpServer start(int port) throws IOException {
        return routes(HttpServer.builder()).host("127.0.0.1").port(port).start();
    }

    /**
     * Starts the server on {@code loop}: a test's loop, for instance, which may run on a simulated
     * network ({@code SimNetwork}).
     *
     * @param loop the loop that serves (built with the Netty driver)
     * @param port the TCP port; 0 picks a free one
     * @return the running server; {@link HttpServer#close()} stops it (not its loop)
     * @throws IOException if the port cannot be bound
     */
    public static HttpServer start(EventLoop loop, int port) throws IOException {
        return routes(HttpServer.builder().loop(loop)).host("127.0.0.1").port(port).start();
    }

    /** The server's one route, whichever loop serves it. */
    private static HttpServerBuilder routes(HttpServerBuilder builder) {
        return builder.get("/hello/{name}", req -> HttpResponse.text("Hello, " + req.pathParam("name") + "!"));
    }

    /**
     * Serves until Ctrl-C.
     *
     * @param args an optional port (default 8080)
     * @throws Exception if the server cannot start
     */
    public static void main(String[] args) throws Exception {
        HttpServer server = start(args.length > 0 ? Integer.parseInt(args[0]) : 8080);
        System.out.println("listening on http://127.0.0.1:" + server.port() + "/hello/world; Ctrl-C stops it");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close(Duration.ofSeconds(2));
            stopped.countDown();
        }));
        stopped.await();
    }
}
