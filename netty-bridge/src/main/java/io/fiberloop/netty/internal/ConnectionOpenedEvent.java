package io.fiberloop.netty.internal;

import io.netty.channel.Channel;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event {@code io.fiberloop.ConnectionOpened}: a server ({@code TcpServer} or
 * {@code HttpServer}) accepted a connection. Cheap when no recording asks for it: checked once per
 * accepted connection.
 *
 * <p>Threading: committed on the loop that serves the connection.
 */
@Name("io.fiberloop.ConnectionOpened")
@Label("Connection Opened")
@Category({"fiberloop", "Network"})
@Description("A fiberloop server accepted a connection")
@StackTrace(false)
public final class ConnectionOpenedEvent extends Event {
    private static final ConnectionOpenedEvent PROBE = new ConnectionOpenedEvent();

    /** The peer's address. */
    @Label("Remote Address")
    public String remoteAddress;

    /** The server's address. */
    @Label("Local Address")
    public String localAddress;

    /** The loop that serves it. */
    @Label("Loop")
    public String loop;

    /** {@return whether a recording wants these events now} */
    public static boolean enabled() {
        return PROBE.isEnabled();
    }

    /**
     * Records an accepted channel: this event now, and {@link ConnectionClosedEvent} when it closes.
     * Does nothing (but two checks) when no recording asks for either.
     *
     * @param ch the accepted channel
     * @param loop the name of the loop that serves it
     */
    static void accepted(Channel ch, String loop) {
        boolean closed = ConnectionClosedEvent.enabled();
        if (!closed && !PROBE.isEnabled()) {
            return;
        }
        String remote = String.valueOf(ch.remoteAddress());
        String local = String.valueOf(ch.localAddress());
        ConnectionOpenedEvent e = new ConnectionOpenedEvent();
        if (e.isEnabled()) {
            e.remoteAddress = remote;
            e.localAddress = local;
            e.loop = loop;
            e.commit();
        }
        if (closed) {
            long opened = System.nanoTime();
            ch.closeFuture().addListener(f -> {
                ConnectionClosedEvent c = new ConnectionClosedEvent();
                if (c.isEnabled()) {
                    c.remoteAddress = remote;
                    c.localAddress = local;
                    c.loop = loop;
                    c.lifetime = System.nanoTime() - opened;
                    c.commit();
                }
            });
        }
    }
}
