package io.fiberloop.netty.internal;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event {@code io.fiberloop.HttpRequest}: one request answered by an {@code HttpServer}, from
 * its head's arrival to the end of its response. Its duration is the request's; its thread the one
 * that ended it (the loop's). Cheap when no recording asks for it: the server checks
 * {@link #enabled()} once per request and creates nothing otherwise.
 *
 * <p>Threading: created, filled and committed on the server loop's carrier.
 */
@Name("io.fiberloop.HttpRequest")
@Label("HTTP Request")
@Category({"fiberloop", "HTTP"})
@Description("A request served by a fiberloop HttpServer, from its head to the end of its response")
@StackTrace(false)
public final class HttpRequestEvent extends Event {
    private static final HttpRequestEvent PROBE = new HttpRequestEvent();

    /** The request method. */
    @Label("Method")
    public String method;

    /** The route template that matched, e.g. {@code /users/{id}}; {@code null} when none did. */
    @Label("Route")
    @Description("The route template that matched, e.g. /users/{id}; null when none did")
    public String route;

    /** The request's path, without the query. */
    @Label("Path")
    public String path;

    /** The status sent. */
    @Label("Status")
    public int status;

    /** Body bytes received. */
    @Label("Bytes Received")
    @DataAmount
    public long bytesReceived;

    /** Body bytes sent. */
    @Label("Bytes Sent")
    @DataAmount
    public long bytesSent;

    /** The client's address. */
    @Label("Remote Address")
    public String remoteAddress;

    /** The protocol, {@code HTTP/1.1} or {@code HTTP/2.0}. */
    @Label("Protocol")
    public String protocol;

    /** {@return whether a recording wants these events now (no allocation)} */
    public static boolean enabled() {
        return PROBE.isEnabled();
    }
}
