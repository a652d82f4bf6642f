package io.fiberloop.netty.http;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import java.time.Duration;

/**
 * The limits of an {@link HttpServer}'s HTTP/2 connections: what the server announces in its
 * {@code SETTINGS}, and how it defends itself against peers that abuse the protocol. Immutable;
 * each {@code with}-style method returns a copy.
 * {@snippet :
 * HttpServer server = HttpServer.builder()
 *         .http2Options(Http2Options.defaults().maxConcurrentStreams(50).initialWindowSize(256 * 1024))
 *         .get("/", req -> HttpResponse.text("hi"))
 *         .start();
 * }
 *
 * <table>
 *   <caption>Defaults</caption>
 *   <tr><th>limit</th><th>default</th><th>what happens past it</th></tr>
 *   <tr><td>{@link #maxConcurrentStreams}</td><td>100</td><td>more streams are refused ({@code RST_STREAM REFUSED_STREAM})</td></tr>
 *   <tr><td>{@link #maxHeaderListSize}</td><td>8192 bytes</td><td>the stream is reset; far past it the connection is closed</td></tr>
 *   <tr><td>{@link #headerTableSize}</td><td>4096 bytes</td><td>the HPACK table the peer may make the server keep</td></tr>
 *   <tr><td>{@link #initialWindowSize}</td><td>65,535 bytes</td><td>the request body a stream buffers before its handler reads it</td></tr>
 *   <tr><td>{@link #connectionWindowSize}</td><td>1 MiB</td><td>the request bodies a connection buffers in all</td></tr>
 *   <tr><td>{@link #maxFrameSize}</td><td>16,384 bytes</td><td>the largest frame the peer may send</td></tr>
 *   <tr><td>{@link #maxResets}</td><td>200 per 30 s</td><td>{@code RST_STREAM}s from a peer (rapid reset): {@code GOAWAY ENHANCE_YOUR_CALM}, closed</td></tr>
 *   <tr><td>{@link #maxControlFrames}</td><td>1000 per 10 s</td><td>{@code PING}, {@code SETTINGS}, {@code PRIORITY} and unknown frames: {@code GOAWAY ENHANCE_YOUR_CALM}, closed</td></tr>
 *   <tr><td>{@link #stallTimeout}</td><td>30 s</td><td>a stream the peer gives no window for is reset; a connection whose window or socket stays blocked is closed</td></tr>
 * </table>
 * Netty's own defences stay on: more than two empty {@code DATA} frames in a row, a header block
 * split into many small {@code CONTINUATION} frames, or a peer that makes the server queue more
 * than 10,000 control frames without reading them closes the connection.
 *
 * <p>Threading: any thread.
 */
public final class Http2Options {
    private static final Http2Options DEFAULTS = new Http2Options(100, 8192, 4096, 65_535, 1 << 20, 16_384, 200, Duration.ofSeconds(30),
            1000, Duration.ofSeconds(10), Duration.ofSeconds(30));

    private final int maxConcurrentStreams;
    private final int maxHeaderListSize;
    private final int headerTableSize;
    private final int initialWindowSize;
    private final int connectionWindowSize;
    private final int maxFrameSize;
    private final int maxResets;
    private final Duration resetWindow;
    private final int maxControlFrames;
    private final Duration controlFrameWindow;
    private final Duration stallTimeout;

    private Http2Options(int maxConcurrentStreams, int maxHeaderListSize, int headerTableSize, int initialWindowSize,
            int connectionWindowSize, int maxFrameSize, int maxResets, Duration resetWindow, int maxControlFrames,
            Duration controlFrameWindow, Duration stallTimeout) {
        this.maxConcurrentStreams = maxConcurrentStreams;
        this.maxHeaderListSize = maxHeaderListSize;
        this.headerTableSize = headerTableSize;
        this.initialWindowSize = initialWindowSize;
        this.connectionWindowSize = connectionWindowSize;
        this.maxFrameSize = maxFrameSize;
        this.maxResets = maxResets;
        this.resetWindow = resetWindow;
        this.maxControlFrames = maxControlFrames;
        this.controlFrameWindow = controlFrameWindow;
        this.stallTimeout = stallTimeout;
    }

    /** {@return the defaults (see the table above)} */
    public static Http2Options defaults() {
        return DEFAULTS;
    }

    /**
     * The ALPN configuration a TLS context needs to offer HTTP/2 with an HTTP/1.1 fallback: for
     * {@code SslContextBuilder.applicationProtocolConfig(...)}, on the server (with
     * {@link HttpServerBuilder#tls}) and on the client ({@link HttpClient#tls}).
     * {@snippet :
     * SslContext tls = SslContextBuilder.forServer(keyManagerFactory)
     *         .applicationProtocolConfig(Http2Options.alpn())
     *         .build();
     * }
     *
     * @return ALPN offering {@code h2}, then {@code http/1.1}
     */
    public static ApplicationProtocolConfig alpn() {
        return new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);
    }

    /**
     * {@return a copy with that limit}
     *
     * @param streams the most streams a client may have open at once ({@code SETTINGS_MAX_CONCURRENT_STREAMS}), 1 or more
     */
    public Http2Options maxConcurrentStreams(int streams) {
        return new Http2Options(positive(streams, "maxConcurrentStreams"), maxHeaderListSize, headerTableSize, initialWindowSize,
                connectionWindowSize, maxFrameSize, maxResets, resetWindow, maxControlFrames, controlFrameWindow, stallTimeout);
    }

    /**
     * {@return a copy with that limit}
     *
     * @param bytes the largest request header list accepted ({@code SETTINGS_MAX_HEADER_LIST_SIZE}: names, values and
     *        32 bytes per field, uncompressed)
     */
    public Http2Options maxHeaderListSize(int bytes) {
        return new Http2Options(maxConcurrentStreams, positive(bytes, "maxHeaderListSize"), headerTableSize, initialWindowSize,
                connectionWindowSize, maxFrameSize, maxResets, resetWindow, maxControlFrames, controlFrameWindow, stallTimeout);
    }

    /**
     * {@return a copy with that size}
     *
     * @param bytes the size of the HPACK table the client may use for its requests ({@code SETTINGS_HEADER_TABLE_SIZE}), 0 or more
     */
    public Http2Options headerTableSize(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("headerTableSize must be >= 0, was " + bytes);
        }
        return new Http2Options(maxConcurrentStreams, maxHeaderListSize, bytes, initialWindowSize, connectionWindowSize, maxFrameSize,
                maxResets, resetWindow, maxControlFrames, controlFrameWindow, stallTimeout);
    }

    /**
     * {@return a copy with that window}
     *
     * @param bytes each stream's receive window ({@code SETTINGS_INITIAL_WINDOW_SIZE}): how much of a request body the
     *        client may send before the handler reads it; 1 .. 2^31-1
     */
    public Http2Options initialWindowSize(int bytes) {
        return new Http2Options(maxConcurrentStreams, maxHeaderListSize, headerTableSize, positive(bytes, "initialWindowSize"),
                connectionWindowSize, maxFrameSize, maxResets, resetWindow, maxControlFrames, controlFrameWindow, stallTimeout);
    }

    /**
     * {@return a copy with that window}
     *
     * @param bytes the connection's receive window: how much of all its streams' request bodies a client may send
     *        before their handlers read them; at least 65,535 (the protocol's initial value)
     */
    public Http2Options connectionWindowSize(int bytes) {
        if (bytes < 65_535) {
            throw new IllegalArgumentException("connectionWindowSize must be >= 65535 (HTTP/2's initial connection window), was " + bytes);
        }
        return new Http2Options(maxConcurrentStreams, maxHeaderListSize, headerTableSize, initialWindowSize, bytes, maxFrameSize,
                maxResets, resetWindow, maxControlFrames, controlFrameWindow, stallTimeout);
    }

    /**
     * {@return a copy with that size}
     *
     * @param bytes the largest frame payload the client may send ({@code SETTINGS_MAX_FRAME_SIZE}), 16,384 .. 16,777,215
     */
    public Http2Options maxFrameSize(int bytes) {
        if (bytes < 16_384 || bytes > 16_777_215) {
            throw new IllegalArgumentException("maxFrameSize must be 16384..16777215 (RFC 9113 6.5.2), was " + bytes);
        }
        return new Http2Options(maxConcurrentStreams, maxHeaderListSize, headerTableSize, initialWindowSize, connectionWindowSize, bytes,
                maxResets, resetWindow, maxControlFrames, controlFrameWindow, stallTimeout);
    }

    /**
     * The rapid-reset defence (CVE-2023-44487): a connection whose client resets more than
     * {@code count} streams within {@code window} is sent {@code GOAWAY ENHANCE_YOUR_CALM} and closed.
     *
     * @param count the most resets per window, 1 or more
     * @param window the window, at least one second (whole seconds)
     * @return a copy with that limit
     */
    public Http2Options maxResets(int count, Duration window) {
        return new Http2Options(maxConcurrentStreams, maxHeaderListSize, headerTableSize, initialWindowSize, connectionWindowSize,
                maxFrameSize, positive(count, "maxResets"), seconds(window, "maxResets window"), maxControlFrames, controlFrameWindow,
                stallTimeout);
    }

    /**
     * The flood defence: a connection whose client sends more than {@code count} frames that ask
     * the server for work but carry no request ({@code PING}, {@code SETTINGS}, {@code PRIORITY},
     * frames of unknown types) within {@code window} is sent {@code GOAWAY ENHANCE_YOUR_CALM} and
     * closed.
     *
     * @param count the most such frames per window, 1 or more
     * @param window the window
     * @return a copy with that limit
     */
    public Http2Options maxControlFrames(int count, Duration window) {
        return new Http2Options(maxConcurrentStreams, maxHeaderListSize, headerTableSize, initialWindowSize, connectionWindowSize,
                maxFrameSize, maxResets, resetWindow, positive(count, "maxControlFrames"), positive(window, "maxControlFrames window"),
                stallTimeout);
    }

    /**
     * How long a response may make no progress because the client gives it no flow-control
     * window (or does not read the socket at all): a stream stalled that long is reset
     * ({@code RST_STREAM CANCEL}, its handler cancelled), a connection closed.
     *
     * @param timeout the timeout
     * @return a copy with that timeout
     */
    public Http2Options stallTimeout(Duration timeout) {
        return new Http2Options(maxConcurrentStreams, maxHeaderListSize, headerTableSize, initialWindowSize, connectionWindowSize,
                maxFrameSize, maxResets, resetWindow, maxControlFrames, controlFrameWindow, positive(timeout, "stallTimeout"));
    }

    /** {@return the most concurrent streams per connection} */
    public int maxConcurrentStreams() {
        return maxConcurrentStreams;
    }

    /** {@return the largest request header list, in bytes} */
    public int maxHeaderListSize() {
        return maxHeaderListSize;
    }

    /** {@return the HPACK table size for requests, in bytes} */
    public int headerTableSize() {
        return headerTableSize;
    }

    /** {@return each stream's receive window, in bytes} */
    public int initialWindowSize() {
        return initialWindowSize;
    }

    /** {@return the connection's receive window, in bytes} */
    public int connectionWindowSize() {
        return connectionWindowSize;
    }

    /** {@return the largest frame payload a client may send, in bytes} */
    public int maxFrameSize() {
        return maxFrameSize;
    }

    /** {@return the most stream resets per {@link #resetWindow()}} */
    public int maxResets() {
        return maxResets;
    }

    /** {@return the window of {@link #maxResets()}} */
    public Duration resetWindow() {
        return resetWindow;
    }

    /** {@return the most control frames per {@link #controlFrameWindow()}} */
    public int maxControlFrames() {
        return maxControlFrames;
    }

    /** {@return the window of {@link #maxControlFrames()}} */
    public Duration controlFrameWindow() {
        return controlFrameWindow;
    }

    /** {@return how long a response may be stalled by the client's flow control} */
    public Duration stallTimeout() {
        return stallTimeout;
    }

    private static int positive(int v, String what) {
        return HttpServerBuilder.positive(v, what);
    }

    private static Duration positive(Duration d, String what) {
        return HttpServerBuilder.positive(d, what);
    }

    private static Duration seconds(Duration d, String what) {
        positive(d, what);
        if (d.toSeconds() < 1) {
            throw new IllegalArgumentException(what + " must be at least one second (Netty counts resets per whole seconds), was " + d);
        }
        return d;
    }

    @Override
    public String toString() {
        return "Http2Options[maxConcurrentStreams=" + maxConcurrentStreams + ", maxHeaderListSize=" + maxHeaderListSize
                + ", headerTableSize=" + headerTableSize + ", initialWindowSize=" + initialWindowSize + ", connectionWindowSize="
                + connectionWindowSize + ", maxFrameSize=" + maxFrameSize + ", maxResets=" + maxResets + "/" + resetWindow
                + ", maxControlFrames=" + maxControlFrames + "/" + controlFrameWindow + ", stallTimeout=" + stallTimeout + "]";
    }
}
