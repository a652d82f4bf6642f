package io.fiberloop.samples;

import io.fiberloop.fiber.FiberDump;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.micrometer.FiberloopMetrics;
import io.fiberloop.loop.LoopGroup;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.fiberloop.netty.http.HttpException;
import io.fiberloop.netty.http.HttpResponse;
import io.fiberloop.netty.http.HttpServer;
import io.fiberloop.netty.http.HttpServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.InputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The embedded HTTP server on 127.0.0.1: TechEmpower's {@code /plaintext} and {@code /json}, plus
 * a path parameter, a slow request that sleeps on the loop's timer, and a streamed response.
 * Each request runs in its own fiber. Stop it with Ctrl-C.
 */
@Command(name = "http", mixinStandardHelpOptions = true,
        description = {"HTTP/1.1 and HTTP/2 server on 127.0.0.1, each request in its own fiber (stop with Ctrl-C).",
                "Try: curl -i http://127.0.0.1:8080/plaintext   /json   /users/42   /slow?ms=500   /stream"})
final class HttpDemo implements Callable<Integer>, Cli.Listening {

    @Option(names = "--port", defaultValue = "8080", converter = Cli.PortConverter.class, description = "TCP port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Override
    public int port() {
        return port;
    }

    @Option(names = "--transport", description = "Netty transport: io_uring, epoll, kqueue or nio (default: the best available, "
            + "or -Dfiberloop.transport).")
    NettyTransport transport;

    @Option(names = "--access-log", description = "Log every request (logger io.fiberloop.http.access).")
    boolean accessLog;

    @Option(names = "--loops", defaultValue = "1", description = "Event loops (one thread each) that serve the connections, "
            + "1..64 (default: ${DEFAULT-VALUE}); with more than one, each loop listens on the port (SO_REUSEPORT) or, on NIO, "
            + "one accepts and hands connections out in turn.")
    int loops;

    @Option(names = "--tls-cert", paramLabel = "PEM", description = "Serve HTTPS (HTTP/2 by ALPN, and HTTP/1.1) with this "
            + "certificate chain; needs --tls-key.")
    java.io.File tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "The PKCS#8 private key of --tls-cert.")
    java.io.File tlsKey;

    @Option(names = "--management-port", converter = Cli.PortConverter.class, description = "TCP port of the management server "
            + "(/health and /metrics on a loop of its own, so that it answers 503 while the HTTP loop is stalled); "
            + "default: --port + 1, or a free one with --port 0.")
    Integer managementPort;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (loops < 1 || loops > 64) {
            throw new ParameterException(spec.commandLine(), "--loops must be 1..64, was " + loops);
        }
        NettyTransport t = transport == null ? NettyTransport.auto() : transport;
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new ParameterException(spec.commandLine(), "--tls-cert and --tls-key go together: give both, or neither for plain HTTP");
        }
        HttpServerBuilder b = routes(HttpServer.builder().host("127.0.0.1").port(port).accessLog(accessLog));
        if (tlsCert != null) {
            b.tls(io.netty.handler.ssl.SslContextBuilder.forServer(tlsCert, tlsKey)
                    .applicationProtocolConfig(io.fiberloop.netty.http.Http2Options.alpn()).build());
        }
        AutoCloseable loopsToClose;
        if (loops == 1) {
            EventLoop loop = NettyLoops.builder(t).name("http-loop").build();
            b.loop(loop);
            loopsToClose = loop;
        } else {
            LoopGroup group = NettyLoops.newGroup(loops, t);
            b.group(group);
            loopsToClose = group;
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        b.with(FiberloopMetrics.prometheus("/metrics", registry)) // request, connection and loop metrics, and GET /metrics
                .health("/health");                                // 200 while the loops run
        HttpServer server = Cli.closingOnFailure(loopsToClose, b::start);
        HttpServer management = managementServer(server, registry);
        FiberDump.registerMBean(); // the same dump over JMX: io.fiberloop:type=FiberDump, operations text and json
        String base = (tlsCert != null ? "https" : "http") + "://127.0.0.1:" + server.port();
        System.out.println("management server on http://127.0.0.1:" + management.port() + " (/health, /metrics, /debug/fibers), on a loop of its own");
        System.out.println("HTTP server listening on " + base + " (" + t.id() + (loops > 1 ? ", " + loops + " loops" : "")
                + "); Ctrl-C stops it. Try:");
        System.out.println("  curl " + base + "/            (the list of routes)");
        System.out.println("  curl -i " + base + "/plaintext");
        System.out.println("  curl -i " + base + "/json");
        System.out.println("  curl -i " + base + "/users/42");
        System.out.println("  curl -i '" + base + "/slow?ms=500'");
        System.out.println("  curl -N " + base + "/stream");
        System.out.println("  curl --data-binary 'hello, fibers' " + base + "/echo");
        System.out.println("  curl -i -d '{\"name\":\"apple\",\"quantity\":3}' " + base + "/api/items");
        System.out.println("  curl -N " + base + "/events            (and " + base + "/chat in a browser)");
        System.out.println("  curl " + (tlsCert != null ? "-k --http2 " : "--http2-prior-knowledge ") + base + "/plaintext   (HTTP/2)");
        server.closeOnShutdown(Duration.ofSeconds(5)); // Ctrl-C, SIGTERM: drains the requests in flight, and logs it
        management.closeOnShutdown(Duration.ofSeconds(1));
        new CountDownLatch(1).await();                 // the JVM exits once the hook has closed the server
        return 0;
    }

    /**
     * The management server: {@code /health} and {@code /metrics} on a loop of its own, where a
     * stalled HTTP loop cannot hold them up: its health check answers {@code 503} while the
     * server's loops are stalled.
     */
    private HttpServer managementServer(HttpServer server, PrometheusMeterRegistry registry) throws Exception {
        EventLoop loop = NettyLoops.builder().name("management").build();
        int p = managementPort != null ? managementPort : port == 0 || port == 65535 ? 0 : port + 1;
        return Cli.closingOnFailure(loop, () -> HttpServer.builder().loop(loop).host("127.0.0.1").port(p)
                .health("/health", server.loops())
                .get("/metrics", FiberloopMetrics.scrape(registry))
                .fiberDump("/debug/fibers")                      // every loop's live tasks; ?format=json
                .start());
    }

    /** What {@code GET /} answers: the demo's routes, for a newcomer who opens the address in a browser. */
    static final String INDEX = """
            fiberloop HTTP demo: each request runs in its own fiber, on the event loop of its connection.
              GET /plaintext      Hello, World! as text
              GET /json           the same as JSON
              GET /users/{id}     a path parameter, e.g. /users/42
              GET /slow?ms=500    sleeps on the loop's timer while other requests go on
              GET /stream         ten chunks, 100 ms apart, with backpressure
              GET /metrics        Prometheus metrics: requests by route and status, connections, the loops
              GET /health         200 while the loops run (the management port's also says 503 while one is stalled)
              POST /echo          streams the request body back (curl --data-binary @file ...)
            What you can build:
              /api/items          a JSON resource: POST creates (201 + Location), GET lists and gets, DELETE
              /ws/echo            a WebSocket echo
              /chat               a WebSocket chat room (open it in two browser tabs)
              /events             a server-sent events clock, one event a second (curl -N)
              /static/            files served from the jar (/static/events.html counts the events)
            """;

    /** The demo's routes. */
    static HttpServerBuilder routes(HttpServerBuilder b) {
        return new WebTour().routes(b)
                .get("/", req -> HttpResponse.text(INDEX))
                .get("/plaintext", req -> HttpResponse.text("Hello, World!").contentType("text/plain"))
                .get("/json", req -> HttpResponse.json("{\"message\":\"Hello, World!\"}"))
                .get("/users/{id}", req -> HttpResponse.json("{\"id\":\"" + jsonEscape(req.pathParam("id")) + "\"}"))
                .get("/slow", req -> {
                    long ms = parse(req.queryParam("ms"), 1000);
                    if (ms < 0 || ms > 60_000) {
                        throw new HttpException(400, "ms must be 0..60000");
                    }
                    Fibers.sleep(Duration.ofMillis(ms)); // the loop's timer: other requests go on meanwhile
                    return HttpResponse.text("slept " + ms + " ms\n");
                })
                .get("/stream", req -> HttpResponse.ok().contentType("text/plain; charset=UTF-8").stream(out -> {
                    for (int i = 1; i <= 10; i++) {
                        out.write("chunk " + i + " of 10\n");
                        out.drain();
                        Fibers.sleep(Duration.ofMillis(100));
                    }
                }))
                .post("/echo", req -> HttpResponse.ok().contentType(contentTypeOr(req.header("Content-Type"))).stream(out -> {
                    try (InputStream in = req.bodyStream()) { // read as it arrives: memory stays bounded
                        byte[] buf = new byte[16 * 1024];
                        for (int n; (n = in.read(buf)) > 0; ) {
                            out.write(Arrays.copyOf(buf, n));
                            out.drain();                    // waits while the client is slower than the upload
                        }
                    }
                }));
    }

    private static String contentTypeOr(String type) {
        return type == null ? "application/octet-stream" : type;
    }

    private static long parse(String s, long dflt) {
        if (s == null) {
            return dflt;
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new HttpException(400, "not a number: " + s);
        }
    }

    private static String jsonEscape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }
}
