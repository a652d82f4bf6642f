package io.fiberloop.netty;

import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * Settings of the connections a {@link TcpServer} accepts or {@link Tcp} opens: TLS, timeouts and
 * socket options, and the options of a server's listening socket. Immutable; each {@code with...}
 * returns a modified copy.
 * {@snippet :
 * SslContext tls = SslContextBuilder.forServer(keyManagerFactory).build();
 * TcpServer server = TcpServer.bind(loop, "0.0.0.0", 8443,
 *         TcpOptions.defaults().withTls(tls).withIdleTimeout(Duration.ofMinutes(5))
 *                 .withSocketOption(ChannelOption.SO_KEEPALIVE, true)
 *                 .withListenOption(ChannelOption.SO_BACKLOG, 4096),
 *         conn -> ...);
 * }
 * <p>Threading: immutable, safe everywhere.
 */
public final class TcpOptions {
    private static final TcpOptions DEFAULTS = new TcpOptions(null, null, null, Map.of(), Map.of());

    private final SslContext tls;
    private final Duration idleTimeout;
    private final Duration readTimeout;
    private final Map<ChannelOption<?>, Object> socketOptions;
    private final Map<ChannelOption<?>, Object> listenOptions;

    private TcpOptions(SslContext tls, Duration idleTimeout, Duration readTimeout, Map<ChannelOption<?>, Object> socketOptions,
            Map<ChannelOption<?>, Object> listenOptions) {
        this.tls = tls;
        this.idleTimeout = idleTimeout;
        this.readTimeout = readTimeout;
        this.socketOptions = socketOptions;
        this.listenOptions = listenOptions;
    }

    /** {@return no TLS, no timeouts} */
    public static TcpOptions defaults() {
        return DEFAULTS;
    }

    /**
     * TLS through Netty's {@code SslHandler}, first in each connection's pipeline. A server needs a
     * server context ({@code SslContextBuilder.forServer(...)}), a client a client context
     * ({@code SslContextBuilder.forClient()}; the client verifies the server's host name against
     * its certificate as the context says, and sends it as SNI).
     * <p>A client's {@link Tcp#connect} returns once the handshake succeeded, and throws
     * {@link javax.net.ssl.SSLHandshakeException} (or another {@link javax.net.ssl.SSLException})
     * when it fails. A server starts the handler at once (and starts reading, so that the handshake
     * goes on while the handler writes first); a failed handshake makes the handler's reads and
     * writes throw the {@code SSLException}. Netty's handshake timeout (10 s by default) bounds both.
     *
     * @param context the Netty SSL context, or {@code null} for none
     * @return a copy with TLS
     */
    public TcpOptions withTls(SslContext context) {
        return new TcpOptions(context, idleTimeout, readTimeout, socketOptions, listenOptions);
    }

    /**
     * An idle timeout for each connection ({@link Connection#idleTimeout(Duration)}).
     *
     * @param timeout the limit, or {@code null} for none
     * @return a copy with the timeout
     */
    public TcpOptions withIdleTimeout(Duration timeout) {
        return new TcpOptions(tls, timeout, readTimeout, socketOptions, listenOptions);
    }

    /**
     * A read timeout for each connection ({@link Connection#readTimeout(Duration)}).
     *
     * @param timeout the limit, or {@code null} for none
     * @return a copy with the timeout
     */
    public TcpOptions withReadTimeout(Duration timeout) {
        return new TcpOptions(tls, idleTimeout, timeout, socketOptions, listenOptions);
    }

    /**
     * A Netty channel option for each connection: a server sets it on every accepted connection
     * (Netty's {@code childOption}), a client on its channel before it connects. For example
     * {@code SO_KEEPALIVE}, {@code TCP_NODELAY} (on by default), {@code SO_SNDBUF},
     * {@code SO_RCVBUF}, {@code SO_LINGER}, {@code IP_TOS}, {@code WRITE_BUFFER_WATER_MARK} (the
     * high-water mark is where {@link Connection#drain()} starts to wait), or a transport's own
     * ({@code EpollChannelOption.TCP_KEEPIDLE}...). Setting an option again replaces its value.
     * <p>Netty applies the options to each channel as it is set up, so mistakes show there, not
     * here: an option the loop's transport does not know (io_uring's options are not epoll's) is
     * ignored with a WARN for every connection, and a value the socket refuses (an out-of-range
     * {@code IP_TOS}, say) makes Netty close every accepted connection before its handler runs
     * (WARN) and makes {@link Tcp#connect} fail with an {@code IOException}. Try new options with
     * one connection first. Options of the listening socket ({@code SO_BACKLOG},
     * {@code TCP_FASTOPEN}, {@code TCP_DEFER_ACCEPT}) go to {@link #withListenOption}. A
     * {@code MESSAGE_SIZE_ESTIMATOR} that counts too little keeps the channel writable, so
     * {@link Connection#drain()} stops bounding what is buffered.
     * <p>Options that fiberloop manages itself are refused: {@code AUTO_READ},
     * {@code RCVBUF_ALLOCATOR} and {@code MAX_MESSAGES_PER_READ} (reads are demand-driven, which is
     * what bounds the unread input), {@code ALLOW_HALF_CLOSURE} (always on, so that
     * {@link Connection#read()} reports the peer's half-close as end of stream), and
     * {@code CONNECT_TIMEOUT_MILLIS} (pass the timeout to {@link Tcp#connect}). {@code SO_BACKLOG}
     * is refused too (it is the listening socket's: {@link #withListenOption}), and so is io_uring's
     * {@code IO_URING_BUFFER_GROUP_ID} (fiberloop registers no buffer rings).
     *
     * @param option the Netty option
     * @param value its value
     * @param <T> the option's type
     * @return a copy with the option
     * @throws IllegalArgumentException for an option fiberloop manages
     * @throws NullPointerException if {@code option} or {@code value} is null
     */
    public <T> TcpOptions withSocketOption(ChannelOption<T> option, T value) {
        return new TcpOptions(tls, idleTimeout, readTimeout, with(socketOptions, MANAGED, "withSocketOption", option, value),
                listenOptions);
    }

    /**
     * A Netty channel option for a {@link TcpServer}'s listening socket (Netty's
     * {@code ServerBootstrap.option}), on every loop it listens on: {@code SO_BACKLOG} (the
     * accept queue; Netty's default is the kernel's {@code somaxconn}), {@code SO_REUSEADDR} (on by
     * default), {@code SO_RCVBUF} (which the accepted sockets inherit, and which must be set before
     * listening for a window above 64 KiB to be offered), or a transport's own such as
     * {@code EpollChannelOption.TCP_FASTOPEN}, {@code TCP_DEFER_ACCEPT} or {@code IP_FREEBIND}.
     * Setting an option again replaces its value. {@link Tcp#connect} ignores these options, so
     * one {@code TcpOptions} can serve a server and its clients.
     * <p>Netty applies them when the server binds, so mistakes show there, not here: an option the
     * listening socket does not know ({@code TCP_NODELAY}, say, or another transport's option), or
     * a value it refuses, is skipped with a WARN from Netty's {@code ServerBootstrap}, and the
     * server listens without it.
     * <p>Refused, because {@code TcpServer} sets them itself: {@code AUTO_READ} (the server always
     * accepts; bound the connections in the handler, e.g. with a {@code CapacityLimiter}) and the
     * transports' {@code SO_REUSEPORT} (on where a server listens on every loop of a group).
     *
     * @param option the Netty option
     * @param value its value
     * @param <T> the option's type
     * @return a copy with the option
     * @throws IllegalArgumentException for an option the server manages
     * @throws NullPointerException if {@code option} or {@code value} is null
     */
    public <T> TcpOptions withListenOption(ChannelOption<T> option, T value) {
        return new TcpOptions(tls, idleTimeout, readTimeout, socketOptions,
                with(listenOptions, MANAGED_LISTEN, "withListenOption", option, value));
    }

    /** A copy of {@code options} with {@code option} set, unless {@code managed} names it (then what to do instead is thrown). */
    private static <T> Map<ChannelOption<?>, Object> with(Map<ChannelOption<?>, Object> options, Map<ChannelOption<?>, String> managed,
            String method, ChannelOption<T> option, T value) {
        Objects.requireNonNull(option, "option");
        String instead = managed.get(option);
        if (instead != null) {
            throw new IllegalArgumentException("TcpOptions." + method + "(" + option + "): " + instead);
        }
        option.validate(value);
        Map<ChannelOption<?>, Object> copy = new LinkedHashMap<>(options);
        copy.put(option, value);
        return Collections.unmodifiableMap(copy);
    }

    /** The listening-socket options {@code TcpServer} manages itself: {@link #withListenOption} refuses them. */
    private static final Map<ChannelOption<?>, String> MANAGED_LISTEN = managedListenOptions();

    private static Map<ChannelOption<?>, String> managedListenOptions() {
        Map<ChannelOption<?>, String> m = new LinkedHashMap<>();
        m.put(ChannelOption.AUTO_READ, "a TcpServer always accepts; to bound the connections it serves, limit them in the "
                + "handler (a CapacityLimiter, say) or close the server");
        // Netty pools options by name: the two transports' SO_REUSEPORT may be one constant
        String reusePort = "TcpServer sets SO_REUSEPORT itself where a server listens on every loop of a LoopGroup";
        m.put(EpollChannelOption.SO_REUSEPORT, reusePort);
        m.put(IoUringChannelOption.SO_REUSEPORT, reusePort);
        return Collections.unmodifiableMap(m);
    }

    /** The options fiberloop manages itself, with what to do instead: {@link #withSocketOption} refuses them. */
    private static final Map<ChannelOption<?>, String> MANAGED = managedOptions();

    @SuppressWarnings("deprecation") // Netty 4.2 deprecates RCVBUF_ALLOCATOR and MAX_MESSAGES_PER_READ; they still apply
    private static Map<ChannelOption<?>, String> managedOptions() {
        String reads = "fiberloop manages reads (a read is asked when the fiber reads, which bounds the unread input); "
                + "to read ahead, keep calling read() from the connection's fiber";
        return Map.of(
                ChannelOption.AUTO_READ, reads,
                ChannelOption.RCVBUF_ALLOCATOR, reads,
                ChannelOption.MAX_MESSAGES_PER_READ, reads,
                IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, "fiberloop registers no io_uring buffer rings (a ring's "
                        + "multishot receives would bypass the demand-driven read bound), so a channel naming a buffer "
                        + "group would fail to register",
                ChannelOption.ALLOW_HALF_CLOSURE, "fiberloop always allows half-closure, so that read() returns end of "
                        + "stream at the peer's shutdownOutput and the connection can still write; close() closes both directions",
                ChannelOption.SO_BACKLOG, "SO_BACKLOG belongs to a listening socket, and these options are the connections': "
                        + "use withListenOption(ChannelOption.SO_BACKLOG, n)",
                ChannelOption.CONNECT_TIMEOUT_MILLIS, "pass the connect timeout to Tcp.connect(host, port, timeout, options)");
    }

    /** {@return the socket options set with {@link #withSocketOption}, in the order they were set (unmodifiable)} */
    public Map<ChannelOption<?>, Object> socketOptions() {
        return socketOptions;
    }

    /** {@return the listening-socket options set with {@link #withListenOption}, in the order they were set (unmodifiable)} */
    public Map<ChannelOption<?>, Object> listenOptions() {
        return listenOptions;
    }

    /** {@return the TLS context, or {@code null}} */
    public SslContext tls() {
        return tls;
    }

    /** {@return the idle timeout, or {@code null}} */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /** {@return the read timeout, or {@code null}} */
    public Duration readTimeout() {
        return readTimeout;
    }

    /** Applies the timeouts to a new connection. Owning thread, at setup. */
    void applyTo(ChannelConnection c) {
        if (readTimeout != null) {
            c.readTimeoutUnchecked(readTimeout);
        }
        if (idleTimeout != null) {
            c.idleTimeout(idleTimeout);
        }
    }

    @Override
    public String toString() {
        return "TcpOptions[tls=" + (tls != null) + ", idleTimeout=" + idleTimeout + ", readTimeout=" + readTimeout
                + (socketOptions.isEmpty() ? "" : ", socketOptions=" + socketOptions)
                + (listenOptions.isEmpty() ? "" : ", listenOptions=" + listenOptions) + "]";
    }

    /**
     * Hands each socket option to {@code set}: a server's {@code ServerBootstrap::childOption}, a
     * client's {@code Bootstrap::option}.
     */
    void forEachSocketOption(BiConsumer<ChannelOption<Object>, Object> set) {
        forEach(socketOptions, set);
    }

    /** Hands each listening-socket option to {@code set}: a server's {@code ServerBootstrap::option}. */
    void forEachListenOption(BiConsumer<ChannelOption<Object>, Object> set) {
        forEach(listenOptions, set);
    }

    @SuppressWarnings("unchecked")
    private static void forEach(Map<ChannelOption<?>, Object> options, BiConsumer<ChannelOption<Object>, Object> set) {
        options.forEach((k, v) -> set.accept((ChannelOption<Object>) k, v));
    }

    static TcpOptions orDefaults(TcpOptions o) {
        return o == null ? DEFAULTS : o;
    }

    static <T> T nonNull(T t, String what) {
        return Objects.requireNonNull(t, what);
    }
}
