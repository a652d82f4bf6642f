package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.netty.NoLeaks;
import io.fiberloop.netty.TestCerts;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * HTTP/2 against clients written by others: curl (prior knowledge, TLS with ALPN, the h2c upgrade),
 * nghttp2's h2load (100 concurrent streams on each of 10 connections) and Node's built-in
 * {@code http2} client. Each test needs its program on the PATH (skipped otherwise).
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class Http2ExternalClientsTest {
    private HttpServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close(Duration.ofSeconds(1));
        }
    }

    private static HttpServerBuilder routes() {
        return HttpServer.builder().port(0)
                .get("/plaintext", req -> HttpResponse.text("Hello, World!"))
                .get("/version", req -> HttpResponse.text(req.version()))
                .post("/echo", req -> HttpResponse.ok().contentType("application/octet-stream").body(req.bodyBytes()));
    }

    /** curl's body and, after a newline, the HTTP version it used ({@code -w %{http_version}}). */
    private static String[] curl(String... args) throws Exception {
        String[] all = new String[args.length + 2];
        all[0] = "-w";
        all[1] = "\n%{http_version}";
        System.arraycopy(args, 0, all, 2, args.length);
        WebClients.Run r = WebClients.curl(all);
        assertEquals(0, r.exit(), r.toString());
        return r.out().split("\n");
    }

    /** Asks {@code url}'s {@code /version} with curl's {@code options}: answered over HTTP/2. */
    private static void versionIsH2(String url, String... options) throws Exception {
        String[] args = java.util.Arrays.copyOf(options, options.length + 1);
        args[options.length] = url + "/version";
        String[] r = curl(args);
        assertEquals("HTTP/2.0", r[0], "the handler saw HTTP/2");
        assertEquals("2", r[1], "curl used HTTP/2");
    }

    @Test
    void curlWithPriorKnowledgeGetsTheRoutesOverH2c() throws Exception {
        server = routes().start();
        versionIsH2("http://127.0.0.1:" + server.port(), "--http2-prior-knowledge");
        String[] echo = curl("--http2-prior-knowledge", "--data-binary", "ping", "http://127.0.0.1:" + server.port() + "/echo");
        assertEquals("ping", echo[0]);
    }

    @Test
    void curlUpgradesToH2c() throws Exception {
        server = routes().start();
        versionIsH2("http://127.0.0.1:" + server.port(), "--http2");
    }

    @Test
    void curlNegotiatesH2ByAlpnOverTls() throws Exception {
        server = routes().tls(TestCerts.get().serverWithAlpn()).start();
        versionIsH2("https://127.0.0.1:" + server.port(), "--http2", "-k");
    }

    @Test
    void h2loadRunsOneHundredStreamsOnTenConnectionsWithoutErrors() throws Exception {
        Assumptions.assumeTrue(WebClients.onPath("h2load"), "h2load (nghttp2-client) is not installed");
        server = routes().start();
        WebClients.Run r = WebClients.run(Duration.ofSeconds(60), null, "h2load", "-c10", "-m100", "-n20000", "-t1",
                "http://127.0.0.1:" + server.port() + "/plaintext");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("20000 succeeded, 0 failed, 0 errored"), r.toString());
        assertTrue(r.out().contains("status codes: 20000 2xx"), r.toString());
    }

    @Test
    void nodesHttp2ClientMultiplexesRequests() throws Exception {
        Assumptions.assumeTrue(WebClients.onPath("node"), "node is not installed");
        server = routes().start();
        String script = """
                const http2 = require('node:http2');
                const session = http2.connect(process.argv[1]);
                session.on('error', e => { console.error(e); process.exit(2); });
                const one = () => new Promise((resolve, reject) => {
                  const req = session.request({ ':path': '/plaintext' });
                  let body = '', status = 0;
                  req.on('response', h => { status = h[':status']; });
                  req.setEncoding('utf8');
                  req.on('data', d => { body += d; });
                  req.on('end', () => resolve(status + ' ' + body));
                  req.on('error', reject);
                  req.end();
                });
                Promise.all(Array.from({ length: 50 }, one)).then(all => {
                  console.log(new Set(all).size + ' ' + all[0] + ' ' + all.length);
                  session.close();
                }, e => { console.error(e); process.exit(3); });
                """;
        WebClients.Run r = WebClients.run(Duration.ofSeconds(60), null, "node", "-e", script, "http://127.0.0.1:" + server.port());
        assertEquals(0, r.exit(), r.toString());
        assertEquals("1 200 Hello, World! 50", r.out().strip(), r.toString());
    }
}
