package io.fiberloop.test.simnet;

import io.fiberloop.fiber.FiberTimeoutException;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.TaskScope;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.Connection;
import io.fiberloop.netty.Tcp;
import io.fiberloop.netty.http.HttpClient;
import io.fiberloop.netty.http.HttpResponse;
import io.fiberloop.netty.http.HttpServer;
import io.fiberloop.test.SimNetwork;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The HTTP traffic of {@link HttpUnderFaultsTest}, on a network whose faults the seed draws:
 * requests with bodies, keep-alive, pipelining and chunked bodies both ways, three clients at once.
 * Public for fiberloop-test's own tests in other packages (a seed's run replayed and compared).
 */
public final class FaultyHttpTraffic {
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private FaultyHttpTraffic() {
    }

    /**
     * Serves and sends the traffic on a network with resets and stalls drawn from its seed, then
     * one request on the healed network. Call from the loop's main fiber.
     *
     * @param loop the test's loop, on {@code net}
     * @param net the network
     * @return what failed ("io: ..." for I/O errors and timeouts, anything else is wrong), then
     *     "healed: " and the answer on the healed network
     * @throws Exception if the server cannot start or the healed request fails
     */
    public static List<String> withResetsAndStalls(EventLoop loop, SimNetwork net) throws Exception {
        SplittableRandom r = new SplittableRandom(net.seed());
        int maxBody = benign(net, r);
        net.resetChance(r.nextDouble(0.02)).stallChance(r.nextDouble(0.02));
        try (HttpServer server = server(loop)) {
            List<String> outcome = traffic(server.port(), r, maxBody);
            net.healthy();
            try (HttpClient client = HttpClient.create(loop)) {
                outcome.add("healed: " + client.send(HttpClient.Request.get("http://127.0.0.1:" + server.port() + "/hello")
                        .timeout(REQUEST_TIMEOUT)).bodyString());
            }
            return outcome;
        }
    }

    /**
     * Latency, jitter, perhaps a bandwidth limit, and cuts (tiny ones in half the seeds).
     *
     * @return the largest request body to send: small where segments are tiny (a read per byte
     *     costs real time under PARANOID leak detection)
     */
    static int benign(SimNetwork net, SplittableRandom r) {
        net.latency(Duration.ofMillis(r.nextInt(50))).jitter(Duration.ofMillis(r.nextInt(20)));
        if (r.nextBoolean()) {
            net.bandwidth(1_000 + r.nextInt(1_000_000));
        }
        boolean tiny = r.nextBoolean();
        net.maxSegment(1 + r.nextInt(tiny ? 8 : 2_000)).randomSegments(r.nextBoolean());
        return tiny ? 300 : 3_000;
    }

    static HttpServer server(EventLoop loop) throws IOException {
        return HttpServer.builder().loop(loop).port(0)
                .requestTimeout(Duration.ofSeconds(20)).idleTimeout(Duration.ofSeconds(20))
                .get("/hello", req -> HttpResponse.text("hello"))
                .post("/echo", req -> HttpResponse.text(req.bodyString()))
                .get("/stream", req -> HttpResponse.ok().stream(out -> {
                    int n = Integer.parseInt(req.queryParam("n"));
                    for (int i = 0; i < n; i++) {
                        out.write("line " + i + "\n");
                        out.flush();
                    }
                }))
                .start();
    }

    /** Three clients at once; returns what failed ("io: ..." for I/O errors and timeouts, anything else is wrong). */
    static List<String> traffic(int port, SplittableRandom r, int maxBody) throws Exception {
        List<String> failures = new ArrayList<>();
        long keepAliveSeed = r.nextLong();
        try (TaskScope scope = TaskScope.open()) {
            scope.fork(() -> keepAlive(port, new SplittableRandom(keepAliveSeed), maxBody, failures));
            scope.fork(() -> pipelined(port, failures));
            scope.fork(() -> streamed(port, failures));
            scope.join();
        }
        return failures;
    }

    private static Void keepAlive(int port, SplittableRandom r, int maxBody, List<String> failures) {
        try (HttpClient client = HttpClient.create(EventLoop.current())) {
            for (int i = 0; i < 6; i++) {
                String body = "x".repeat(r.nextInt(maxBody)) + i;
                try {
                    HttpClient.Response res = client.send(HttpClient.Request.post("http://127.0.0.1:" + port + "/echo", body)
                            .timeout(REQUEST_TIMEOUT));
                    check(failures, "echo " + i, body, res.status() + " " + res.bodyString());
                } catch (IOException | FiberTimeoutException e) {
                    failures.add("io: echo " + i + ": " + e);
                }
            }
        }
        return null;
    }

    private static Void pipelined(int port, List<String> failures) {
        String requests = "POST /echo HTTP/1.1\r\nHost: sim\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                + "GET /hello HTTP/1.1\r\nHost: sim\r\n\r\n"
                + "POST /echo HTTP/1.1\r\nHost: sim\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /stream?n=3 HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n";
        try (Connection c = Tcp.connect("127.0.0.1", port, REQUEST_TIMEOUT)) {
            c.readTimeout(REQUEST_TIMEOUT);
            c.write(requests);
            byte[] all = SimNetworkTest.readAll(c);
            List<String> bodies = HttpText.bodies(new String(all, StandardCharsets.ISO_8859_1));
            check(failures, "pipelined", "[hello world, hello, abc, line 0\nline 1\nline 2\n]", bodies.toString());
        } catch (IOException | FiberTimeoutException e) {
            failures.add("io: pipelined: " + e);
        }
        return null;
    }

    private static Void streamed(int port, List<String> failures) {
        try (HttpClient client = HttpClient.create(EventLoop.current())) {
            for (int i = 0; i < 3; i++) {
                try {
                    HttpClient.Response res = client.send(HttpClient.Request.get("http://127.0.0.1:" + port + "/stream?n=" + (i * 20))
                            .timeout(REQUEST_TIMEOUT));
                    StringBuilder want = new StringBuilder();
                    for (int j = 0; j < i * 20; j++) {
                        want.append("line ").append(j).append('\n');
                    }
                    check(failures, "stream " + i, want.toString(), res.status() + " " + res.bodyString());
                } catch (IOException | FiberTimeoutException e) {
                    failures.add("io: stream " + i + ": " + e);
                }
                Fibers.yieldNow();
            }
        }
        return null;
    }

    private static void check(List<String> failures, String what, String want, String got) {
        String w = want.startsWith("[") ? want : "200 " + want;
        if (!w.equals(got)) {
            failures.add(what + ": wanted " + abbreviate(w) + ", got " + abbreviate(got));
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "... (" + s.length() + " chars)";
    }
}
