package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** TLS through Netty's SslHandler, with a certificate made by keytool at test time. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TlsTest {

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void tlsEchoBetweenAFiberServerAndAFiberClient(NettyTransport transport) throws Exception {
        TestCerts certs = TestCerts.get();
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, TcpOptions.defaults().withTls(certs.server()), conn -> {
                conn.write("hello over TLS\n"); // the server speaks first: the handshake must still go on
                Echo.HANDLER.handle(conn);
            });
            byte[] big = Echo.random(200_000, 3);
            String greeting = loop.run(() -> {
                try (Connection c = Tcp.connect("127.0.0.1", server.port(), Duration.ofSeconds(5),
                        TcpOptions.defaults().withTls(certs.trustingClient()))) {
                    String g = c.readLine(100);
                    c.write(big);
                    assertTrue(java.util.Arrays.equals(big, c.readExactly(big.length)));
                    c.shutdownOutput();
                    assertNull(c.read());
                    return g;
                }
            });
            assertEquals("hello over TLS", greeting);
            server.close();
        }
    }

    @Test
    void tlsWithALineCodecOnTop() throws Exception {
        TestCerts certs = TestCerts.get();
        PipelineInitializer lines = p -> p.addLast(new LineBasedFrameDecoder(1024), new StringDecoder(StandardCharsets.UTF_8),
                new StringEncoder(StandardCharsets.UTF_8));
        try (EventLoop loop = NettyLoops.newLoop()) {
            TcpServer server = TcpServer.bindMessages(loop, "127.0.0.1", 0, TcpOptions.defaults().withTls(certs.server()), lines,
                    (MessageConnection<String, String> conn) -> {
                        String line;
                        while ((line = conn.read()) != null) {
                            conn.write(line.toUpperCase() + "\n");
                        }
                    });
            String reply = loop.run(() -> {
                MessageConnection<String, String> c = Tcp.connectMessages("127.0.0.1", server.port(), Duration.ofSeconds(5),
                        TcpOptions.defaults().withTls(certs.trustingClient()), lines);
                try (c) {
                    c.write("secret\n");
                    return c.read();
                }
            });
            assertEquals("SECRET", reply);
            server.close();
        }
    }

    @Test
    void aClientThatDoesNotTrustTheCertificateGetsSSLHandshakeException() throws Exception {
        TestCerts certs = TestCerts.get();
        try (EventLoop loop = NettyLoops.newLoop()) {
            CompletableFuture<Throwable> serverSide = new CompletableFuture<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, TcpOptions.defaults().withTls(certs.server()), conn -> {
                try {
                    conn.read();
                    serverSide.complete(null);
                } catch (Throwable t) {
                    serverSide.complete(t);
                }
            });
            IOException e = loop.run(() -> assertThrows(IOException.class,
                    () -> Tcp.connect("127.0.0.1", server.port(), Duration.ofSeconds(5), TcpOptions.defaults().withTls(certs.defaultClient()))));
            assertTrue(e instanceof SSLHandshakeException, "expected SSLHandshakeException, got " + e);
            Throwable s = serverSide.get(20, TimeUnit.SECONDS);
            assertTrue(s instanceof IOException, "the server's handler should see the failed handshake, got " + s);
            server.close();
        }
    }

    @Test
    void aPlainTextClientAgainstATlsServerFailsTheHandlerWithAnSSLException() throws Exception {
        TestCerts certs = TestCerts.get();
        try (EventLoop loop = NettyLoops.newLoop()) {
            CompletableFuture<Throwable> serverSide = new CompletableFuture<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, TcpOptions.defaults().withTls(certs.server()), conn -> {
                try {
                    conn.readLine(100);
                    serverSide.complete(null);
                } catch (Throwable t) {
                    serverSide.complete(t);
                }
            });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                Throwable t = serverSide.get(20, TimeUnit.SECONDS);
                assertTrue(t instanceof SSLException && causedBy(t, SSLException.class), "expected an SSLException, got " + t);
                InputStream in = s.getInputStream();
                while (in.read() >= 0) {
                    // whatever the server sent (an alert, maybe), then end of stream: it closed
                }
            }
            server.close();
        }
    }

    @Test
    void aTlsClientAgainstAPlainServerFailsAndDoesNotHang() throws Exception {
        TestCerts certs = TestCerts.get();
        try (EventLoop loop = NettyLoops.newLoop()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
                io.netty.buffer.ByteBuf hello = conn.read(); // the ClientHello
                if (hello != null) {
                    hello.release();
                }
                conn.write("not TLS at all\r\n");
                conn.flush();
            });
            IOException e = loop.run(() -> assertThrows(IOException.class,
                    () -> Tcp.connect("127.0.0.1", server.port(), Duration.ofSeconds(5), TcpOptions.defaults().withTls(certs.trustingClient()))));
            assertTrue(causedBy(e, SSLException.class) || e.getMessage() != null, "got " + e);
            server.close();
        }
    }
}
