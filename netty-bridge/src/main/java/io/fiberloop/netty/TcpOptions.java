package io.fiberloop.netty;

import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the connections a {@link TcpServer} accepts or {@link Tcp} opens: TLS and timeouts.
 * Immutable; each {@code with...} returns a modified copy.
 * {@snippet :
 * SslContext tls = SslContextBuilder.forServer(keyManagerFactory).build();
 * TcpServer server = TcpServer.bind(loop, "0.0.0.0", 8443,
 *         TcpOptions.defaults().withTls(tls).withIdleTimeout(Duration.ofMinutes(5)),
 *         conn -> ...);
 * }
 * <p>Threading: immutable, safe everywhere.
 */
public final class TcpOptions {
    private static final TcpOptions DEFAULTS = new TcpOptions(null, null, null);

    private final SslContext tls;
    private final Duration idleTimeout;
    private final Duration readTimeout;

    private TcpOptions(SslContext tls, Duration idleTimeout, Duration readTimeout) {
        this.tls = tls;
        this.idleTimeout = idleTimeout;
        this.readTimeout = readTimeout;
    }

    /** @return no TLS, no timeouts */
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
        return new TcpOptions(context, idleTimeout, readTimeout);
    }

    /**
     * An idle timeout for each connection ({@link Connection#idleTimeout(Duration)}).
     *
     * @param timeout the limit, or {@code null} for none
     * @return a copy with the timeout
     */
    public TcpOptions withIdleTimeout(Duration timeout) {
        return new TcpOptions(tls, timeout, readTimeout);
    }

    /**
     * A read timeout for each connection ({@link Connection#readTimeout(Duration)}).
     *
     * @param timeout the limit, or {@code null} for none
     * @return a copy with the timeout
     */
    public TcpOptions withReadTimeout(Duration timeout) {
        return new TcpOptions(tls, idleTimeout, timeout);
    }

    /** @return the TLS context, or {@code null} */
    public SslContext tls() {
        return tls;
    }

    /** @return the idle timeout, or {@code null} */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /** @return the read timeout, or {@code null} */
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
        return "TcpOptions[tls=" + (tls != null) + ", idleTimeout=" + idleTimeout + ", readTimeout=" + readTimeout + "]";
    }

    static TcpOptions orDefaults(TcpOptions o) {
        return o == null ? DEFAULTS : o;
    }

    static <T> T nonNull(T t, String what) {
        return Objects.requireNonNull(t, what);
    }
}
