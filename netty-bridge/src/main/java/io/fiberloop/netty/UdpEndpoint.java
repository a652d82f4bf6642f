package io.fiberloop.netty;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fiber;
import io.fiberloop.loop.EventLoop;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CompletionException;

/**
 * A UDP socket used from fibers: {@link #receive()} suspends the fiber until a datagram arrives,
 * {@link #send(byte[], InetSocketAddress)} queues one.
 * {@snippet :
 * try (UdpEndpoint udp = UdpEndpoint.bind("127.0.0.1", 9999)) {
 *     UdpEndpoint.Datagram d;
 *     while ((d = udp.receive()) != null) {
 *         udp.send(d.data(), d.sender());   // echo
 *     }
 * }
 * }
 * <h2>Reads</h2>
 * Demand-driven, as TCP connections: the endpoint asks Netty to read (up to Netty's 16 datagrams
 * per read) only when a fiber receives and nothing is buffered, so datagrams the fiber has not
 * asked for wait in the kernel's receive buffer, and are dropped there when it is full (UDP's own
 * backpressure). Datagrams are delivered whole (up to the largest UDP payload) as byte arrays
 * (copies), so there is nothing to release.
 *
 * <h2>Writes</h2>
 * {@code send} queues the datagram and returns; the sends of one turn of the loop go out in one
 * flush. {@link #flush()} waits until they were handed to the socket; {@link #drain()} returns at
 * once while little waits to go out, else flushes and waits while the channel is not writable.
 *
 * <h2>Threading</h2>
 * Every method but the accessors must be called from a fiber of the endpoint's loop (the loop of
 * the fiber that bound it); one fiber may receive while another sends.
 */
public final class UdpEndpoint implements AutoCloseable {
    /** The receive buffer per datagram: the largest UDP payload (65,507 bytes over IPv4, 65,527 over IPv6) fits. */
    static final int MAX_DATAGRAM = 65_536;

    /**
     * A received datagram.
     *
     * @param data its payload (a copy the caller owns)
     * @param sender the address it came from
     */
    public record Datagram(byte[] data, InetSocketAddress sender) {
        @Override
        public String toString() {
            return "Datagram[" + data.length + " bytes from " + sender + "]";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Datagram d && Arrays.equals(data, d.data) && Objects.equals(sender, d.sender);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(data) * 31 + Objects.hashCode(sender);
        }
    }

    private final MessageConnectionImpl<DatagramPacket, DatagramPacket> conn;
    private final InetSocketAddress local;

    private UdpEndpoint(MessageConnectionImpl<DatagramPacket, DatagramPacket> conn) {
        this.conn = conn;
        this.local = (InetSocketAddress) conn.channel().localAddress();
    }

    /**
     * Binds a UDP socket on the loop of the calling fiber.
     * <p>Threading: a fiber of a loop built with the Netty driver ({@link NettyLoops}).
     *
     * @param host the address to bind, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
     * @param port the port, {@code 0} for any free one ({@link #localAddress()} tells)
     * @return the bound endpoint; the caller closes it
     * @throws IOException if the address cannot be bound
     * @throws IllegalStateException if not called from a fiber of a loop with the Netty driver
     */
    public static UdpEndpoint bind(String host, int port) throws IOException {
        Objects.requireNonNull(host, "host");
        NettyIoDriver driver = NettyIoDriver.current("UdpEndpoint.bind()");
        if (Fiber.currentOrNull() == null) {
            throw new IllegalStateException("UdpEndpoint.bind() suspends, so it must be called from a fiber, not a loop callback");
        }
        if (driver.inMemory()) {
            throw new UnsupportedOperationException("UdpEndpoint.bind(): the loop runs on a simulated network, which carries TCP only; "
                    + "test UDP on a loop with a real transport (NettyLoops.newLoop())");
        }
        MessageConnectionImpl<DatagramPacket, DatagramPacket> conn = new MessageConnectionImpl<>(driver) {
            @Override
            protected String kind() {
                return "UdpEndpoint";
            }

            @Override
            protected String noun() {
                return "an endpoint";
            }
        };
        Bootstrap b = new Bootstrap()
                .group(driver.netty)
                .channel(driver.transport.datagramChannelClass())
                .option(ChannelOption.AUTO_READ, false)
                // Netty reads datagrams into 2,048-byte buffers by default and silently cuts longer
                // ones; a buffer of the largest UDP payload keeps every datagram whole
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(MAX_DATAGRAM))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(conn);
                    }
                });
        ChannelFuture f = b.bind(host, port);
        try {
            NettyFutures.await(f);
        } catch (CompletionException e) {
            f.channel().close();
            throw Tcp.ioFailure(e, "cannot bind UDP " + host + ":" + port);
        } catch (CancelledException e) {
            f.channel().close();
            throw e;
        }
        return new UdpEndpoint(conn);
    }

    /**
     * Binds a UDP socket on {@code loop}.
     * <p>Threading: any thread (a fiber of {@code loop} is suspended, another thread blocks); the
     * endpoint is then used from fibers of {@code loop}.
     *
     * @param loop a loop built with the Netty driver
     * @param host the address to bind
     * @param port the port, {@code 0} for any free one
     * @return the bound endpoint
     * @throws IOException if the address cannot be bound
     */
    public static UdpEndpoint bind(EventLoop loop, String host, int port) throws IOException {
        Objects.requireNonNull(loop, "loop");
        return io.fiberloop.netty.internal.Loops.onLoop(loop, () -> bind(host, port));
    }

    /**
     * Receives the next datagram, suspending the fiber until one arrives.
     * <p>Threading: a fiber of the endpoint's loop.
     *
     * @return the datagram, or {@code null} once the endpoint is closed by the channel's end
     * @throws IOException if the endpoint failed or was closed by this side
     * @throws java.net.SocketTimeoutException if a receive timeout is set and expired
     */
    public Datagram receive() throws IOException {
        conn.checkLoop("receive()");
        DatagramPacket p = conn.read();
        if (p == null) {
            return null;
        }
        try {
            return new Datagram(ByteBufUtil.getBytes(p.content()), p.sender());
        } finally {
            p.release();
        }
    }

    /**
     * Queues a datagram carrying a copy of {@code data} to {@code to}. Does not suspend.
     * <p>Threading: a fiber of the endpoint's loop.
     *
     * @param data the payload (the array may be reused as soon as this returns)
     * @param to the destination
     * @throws IOException if the endpoint is closed or failed
     */
    public void send(byte[] data, InetSocketAddress to) throws IOException {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(to, "to");
        conn.checkLoop("send()");
        conn.checkWritable();
        ByteBuf buf = conn.channel().alloc().buffer(Math.max(1, data.length)).writeBytes(data);
        conn.write(new DatagramPacket(buf, to));
    }

    /**
     * Queues a datagram with {@code buf}'s bytes to {@code to}, taking ownership of {@code buf}.
     * <p>Threading: a fiber of the endpoint's loop.
     *
     * @param buf the payload; released once sent, or if the endpoint is closed
     * @param to the destination
     * @throws IOException if the endpoint is closed or failed
     */
    public void send(ByteBuf buf, InetSocketAddress to) throws IOException {
        Objects.requireNonNull(buf, "buf");
        try {
            Objects.requireNonNull(to, "to");
            conn.checkLoop("send()");
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        conn.write(new DatagramPacket(buf, to));
    }

    /**
     * Waits until the queued datagrams were handed to the socket.
     * <p>Threading: a fiber of the endpoint's loop (suspends it).
     *
     * @throws IOException if the endpoint failed or closed first
     */
    public void flush() throws IOException {
        conn.flush();
    }

    /**
     * Backpressure, as {@link Connection#drain()}: returns at once while fewer than 64 datagrams
     * and at most the high-water mark of bytes wait to go out, else flushes and waits while the
     * channel is not writable.
     * <p>Threading: a fiber of the endpoint's loop (suspends it).
     *
     * @throws IOException if the endpoint failed or closed first
     */
    public void drain() throws IOException {
        conn.drain();
    }

    /**
     * Sets how long {@link #receive()} may wait before it throws {@link java.net.SocketTimeoutException}.
     *
     * @param timeout the limit, or {@code null} / zero for none
     */
    public void receiveTimeout(Duration timeout) {
        conn.checkLoop("receiveTimeout()");
        conn.readTimeout(timeout);
    }

    /** {@return the bound address (with the actual port). Any thread.} */
    public InetSocketAddress localAddress() {
        return local;
    }

    /** {@return whether the endpoint is open} Threading: any thread. */
    public boolean isOpen() {
        return conn.isOpen();
    }

    /** Flushes what was sent, then closes; idempotent. Threading: a fiber (or callback) of the endpoint's loop. */
    @Override
    public void close() {
        conn.close();
    }

    @Override
    public String toString() {
        return "UdpEndpoint[" + local + "]";
    }
}
