package io.fiberloop.netty.http;

import io.fiberloop.fiber.internal.FiberHost;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.internal.Listeners;
import io.fiberloop.netty.internal.QueuedOps;
import io.netty.channel.Channel;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * An {@link HttpServer}'s part on one loop: that loop's connections, its response writer (whose
 * header cache is per loop), and the exchanges in flight there.
 *
 * <p>Threading: the loop's carrier, but for the accessors the server reads from any thread.
 */
final class ServerLoop {
    final HttpServer owner;
    final ServerConfig config;
    final EventLoop loop;
    final QueuedOps.Queue queue;
    final Dispatcher dispatcher;
    final ResponseWriter writer = new ResponseWriter();
    /** The loop's fibers, for the exchanges' inline calls. */
    final FiberHost fibers;
    final Listeners.Listener listener;
    /** The access log, observers and JFR events of this loop's exchanges. */
    final ExchangeRecorder recorder;
    /** The h2c upgrade, or {@code null} (HTTP/2 off, or TLS: ALPN chooses). */
    final H2cUpgrade h2c;
    /** In the order they opened (a hash order would vary from run to run, and the close with it). */
    private final Set<ServedConnection> connections = new LinkedHashSet<>();
    /** Exchanges in flight; written on the loop, read from any thread. */
    private volatile int active;
    private final Set<WsConnection> webSockets = new LinkedHashSet<>();

    ServerLoop(HttpServer owner, Listeners.Listener listener) {
        this.owner = owner;
        this.config = owner.config;
        this.dispatcher = owner.dispatcher;
        this.listener = listener;
        this.loop = listener.loop();
        this.recorder = new ExchangeRecorder(config.accessLog, owner.observers, loop);
        this.fibers = FiberHost.of(loop);
        this.queue = QueuedOps.Queue.of(NettyLoops.nettyLoop(loop));
        this.h2c = config.http2 != null && config.tls == null ? new H2cUpgrade(this) : null;
    }

    /** A new connection. Owning thread. */
    Http1Connection open() {
        Http1Connection c = new Http1Connection(this);
        connections.add(c);
        return c;
    }

    /** A connection that is not HTTP/1.1 (HTTP/2). Owning thread. */
    void connectionOpened(ServedConnection c) {
        connections.add(c);
    }

    void connectionClosed(ServedConnection c) {
        connections.remove(c);
    }

    /** {@return this loop's open connections, a copy. The loop.} */
    List<ServedConnection> connections() {
        return List.copyOf(connections);
    }

    /** A WebSocket session began (its upgrade's exchange serves it): the server's close tells it to go away. The loop. */
    void webSocketOpened(WsConnection ws) {
        webSockets.add(ws);
        ws.onEnd = () -> webSockets.remove(ws);
    }

    /** {@return this loop's open WebSockets, a copy. The loop.} */
    List<WsConnection> webSockets() {
        return List.copyOf(webSockets);
    }

    /** An exchange started (counted for {@link HttpServer#activeRequests()}). */
    void exchangeStarted() {
        active++;
    }

    /** {@return the exchanges in flight on this loop; any thread (a racy read)} */
    int active() {
        return active;
    }

    /** The tasks of the exchanges running on this loop, for the server's close. The loop. */
    List<io.fiberloop.fiber.Task<?>> running() {
        List<io.fiberloop.fiber.Task<?>> tasks = new java.util.ArrayList<>();
        for (ServedConnection c : connections) {
            c.addRunning(tasks);
        }
        for (WsConnection ws : webSockets) {
            if (ws.session != null && !ws.session.isDone()) {
                tasks.add(ws.session); // a WebSocket's handler runs in its upgrade request's task
            }
        }
        return tasks;
    }

    /** An exchange ended: its access log line, observers and JFR event. */
    void exchangeEnded(Exchange ex) {
        active--;
        recorder.ended(ex);
    }

    boolean closing() {
        return !owner.isOpen();
    }

    void readPaused() {
        owner.readPaused.complete(null);
    }

    void noteBuffered(long bytes) {
        owner.noteBuffered(bytes);
    }

    /** A request refused before it became an exchange (a malformed head), answered {@code status}: recorded. */
    void refused(Channel ch, int status, long bytes, String protocol) {
        recorder.refused(ch, status, bytes, protocol);
    }
}
