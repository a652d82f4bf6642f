package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link TcpOptions#withSocketOption}: options reach the server's and the client's channels;
 * {@link TcpOptions#withListenOption}: they reach the listening socket (a backlog that the kernel
 * enforces); managed ones are refused.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SocketOptionsTest {
    private static final WriteBufferWaterMark MARKS = new WriteBufferWaterMark(4096, 8192);

    /** The options the accepted or connected channel reports. */
    private static List<Object> report(Connection c) {
        ChannelConfig config = ((ChannelConnection) c).channel().config();
        return List.of(config.getOption(ChannelOption.SO_KEEPALIVE), config.getOption(ChannelOption.TCP_NODELAY),
                config.getOption(ChannelOption.WRITE_BUFFER_WATER_MARK).high());
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void optionsReachTheAcceptedAndTheConnectedChannels(NettyTransport transport) throws Exception {
        // Netty's defaults are keep-alive off, TCP_NODELAY on and a 64 KiB high-water mark: set the opposite
        TcpOptions options = TcpOptions.defaults()
                .withSocketOption(ChannelOption.SO_KEEPALIVE, true)
                .withSocketOption(ChannelOption.TCP_NODELAY, false)
                .withSocketOption(ChannelOption.WRITE_BUFFER_WATER_MARK, MARKS);
        CompletableFuture<List<Object>> accepted = new CompletableFuture<>();
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, options, conn -> {
                accepted.complete(report(conn));
                Echo.HANDLER.handle(conn);
            });
            List<Object> connected = loop.run(() -> {
                try (Connection c = Tcp.connect("127.0.0.1", server.port(), Duration.ofSeconds(5), options)) {
                    c.write("ping\n");
                    c.flush();
                    assertEquals("ping", c.readLine(10), "the connection works with the options");
                    return report(c);
                }
            });
            List<Object> expected = List.of(true, false, 8192);
            assertEquals(expected, connected, "client channel on " + transport);
            assertEquals(expected, accepted.get(10, TimeUnit.SECONDS), "accepted channel on " + transport);
            server.close();
        }
    }

    /** How many connections each server is offered while its loop cannot accept. */
    private static final int OFFERED = 8;

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void aBacklogOfOneLetsTheKernelQueueOnlyAFewConnectionsWhileTheLoopCannotAcceptAndNoneIsLost(NettyTransport transport)
            throws Exception {
        AtomicBoolean release = new AtomicBoolean();
        List<Socket> sockets = new ArrayList<>();
        try (EventLoop loop = NettyLoops.builder(transport).watchdog(null).build()) {
            TcpServer small = TcpServer.bind(loop, "127.0.0.1", 0, TcpOptions.defaults().withListenOption(ChannelOption.SO_BACKLOG, 1),
                    Echo.HANDLER);
            TcpServer usual = TcpServer.bind(loop, "127.0.0.1", 0, Echo.HANDLER);
            // Hold the loop: a fiber that spins never yields, so no accept runs and connections wait in
            // the kernel's accept queue, which the backlog bounds (Linux drops the SYNs beyond it).
            CountDownLatch spinning = new CountDownLatch(1);
            loop.execute(() -> Fibers.spawn(() -> {
                spinning.countDown();
                while (!release.get()) {
                    Thread.onSpinWait();
                }
                return null;
            }));
            assertTrue(spinning.await(10, TimeUnit.SECONDS), "the spinning fiber started");
            int queuedUsual = offer(usual.port(), sockets);
            int queuedSmall = offer(small.port(), sockets);
            release.set(true);
            assertEquals(OFFERED, queuedUsual, "with the default backlog the kernel queues all " + OFFERED);
            // Linux queues backlog + 1 (2 here, on every transport); allow one more for an accept armed before the hold
            assertTrue(queuedSmall >= 1 && queuedSmall < OFFERED,
                    "with SO_BACKLOG 1, " + queuedSmall + " of " + OFFERED + " connections were queued on " + transport);
            // once the loop runs again, every queued connection is accepted and served
            for (int i = 0; i < sockets.size(); i++) {
                byte[] ping = ("ping " + i).getBytes(StandardCharsets.UTF_8);
                assertArrayEquals(ping, Echo.roundTrip(sockets.get(i), ping), "connection " + i + " on " + transport);
            }
            for (Socket s : sockets) {
                s.close(); // the handlers see end of stream and end, so the servers close at once
            }
            small.close();
            usual.close();
        } finally {
            release.set(true);
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    /**
     * Connects up to {@link #OFFERED} sockets to {@code port} until one does not connect within
     * half a second (its SYN dropped at a full accept queue). @return how many connected
     */
    private static int offer(int port, List<Socket> connected) throws IOException {
        for (int i = 0; i < OFFERED; i++) {
            Socket s = new Socket();
            try {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            } catch (SocketTimeoutException e) {
                s.close();
                return i;
            }
            s.setSoTimeout(10_000);
            connected.add(s);
        }
        return OFFERED;
    }

    @Test
    void listenOptionsAreKeptApartFromTheConnectionsAndManagedOnesAreRefused() {
        TcpOptions o = TcpOptions.defaults().withSocketOption(ChannelOption.SO_KEEPALIVE, true)
                .withListenOption(ChannelOption.SO_BACKLOG, 16).withListenOption(ChannelOption.SO_BACKLOG, 32);
        assertEquals(Map.of(ChannelOption.SO_BACKLOG, 32), o.listenOptions(), "a later value replaces an earlier one");
        assertEquals(Map.of(ChannelOption.SO_KEEPALIVE, true), o.socketOptions());
        assertEquals(Map.of(ChannelOption.SO_BACKLOG, 32), o.withReadTimeout(Duration.ofSeconds(1)).withTls(null).listenOptions(),
                "kept by the other settings");
        assertThrows(UnsupportedOperationException.class, () -> o.listenOptions().clear());
        IllegalArgumentException accept = assertThrows(IllegalArgumentException.class,
                () -> o.withListenOption(ChannelOption.AUTO_READ, false));
        assertTrue(accept.getMessage().contains("always accepts"), accept.getMessage());
        for (ChannelOption<Boolean> reusePort : List.of(EpollChannelOption.SO_REUSEPORT, IoUringChannelOption.SO_REUSEPORT)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.withListenOption(reusePort, true));
            assertTrue(e.getMessage().contains("LoopGroup"), e.getMessage());
        }
        assertThrows(NullPointerException.class, () -> o.withListenOption(ChannelOption.SO_BACKLOG, null));
    }

    @Test
    @SuppressWarnings("deprecation")
    void optionsFiberloopManagesAreRefusedWithWhatToDoInstead() {
        TcpOptions o = TcpOptions.defaults();
        for (ChannelOption<?> reads : List.of(ChannelOption.AUTO_READ, ChannelOption.MAX_MESSAGES_PER_READ)) {
            @SuppressWarnings("unchecked")
            ChannelOption<Object> opt = (ChannelOption<Object>) reads;
            Object value = reads == ChannelOption.AUTO_READ ? Boolean.TRUE : Integer.valueOf(16);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.withSocketOption(opt, value));
            assertTrue(e.getMessage().contains("fiberloop manages reads"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class,
                () -> o.withSocketOption(ChannelOption.RCVBUF_ALLOCATOR, ChannelConnection.newRecvAllocator()));
        IllegalArgumentException half = assertThrows(IllegalArgumentException.class,
                () -> o.withSocketOption(ChannelOption.ALLOW_HALF_CLOSURE, false));
        assertTrue(half.getMessage().contains("half-closure"), half.getMessage());
        IllegalArgumentException connect = assertThrows(IllegalArgumentException.class,
                () -> o.withSocketOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, 1000));
        assertTrue(connect.getMessage().contains("Tcp.connect"), connect.getMessage());
        IllegalArgumentException backlog = assertThrows(IllegalArgumentException.class,
                () -> o.withSocketOption(ChannelOption.SO_BACKLOG, 1024));
        assertTrue(backlog.getMessage().contains("withListenOption"), backlog.getMessage());
        IllegalArgumentException ring = assertThrows(IllegalArgumentException.class,
                () -> o.withSocketOption(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, (short) 1));
        assertTrue(ring.getMessage().contains("buffer rings"), ring.getMessage());
        assertThrows(NullPointerException.class, () -> o.withSocketOption(ChannelOption.SO_KEEPALIVE, null));
    }

    @Test
    void eachSettingIsACopyAndALaterValueReplacesAnEarlierOne() {
        TcpOptions base = TcpOptions.defaults();
        TcpOptions one = base.withSocketOption(ChannelOption.SO_SNDBUF, 1 << 16);
        TcpOptions two = one.withSocketOption(ChannelOption.SO_SNDBUF, 1 << 17).withReadTimeout(Duration.ofSeconds(1));
        assertEquals(Map.of(), base.socketOptions());
        assertEquals(Map.of(ChannelOption.SO_SNDBUF, 1 << 16), one.socketOptions());
        assertEquals(Map.of(ChannelOption.SO_SNDBUF, 1 << 17), two.socketOptions(), "replaced, and kept by withReadTimeout");
        assertNotSame(one, two);
        assertThrows(UnsupportedOperationException.class, () -> two.socketOptions().clear());
    }
}
