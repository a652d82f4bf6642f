package io.fiberloop.netty.http;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.internal.HttpRequestEvent;
import io.netty.channel.Channel;
import java.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a server's loop records of its exchanges and connections: the access log
 * ({@link AccessLog}), the {@link HttpObserver}s, and the JFR event {@code io.fiberloop.HttpRequest}
 * ({@link HttpRequestEvent}). With none of them on, an exchange costs one check of whether a JFR
 * recording wants its event, and no clock read.
 *
 * <p>Threading: the loop's carrier.
 */
final class ExchangeRecorder {
    private static final Logger log = LoggerFactory.getLogger(HttpServer.class);

    private final AccessLog accessLog;
    private final HttpObserver[] observers;
    private final EventLoop loop;
    /** Whether the access log or an observer needs each exchange's clock. */
    private final boolean timed;

    ExchangeRecorder(boolean accessLog, HttpObserver[] observers, EventLoop loop) {
        this.accessLog = accessLog ? new AccessLog() : null;
        this.observers = observers;
        this.loop = loop;
        this.timed = accessLog || observers.length > 0;
    }

    /** An exchange begins: reads the clock, and starts its JFR event, if anything will need them. */
    void begin(Exchange ex) {
        if (HttpRequestEvent.enabled()) {
            HttpRequestEvent e = new HttpRequestEvent();
            e.begin();
            ex.jfr = e;
            ex.startNanos = System.nanoTime();
        } else if (timed) {
            ex.startNanos = System.nanoTime();
        }
    }

    /** An exchange ended (its response is out, or it broke off). */
    void ended(Exchange ex) {
        HttpRequestEvent e = ex.jfr;
        if (e == null && !timed) {
            return;
        }
        HttpRequest req = ex.request;
        long nanos = System.nanoTime() - ex.startNanos;
        long received = ex.body.received();
        if (e != null) {
            e.end();
            if (e.shouldCommit()) {
                e.method = req.method();
                e.route = req.route();
                e.path = req.path();
                e.status = ex.status;
                e.bytesReceived = received;
                e.bytesSent = ex.bytesSent;
                e.remoteAddress = String.valueOf(ex.conn.channel().remoteAddress());
                e.protocol = req.version();
                e.commit();
            }
        }
        if (accessLog != null) {
            accessLog.write(ex.conn.channel().remoteAddress(), req, ex.status, ex.bytesSent, nanos);
        }
        if (observers.length > 0) {
            notify(new HttpObserver.Request(req.method(), req.route(), ex.status, nanos, received, ex.bytesSent, req.version()));
        }
    }

    /** A request refused before it became an exchange (a malformed head): answered {@code status} with {@code bytes}, then closed. */
    void refused(Channel ch, int status, long bytes, String protocol) {
        if (HttpRequestEvent.enabled()) {
            HttpRequestEvent e = new HttpRequestEvent();
            e.status = status;
            e.bytesSent = bytes;
            e.remoteAddress = String.valueOf(ch.remoteAddress());
            e.protocol = protocol;
            e.commit();
        }
        if (accessLog != null) {
            accessLog.write(ch.remoteAddress(), null, status, bytes, 0);
        }
        if (observers.length > 0) {
            notify(new HttpObserver.Request("-", null, status, 0, 0, bytes, protocol));
        }
    }

    /** The server accepted a connection on this loop. */
    void connectionOpened(SocketAddress remote) {
        for (HttpObserver o : observers) {
            try {
                o.connectionOpened(loop, remote);
            } catch (RuntimeException err) {
                log.warn("HttpObserver {} failed in connectionOpened", o, err);
            }
        }
    }

    /** A connection of this loop closed. */
    void connectionClosed(SocketAddress remote) {
        for (HttpObserver o : observers) {
            try {
                o.connectionClosed(loop, remote);
            } catch (RuntimeException err) {
                log.warn("HttpObserver {} failed in connectionClosed", o, err);
            }
        }
    }

    /** {@return whether any observer watches connections} */
    boolean observesConnections() {
        return observers.length > 0;
    }

    private void notify(HttpObserver.Request r) {
        for (HttpObserver o : observers) {
            try {
                o.requestDone(r);
            } catch (RuntimeException err) {
                log.warn("HttpObserver {} failed in requestDone", o, err);
            }
        }
    }
}
