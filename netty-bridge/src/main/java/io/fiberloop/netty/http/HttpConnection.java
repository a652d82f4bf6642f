package io.fiberloop.netty.http;

import io.fiberloop.netty.internal.ChannelCore;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.function.BooleanSupplier;

/**
 * What an {@link Exchange} is served on, whatever the protocol: an HTTP/1.1 connection
 * ({@link Http1Connection}, one exchange at a time) or an HTTP/2 stream ({@link Http2Stream}, one
 * exchange per stream). The exchange machinery ({@link RequestBody}, {@link Dispatcher},
 * {@link ResponseWriter}) talks to it through these methods only; each is a {@link ChannelCore} on
 * its channel (the TCP connection, or the stream's child channel).
 *
 * <p>Threading: the carrier of the connection's loop (Netty's side and the exchange's fibers).
 */
abstract class HttpConnection extends ChannelCore {
    final ServerLoop server;
    final ServerConfig config;
    /** No more requests after the current one (HTTP/1.1: close the connection; HTTP/2: nothing more on the stream). */
    boolean closeAfter;

    /** The exchange whose fiber ended, for the owning thread to finish after its writes. */
    Exchange finished;

    HttpConnection(ServerLoop server) {
        super(server.loop, server.queue);
        this.server = server;
        this.config = server.config;
    }

    /** Queues a part of the answer (an {@code HttpObject}; takes ownership). A fiber of the loop. */
    abstract void sendResponsePart(Object msg) throws IOException;

    /** The exchange's handler wants more of the body. A fiber of the loop. */
    abstract void wantBody();

    /** The body got a piece (or ended): wake its reader. Carrier. */
    final void bodyArrived() {
        wakeReader();
    }

    /**
     * Waits for body pieces. A fiber of the loop.
     *
     * @return {@code false} if the request timeout passed first
     */
    final boolean awaitBody(BooleanSupplier ready, long timeoutNanos) throws InterruptedIOException {
        return awaitReadable(ready, timeoutNanos, "the request body");
    }

    /**
     * The exchange is answered (its fiber is about to end): finished after its writes
     * ({@link #afterWrites()}); an HTTP/2 stream whose response is already with Netty finishes it at
     * once. A fiber of the loop.
     */
    void exchangeDone(Exchange ex) {
        ex.done = true;
        finished = ex;
        scheduleOps();
    }

    /**
     * The exchange's handler answered inline, without suspending, and its task has ended: a
     * connection may flush and finish it now rather than at the driver's next poll. Owning thread
     * (the loop task that ran the exchange).
     */
    void answeredInline(Exchange ex) {
    }

    /** The response broke after its head went out: drop what carries it. A fiber of the loop. */
    abstract void abort();

    /** {@return whether the server that owns this connection is closing} */
    final boolean serverClosing() {
        return server.closing();
    }

    /** {@return the protocol the request came with, as {@link HttpRequest#version()} reports it} */
    abstract String version(io.netty.handler.codec.http.HttpRequest head);
}
