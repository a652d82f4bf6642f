package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.netty.buffer.ByteBuf;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A fast writer against a slow reader keeps the server's buffers bounded, both ways. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class BackpressureTest {
    private static final int TOTAL = 8 * 1024 * 1024;

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void aFastClientDoesNotFillASlowServersMemory(NettyTransport transport) throws Exception {
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            CompletableFuture<long[]> result = new CompletableFuture<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                ConnectionImpl impl = (ConnectionImpl) conn;
                long n = 0;
                int reads = 0;
                while (n < TOTAL) {
                    ByteBuf b = conn.read();
                    if (b == null) {
                        throw new IllegalStateException("end of stream after " + n + " bytes");
                    }
                    n += b.readableBytes();
                    b.release();
                    if (++reads % 4 == 0) {
                        Fibers.yieldNow(); // a slow consumer: lets the loop turn without asking for more
                    }
                }
                // measured while the stream is open: after the peer's half-close, epoll and io_uring
                // read what is left in the socket to find the end of stream (see docs/netty.md)
                long[] stats = {n, impl.maxInboxBytes, impl.maxInboxBuffers};
                conn.write(new byte[] {1});
                conn.flush();
                if (conn.read() != null) {
                    throw new IllegalStateException("more than " + TOTAL + " bytes");
                }
                result.complete(stats);
            });
            Thread client = Thread.ofVirtual().start(() -> {
                try (Socket s = new Socket("127.0.0.1", server.port())) {
                    OutputStream out = s.getOutputStream();
                    byte[] chunk = new byte[256 * 1024];
                    for (int sent = 0; sent < TOTAL; sent += chunk.length) {
                        out.write(chunk);
                    }
                    s.getInputStream().read(); // the server has read everything
                    s.shutdownOutput();
                    s.getInputStream().read();
                } catch (Exception e) {
                    result.completeExceptionally(e);
                }
            });
            long[] r = result.get(60, TimeUnit.SECONDS);
            assertEquals(TOTAL, r[0]);
            assertTrue(r[1] <= ConnectionImpl.MAX_BUFFERED_BYTES, "the server buffered " + r[1] + " unread bytes in " + r[2]
                    + " buffers, more than " + ConnectionImpl.MAX_BUFFERED_BYTES + " on " + transport);
            server.close();
            client.join(10_000);
        }
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void drainKeepsAFastServerWriterBounded(NettyTransport transport) throws Exception {
        int chunkSize = 16 * 1024;
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            CompletableFuture<Void> backedUp = new CompletableFuture<>();
            CompletableFuture<Long> maxBuffered = new CompletableFuture<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                ConnectionImpl impl = (ConnectionImpl) conn;
                byte[] chunk = new byte[chunkSize];
                long max = 0;
                for (int sent = 0; sent < TOTAL; sent += chunkSize) {
                    conn.write(chunk);
                    conn.flush();
                    max = Math.max(max, impl.bufferedBytes());
                    if (!impl.channel().isWritable()) {
                        backedUp.complete(null); // the client has not read: the socket is full
                    }
                    conn.drain();
                }
                conn.shutdownOutput();
                maxBuffered.complete(Math.max(max, impl.maxOutboundBytes));
            });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                s.setReceiveBufferSize(32 * 1024);
                backedUp.get(30, TimeUnit.SECONDS); // read nothing until the server had to wait
                InputStream in = s.getInputStream();
                long got = 0;
                byte[] buf = new byte[8192];
                int n;
                while ((n = in.read(buf)) >= 0) {
                    got += n;
                }
                assertEquals(TOTAL, got);
            }
            long max = maxBuffered.get(30, TimeUnit.SECONDS);
            long bound = 64 * 1024 + 2L * chunkSize; // Netty's high-water mark plus what one write adds
            assertTrue(max <= bound, "the server buffered up to " + max + " bytes, more than " + bound);
            server.close();
        }
    }
}
