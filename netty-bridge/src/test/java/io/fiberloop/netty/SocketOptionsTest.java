package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.uring.IoUringChannelOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link TcpOptions#withSocketOption}: options reach the server's and the client's channels; managed ones are refused. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SocketOptionsTest {
    private static final WriteBufferWaterMark MARKS = new WriteBufferWaterMark(4096, 8192);

    /** The options the accepted or connected channel reports. */
    private static List<Object> report(Connection c) {
        ChannelConfig config = ((ChannelConnection) c).ch.config();
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
        assertTrue(backlog.getMessage().contains("listening socket"), backlog.getMessage());
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
