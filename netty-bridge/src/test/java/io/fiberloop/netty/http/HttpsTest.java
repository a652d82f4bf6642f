package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.fiberloop.netty.NoLeaks;
import io.fiberloop.netty.TestCerts;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link HttpServerBuilder#tls}: HTTPS to the JDK's {@link java.net.http.HttpClient} on every transport, with a
 * certificate made at test time; a client that does not trust it, and one that speaks plain HTTP
 * to the TLS port, are disconnected while the server goes on serving. {@link
 * HttpClient#tls}: the fiber client over HTTPS, its certificate and host
 * name checks.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HttpsTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void servesHttpsAndDisconnectsClientsThatFailTheHandshakeOrSpeakPlainHttp(NettyTransport transport) throws Exception {
        TestCerts certs = TestCerts.get();
        try (EventLoop loop = NettyLoops.builder(transport).build();
             java.net.http.HttpClient trusting = java.net.http.HttpClient.newBuilder().sslContext(certs.trustingJdkClient())
                     .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();
             java.net.http.HttpClient untrusting = java.net.http.HttpClient.newBuilder()
                     .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build()) {
            HttpServer server = HttpServer.builder().loop(loop).host("127.0.0.1").port(0).tls(certs.server())
                    .get("/hello", req -> HttpResponse.text("hello over TLS"))
                    .post("/echo", req -> HttpResponse.ok().contentType("application/octet-stream").body(req.bodyBytes()))
                    .start();
            String base = "https://127.0.0.1:" + server.port();

            var hello = trusting.send(get(base + "/hello"), BodyHandlers.ofString());
            assertEquals(200, hello.statusCode(), transport + ": " + hello.body());
            assertEquals("hello over TLS", hello.body());
            byte[] body = new byte[1 << 20];
            new Random(7).nextBytes(body);
            var echoed = trusting.send(HttpRequest.newBuilder(URI.create(base + "/echo")).timeout(WAIT)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), BodyHandlers.ofByteArray());
            assertEquals(200, echoed.statusCode());
            assertArrayEquals(body, echoed.body(), "1 MiB through TLS both ways on " + transport);

            // the JDK's default trust store does not know the test certificate: the handshake fails
            assertThrows(SSLHandshakeException.class, () -> untrusting.send(get(base + "/hello"), BodyHandlers.ofString()));

            // plain HTTP to the TLS port: not a TLS record, so the server hangs up, answering nothing
            try (Socket plain = new Socket("127.0.0.1", server.port())) {
                plain.setSoTimeout((int) WAIT.toMillis());
                plain.getOutputStream().write("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertTrue(readsNothingUntilClosed(plain.getInputStream()), "a plain HTTP request got an answer on " + transport);
            }

            var again = trusting.send(get(base + "/hello"), BodyHandlers.ofString());
            assertEquals(200, again.statusCode(), "still serving after the failed clients on " + transport);
            server.close(Duration.ofSeconds(5));
        }
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void theFiberClientSpeaksHttpsReusesItsConnectionAndChecksTheCertificateAndTheHostName(NettyTransport transport)
            throws Exception {
        TestCerts certs = TestCerts.get();
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            HttpServer server = HttpServer.builder().loop(loop).host("127.0.0.1").port(0).tls(certs.server())
                    .get("/who", req -> HttpResponse.text(String.valueOf(req.remoteAddress())))
                    .post("/echo", req -> HttpResponse.ok().contentType("application/octet-stream").body(req.bodyBytes()))
                    .start();
            // the same certificate, served where its names (127.0.0.1, localhost) do not match
            HttpServer misnamed = HttpServer.builder().loop(loop).host("127.0.0.2").port(0).tls(certs.server())
                    .get("/who", req -> HttpResponse.text("should not be reached"))
                    .start();
            String base = "https://127.0.0.1:" + server.port();
            loop.run(() -> {
                try (HttpClient trusting = HttpClient.create(loop).tls(SslContextBuilder.forClient()
                        .trustManager(certs.certificate).build());
                     HttpClient defaults = HttpClient.create(loop)) {
                    HttpClient.Response first = trusting.send(HttpClient.Request.get(base + "/who"));
                    assertEquals(200, first.status(), first.bodyString());
                    HttpClient.Response second = trusting.send(HttpClient.Request.get(base + "/who"));
                    assertEquals(first.bodyString(), second.bodyString(), "the kept-alive TLS connection was reused");
                    byte[] body = new byte[256 * 1024];
                    new Random(11).nextBytes(body);
                    HttpClient.Response echoed = trusting.send(HttpClient.Request.of("POST", base + "/echo").body(body));
                    assertArrayEquals(body, echoed.body(), "256 KiB through TLS both ways on " + transport);
                    // the JDK's trust store does not know the test certificate
                    assertThrows(SSLHandshakeException.class, () -> defaults.send(HttpClient.Request.get(base + "/who")));
                    // trusted, but issued for other names: the host name check refuses it
                    assertThrows(SSLHandshakeException.class,
                            () -> trusting.send(HttpClient.Request.get("https://127.0.0.2:" + misnamed.port() + "/who")));
                    assertEquals(200, trusting.send(HttpClient.Request.get(base + "/who")).status(), "still serving");
                    assertThrows(IllegalArgumentException.class, () -> trusting.send(HttpClient.Request.get("ftp://127.0.0.1/x")));
                }
                return null;
            });
            misnamed.close(Duration.ofSeconds(5));
            server.close(Duration.ofSeconds(5));
        }
    }

    @Test
    void aClientContextIsRefusedWithWhatToBuildInstead() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HttpServer.builder().tls(SslContextBuilder.forClient().build()));
        assertTrue(e.getMessage().contains("SslContextBuilder.forServer"), e.getMessage());
        try (EventLoop loop = NettyLoops.builder().build()) {
            HttpClient client = HttpClient.create(loop);
            IllegalArgumentException c = assertThrows(IllegalArgumentException.class, () -> client.tls(TestCerts.get().server()));
            assertTrue(c.getMessage().contains("SslContextBuilder.forClient"), c.getMessage());
        }
    }

    private static HttpRequest get(String uri) {
        return HttpRequest.newBuilder(URI.create(uri)).timeout(WAIT).build();
    }

    /** Whether the peer closed (end of stream or reset) without sending a byte; the socket's timeout bounds the wait. */
    private static boolean readsNothingUntilClosed(InputStream in) {
        try {
            return in.read() == -1;
        } catch (IOException reset) {
            return !(reset instanceof java.net.SocketTimeoutException);
        }
    }
}
