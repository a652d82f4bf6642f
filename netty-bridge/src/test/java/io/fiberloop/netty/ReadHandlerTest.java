package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.netty.buffer.ByteBuf;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link TcpServer#bindReads}: connections served a read at a time, inline until a call suspends. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ReadHandlerTest {
    private static final TcpServer.ReadHandler ECHO = (conn, data) -> {
        conn.write(data);
        conn.drain();
    };

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void echoesSmallAndLargeWrites(NettyTransport transport) throws Exception {
        try (EventLoop loop = NettyLoops.builder(transport).name("reads-" + transport).build()) {
            TcpServer server = TcpServer.bindReads(loop, "127.0.0.1", 0, ECHO);
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                assertArrayEquals(ascii("hello\n"), Echo.roundTrip(s, ascii("hello\n")));
                byte[] big = Echo.random(300_000, 1);
                assertArrayEquals(big, Echo.roundTrip(s, big));
            }
            server.close();
        }
    }

    @Test
    void aFlushInACallGoesOutAtOnceWithoutSuspendingIt() throws Exception {
        LinkedBlockingQueue<Boolean> inline = new LinkedBlockingQueue<>();
        try (EventLoop loop = NettyLoops.builder().name("reads-flush").build()) {
            TcpServer server = TcpServer.bindReads(loop, "127.0.0.1", 0, (conn, data) -> {
                conn.write(data);
                conn.flush(); // on Netty's thread: flushed now, not at the driver's next poll
                inline.add(NettyLoops.nettyLoop(loop).inEventLoop()); // still inline: the call never suspended
            });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                assertArrayEquals(ascii("ping"), Echo.roundTrip(s, ascii("ping")));
            }
            server.close();
        }
        assertEquals(Boolean.TRUE, inline.poll(10, TimeUnit.SECONDS), "the call stayed on the work fiber through flush()");
    }

    @Test
    void twoHundredConnectionsEchoConcurrently() throws Exception {
        int connections = 200;
        int roundTrips = 10;
        try (EventLoop loop = NettyLoops.builder().name("reads-200").build()) {
            TcpServer server = TcpServer.bindReads(loop, "127.0.0.1", 0, ECHO);
            int total = Echo.concurrentEchoes(server.port(), connections, roundTrips);
            assertEquals(connections * roundTrips, total);
            server.close();
        }
    }

    @Test
    void aCallIsATaskAndOneThatSuspendsHoldsBackOnlyItsConnection() throws Exception {
        CompletableFuture<String> release = new CompletableFuture<>();
        CompletableFuture<Void> waiting = new CompletableFuture<>();
        LinkedBlockingQueue<String> fibers = new LinkedBlockingQueue<>();
        try (EventLoop loop = NettyLoops.builder().name("reads-suspend").build()) {
            TcpServer server = TcpServer.bindReads(loop, "127.0.0.1", 0, (conn, data) -> {
                fibers.add(String.valueOf(Fiber.currentOrNull() != null));
                String text = data.toString(StandardCharsets.US_ASCII);
                data.release();
                if (text.startsWith("wait")) {
                    waiting.complete(null);
                    conn.write(Fibers.await(release)); // suspends: this call goes on in a fiber of its own
                } else {
                    conn.write(text.toUpperCase());
                }
            });
            try (Socket a = new Socket("127.0.0.1", server.port()); Socket b = new Socket("127.0.0.1", server.port())) {
                OutputStream outA = a.getOutputStream();
                outA.write(ascii("wait"));
                outA.flush();
                waiting.get(10, TimeUnit.SECONDS);
                // a's next bytes wait behind its suspended call; b is served meanwhile
                outA.write(ascii("next"));
                outA.flush();
                assertArrayEquals(ascii("ABC"), Echo.roundTrip(b, ascii("abc")));
                release.complete("done");
                assertArrayEquals(ascii("doneNEXT"), a.getInputStream().readNBytes(8), "calls run one at a time, in order");
                assertArrayEquals(ascii("XYZ"), Echo.roundTrip(b, ascii("xyz")));
            }
            server.close();
        }
        assertTrue(fibers.stream().allMatch("true"::equals), "every call runs as a task: Fiber.current() is set, " + fibers);
    }

    @Test
    void aCallMayReadTheRestOfAFrame() throws Exception {
        // length-prefixed frames: a call gets the first bytes and reads the rest itself
        try (EventLoop loop = NettyLoops.builder().name("reads-frames").build()) {
            TcpServer server = TcpServer.bindReads(loop, "127.0.0.1", 0, (conn, data) -> {
                try {
                    while (data.isReadable()) {
                        int len = data.readByte();
                        byte[] body = new byte[len];
                        int have = Math.min(len, data.readableBytes());
                        data.readBytes(body, 0, have);
                        if (have < len) { // the rest of the frame has not arrived: read it here
                            System.arraycopy(conn.readExactly(len - have), 0, body, have, len - have);
                        }
                        conn.write(new String(body, StandardCharsets.US_ASCII).toUpperCase() + "|");
                    }
                } finally {
                    data.release();
                }
            });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                OutputStream out = s.getOutputStream();
                out.write(new byte[] {5, 'h', 'e'});
                out.flush();
                out.write(new byte[] {'l', 'l', 'o', 3, 'a', 'b', 'c'});
                out.flush();
                assertArrayEquals(ascii("HELLO|ABC|"), s.getInputStream().readNBytes(10));
            }
            server.close();
        }
    }

    @Test
    void afterThePeersHalfCloseOnEndCanStillAnswer() throws Exception {
        AtomicInteger ends = new AtomicInteger();
        try (EventLoop loop = NettyLoops.builder().name("reads-halfclose").build()) {
            TcpServer server = TcpServer.bindReads(loop, "127.0.0.1", 0, new TcpServer.ReadHandler() {
                int bytes;

                @Override
                public void onRead(Connection conn, ByteBuf data) {
                    bytes += data.readableBytes();
                    data.release();
                }

                @Override
                public void onEnd(Connection conn) throws Exception {
                    ends.incrementAndGet();
                    conn.write("got " + bytes + "\n");
                }
            });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                s.getOutputStream().write(new byte[1000]);
                s.shutdownOutput();
                InputStream in = s.getInputStream();
                assertArrayEquals(ascii("got 1000\n"), in.readNBytes(9));
                assertEquals(-1, in.read(), "the connection is closed after onEnd");
            }
            server.close();
        }
        assertEquals(1, ends.get(), "onEnd is called once");
    }

    @Test
    void aCallThatThrowsEndsItsConnectionOnly() throws Exception {
        CompletableFuture<Void> ended = new CompletableFuture<>();
        try (EventLoop loop = NettyLoops.builder().name("reads-throw").build()) {
            TcpServer server = TcpServer.bindReads(loop, "127.0.0.1", 0, new TcpServer.ReadHandler() {
                @Override
                public void onRead(Connection conn, ByteBuf data) throws Exception {
                    if (data.getByte(data.readerIndex()) == '!') {
                        data.release();
                        throw new IllegalStateException("boom (expected by the test)");
                    }
                    ECHO.onRead(conn, data);
                }

                @Override
                public void onEnd(Connection conn) {
                    ended.complete(null);
                }
            });
            try (Socket bad = new Socket("127.0.0.1", server.port()); Socket good = new Socket("127.0.0.1", server.port())) {
                bad.getOutputStream().write(ascii("!x"));
                assertEquals(-1, bad.getInputStream().read(), "the failed connection is closed");
                ended.get(10, TimeUnit.SECONDS);
                assertArrayEquals(ascii("fine"), Echo.roundTrip(good, ascii("fine")));
            }
            server.close();
        }
    }

    @Test
    void whatIsBufferedWhileACallWaitsStaysBounded() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        CompletableFuture<ReadHandlerConnection> first = new CompletableFuture<>();
        AtomicInteger received = new AtomicInteger();
        int total = 4 * 1024 * 1024;
        try (EventLoop loop = NettyLoops.builder().name("reads-bounded").build()) {
            TcpServer server = TcpServer.bindReads(loop, "127.0.0.1", 0, (conn, data) -> {
                received.addAndGet(data.readableBytes());
                data.release();
                if (first.complete((ReadHandlerConnection) conn)) {
                    Fibers.await(release);
                }
            });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                Thread writer = Thread.ofPlatform().start(() -> {
                    try {
                        s.getOutputStream().write(new byte[total]);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                ReadHandlerConnection conn = first.get(10, TimeUnit.SECONDS);
                // reads go on while the call waits, up to the read-ahead bound
                while (onLoop(loop, () -> conn.maxInboxBytes) <= ChannelConnection.READ_AHEAD_BYTES) {
                    Thread.onSpinWait();
                }
                release.complete(null);
                writer.join();
                while (received.get() < total) {
                    Thread.onSpinWait();
                }
                int held = onLoop(loop, () -> conn.maxInboxBytes);
                assertTrue(held <= ChannelConnection.MAX_BUFFERED_BYTES, "buffered up to " + held + " bytes while a call waited");
            }
            server.close();
        }
    }

    @Test
    void callsThatOnlyWriteAreHeldBackWhileThePeerDoesNotRead() throws Exception {
        int total = 32 * 1024 * 1024;
        AtomicLong mostBuffered = new AtomicLong();
        CompletableFuture<ReadHandlerConnection> served = new CompletableFuture<>();
        try (EventLoop loop = NettyLoops.builder().name("reads-backed-up").build()) {
            TcpServer server = TcpServer.bindReads(loop, "127.0.0.1", 0, (conn, data) -> {
                ReadHandlerConnection c = (ReadHandlerConnection) conn;
                served.complete(c);
                conn.write(data); // no drain(): the connection holds the next call back instead
                mostBuffered.accumulateAndGet(c.bufferedBytes(), Math::max);
            });
            try (Socket s = new Socket()) {
                s.setReceiveBufferSize(64 * 1024);
                s.connect(new java.net.InetSocketAddress("127.0.0.1", server.port()));
                byte[] sent = Echo.random(total, 7);
                CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
                    try {
                        s.getOutputStream().write(sent);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, runnable -> Thread.ofPlatform().start(runnable));
                ReadHandlerConnection conn = served.get(10, TimeUnit.SECONDS);
                // Nothing is read back yet. Held back, the server stops taking calls and reading while
                // its writes wait for this peer; not held back, it takes everything and the writer finishes.
                while (!written.isDone() && !onLoop(loop, conn::heldBackByWrites)) {
                    Thread.onSpinWait();
                }
                assertTrue(mostBuffered.get() <= 4L * ChannelConnection.MAX_BUFFERED_BYTES,
                        "the server held " + mostBuffered.get() + " bytes for a peer that did not read");
                byte[] echoed = s.getInputStream().readNBytes(total);
                written.get(30, TimeUnit.SECONDS);
                assertArrayEquals(sent, echoed);
            }
            server.close();
        }
    }

    /** Runs {@code c} on the loop and waits for its result. */
    private static <T> T onLoop(EventLoop loop, java.util.concurrent.Callable<T> c) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(c.call());
            } catch (Exception e) {
                f.completeExceptionally(e);
            }
        });
        return f.get(10, TimeUnit.SECONDS);
    }

    @Test
    void closingTheServerEndsIdleConnectionsAndCancelsCallsPastTheGrace() throws Exception {
        CompletableFuture<Throwable> stuck = new CompletableFuture<>();
        CompletableFuture<Void> inCall = new CompletableFuture<>();
        AtomicInteger ends = new AtomicInteger();
        try (EventLoop loop = NettyLoops.builder().name("reads-close").build()) {
            TcpServer server = TcpServer.bindReads(loop, "127.0.0.1", 0, new TcpServer.ReadHandler() {
                @Override
                public void onRead(Connection conn, ByteBuf data) throws Exception {
                    data.release();
                    inCall.complete(null);
                    try {
                        Fibers.await(new CompletableFuture<Void>());
                    } catch (Throwable t) {
                        stuck.complete(t);
                        throw t;
                    }
                }

                @Override
                public void onEnd(Connection conn) {
                    ends.incrementAndGet();
                }
            });
            try (Socket idle = new Socket("127.0.0.1", server.port()); Socket busy = new Socket("127.0.0.1", server.port())) {
                busy.getOutputStream().write('x');
                inCall.get(10, TimeUnit.SECONDS);
                while (server.activeConnections() < 2) {
                    Thread.onSpinWait(); // the idle one is accepted too
                }
                server.close(Duration.ofMillis(100));
                assertNotNull(stuck.get(10, TimeUnit.SECONDS));
                assertTrue(stuck.get() instanceof CancellationException, "the stuck call is cancelled, got " + stuck.get());
                assertEquals(-1, idle.getInputStream().read(), "an idle connection is closed");
                assertEquals(-1, busy.getInputStream().read(), "a busy connection is closed after its call");
            }
            onLoop(loop, () -> null); // after the calls queued by the close
        }
        assertEquals(2, ends.get(), "onEnd ran once on each connection");
    }

    @Test
    void aCallThatEndsWithinTheGraceGetsItsOnEndBeforeTheClose() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        CompletableFuture<Void> inCall = new CompletableFuture<>();
        AtomicInteger ends = new AtomicInteger();
        try (EventLoop loop = NettyLoops.builder().name("reads-grace").build()) {
            TcpServer server = TcpServer.bindReads(loop, "127.0.0.1", 0, new TcpServer.ReadHandler() {
                @Override
                public void onRead(Connection conn, ByteBuf data) {
                    data.release();
                    inCall.complete(null);
                    Fibers.await(release); // suspends: a call in progress when the server closes
                }

                @Override
                public void onEnd(Connection conn) throws Exception {
                    ends.incrementAndGet();
                    conn.write("bye");
                }
            });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                s.getOutputStream().write('x');
                inCall.get(10, TimeUnit.SECONDS);
                Thread closer = Thread.ofPlatform().name("closer").start(() -> server.close(Duration.ofMinutes(1)));
                while (server.isOpen()) {
                    Thread.onSpinWait(); // close has begun once the server stops accepting
                }
                release.complete(null); // the call returns within the grace
                assertArrayEquals(ascii("bye"), s.getInputStream().readNBytes(3), "onEnd ran before the close and could write");
                assertEquals(-1, s.getInputStream().read());
                closer.join();
            }
        }
        assertEquals(1, ends.get(), "onEnd ran once");
    }

    @Test
    void closingTheLoopClosesItsConnectionsAndReleasesWhatTheyHold() throws Exception {
        CompletableFuture<Void> inCall = new CompletableFuture<>();
        EventLoop loop = NettyLoops.builder().name("reads-loop-close").build();
        TcpServer server = TcpServer.bindReads(loop, "127.0.0.1", 0, (conn, data) -> {
            data.release();
            inCall.complete(null);
            Fibers.await(new CompletableFuture<Void>()); // never: the loop's close cancels it
        });
        try (Socket busy = new Socket("127.0.0.1", server.port()); Socket idle = new Socket("127.0.0.1", server.port())) {
            OutputStream out = busy.getOutputStream();
            out.write('x');
            inCall.get(10, TimeUnit.SECONDS);
            out.write(new byte[100_000]); // buffered behind the waiting call
            out.flush();
            loop.close();
            assertEquals(-1, idle.getInputStream().read(), "the idle connection is closed with the loop");
            // closed with unread bytes in its socket, the kernel resets it rather than ending it
            assertTrue(closedOrReset(busy), "the busy connection is closed with the loop");
        }
    }

    private static boolean closedOrReset(Socket s) {
        try {
            return s.getInputStream().read() == -1;
        } catch (java.net.SocketException e) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void wrongArgumentsAreRefused() throws Exception {
        try (EventLoop loop = NettyLoops.builder().name("reads-args").build()) {
            NullPointerException e = org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class,
                    () -> TcpServer.bindReads(loop, "127.0.0.1", 0, null));
            assertEquals("handler", e.getMessage());
        }
    }
}
