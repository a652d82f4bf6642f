package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HalfCloseAndVanishTest {

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void peerHalfCloseIsEndOfStreamAndTheReplyStillArrives(NettyTransport transport) throws Exception {
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                long n = 0;
                ByteBuf b;
                while ((b = conn.read()) != null) {
                    n += b.readableBytes();
                    b.release();
                }
                conn.write("got " + n + "\n");
                conn.shutdownOutput();
            });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                OutputStream out = s.getOutputStream();
                out.write(Echo.random(100_000, 3));
                out.flush();
                s.shutdownOutput();
                InputStream in = s.getInputStream();
                assertEquals("got 100000\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            server.close();
        }
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void aClientVanishingMidReadEndsTheHandler(NettyTransport transport) throws Exception {
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            CompletableFuture<Void> started = new CompletableFuture<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                try {
                    byte[] first = conn.readExactly(10);
                    started.complete(null);
                    conn.readExactly(100_000 + first.length);
                    outcome.complete(null);
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                OutputStream out = s.getOutputStream();
                out.write(new byte[10]);
                out.write(new byte[5000]);
                out.flush();
                started.get(10, TimeUnit.SECONDS);
                s.setSoLinger(true, 0); // close with RST: the peer vanishes
            }
            Throwable t = outcome.get(10, TimeUnit.SECONDS);
            assertTrue(t instanceof IOException, "the handler should end with EOF or an IOException, got " + t);
            server.close();
        }
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void aClientVanishingWhileTheServerWritesEndsTheHandler(NettyTransport transport) throws Exception {
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            CompletableFuture<Void> writing = new CompletableFuture<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                try {
                    byte[] chunk = new byte[16 * 1024];
                    for (int i = 0; i < 100_000; i++) {
                        conn.write(chunk);
                        conn.drain();
                        writing.complete(null);
                    }
                    outcome.complete(null);
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                s.getInputStream().readNBytes(1000);
                writing.get(10, TimeUnit.SECONDS);
                s.setSoLinger(true, 0);
            }
            Throwable t = outcome.get(10, TimeUnit.SECONDS);
            assertTrue(t instanceof IOException, "the writer should fail with an IOException, got " + t);
            server.close();
        }
    }
}
