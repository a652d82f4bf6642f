package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import io.fiberloop.loop.VirtualClock;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** readUntil(delimiter, maxLength) and the idle timeout. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReadUntilAndIdleTest {

    private static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void readUntilSplitsOnAMultiByteDelimiterAcrossReads() throws Exception {
        byte[] blob = Echo.random(150_000, 11);
        for (int i = 0; i < blob.length; i++) {
            if (blob[i] == '\r') {
                blob[i] = 'x'; // keep the delimiter out of the blob
            }
        }
        try (EventLoop loop = NettyLoops.newLoop()) {
            CompletableFuture<Object[]> result = new CompletableFuture<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                byte[] crlf2 = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                try {
                    String head = s(conn.readUntil(crlf2, 100));
                    String empty = s(conn.readUntil(crlf2, 100));
                    byte[] big = conn.readUntil(crlf2, 200_000);
                    String tail = conn.readLine(100);
                    IOException tooLong = assertThrows(IOException.class, () -> conn.readUntil(crlf2, 10));
                    result.complete(new Object[] {head, empty, big, tail, tooLong});
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
            });
            try (Socket sock = new Socket("127.0.0.1", server.port())) {
                OutputStream out = sock.getOutputStream();
                out.write("GET / HTTP/1.1\r\nHost: x\r".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                out.write("\n\r\n\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.write(blob);
                out.write("\r\n\r\nafter\nthis line has no delimiter at all and is long".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                Object[] r = result.get(20, TimeUnit.SECONDS);
                assertEquals("GET / HTTP/1.1\r\nHost: x", r[0]);
                assertEquals("", r[1]);
                assertArrayEquals(blob, (byte[]) r[2]);
                assertEquals("after", r[3]);
                assertTrue(((IOException) r[4]).getMessage().contains("delimiter"), ((IOException) r[4]).getMessage());
            }
            server.close();
        }
    }

    @Test
    void readUntilReturnsTheRestAtEndOfStreamThenNull() throws Exception {
        try (EventLoop loop = NettyLoops.newLoop()) {
            CompletableFuture<String[]> result = new CompletableFuture<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                byte[] zero = {0};
                result.complete(new String[] {s(conn.readUntil(zero, 10)), s(conn.readUntil(zero, 10)), s(conn.readUntil(zero, 10))});
            });
            try (Socket sock = new Socket("127.0.0.1", server.port())) {
                sock.getOutputStream().write("one\0two".getBytes(StandardCharsets.US_ASCII));
                sock.shutdownOutput();
                String[] r = result.get(20, TimeUnit.SECONDS);
                assertEquals("one", r[0]);
                assertEquals("two", r[1]);
                assertNull(r[2]);
            }
            server.close();
        }
    }

    @Test
    void tooLongAtEndOfStreamFailsExactlyMaxLengthPassesAndBadArgumentsAreRefused() throws Exception {
        try (EventLoop loop = NettyLoops.newLoop()) {
            CompletableFuture<Object[]> result = new CompletableFuture<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                Object[] r = new Object[5];
                r[0] = conn.readLine(10);                        // exactly 10 bytes, terminated
                r[1] = s(conn.readUntil(new byte[] {0}, 3));     // exactly 3 bytes, delimited
                r[2] = assertThrows(IllegalArgumentException.class, () -> conn.readLine(-1));
                r[3] = assertThrows(IllegalArgumentException.class, () -> conn.readUntil(new byte[0], 10));
                r[4] = assertThrows(IOException.class, () -> conn.readUntil(new byte[] {0}, 10)); // 11 bytes, then end of stream
                result.complete(r);
            });
            try (Socket sock = new Socket("127.0.0.1", server.port())) {
                sock.getOutputStream().write(("0123456789\nabc\0" + "y".repeat(11)).getBytes(StandardCharsets.US_ASCII));
                sock.shutdownOutput();
                Object[] r = result.get(20, TimeUnit.SECONDS);
                assertEquals("0123456789", r[0]);
                assertEquals("abc", r[1]);
                assertTrue(((Throwable) r[2]).getMessage() != null, "readLine(-1) gives a reason");
                assertTrue(((Throwable) r[3]).getMessage() != null, "an empty delimiter gives a reason");
                assertTrue(((Throwable) r[4]).getMessage().contains("10"), "the error names the limit: " + ((Throwable) r[4]).getMessage());
            }
            server.close();
        }
    }

    @Test
    void anIdleConnectionIsClosedAndTheReadThrowsSocketTimeoutException() throws Exception {
        // time moves only when the test moves it: the exchanges below are never taken for idleness,
        // however long a loaded machine takes between them (IdleTimeoutResetTest times the re-arming)
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = NettyLoops.builder().name("idle").clock(clock).build()) {
            CompletableFuture<Throwable> result = new CompletableFuture<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, TcpOptions.defaults().withIdleTimeout(Duration.ofMillis(150)), conn -> {
                try {
                    assertEquals(Duration.ofMillis(150), conn.idleTimeout());
                    String line;
                    while ((line = conn.readLine(100)) != null) {
                        conn.write(line + "\n"); // traffic keeps it alive
                    }
                    result.complete(null);
                } catch (Throwable t) {
                    result.complete(t);
                }
            });
            try (Socket sock = new Socket("127.0.0.1", server.port())) {
                OutputStream out = sock.getOutputStream();
                java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(sock.getInputStream(), StandardCharsets.UTF_8));
                for (int i = 0; i < 5; i++) {
                    out.write(("ping " + i + "\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    assertEquals("ping " + i, in.readLine());
                }
                // now stay silent for the idle timeout: the server closes the connection
                clock.advance(Duration.ofMillis(150));
                assertNull(in.readLine(), "the idle connection is closed by the server");
                Throwable t = result.get(20, TimeUnit.SECONDS);
                assertTrue(t instanceof SocketTimeoutException, "expected SocketTimeoutException, got " + t);
            }
            server.close();
        }
    }

    @Test
    void idleTimeoutOnAClientConnection() throws Exception {
        try (EventLoop loop = NettyLoops.newLoop()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                conn.read(); // never answers; ends when the client closes
            });
            Throwable t = loop.run(() -> {
                try (Connection c = Tcp.connect("127.0.0.1", server.port(), Duration.ofSeconds(5))) {
                    c.idleTimeout(Duration.ofMillis(50));
                    return assertThrows(IOException.class, c::read);
                }
            });
            assertTrue(t instanceof SocketTimeoutException, "got " + t);
            server.close();
        }
    }
}
