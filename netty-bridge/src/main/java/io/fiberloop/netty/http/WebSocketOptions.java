package io.fiberloop.netty.http;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * How a WebSocket connection behaves, on the server ({@link HttpServerBuilder#websocket(String,
 * WebSocketOptions, WebSocketHandler)}) or the client ({@link HttpClient#webSocket(HttpClient.Request,
 * WebSocketOptions)}). Immutable: each method returns a changed copy.
 * {@snippet :
 * WebSocketOptions chat = WebSocketOptions.defaults()
 *         .maxMessageSize(64 * 1024)
 *         .subprotocols("chat.v2", "chat.v1")
 *         .allowOrigin(origin -> origin.equals("https://chat.example.com"));
 * }
 *
 * <table class="striped">
 * <caption>Options and defaults</caption>
 * <tr><th>option</th><th>default</th><th>what happens</th></tr>
 * <tr><td>{@link #maxMessageSize}</td><td>1 MiB</td><td>a larger message (whole, or one frame) closes with {@code 1009}</td></tr>
 * <tr><td>{@link #pingInterval}</td><td>30 s</td><td>a ping is sent after this long without one (zero: never)</td></tr>
 * <tr><td>{@link #idleTimeout}</td><td>none</td><td>nothing received for this long (not even a pong) closes with {@code 1001}</td></tr>
 * <tr><td>{@link #closeTimeout}</td><td>5 s</td><td>how long a close waits for the peer's close frame</td></tr>
 * <tr><td>{@link #subprotocols}</td><td>none</td><td>server: those it speaks, preferred first; client: those it offers</td></tr>
 * <tr><td>{@link #compression}</td><td>on</td><td>permessage-deflate (RFC 7692), when the other side agrees</td></tr>
 * <tr><td>{@link #allowOrigin}</td><td>any</td><td>server only: an upgrade whose {@code Origin} fails the check gets {@code 403}</td></tr>
 * </table>
 */
public final class WebSocketOptions {
    private static final WebSocketOptions DEFAULTS = new WebSocketOptions(1024 * 1024, Duration.ofSeconds(30), Duration.ZERO,
            Duration.ofSeconds(5), List.of(), true, null);

    private final int maxMessageSize;
    private final Duration pingInterval;
    private final Duration idleTimeout;
    private final Duration closeTimeout;
    private final List<String> subprotocols;
    private final boolean compression;
    private final Predicate<String> originCheck;

    private WebSocketOptions(int maxMessageSize, Duration pingInterval, Duration idleTimeout, Duration closeTimeout,
            List<String> subprotocols, boolean compression, Predicate<String> originCheck) {
        this.maxMessageSize = maxMessageSize;
        this.pingInterval = pingInterval;
        this.idleTimeout = idleTimeout;
        this.closeTimeout = closeTimeout;
        this.subprotocols = subprotocols;
        this.compression = compression;
        this.originCheck = originCheck;
    }

    /** {@return the defaults (see the table above)} */
    public static WebSocketOptions defaults() {
        return DEFAULTS;
    }

    /**
     * {@return a changed copy}
     *
     * @param bytes the largest message accepted, whole (its frames together) and as one frame, at
     *        most 2 GiB − 1; larger closes the connection with {@code 1009}
     */
    public WebSocketOptions maxMessageSize(int bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("maxMessageSize must be > 0, was " + bytes);
        }
        return new WebSocketOptions(bytes, pingInterval, idleTimeout, closeTimeout, subprotocols, compression, originCheck);
    }

    /**
     * {@return a changed copy}
     *
     * @param interval how long after the last ping the next is sent; zero never pings
     */
    public WebSocketOptions pingInterval(Duration interval) {
        return new WebSocketOptions(maxMessageSize, notNegative(interval, "pingInterval"), idleTimeout, closeTimeout, subprotocols,
                compression, originCheck);
    }

    /**
     * {@return a changed copy}
     *
     * @param timeout how long the connection may receive nothing (no message, no pong) before it is
     *        closed with {@code 1001}; zero (the default) never. Pair it with a shorter
     *        {@link #pingInterval} so that a live peer's pongs keep the connection open.
     */
    public WebSocketOptions idleTimeout(Duration timeout) {
        return new WebSocketOptions(maxMessageSize, pingInterval, notNegative(timeout, "idleTimeout"), closeTimeout, subprotocols,
                compression, originCheck);
    }

    /**
     * {@return a changed copy}
     *
     * @param timeout how long a close waits for the peer's close frame before it ends the connection
     */
    public WebSocketOptions closeTimeout(Duration timeout) {
        Duration t = notNegative(timeout, "closeTimeout");
        return new WebSocketOptions(maxMessageSize, pingInterval, idleTimeout, t, subprotocols, compression, originCheck);
    }

    /**
     * The subprotocols ({@code Sec-WebSocket-Protocol}): on the server, those it speaks, in order
     * of preference (the first one the client also offers is chosen; none in common: no
     * subprotocol); on the client, those it offers.
     *
     * @param names the subprotocol names
     * @return a changed copy
     */
    public WebSocketOptions subprotocols(String... names) {
        for (String n : names) {
            if (n.isEmpty() || n.chars().anyMatch(c -> c <= ' ' || c >= 0x7f || c == ',')) {
                throw new IllegalArgumentException("a subprotocol name is a token (no spaces, commas or control characters), was '" + n + "'");
            }
        }
        return new WebSocketOptions(maxMessageSize, pingInterval, idleTimeout, closeTimeout, List.of(names), compression, originCheck);
    }

    /**
     * {@return a changed copy}
     *
     * @param on whether to compress messages with permessage-deflate when the other side agrees
     */
    public WebSocketOptions compression(boolean on) {
        return new WebSocketOptions(maxMessageSize, pingInterval, idleTimeout, closeTimeout, subprotocols, on, originCheck);
    }

    /**
     * The server's origin check, against cross-site WebSocket hijacking: an upgrade request whose
     * {@code Origin} header the check refuses is answered {@code 403}. A request without
     * {@code Origin} (not from a browser) is given to the check as {@code null}.
     *
     * @param check accepts or refuses an origin
     * @return a changed copy
     */
    public WebSocketOptions allowOrigin(Predicate<String> check) {
        return new WebSocketOptions(maxMessageSize, pingInterval, idleTimeout, closeTimeout, subprotocols, compression,
                Objects.requireNonNull(check, "check"));
    }

    /** {@return the largest message accepted, in bytes} */
    public int maxMessageSize() {
        return maxMessageSize;
    }

    /** {@return the ping interval (zero: no pings)} */
    public Duration pingInterval() {
        return pingInterval;
    }

    /** {@return the idle timeout (zero: none)} */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /** {@return how long a close waits for the peer's close frame} */
    public Duration closeTimeout() {
        return closeTimeout;
    }

    /** {@return the subprotocols, preferred first} */
    public List<String> subprotocols() {
        return subprotocols;
    }

    /** {@return whether permessage-deflate is offered or accepted} */
    public boolean compression() {
        return compression;
    }

    /**
     * {@return whether the server accepts an upgrade from it}
     *
     * @param origin the {@code Origin} header, or {@code null}
     */
    boolean originAllowed(String origin) {
        return originCheck == null || originCheck.test(origin);
    }

    private static Duration notNegative(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative, was " + d);
        }
        return d;
    }

    @Override
    public String toString() {
        return "WebSocketOptions[maxMessageSize=" + maxMessageSize + ", pingInterval=" + pingInterval + ", idleTimeout=" + idleTimeout
                + ", closeTimeout=" + closeTimeout + ", subprotocols=" + subprotocols + ", compression=" + compression + "]";
    }
}
