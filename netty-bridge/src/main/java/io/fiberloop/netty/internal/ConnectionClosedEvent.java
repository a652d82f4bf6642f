package io.fiberloop.netty.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * JFR event {@code io.fiberloop.ConnectionClosed}: a connection that a server accepted was closed
 * (by either side). Recorded for the connections opened while a recording asked for
 * {@link ConnectionOpenedEvent}s or for these.
 *
 * <p>Threading: committed on the loop that served the connection.
 */
@Name("io.fiberloop.ConnectionClosed")
@Label("Connection Closed")
@Category({"fiberloop", "Network"})
@Description("A connection accepted by a fiberloop server was closed")
@StackTrace(false)
public final class ConnectionClosedEvent extends Event {
    private static final ConnectionClosedEvent PROBE = new ConnectionClosedEvent();

    /** The peer's address. */
    @Label("Remote Address")
    public String remoteAddress;

    /** The server's address. */
    @Label("Local Address")
    public String localAddress;

    /** The loop that served it. */
    @Label("Loop")
    public String loop;

    /** How long it was open. */
    @Label("Lifetime")
    @Timespan(Timespan.NANOSECONDS)
    public long lifetime;

    /** {@return whether a recording wants these events now} */
    public static boolean enabled() {
        return PROBE.isEnabled();
    }
}
