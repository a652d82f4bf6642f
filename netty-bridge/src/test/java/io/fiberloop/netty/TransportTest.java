package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import java.util.List;
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
    void autoPrefersIoUringThenEpollThenKqueueThenNio() {
        System.clearProperty(NettyTransport.PROPERTY);
        NettyTransport expected = NettyTransport.IO_URING.isAvailable() ? NettyTransport.IO_URING
                : NettyTransport.EPOLL.isAvailable() ? NettyTransport.EPOLL
                : NettyTransport.KQUEUE.isAvailable() ? NettyTransport.KQUEUE : NettyTransport.NIO;
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
    void nettysJvmWideSettingsGetFiberloopsDefaultsUnlessSet() {
        NettyTransport.auto(); // the class is initialised by now; its defaults were applied first
        assertEquals(Integer.toString(NettyTransport.CHUNK_REUSE_CHUNKS), System.getProperty(NettyTransport.CHUNK_REUSE_PROPERTY),
                "the test JVM sets no chunk-reuse bound, so fiberloop's default must be in place");
        assertEquals("false", System.getProperty(NettyTransport.RECV_MULTISHOT_PROPERTY));
    }

    @Test
    void theChoiceIsLoggedOnceUntilItChanges() {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(NettyTransport.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines = new ch.qos.logback.core.read.ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        try {
            System.clearProperty(NettyTransport.PROPERTY);
            NettyTransport.auto(); // logged or not, depending on what earlier tests chose
            lines.list.clear();
            System.setProperty(NettyTransport.PROPERTY, "nio");
            for (int i = 0; i < 3; i++) {
                NettyTransport.auto();
            }
            System.clearProperty(NettyTransport.PROPERTY);
            NettyTransport.auto();
            NettyTransport.auto();
            List<String> logged = lines.list.stream().map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
            assertEquals(2, logged.size(), "one line per change of choice: " + logged);
            assertTrue(logged.get(0).contains("nio (set by -D" + NettyTransport.PROPERTY + "=nio)"), logged.get(0));
            assertTrue(logged.get(1).contains("the best available"), logged.get(1));
        } finally {
            logger.detachAppender(lines);
        }
    }

    @Test
    void theLoggedReasonSaysWhyEachBetterTransportIsNot() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty("os.name").startsWith("Linux"), "Linux's reasons");
        assertEquals("the best available", NettyTransport.whyBest(NettyTransport.IO_URING, t -> null));
        String why = NettyTransport.whyBest(NettyTransport.NIO, t -> t == NettyTransport.IO_URING
                ? new IllegalStateException("io_uring disabled by the kernel\nsecond line")
                : new IllegalStateException("failed to load", new UnsatisfiedLinkError("no netty_transport_native_epoll_aarch_64")));
        assertTrue(why.startsWith("the best available; io_uring is not: io_uring disabled by the kernel; epoll is not: "
                + "no native library for " + System.getProperty("os.arch") + " (add io.netty:netty-transport-native-epoll "
                + "with the classifier for this machine, e.g. linux-aarch_64)"), why);
    }

    @Test
    void kqueueIsKnownButUnavailableOnLinuxWithNettysCause() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty("os.name").startsWith("Linux"), "kqueue is macOS and BSD only");
        assertEquals(NettyTransport.KQUEUE, NettyTransport.of("KQueue"));
        assertEquals("kqueue", NettyTransport.KQUEUE.id());
        assertFalse(NettyTransport.KQUEUE.isAvailable());
        Throwable cause = NettyTransport.KQUEUE.unavailabilityCause();
        assertNotNull(cause, "Netty says why");
        IllegalStateException e = assertThrows(IllegalStateException.class, NettyTransport.KQUEUE::driverFactory);
        String reason = NettyTransport.KQUEUE.unavailabilityReason();
        assertEquals("Only supported on OSX/BSD", reason, "Netty's reason, not the ExceptionInInitializerError around it");
        assertEquals("Netty transport 'kqueue' is not available here: " + reason, e.getMessage());
        assertEquals(cause, e.getCause());
        System.setProperty(NettyTransport.PROPERTY, "kqueue");
        IllegalStateException asked = assertThrows(IllegalStateException.class, NettyTransport::auto);
        assertTrue(asked.getMessage().contains("remove the property"), asked.getMessage());
        assertFalse(NettyTransport.KQUEUE.supportsReusePort(), "macOS's SO_REUSEPORT does not spread connections");
        String why = NettyTransport.whyBest(NettyTransport.NIO, t -> new IllegalStateException("off"));
        assertTrue(why.endsWith("; kqueue is not: macOS and BSD only"), why);
    }

    @Test
    void aLoopWithoutTheNettyDriverIsRefusedWithAHint() {
        try (EventLoop loop = EventLoop.create()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> NettyLoops.nettyLoop(loop));
            assertEquals(true, e.getMessage().contains("NettyLoops"), e.getMessage());
        }
    }
}
