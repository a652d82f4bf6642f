package io.fiberloop.netty.http;

import io.fiberloop.loop.EventLoop;
import java.net.SocketAddress;

/**
 * Watches an {@link HttpServer}: each answered request and each connection, for metrics, tracing
 * or auditing. Added with {@link HttpServerBuilder#observer(HttpObserver)}; the
 * {@code fiberloop-micrometer} module's {@code FiberloopMetrics} is one.
 * {@snippet :
 * LongAdder errors = new LongAdder();
 * HttpServer server = HttpServer.builder()
 *         .observer(request -> {
 *             if (request.status() >= 500) {
 *                 errors.increment();
 *             }
 *         })
 *         .get("/", req -> HttpResponse.text("hi"))
 *         .start();
 * }
 *
 * <p>Threading: the methods run on the loop that serves the connection, so an observer of a
 * server on several loops ({@link HttpServerBuilder#group}) is called from several threads at
 * once and must be thread-safe. They must be quick and must not block (they run inside the loop's
 * turn); an exception they throw is logged and otherwise ignored.
 */
@FunctionalInterface
public interface HttpObserver {

    /**
     * One answered request.
     *
     * @param method the request's method
     * @param route the route template that matched ({@code /users/{id}}), or {@code null} when none
     *     did (a {@code 404}, {@code 405}, or a request refused before routing)
     * @param status the status sent
     * @param durationNanos from the arrival of the request's head to the end of its response
     * @param bytesReceived body bytes received
     * @param bytesSent body bytes sent
     * @param protocol {@code HTTP/1.1}, {@code HTTP/1.0} or {@code HTTP/2.0}
     */
    record Request(String method, String route, int status, long durationNanos, long bytesReceived, long bytesSent, String protocol) {
    }

    /**
     * A request was answered (its response is written, or it broke off).
     *
     * @param request what was asked and answered
     */
    void requestDone(Request request);

    /**
     * The server is serving: its loops are known. Called once, on the thread that called
     * {@link HttpServerBuilder#start()}, before it returns.
     *
     * @param server the server
     */
    default void serverStarted(HttpServer server) {
    }

    /**
     * The server accepted a connection.
     *
     * @param loop the loop that serves it
     * @param remote the client's address
     */
    default void connectionOpened(EventLoop loop, SocketAddress remote) {
    }

    /**
     * A connection the server accepted was closed (by either side).
     *
     * @param loop the loop that served it
     * @param remote the client's address
     */
    default void connectionClosed(EventLoop loop, SocketAddress remote) {
    }
}
