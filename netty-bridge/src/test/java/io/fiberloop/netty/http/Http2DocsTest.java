package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NoLeaks;
import io.fiberloop.netty.TestCerts;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The snippets of docs/http.md's HTTP/2 section, compiled and run as written there. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Http2DocsTest {

    @Test
    void theHttp2SectionsSnippetsWork() throws Exception {
        KeyManagerFactory keyManagerFactory = TestCerts.get().keyManagers();
        // --- docs/http.md, "HTTP/2"
        SslContext tls = SslContextBuilder.forServer(keyManagerFactory)
                .applicationProtocolConfig(Http2Options.alpn())     // offers h2, then http/1.1
                .build();
        HttpServer server = HttpServer.builder()
                .port(0).tls(tls)
                .http2Options(Http2Options.defaults().maxConcurrentStreams(50))
                .get("/plaintext", req -> HttpResponse.text("Hello, World!"))
                // --- docs/http.md, "Trailers"
                .post("/upload", req -> {
                    byte[] body = req.bodyBytes();
                    String sent = req.trailer("x-checksum");          // known once the body was read
                    return HttpResponse.ok().stream(out -> {
                        out.write("got " + body.length + " bytes");
                        out.trailer("x-count", Integer.toString(body.length));
                    });
                })
                .start();
        try (EventLoop loop = NettyLoops.newLoop()) {
            String text = loop.run(() -> {
                // --- docs/http.md, "The client"
                HttpClient client = HttpClient.create(loop).version(HttpClient.Version.HTTP_2).tls(TestCerts.get().trustingClientWithAlpn());
                HttpClient.Response r = client.send(HttpClient.Request.get("https://127.0.0.1:" + server.port() + "/plaintext"));
                HttpClient.Response up = client.send(HttpClient.Request.post("https://127.0.0.1:" + server.port() + "/upload", "12345"));
                client.close();
                return r.version() + " " + r.bodyString() + " / " + up.bodyString();
            });
            assertEquals("HTTP/2.0 Hello, World! / got 5 bytes", text);
        } finally {
            server.close(Duration.ofSeconds(1));
        }
    }
}
