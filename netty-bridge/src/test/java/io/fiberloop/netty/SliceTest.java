package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import io.fiberloop.loop.StallReport;
import io.fiberloop.loop.VirtualClock;
import io.fiberloop.netty.http.HttpResponse;
import io.fiberloop.netty.http.HttpServer;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.FixedLengthFrameDecoder;
import io.netty.handler.codec.bytes.ByteArrayDecoder;
import io.netty.handler.codec.bytes.ByteArrayEncoder;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Slices ({@link NettyIoDriver#endOfRead()}), on io_uring and epoll: once one run of Netty's
 * handler has delivered the transport's {@link NettyTransport#sliceBytes()}
 * ({@link NettyTransport#IO_URING_SLICE_BYTES}, {@link NettyTransport#EPOLL_SLICE_BYTES}), the
 * fibers it woke run inside that run,
 * and their writes and closes (TLS included) are carried out there, under the loop's watchdog.
 * To make a large run certain, the handlers first wait until every client has written its first
 * message, so that the reads of 64 KiB each complete in one run.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SliceTest {
    /** The available transports that must slice: all but NIO (named, so that a transport whose slices were turned off fails here). */
    static Stream<NettyTransport> slicingTransports() {
        return Echo.transports().filter(t -> t != NettyTransport.NIO);
    }

    private static final int CONNECTIONS = 64;
    private static final int SIZE = 64 * 1024;

    @ParameterizedTest
    @MethodSource("slicingTransports")
    void fibersWokenWithinOneRunEchoIntactWhileTheRunGoesOn(NettyTransport transport) throws Exception {
        int roundTrips = 8;
        long[] slices = serve(transport, Echo.HANDLER, s -> {
            for (int r = 1; r < roundTrips; r++) {
                byte[] msg = Echo.random(SIZE, s.seed * 100 + r);
                assertArrayEquals(msg, Echo.roundTrip(s.socket, msg));
            }
        });
        assertSlicedWithWork(slices);
    }

    @ParameterizedTest
    @MethodSource("slicingTransports")
    void aFiberClosingItsConnectionInASliceEndsCleanly(NettyTransport transport) throws Exception {
        long[] slices = serve(transport, conn -> {
            conn.write(conn.readExactly(SIZE));
            conn.close();
        }, s -> assertEquals(-1, s.socket.getInputStream().read(), "end of stream after the echo"));
        assertSlicedWithWork(slices);
    }

    /** Slices happened, and in them the woken fibers ran and queued operations that were carried out. */
    private static void assertSlicedWithWork(long[] slicesAndOps) {
        assertTrue(slicesAndOps[0] > 0, "no slice: the 64 first messages did not complete in one run");
        assertTrue(slicesAndOps[1] > 0, slicesAndOps[0] + " slices carried out no operation: the woken fibers did not run in them");
    }

    @ParameterizedTest
    @MethodSource("slicingTransports")
    void connectionsWithCodecsSliceOnTheRawBytes(NettyTransport transport) throws Exception {
        // the fiber reads byte[] messages, which count nothing at the connection: only the raw
        // bytes, counted as they come off the socket, can make the run slice
        long[] slices = serve(transport, (loop, go) -> {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0,
                    p -> p.addLast(new FixedLengthFrameDecoder(SIZE), new ByteArrayDecoder(), new ByteArrayEncoder()),
                    (MessageConnection<byte[], byte[]> conn) -> {
                        Fibers.await(go);
                        byte[] msg;
                        while ((msg = conn.read()) != null) {
                            conn.write(msg);
                            conn.flush();
                        }
                    });
            return new Served(server.port(), server::close);
        }, ECHO, c -> { });
        assertSlicedWithWork(slices);
    }

    @ParameterizedTest
    @MethodSource("slicingTransports")
    void theHttpServerSlicesAndItsResponsesAreIntact(NettyTransport transport) throws Exception {
        // The bodies must arrive while the handlers wait for them: a request's exchange starts
        // after the run that delivered its head (see HttpServer, "How a handler runs"), and its
        // body is read only once the handler reads it. So the clients ask for 100 Continue, which
        // the handlers send (by reading) only once all of them were let go, and the bodies then
        // arrive together: large runs, whose pieces wake the handlers that stream them back.
        int bodySize = 16 * SIZE;
        long[] slices = serve(transport, (loop, go) -> {
            HttpServer server = HttpServer.builder().loop(loop).port(0)
                    .post("/echo", req -> {
                        Fibers.await(go);
                        ByteBuf first = req.readChunk(); // sends 100 Continue, waits for the body
                        return HttpResponse.ok().contentType("application/octet-stream")
                                .header("Content-Length", req.contentLength())
                                .stream(out -> {
                                    out.write(first);
                                    ByteBuf piece;
                                    while ((piece = req.readChunk()) != null) {
                                        out.write(piece);
                                        out.flush();
                                    }
                                });
                    })
                    .start();
            return new Served(server.port(), () -> server.close(Duration.ofSeconds(1)));
        }, (s, body, written) -> {
            byte[] big = Echo.random(bodySize, body.length);
            OutputStream out = s.getOutputStream();
            out.write(("POST /echo HTTP/1.1\r\nHost: slices\r\nExpect: 100-continue\r\nContent-Length: " + bodySize + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            written.run();
            InputStream in = s.getInputStream();
            String interim = readHead(in);
            assertTrue(interim.startsWith("HTTP/1.1 100"), interim);
            out.write(big);
            out.flush();
            String head = readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            assertTrue(head.toLowerCase(java.util.Locale.ROOT).contains("content-length: " + bodySize), head);
            assertArrayEquals(big, in.readNBytes(bodySize));
        }, c -> { });
        assertSlicedWithWork(slices);
    }

    /** Reads an HTTP response's head, up to and including the blank line. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        while (!sb.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("the connection ended inside a response head: " + sb);
            }
            sb.append((char) b);
        }
        return sb.toString();
    }

    @ParameterizedTest
    @MethodSource("slicingTransports")
    void tlsConnectionsBothEndsOnTheLoopEchoIntactThroughSlices(NettyTransport transport) throws Exception {
        TestCerts certs = TestCerts.get();
        int clients = 16;
        int size = 256 * 1024;
        try (EventLoop loop = NettyLoops.builder(transport).name("tls-slices").build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, TcpOptions.defaults().withTls(certs.server()), Echo.HANDLER);
            long[] stats = loop.run(() -> {
                List<Task<Boolean>> echoes = new ArrayList<>();
                for (int i = 0; i < clients; i++) {
                    long seed = i;
                    echoes.add(Fibers.spawn(() -> {
                        try (Connection c = Tcp.connect("127.0.0.1", server.port(), Duration.ofSeconds(10),
                                TcpOptions.defaults().withTls(certs.trustingClient()))) {
                            byte[] big = Echo.random(size, seed);
                            c.write(big);
                            return Arrays.equals(big, c.readExactly(size));
                        }
                    }));
                }
                for (Task<Boolean> t : echoes) {
                    assertTrue(t.join(), "a TLS echo came back changed");
                }
                NettyIoDriver d = NettyIoDriver.of(loop);
                return new long[] {d.slices, d.sliceOps};
            });
            server.close();
            // 16 x 256 KiB decrypted on each side: the driver sliced, and the fibers worked in the slices
            assertSlicedWithWork(stats);
        }
    }

    @ParameterizedTest
    @MethodSource("slicingTransports")
    void readHandlersCallsRunInsideTheSlicesAndEchoIntact(NettyTransport transport) throws Exception {
        // A read handler's call is a loop task, not a fiber: it runs in a slice only because the
        // driver asks the loop to run its queued tasks there, on the side fiber; otherwise it would
        // wait for the end of the poll or run. The loop is held busy until every client has
        // written its first 64 KiB, so that the first reads of many connections complete in the
        // same runs.
        AtomicBoolean inSlice = new AtomicBoolean();
        CountDownLatch hold = new CountDownLatch(1);
        try (EventLoop loop = NettyLoops.builder(transport).name("sliced-reads").watchdog(Duration.ofSeconds(60)).build();
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            NettyIoDriver d = NettyIoDriver.of(loop);
            TcpServer server = TcpServer.bindReads(loop, "127.0.0.1", 0, (conn, data) -> {
                if (d.slicing) {
                    inSlice.set(true);
                }
                conn.write(data);
            });
            CompletableFuture<Void> held = new CompletableFuture<>();
            loop.execute(() -> {
                held.complete(null);
                // spins rather than blocks: a blocked task would hand the loop's work on, and the
                // next work fiber would read the connections one at a time as they arrive
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (hold.getCount() > 0 && System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
            });
            held.get(10, TimeUnit.SECONDS);
            List<Future<?>> results;
            try {
                results = startClients(clients, server.port(), CONNECTIONS, ECHO, c -> {
                    byte[] msg = Echo.random(SIZE, c.seed * 100 + 1);
                    assertArrayEquals(msg, Echo.roundTrip(c.socket, msg));
                });
            } finally {
                hold.countDown();
            }
            for (Future<?> f : results) {
                f.get(60, TimeUnit.SECONDS);
            }
            CompletableFuture<long[]> stats = new CompletableFuture<>();
            loop.execute(() -> stats.complete(new long[] {d.slices, d.sliceBatches, d.sliceOps}));
            long[] n = stats.get(10, TimeUnit.SECONDS);
            server.close();
            assertTrue(n[0] > 0, "no slice: the first messages did not complete in one run");
            assertTrue(n[1] > 0 && inSlice.get(), n[0] + " slices ran no loop task: the calls waited for the end of each run");
            assertTrue(n[2] > 0, "the calls' writes were not carried out in the slices");
        }
    }

    @ParameterizedTest
    @MethodSource("slicingTransports")
    void aFiberHoldingTheCarrierInASliceIsReportedByTheWatchdog(NettyTransport transport) throws Exception {
        List<StallReport> reports = new CopyOnWriteArrayList<>();
        AtomicBoolean spun = new AtomicBoolean();
        CompletableFuture<Void> go = new CompletableFuture<>();
        try (EventLoop loop = NettyLoops.builder(transport).name("sliced-stall")
                .watchdog(Duration.ofMillis(50)).onStall(reports::add).build();
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                Fibers.await(go);
                byte[] msg = conn.readExactly(SIZE);
                // the first fiber that runs inside a slice holds the carrier there
                if (NettyIoDriver.of(loop).slicing && spun.compareAndSet(false, true)) {
                    spinUntilReported(reports);
                }
                conn.write(msg);
                conn.flush();
            });
            List<Future<?>> results = startClients(clients, server.port(), CONNECTIONS, ECHO, c -> { });
            loop.execute(() -> go.complete(null));
            for (Future<?> f : results) {
                f.get(60, TimeUnit.SECONDS);
            }
            server.close();
        }
        assertTrue(spun.get(), "no handler ran inside a slice");
        assertTrue(reports.stream().anyMatch(r -> r.running() != null && r.running().contains("spinUntilReported")),
                () -> "the stall inside the slice was not reported: " + reports.stream().map(StallReport::describe).toList());
    }

    @ParameterizedTest
    @MethodSource("slicingTransports")
    void aSleepingFiberWakesInASliceNotAtTheEndOfTheRun(NettyTransport transport) throws Exception {
        VirtualClock clock = LoopClock.virtual();
        AtomicBoolean armed = new AtomicBoolean();
        AtomicBoolean advanced = new AtomicBoolean();
        AtomicBoolean clientsDone = new AtomicBoolean();
        CompletableFuture<Boolean> sleeperWokeInSlice = new CompletableFuture<>();
        CompletableFuture<Void> go = new CompletableFuture<>();
        try (EventLoop loop = NettyLoops.builder(transport).name("sliced-sleep").clock(clock).build();
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            NettyIoDriver d = NettyIoDriver.of(loop);
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                Fibers.await(go);
                byte[] msg = conn.readExactly(SIZE);
                // a fiber that runs inside a slice moves the clock past the sleeper's deadline
                if (d.slicing && armed.compareAndSet(true, false)) {
                    advanced.set(true);
                    clock.advance(Duration.ofSeconds(2));
                }
                conn.write(msg);
                conn.flush();
            });
            List<Future<?>> results = startClients(clients, server.port(), CONNECTIONS, ECHO, c -> { });
            loop.execute(() -> {
                Fibers.spawn(() -> {
                    // The wake timer fires in the next slice of the run in which the clock moved;
                    // when the clock moved in a run's last slice (an epoll run holds at most four),
                    // the sleeper wakes at the run's end and sleeps again. Slices that never fired
                    // wake timers would leave every wake at the end of a run.
                    boolean inSlice = false;
                    for (int i = 0; i < 50 && !inSlice && !clientsDone.get(); i++) {
                        armed.set(true);
                        Fibers.sleep(Duration.ofSeconds(1));
                        inSlice = d.slicing;
                    }
                    armed.set(false);
                    sleeperWokeInSlice.complete(inSlice);
                    return null;
                });
                go.complete(null);
            });
            for (Future<?> f : results) {
                f.get(60, TimeUnit.SECONDS);
            }
            clientsDone.set(true);
            loop.execute(() -> clock.advance(Duration.ofSeconds(2))); // ends a sleep still waiting
            assertTrue(advanced.get(), "no handler ran inside a slice");
            assertTrue(sleeperWokeInSlice.get(10, TimeUnit.SECONDS),
                    "the sleeper, due since a slice moved the clock, waited for the end of Netty's run every time");
            CompletableFuture<Long> fired = new CompletableFuture<>();
            loop.execute(() -> fired.complete(d.sliceTimers));
            assertTrue(fired.get(10, TimeUnit.SECONDS) >= 1);
            server.close();
        }
    }

    /** Busy-spins at least 300 ms and until the watchdog reported this fiber (at most 10 s). */
    private static void spinUntilReported(List<StallReport> reports) {
        long start = System.nanoTime();
        while (true) {
            long elapsed = System.nanoTime() - start;
            if (elapsed > TimeUnit.SECONDS.toNanos(10) || elapsed > TimeUnit.MILLISECONDS.toNanos(300)
                    && reports.stream().anyMatch(r -> r.running() != null && r.running().contains("spinUntilReported"))) {
                return;
            }
            Thread.onSpinWait();
        }
    }

    /** A client's socket, the seed of its first message, after that message's echo was checked. */
    record Client(Socket socket, long seed) {
    }

    interface Rest {
        void run(Client c) throws Exception;
    }

    /**
     * A client's first exchange: send a 64 KiB message (the socket's buffers take it before the
     * server reads), call {@code written}, then check the answer.
     */
    interface Exchange {
        void run(Socket s, byte[] message, Runnable written) throws Exception;
    }

    /** The echo exchange: the message comes back as it was. */
    static final Exchange ECHO = (s, message, written) -> {
        s.getOutputStream().write(message);
        s.getOutputStream().flush();
        written.run();
        assertArrayEquals(message, s.getInputStream().readNBytes(message.length));
    };

    /**
     * Starts {@code n} clients that each run {@code exchange} with a 64 KiB message of their own,
     * then {@code rest}. Returns once every client has written, with the clients' results.
     */
    private static List<Future<?>> startClients(ExecutorService clients, int port, int n, Exchange exchange, Rest rest)
            throws InterruptedException {
        CountDownLatch allWritten = new CountDownLatch(n);
        List<Future<?>> results = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long seed = i;
            results.add(clients.submit(() -> {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    exchange.run(s, Echo.random(SIZE, seed * 100), allWritten::countDown);
                    rest.run(new Client(s, seed));
                }
                return null;
            }));
        }
        assertTrue(allWritten.await(60, TimeUnit.SECONDS), "the clients could not write their first messages");
        return results;
    }

    /**
     * Serves {@link #CONNECTIONS} clients on {@code transport} with {@code handler}, whose reads wait until
     * every client has written a first 64 KiB message; each client checks that message's echo
     * and then runs {@code rest}. @return the driver's slices and the operations carried out in them
     */
    private static long[] serve(NettyTransport transport, TcpServer.Handler handler, Rest rest) throws Exception {
        return serve(transport, (loop, go) -> {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                Fibers.await(go);
                handler.handle(conn);
            });
            return new Served(server.port(), server::close);
        }, ECHO, rest);
    }

    /** A server a test started: its port, and how to close it. */
    record Served(int port, Runnable close) {
    }

    /** Starts the server under test on {@code loop}; its handlers wait for {@code go} before they read. */
    interface Starter {
        Served start(EventLoop loop, CompletableFuture<Void> go) throws Exception;
    }

    /**
     * Starts a server with {@code starter} on a {@code transport} loop and {@link #CONNECTIONS} clients that
     * each run {@code exchange} (whose first message is in the socket before any handler reads),
     * then {@code rest}; the handlers are let go from the loop, so that all of them wake in one turn.
     * @return the driver's slices and the operations carried out in them
     */
    private static long[] serve(NettyTransport transport, Starter starter, Exchange exchange, Rest rest) throws Exception {
        CompletableFuture<Void> go = new CompletableFuture<>();
        try (EventLoop loop = NettyLoops.builder(transport).name("slices").build();
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            Served server = starter.start(loop, go);
            List<Future<?>> results = startClients(clients, server.port(), CONNECTIONS, exchange, rest);
            loop.execute(() -> go.complete(null)); // from the loop: every handler wakes in the same turn
            for (Future<?> f : results) {
                f.get(90, TimeUnit.SECONDS);
            }
            CompletableFuture<long[]> stats = new CompletableFuture<>();
            loop.execute(() -> {
                NettyIoDriver d = NettyIoDriver.of(loop);
                stats.complete(new long[] {d.slices, d.sliceOps});
            });
            long[] n = stats.get(10, TimeUnit.SECONDS);
            server.close().run();
            return n;
        }
    }
}
