package io.fiberloop.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.http.HttpResponse;
import io.fiberloop.netty.http.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A server with {@link FiberloopMetrics#prometheus}: its requests, connections and loop, scraped as Prometheus text. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FiberloopMetricsTest {

    @Test
    void metricsAreScrapedAsPrometheusTextWithRoutesStatusesAndTheLoop() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // a watchdog that cannot speak during the test: with the default 100 ms, a cold scrape on a loaded
        // machine is itself reported as a stall, and the loop reads as stalled while it renders the gauge
        try (EventLoop loop = NettyLoops.builder().name("metered").watchdog(Duration.ofMinutes(1)).build();
             HttpServer server = HttpServer.builder().loop(loop).host("127.0.0.1").port(0)
                     .with(FiberloopMetrics.prometheus("/metrics", registry))
                     .get("/users/{id}", req -> HttpResponse.text("user " + req.pathParam("id")))
                     .post("/upload", req -> HttpResponse.text("got " + req.bodyBytes().length))
                     .start();
             Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            assertEquals(200, exchange(s, "GET /users/1 HTTP/1.1\r\nHost: a\r\n\r\n").status);
            assertEquals(200, exchange(s, "GET /users/2 HTTP/1.1\r\nHost: a\r\n\r\n").status);
            Response notFound = exchange(s, "GET /nowhere/7 HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(404, notFound.status);
            assertEquals(200, exchange(s, "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello").status);
            Response scrape = exchange(s, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(200, scrape.status);
            assertTrue(scrape.head.toLowerCase().contains("content-type: text/plain; version=0.0.4"), scrape.head);
            String text = scrape.body;
            String port = "port=\"" + server.port() + "\"";
            assertEquals(2.0, value(text, "http_server_requests_seconds_count{method=\"GET\",outcome=\"SUCCESS\"," + port
                    + ",status=\"200\",uri=\"/users/{id}\"}"), text);
            assertEquals(1.0, value(text, "http_server_requests_seconds_count{method=\"GET\",outcome=\"CLIENT_ERROR\"," + port
                    + ",status=\"404\",uri=\"NOT_FOUND\"}"), "a path without a route is one series, not one per path");
            assertTrue(text.contains("http_server_requests_seconds_bucket{method=\"GET\",outcome=\"SUCCESS\"," + port
                    + ",status=\"200\",uri=\"/users/{id}\",le=\""), "a latency histogram: " + text);
            assertEquals(5.0, value(text, "http_server_body_received_bytes_total{" + port + "}"));
            double sent = "user 1user 2".length() + "got 5".length() + notFound.body.getBytes(StandardCharsets.UTF_8).length;
            assertEquals(sent, value(text, "http_server_body_sent_bytes_total{" + port + "}"));
            assertEquals(1.0, value(text, "http_server_connections_active{" + port + "}"), "this connection");
            assertEquals(1.0, value(text, "http_server_connections_total{" + port + "}"));
            assertEquals(1.0, value(text, "http_server_requests_active{" + port + "}"), "the scrape itself");
            assertTrue(value(text, "fiberloop_loop_tasks_total{loop=\"metered\"}") > 0, text);
            assertEquals(0.0, value(text, "fiberloop_loop_stalled{loop=\"metered\"}"));
            assertEquals(0.0, value(text, "fiberloop_loop_stalls_total{loop=\"metered\"}"));
            assertTrue(value(text, "fiberloop_loop_tasks_live{loop=\"metered\"}") >= 1, "the scrape's task is live: " + text);
            assertTrue(text.contains("fiberloop_loop_queue_depth{loop=\"metered\"}"), text);
            assertTrue(text.contains("fiberloop_loop_lag_max_seconds{loop=\"metered\"}"), text);
        }
    }

    /** The snippet of docs/operations.md marked "compiled: FiberloopMetricsTest", verbatim. */
    void operationsSnippet() throws IOException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        HttpServer server = HttpServer.builder().port(8080)
                .with(FiberloopMetrics.prometheus("/metrics", registry))
                .get("/users/{id}", req -> HttpResponse.text("user " + req.pathParam("id")))
                .start();
        server.close();
    }

    @Test
    void theOperationsGuidesSnippetIsHereVerbatim() throws IOException {
        List<String> page = Files.readAllLines(Path.of("..", "docs", "operations.md"));
        int marker = page.indexOf("<!-- compiled: FiberloopMetricsTest -->");
        assertTrue(marker >= 0 && page.get(marker + 1).equals("```java"), "the marked snippet in docs/operations.md");
        List<String> snippet = page.subList(marker + 2, endOf(page, marker + 2));
        String me = Files.readString(Path.of("src", "test", "java", "io", "fiberloop", "micrometer", "FiberloopMetricsTest.java"));
        for (String line : snippet) {
            assertTrue(me.contains(line.strip()), "docs/operations.md's metrics snippet is not here verbatim: " + line);
        }
    }

    private static int endOf(List<String> page, int from) {
        int end = from;
        while (!page.get(end).equals("```")) {
            end++;
        }
        return end;
    }

    private static double value(String text, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        assertTrue(m.find(), "no series " + series + " in:\n" + text);
        return Double.parseDouble(m.group(1));
    }

    private record Response(int status, String head, String body) {
    }

    /** Sends one request on {@code s} and reads its response (a Content-Length or chunked body). */
    private static Response exchange(Socket s, String request) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        InputStream in = s.getInputStream();
        String head = readUntil(in, "\r\n\r\n");
        int status = Integer.parseInt(head.substring(9, 12));
        String lower = head.toLowerCase() + "\r\n";
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int cl = lower.indexOf("content-length: ");
        if (cl >= 0) {
            int n = Integer.parseInt(lower.substring(cl + 16, lower.indexOf("\r\n", cl)).trim());
            body.write(in.readNBytes(n));
        } else if (lower.contains("transfer-encoding: chunked")) {
            for (;;) {
                int n = Integer.parseInt(readUntil(in, "\r\n").trim(), 16);
                body.write(in.readNBytes(n));
                readUntil(in, "\r\n");
                if (n == 0) {
                    break;
                }
            }
        }
        return new Response(status, head, body.toString(StandardCharsets.UTF_8));
    }

    private static String readUntil(InputStream in, String end) throws IOException {
        StringBuilder sb = new StringBuilder();
        while (!sb.toString().endsWith(end)) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the server closed the connection after: " + sb);
            }
            sb.append((char) b);
        }
        return sb.substring(0, sb.length() - end.length());
    }
}
