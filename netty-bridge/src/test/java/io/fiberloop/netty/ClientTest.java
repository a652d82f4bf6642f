package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import io.netty.buffer.ByteBuf;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A fiber client against plain java.net servers. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClientTest {

    /** A plain server thread: answers each line with "echo: line", then "bye" at end of input. */
    private static Thread lineServer(ServerSocket ss) {
        Thread t = new Thread(() -> {
            try (Socket s = ss.accept();
                 BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
                OutputStream out = s.getOutputStream();
                String line;
                while ((line = in.readLine()) != null) {
                    out.write(("echo: " + line + "\r\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
                out.write("bye".getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, "plain-server");
        t.start();
        return t;
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void fiberClientTalksToAPlainServerSocket(NettyTransport transport) throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             EventLoop loop = NettyLoops.builder(transport).build()) {
            Thread server = lineServer(ss);
            String last = loop.run(() -> {
                try (Connection c = Tcp.connect("127.0.0.1", ss.getLocalPort(), Duration.ofSeconds(5))) {
                    assertEquals(ss.getLocalPort(), ((InetSocketAddress) c.remoteAddress()).getPort());
                    c.write("héllo\n");
                    c.write("wor".getBytes(StandardCharsets.UTF_8));
                    c.write("ld\n");
                    c.flush();
                    assertEquals("echo: héllo", c.readLine(100));
                    assertEquals("echo: world", c.readLine(100));
                    c.shutdownOutput();
                    byte[] bye = c.readExactly(3);
                    assertNull(c.read(), "end of stream after the server closed");
                    assertNull(c.readLine(10));
                    return new String(bye, StandardCharsets.UTF_8);
                }
            });
            assertEquals("bye", last);
            server.join(10_000);
        }
    }

    @Test
    void connectionRefusedIsAnIOException() throws Exception {
        int port;
        try (ServerSocket ss = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            port = ss.getLocalPort();
        }
        try (EventLoop loop = NettyLoops.newLoop()) {
            IOException e = loop.run(() -> assertThrows(IOException.class, () -> Tcp.connect("127.0.0.1", port, Duration.ofSeconds(5))));
            assertTrue(e instanceof ConnectException, "expected ConnectException, got " + e);
        }
    }

    @Test
    void readTimeoutRaisesSocketTimeoutAndTheConnectionStaysUsable() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             EventLoop loop = NettyLoops.newLoop()) {
            CompletableFuture<Void> timedOut = new CompletableFuture<>();
            Thread server = new Thread(() -> {
                try (Socket s = ss.accept()) {
                    timedOut.get(10, TimeUnit.SECONDS);
                    s.getOutputStream().write("late\n".getBytes(StandardCharsets.UTF_8));
                    s.getInputStream().read();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            server.start();
            String line = loop.run(() -> {
                try (Connection c = Tcp.connect("127.0.0.1", ss.getLocalPort(), Duration.ofSeconds(5))) {
                    c.readTimeout(Duration.ofMillis(30));
                    assertEquals(Duration.ofMillis(30), c.readTimeout());
                    assertThrows(SocketTimeoutException.class, c::read);
                    timedOut.complete(null);
                    c.readTimeout(null);
                    return c.readLine(100);
                }
            });
            assertEquals("late", line);
            server.join(10_000);
        }
    }

    @Test
    void readLineRejectsTooLongLinesAndReadExactlySpansBuffers() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             EventLoop loop = NettyLoops.newLoop()) {
            byte[] blob = Echo.random(200_000, 7);
            Thread server = new Thread(() -> {
                try (Socket s = ss.accept()) {
                    OutputStream out = s.getOutputStream();
                    out.write("0123456789\nshort\n".getBytes(StandardCharsets.UTF_8));
                    out.write(blob);
                    out.flush();
                    s.getInputStream().read();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            server.start();
            loop.run(() -> {
                try (Connection c = Tcp.connect("127.0.0.1", ss.getLocalPort(), Duration.ofSeconds(5))) {
                    assertEquals("0123456789", c.readLine(10));
                    assertEquals("short", c.readLine(10));
                    assertArrayEquals(blob, c.readExactly(blob.length));
                    c.shutdownOutput();
                    ByteBuf rest = c.read();
                    assertNull(rest);
                }
                return null;
            });
            server.join(10_000);
        }
        try (ServerSocket ss = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             EventLoop loop = NettyLoops.newLoop()) {
            Thread server = new Thread(() -> {
                try (Socket s = ss.accept()) {
                    s.getOutputStream().write("this line is far too long\n".getBytes(StandardCharsets.UTF_8));
                    s.getInputStream().read();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            server.start();
            loop.run(() -> {
                try (Connection c = Tcp.connect("127.0.0.1", ss.getLocalPort(), Duration.ofSeconds(5))) {
                    assertThrows(IOException.class, () -> c.readLine(5));
                }
                return null;
            });
            server.join(10_000);
        }
    }

    @Test
    void connectionMethodsRefuseOtherThreads() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             EventLoop loop = NettyLoops.newLoop()) {
            Thread server = new Thread(() -> {
                try (Socket s = ss.accept()) {
                    s.getInputStream().read();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            server.start();
            Connection c = loop.run(() -> Tcp.connect("127.0.0.1", ss.getLocalPort(), Duration.ofSeconds(5)));
            IllegalStateException e = assertThrows(IllegalStateException.class, c::read);
            assertTrue(e.getMessage().contains("loop"), e.getMessage());
            loop.run(() -> {
                c.close();
                return null;
            });
            server.join(10_000);
        }
    }
}
