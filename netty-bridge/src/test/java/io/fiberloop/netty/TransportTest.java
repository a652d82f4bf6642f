package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.fiberloop.loop.EventLoop;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TransportTest {
    private final String saved = System.getProperty(NettyTransport.PROPERTY);

    @AfterEach
    void restore() {
        if (saved == null) {
            System.clearProperty(NettyTransport.PROPERTY);
        } else {
            System.setProperty(NettyTransport.PROPERTY, saved);
        }
    }

    @Test
    void autoPrefersIoUringThenEpollThenNio() {
        System.clearProperty(NettyTransport.PROPERTY);
        NettyTransport expected = NettyTransport.IO_URING.isAvailable() ? NettyTransport.IO_URING
                : NettyTransport.EPOLL.isAvailable() ? NettyTransport.EPOLL : NettyTransport.NIO;
        assertEquals(expected, NettyTransport.auto());
    }

    @Test
    void theSystemPropertyOverridesTheChoice() throws Exception {
        System.setProperty(NettyTransport.PROPERTY, "nio");
        assertEquals(NettyTransport.NIO, NettyTransport.auto());
        try (EventLoop loop = NettyLoops.newLoop()) {
            assertEquals(NettyTransport.NIO, NettyLoops.transport(loop));
        }
        if (NettyTransport.EPOLL.isAvailable()) {
            System.setProperty(NettyTransport.PROPERTY, "EPOLL");
            assertEquals(NettyTransport.EPOLL, NettyTransport.auto());
        }
        if (NettyTransport.IO_URING.isAvailable()) {
            System.setProperty(NettyTransport.PROPERTY, "io_uring");
            assertEquals(NettyTransport.IO_URING, NettyTransport.auto());
        }
        System.setProperty(NettyTransport.PROPERTY, "carrier-pigeon");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, NettyTransport::auto);
        assertEquals(true, e.getMessage().contains("io_uring"), e.getMessage());
    }

    @Test
    void aLoopWithoutTheNettyDriverIsRefusedWithAHint() {
        try (EventLoop loop = EventLoop.create()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> NettyLoops.nettyLoop(loop));
            assertEquals(true, e.getMessage().contains("NettyLoops"), e.getMessage());
        }
    }
}
