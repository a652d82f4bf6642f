package io.fiberloop.netty.http;

/**
 * Answers one request. Runs as a task of the server's loop, so it may block (read the body, sleep,
 * await other tasks, call other servers) without holding up the loop: it starts on the loop's work
 * fiber and, if it suspends, carries on as a fiber of its own (see {@link HttpServer}, "How a
 * handler runs").
 * {@snippet :
 * HttpHandler hello = req -> HttpResponse.text("Hello, " + req.queryParam("name") + "!");
 * }
 * <p>Exceptions: an {@link HttpException} becomes a response with its status; any other exception
 * becomes a {@code 500}, logged once (with the route) by {@code io.fiberloop.netty.http.HttpServer}.
 */
@FunctionalInterface
public interface HttpHandler {
    /**
     * Answers {@code request}.
     * <p>Threading: a fiber of the server's loop, one per request.
     *
     * @param request the request
     * @return the response; {@code null} means an empty {@code 204 No Content}
     * @throws Exception anything; see the class comment
     */
    HttpResponse handle(HttpRequest request) throws Exception;
}
