package io.fiberloop.netty.http;

/**
 * Serves one WebSocket connection ({@link HttpServerBuilder#websocket}), in the fiber of its
 * upgrade request, for as long as it runs.
 * {@snippet :
 * WebSocketHandler echo = ws -> {
 *     for (WebSocket.Message msg; (msg = ws.receive()) != null; ) {
 *         ws.send(msg);
 *     }
 * };
 * }
 * <p>When it returns the connection is closed with {@code 1000} (if it is still open); when it
 * throws, with {@code 1011}, and the exception is logged once at ERROR by
 * {@code io.fiberloop.netty.http.HttpServer}. An {@link java.io.IOException} from a send after the
 * peer left is the normal end of a session: let it propagate, it is logged at DEBUG only.
 */
@FunctionalInterface
public interface WebSocketHandler {
    /**
     * Serves {@code ws}.
     * <p>Threading: a fiber of the server's loop, one per connection.
     *
     * @param ws the connection
     * @throws Exception anything; see the class comment
     */
    void handle(WebSocket ws) throws Exception;
}
