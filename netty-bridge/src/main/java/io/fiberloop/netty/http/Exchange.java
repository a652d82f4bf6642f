package io.fiberloop.netty.http;

import io.fiberloop.fiber.internal.Inline;
import io.fiberloop.fiber.internal.InlineCall;
import java.util.concurrent.Callable;

/**
 * The server's state of one request-response exchange on a connection, kept out of the
 * {@link HttpRequest} the handler sees: the request, its body as it arrives, the task that serves
 * it, and what was sent.
 *
 * <p>Threading: the carrier of the connection's loop.
 */
final class Exchange extends RequestBody implements Runnable, Callable<Void> {
    final HttpRequest request;
    /**
     * The request's body as it arrives: the exchange itself (it extends {@link RequestBody}, so a
     * request costs one object of server state), named so that the body's calls read as such.
     */
    final RequestBody body = this;
    /** When the exchange began, if the access log, an observer or JFR needs it (else 0): {@link ExchangeRecorder#begin}. */
    long startNanos;
    /** Its JFR event, begun when a recording wanted it, else {@code null}. */
    io.fiberloop.netty.internal.HttpRequestEvent jfr;
    /**
     * The call that serves it, a task once something needs one ({@link InlineCall}: a handler that
     * answers at once never makes it one); {@code null} before it starts.
     */
    InlineCall<Void> task;
    /** The status sent, once the head went out. */
    int status;
    /** Body bytes sent. */
    long bytesSent;
    /** Whether the response head went out (after that, a failure can only drop the connection). */
    boolean headSent;
    /** Whether the handler is done (its response is queued, or it failed). */
    boolean done;

    /**
     * Makes a checked request ({@link RequestHead}) an exchange on {@code conn}.
     *
     * @param conn the connection
     * @param request the request, not yet part of an exchange
     */
    Exchange(HttpConnection conn, HttpRequest request) {
        super(conn, request.expectContinue);
        this.request = request;
        request.exchange = this;
        conn.server.recorder.begin(this);
    }

    /**
     * Serves the exchange: a loop task, which runs the handler inline on the loop's work fiber
     * until it first suspends (see {@link Inline}); a handler that answers at once costs no fiber
     * of its own, nor a task. Owning thread.
     */
    @Override
    public void run() {
        task = Inline.call(conn.server.fibers, null, this);
        Inline.run(task);
        if (done) {
            conn.answeredInline(this);
        }
    }

    /** The task's body (the exchange is its own {@code Callable}: no object per request for it). The request's fiber. */
    @Override
    public Void call() throws Exception {
        ServerLoop server = conn.server;
        server.dispatcher.serve(this, server.writer);
        return null;
    }

    /** Whether the head is a {@code HEAD} request (answered without a body). */
    boolean isHead() {
        return request.head.method() == io.netty.handler.codec.http.HttpMethod.HEAD
                || request.head.method().equals(io.netty.handler.codec.http.HttpMethod.HEAD);
    }

    @Override
    public String toString() {
        return "Exchange[" + request + " on " + conn + "]";
    }
}
