package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import io.fiberloop.loop.VirtualClock;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Client connect failures: a connect nobody answers times out at its deadline (on the loop's
 * virtual clock and on the system clock) or ends with its fiber's cancellation, a refused port and
 * an unknown host are clear exceptions; no socket is left open and the loop goes on serving.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConnectErrorsTest {

    // ------------------------------------------------------------------ a listener that never answers

    /**
     * A loopback listener with a backlog of one that never accepts, filled until the kernel drops
     * further SYNs (Linux, {@code tcp_abort_on_overflow=0}, the default): a connect to it neither
     * completes nor is refused, so only its timeout (or a cancellation) ends it. Shared by the
     * class; the connects that hang on it take no room in its queue.
     */
    private static ServerSocket silent;
    private static final List<Socket> FILLERS = new ArrayList<>();

    private static synchronized int silentPort() throws IOException {
        if (silent == null) {
            ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            boolean full = false;
            for (int i = 0; i < 8 && !full; i++) {
                Socket s = new Socket();
                try {
                    s.connect(ss.getLocalSocketAddress(), 1000);
                    FILLERS.add(s);
                } catch (SocketTimeoutException dropped) {
                    s.close();
                    full = true;
                }
            }
            if (!full) {
                closeFillers();
                ss.close();
            }
            assumeTrue(full, "the kernel completed " + FILLERS.size() + " connects to a listener with a backlog of 1 that never "
                    + "accepts (tcp_abort_on_overflow=1, or not Linux?): no deterministic unanswered connect here");
            silent = ss;
        }
        return silent.getLocalPort();
    }

    private static void closeFillers() throws IOException {
        for (Socket s : FILLERS) {
            s.close();
        }
        FILLERS.clear();
    }

    @AfterAll
    static void closeSilent() throws IOException {
        closeFillers();
        if (silent != null) {
            silent.close();
            silent = null;
        }
    }

    /**
     * A pipeline whose outbound handler passes the connect on to the transport, then hands its
     * promise to {@code issued}: once that completes, the transport has started the connect and
     * armed Netty's connect timeout on the loop's clock.
     */
    private static PipelineInitializer witness(CompletableFuture<ChannelPromise> issued) {
        return p -> p.addLast(new ChannelOutboundHandlerAdapter() {
            @Override
            public void connect(ChannelHandlerContext ctx, SocketAddress remote, SocketAddress local, ChannelPromise promise) {
                ctx.connect(remote, local, promise);
                issued.complete(promise);
            }
        });
    }

    static Stream<Arguments> timeouts() {
        return Stream.of(
                Arguments.of(Duration.ofSeconds(5), 5_000L),
                Arguments.of(Duration.ofNanos(1), 1L),      // below a millisecond: rounded up to Netty's 1 ms, not 0 (= none)
                Arguments.of(null, 30_000L),                 // Netty's default
                Arguments.of(Duration.ZERO, 30_000L));
    }

    /**
     * On a virtual clock the connect is still pending one millisecond before its deadline and
     * fails with {@link ConnectTimeoutException} (naming the address) at it; {@code null} and zero
     * mean Netty's default of 30 s.
     */
    @ParameterizedTest
    @MethodSource("timeouts")
    void anUnansweredConnectTimesOutExactlyAtItsDeadlineOnTheLoopsClock(Duration timeout, long deadlineMillis) throws Exception {
        int port = silentPort();
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = NettyLoops.builder().name("connect-timeout").clock(clock).build()) {
            CompletableFuture<ChannelPromise> issued = new CompletableFuture<>();
            Task<Object> connect = Fibers.spawn(loop, () -> Tcp.connect("127.0.0.1", port, timeout, witness(issued)));
            ChannelPromise promise = issued.get(10, TimeUnit.SECONDS);
            settle(loop);
            clock.advance(Duration.ofMillis(deadlineMillis - 1));
            assertFalse(settle(loop, promise::isDone), "the connect ended before its deadline of " + deadlineMillis + " ms");
            assertFalse(connect.isDone());
            clock.advance(Duration.ofMillis(1));
            ExecutionException e = assertThrows(ExecutionException.class, () -> connect.get(10, TimeUnit.SECONDS));
            ConnectTimeoutException t = assertInstanceOf(ConnectTimeoutException.class, e.getCause());
            assertTrue(t.getMessage().contains("timed out") && t.getMessage().contains("127.0.0.1:" + port), t.getMessage());
            promise.channel().closeFuture().get(10, TimeUnit.SECONDS);
        }
    }

    /** On the system clock, on every transport: a {@link ConnectTimeoutException} no sooner than the timeout, then the loop connects again. */
    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void anUnansweredConnectTimesOutOnEveryTransportAndTheLoopGoesOn(NettyTransport transport) throws Exception {
        int port = silentPort();
        try (EventLoop loop = NettyLoops.builder(transport).name("connect-timeout-" + transport).build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, Echo.HANDLER);
            Object[] r = loop.run(() -> {
                long start = System.nanoTime();
                IOException e = assertThrows(IOException.class, () -> Tcp.connect("127.0.0.1", port, Duration.ofMillis(200)));
                long tookMillis = (System.nanoTime() - start) / 1_000_000;
                try (Connection c = Tcp.connect("127.0.0.1", server.port(), Duration.ofSeconds(5))) {
                    c.write("after the timeout\n");
                    return new Object[] {e, tookMillis, c.readLine(100)};
                }
            });
            ConnectTimeoutException t = assertInstanceOf(ConnectTimeoutException.class, r[0]);
            assertTrue(t.getMessage().contains("timed out") && t.getMessage().contains(":" + port), t.getMessage());
            assertTrue((long) r[1] >= 200, "the connect gave up after " + r[1] + " ms, before its 200 ms");
            assertEquals("after the timeout", r[2]);
            server.close();
        }
    }

    /**
     * Cancelling the fiber that waits for a connect raises {@link CancelledException} in it and
     * closes the attempt's channel, on a virtual clock nobody advances (so Netty's own timeout
     * cannot be what ends it).
     */
    @Test
    void cancellingAFiberWaitingForAConnectClosesTheAttempt() throws Exception {
        int port = silentPort();
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = NettyLoops.builder().name("connect-cancel").clock(clock).build()) {
            CompletableFuture<ChannelPromise> issued = new CompletableFuture<>();
            CompletableFuture<Throwable> raised = new CompletableFuture<>();
            Task<Object> connect = Fibers.spawn(loop, () -> {
                try {
                    return Tcp.connect("127.0.0.1", port, Duration.ofSeconds(5), witness(issued));
                } catch (Throwable t) {
                    raised.complete(t);
                    throw t;
                }
            });
            ChannelPromise promise = issued.get(10, TimeUnit.SECONDS);
            settle(loop);
            assertFalse(promise.isDone());
            assertTrue(connect.cancel());
            assertInstanceOf(CancelledException.class, raised.get(10, TimeUnit.SECONDS));
            promise.channel().closeFuture().get(10, TimeUnit.SECONDS);
            assertFalse(promise.channel().isOpen());
            assertTrue(connect.state() == Future.State.CANCELLED || connect.state() == Future.State.FAILED);
        }
    }

    // ------------------------------------------------------------------ refused

    /** A negative connect timeout is refused before any socket is opened, with what to give instead. */
    @Test
    void aNegativeTimeoutIsRefusedWithWhatToGiveInstead() throws Exception {
        try (EventLoop loop = NettyLoops.newLoop()) {
            IllegalArgumentException e = loop.run(() -> assertThrows(IllegalArgumentException.class,
                    () -> Tcp.connect("127.0.0.1", 9, Duration.ofMillis(-1))));
            assertTrue(e.getMessage().contains("negative") && e.getMessage().contains("Duration.ZERO"), e.getMessage());
        }
    }

    /**
     * A refused port is a {@link ConnectException} saying so, on every transport; fifty of them leave no socket open, and the loop then serves a connection.
     */
    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void refusedConnectsAreConnectExceptionsAndLeaveNoSocketOpen(NettyTransport transport) throws Exception {
        int port;
        try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            port = ss.getLocalPort();
        }
        int attempts = 50;
        try (EventLoop loop = NettyLoops.builder(transport).name("refused-" + transport).build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, Echo.HANDLER);
            loop.run(() -> assertThrows(IOException.class, () -> Tcp.connect("127.0.0.1", port, Duration.ofSeconds(5)))); // warm-up
            settleIo(loop);
            long fdsBefore = openFileDescriptors();
            List<IOException> errors = loop.run(() -> {
                List<IOException> es = new ArrayList<>();
                for (int i = 0; i < attempts; i++) {
                    es.add(assertThrows(IOException.class, () -> Tcp.connect("127.0.0.1", port, Duration.ofSeconds(5))));
                }
                return es;
            });
            settleIo(loop);
            long leaked = openFileDescriptors() - fdsBefore;
            for (IOException e : errors) {
                assertInstanceOf(ConnectException.class, e);
                assertTrue(e.getMessage().contains("refused"), e.getMessage());
                // NIO and epoll name the address; io_uring's message does not, so Tcp adds it
                assertTrue(e.getMessage().contains(":" + port), e.getMessage());
            }
            assertTrue(leaked < 10, attempts + " refused connects left " + leaked + " more file descriptors open");
            String reply = loop.run(() -> {
                try (Connection c = Tcp.connect("127.0.0.1", server.port(), Duration.ofSeconds(5))) {
                    c.write("still serving\n");
                    return c.readLine(100);
                }
            });
            assertEquals("still serving", reply);
            server.close();
        }
    }

    // ------------------------------------------------------------------ unknown host

    /**
     * An unresolvable name ({@code .invalid} is reserved, RFC 6761) is an {@link UnknownHostException}
     * naming the host, for byte and message connections, with and without options; no channel is left
     * open, and the loop then serves a connection.
     */
    @Test
    void anUnknownHostIsAnUnknownHostExceptionNamingTheHost() throws Exception {
        String host = "no-such-host.invalid";
        try (EventLoop loop = NettyLoops.newLoop()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, Echo.HANDLER);
            settleIo(loop);
            long fdsBefore = openFileDescriptors();
            List<UnknownHostException> errors = loop.run(() -> List.of(
                    assertThrows(UnknownHostException.class, () -> Tcp.connect(host, 80, Duration.ofSeconds(5))),
                    assertThrows(UnknownHostException.class,
                            () -> Tcp.connect(host, 443, Duration.ofSeconds(5), TcpOptions.defaults().withIdleTimeout(Duration.ofSeconds(1)))),
                    assertThrows(UnknownHostException.class,
                            () -> Tcp.connect(host, 80, Duration.ofSeconds(5), p -> p.addLast(new ChannelOutboundHandlerAdapter())))));
            for (UnknownHostException e : errors) {
                assertTrue(e.getMessage() != null && e.getMessage().contains(host), "the exception does not name the host: " + e);
            }
            settleIo(loop);
            assertTrue(openFileDescriptors() - fdsBefore < 3, "unknown hosts left file descriptors open");
            String reply = loop.run(() -> {
                try (Connection c = Tcp.connect("localhost", server.port(), Duration.ofSeconds(5))) {
                    c.write("resolved\n");
                    return c.readLine(100);
                }
            });
            assertEquals("resolved", reply);
            server.close();
        }
    }

    // ------------------------------------------------------------------ helpers

    private static long openFileDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /** Lets the loop carry out the closes queued by the last fibers (a channel closed from a fiber is a Netty task). */
    private static void settleIo(EventLoop loop) throws Exception {
        loop.run(() -> {
            for (int i = 0; i < 3; i++) {
                Fibers.yieldNow();
            }
            return null;
        });
        settle(loop);
    }

    /** Returns once the loop has run a turn that began after this call. */
    private static void settle(EventLoop loop) throws Exception {
        settle(loop, () -> null);
    }

    /** Returns {@code probe}'s value, read on the loop in a turn that began after this call (so after its due timers fired). */
    private static <T> T settle(EventLoop loop, java.util.function.Supplier<T> probe) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> loop.execute(() -> f.complete(probe.get())));
        return f.get(10, TimeUnit.SECONDS);
    }
}
