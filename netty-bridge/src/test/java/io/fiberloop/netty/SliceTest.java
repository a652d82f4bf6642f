package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import io.fiberloop.loop.StallReport;
import io.fiberloop.loop.VirtualClock;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * io_uring's slices ({@link NettyIoDriver#endOfRead()}): once one run of Netty's handler has
 * delivered {@link NettyTransport#IO_URING_SLICE_BYTES}, the fibers it woke run inside that run,
 * and their writes and closes (TLS included) are carried out there, under the loop's watchdog.
 * To make a large run certain, the handlers first wait until every client has written its first
 * message, so that the reads of 64 KiB each complete in one run.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SliceTest {
    private static final int CONNECTIONS = 64;
    private static final int SIZE = 64 * 1024;

    @Test
    void fibersWokenWithinOneRunEchoIntactWhileTheRunGoesOn() throws Exception {
        int roundTrips = 8;
        long[] slices = serve(Echo.HANDLER, s -> {
            for (int r = 1; r < roundTrips; r++) {
                byte[] msg = Echo.random(SIZE, s.seed * 100 + r);
                assertArrayEquals(msg, Echo.roundTrip(s.socket, msg));
            }
        });
        assertSlicedWithWork(slices);
    }

    @Test
    void aFiberClosingItsConnectionInASliceEndsCleanly() throws Exception {
        long[] slices = serve(conn -> {
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

    @Test
    void tlsConnectionsBothEndsOnTheLoopEchoIntactThroughSlices() throws Exception {
        assumeTrue(NettyTransport.IO_URING.isAvailable(), "io_uring is not available here");
        TestCerts certs = TestCerts.get();
        int clients = 16;
        int size = 256 * 1024;
        try (EventLoop loop = NettyLoops.builder(NettyTransport.IO_URING).name("tls-slices").build()) {
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

    @Test
    void aFiberHoldingTheCarrierInASliceIsReportedByTheWatchdog() throws Exception {
        assumeTrue(NettyTransport.IO_URING.isAvailable(), "io_uring is not available here");
        List<StallReport> reports = new CopyOnWriteArrayList<>();
        AtomicBoolean spun = new AtomicBoolean();
        CompletableFuture<Void> go = new CompletableFuture<>();
        try (EventLoop loop = NettyLoops.builder(NettyTransport.IO_URING).name("sliced-stall")
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
            List<Future<?>> results = startClients(clients, server.port(), 16, c -> { });
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

    @Test
    void aSleepingFiberWakesInASliceNotAtTheEndOfTheRun() throws Exception {
        assumeTrue(NettyTransport.IO_URING.isAvailable(), "io_uring is not available here");
        VirtualClock clock = LoopClock.virtual();
        AtomicBoolean advanced = new AtomicBoolean();
        CompletableFuture<Boolean> sleeperWokeInSlice = new CompletableFuture<>();
        CompletableFuture<Void> go = new CompletableFuture<>();
        try (EventLoop loop = NettyLoops.builder(NettyTransport.IO_URING).name("sliced-sleep").clock(clock).build();
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            NettyIoDriver d = NettyIoDriver.of(loop);
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                Fibers.await(go);
                byte[] msg = conn.readExactly(SIZE);
                // the first fiber that runs inside a slice moves the clock past the sleeper's deadline
                if (d.slicing && advanced.compareAndSet(false, true)) {
                    clock.advance(Duration.ofSeconds(2));
                }
                conn.write(msg);
                conn.flush();
            });
            List<Future<?>> results = startClients(clients, server.port(), CONNECTIONS, c -> { });
            loop.execute(() -> {
                Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofSeconds(1));
                    sleeperWokeInSlice.complete(d.slicing);
                    return null;
                });
                go.complete(null);
            });
            for (Future<?> f : results) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertTrue(advanced.get(), "no handler ran inside a slice");
            assertTrue(sleeperWokeInSlice.get(10, TimeUnit.SECONDS),
                    "the sleeper, due since a slice moved the clock, waited for the end of Netty's run");
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
     * Starts {@code n} clients that each write a first 64 KiB message (the socket's buffers take it
     * before the server reads), check its echo and then run {@code rest}. Returns once every client
     * has written, with the clients' results.
     */
    private static List<Future<?>> startClients(ExecutorService clients, int port, int n, Rest rest) throws InterruptedException {
        CountDownLatch allWritten = new CountDownLatch(n);
        List<Future<?>> results = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long seed = i;
            results.add(clients.submit(() -> {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    OutputStream out = s.getOutputStream();
                    InputStream in = s.getInputStream();
                    byte[] first = Echo.random(SIZE, seed * 100);
                    out.write(first);
                    out.flush();
                    allWritten.countDown();
                    assertArrayEquals(first, in.readNBytes(SIZE));
                    rest.run(new Client(s, seed));
                }
                return null;
            }));
        }
        assertTrue(allWritten.await(60, TimeUnit.SECONDS), "the clients could not write their first messages");
        return results;
    }

    /**
     * Serves {@link #CONNECTIONS} clients on io_uring with {@code handler}, whose reads wait until
     * every client has written a first 64 KiB message; each client checks that message's echo
     * and then runs {@code rest}. @return the driver's slices and the operations carried out in them
     */
    private static long[] serve(TcpServer.Handler handler, Rest rest) throws Exception {
        assumeTrue(NettyTransport.IO_URING.isAvailable(), "io_uring is not available here");
        CompletableFuture<Void> go = new CompletableFuture<>();
        try (EventLoop loop = NettyLoops.builder(NettyTransport.IO_URING).name("slices").build();
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                Fibers.await(go);
                handler.handle(conn);
            });
            List<Future<?>> results = startClients(clients, server.port(), CONNECTIONS, rest);
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
            server.close();
            return n;
        }
    }
}
