package io.fiberloop.micrometer;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.http.HttpHandler;
import io.fiberloop.netty.http.HttpObserver;
import io.fiberloop.netty.http.HttpResponse;
import io.fiberloop.netty.http.HttpServer;
import io.fiberloop.netty.http.HttpServerBuilder;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.SocketAddress;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Metrics of fiberloop's loops and HTTP servers in a Micrometer {@link MeterRegistry}, and a
 * Prometheus scrape route. One builder call adds both to a server:
 * {@snippet :
 * PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * HttpServer server = HttpServer.builder()
 *         .with(FiberloopMetrics.prometheus("/metrics", registry))   // observer + GET /metrics
 *         .get("/users/{id}", req -> HttpResponse.text("user " + req.pathParam("id")))
 *         .start();
 * }
 * With another registry (Datadog, OTLP, ...), add the observer alone:
 * {@code .observer(FiberloopMetrics.of(registry))}.
 *
 * <h2>Meters</h2>
 * Per loop, tagged {@code loop} (bound once the server starts, or with {@link #bindLoop}):
 * <table>
 *   <caption>Loop meters</caption>
 *   <tr><th>name (Prometheus)</th><th>type</th><th>what</th></tr>
 *   <tr><td>{@code fiberloop_loop_tasks_total}</td><td>counter</td><td>tasks and timer callbacks run</td></tr>
 *   <tr><td>{@code fiberloop_loop_queue_depth}</td><td>gauge</td><td>tasks waiting to run</td></tr>
 *   <tr><td>{@code fiberloop_loop_timers_pending}</td><td>gauge</td><td>timers pending</td></tr>
 *   <tr><td>{@code fiberloop_loop_lag_max_seconds}</td><td>gauge</td><td>the latest a timer fired after its deadline</td></tr>
 *   <tr><td>{@code fiberloop_loop_lag_mean_seconds}</td><td>gauge</td><td>the mean lateness of fired timers</td></tr>
 *   <tr><td>{@code fiberloop_loop_stalls_total}</td><td>counter</td><td>stalls the watchdog reported</td></tr>
 *   <tr><td>{@code fiberloop_loop_stalled}</td><td>gauge</td><td>1 while the loop is stalled, else 0</td></tr>
 *   <tr><td>{@code fiberloop_loop_tasks_live}</td><td>gauge</td><td>live tasks (fibers): running or suspended</td></tr>
 * </table>
 * Per server, tagged {@code port}:
 * <table>
 *   <caption>HTTP server meters</caption>
 *   <tr><th>name (Prometheus)</th><th>type</th><th>what</th></tr>
 *   <tr><td>{@code http_server_requests_seconds}</td><td>timer with a histogram</td><td>requests by {@code method},
 *       {@code uri} (the route template, {@code NOT_FOUND}, or {@code UNKNOWN}), {@code status} and
 *       {@code outcome} (Spring's and Micronaut's names, which dashboards know)</td></tr>
 *   <tr><td>{@code http_server_requests_active}</td><td>gauge</td><td>requests in flight</td></tr>
 *   <tr><td>{@code http_server_connections_active}</td><td>gauge</td><td>open connections</td></tr>
 *   <tr><td>{@code http_server_connections_total}</td><td>counter</td><td>connections accepted</td></tr>
 *   <tr><td>{@code http_server_body_received_bytes_total}, {@code http_server_body_sent_bytes_total}</td><td>counter</td><td>body bytes</td></tr>
 * </table>
 *
 * <p>Threading: {@link #requestDone} and the connection callbacks run on the server's loops,
 * several at once for a group, and are thread-safe; each costs a map lookup and a few atomic
 * adds. The static methods are safe from any thread.
 */
public final class FiberloopMetrics implements HttpObserver {
    /** Methods kept as a tag value; any other becomes {@code OTHER}, so a client cannot grow the tag set. */
    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT");

    private final MeterRegistry registry;
    /** The request timers, by method, uri and status (a route template is one key, not one per path). */
    private final Map<Key, Timer> timers = new ConcurrentHashMap<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final LongAdder accepted = new LongAdder();
    private final LongAdder received = new LongAdder();
    private final LongAdder sent = new LongAdder();
    private volatile Tags serverTags = Tags.empty();

    private record Key(String method, String route, int status) {
    }

    private FiberloopMetrics(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /**
     * An observer for {@link HttpServerBuilder#observer}: records the server's requests and
     * connections in {@code registry} and, once the server starts, its loops. Use one per server.
     *
     * @param registry where the meters go
     * @return the observer
     */
    public static FiberloopMetrics of(MeterRegistry registry) {
        return new FiberloopMetrics(registry);
    }

    /**
     * The observer of {@link #of} plus a {@code GET path} route that serves {@code registry} in the
     * Prometheus text format: one call for {@link HttpServerBuilder#with}. Needs
     * {@code io.micrometer:micrometer-registry-prometheus} on the class path.
     *
     * @param path the scrape route, usually {@code /metrics}
     * @param registry the registry to record in and to serve
     * @return what to add to the builder
     */
    public static Consumer<HttpServerBuilder> prometheus(String path, PrometheusMeterRegistry registry) {
        Objects.requireNonNull(path, "path");
        FiberloopMetrics metrics = of(registry);
        return b -> b.observer(metrics).get(path, scrape(registry));
    }

    /**
     * A handler that serves {@code registry} in the Prometheus text format (for a route of another
     * server, a management port's). Needs {@code io.micrometer:micrometer-registry-prometheus}.
     *
     * @param registry the registry
     * @return the handler
     */
    public static HttpHandler scrape(PrometheusMeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        return req -> HttpResponse.ok().contentType("text/plain; version=0.0.4; charset=utf-8").body(registry.scrape());
    }

    /**
     * Registers the meters of one loop (see the table above), tagged {@code loop=<name>}. A server
     * with this observer binds its own loops; call this for other loops. Binding a loop twice
     * registers nothing new.
     *
     * @param registry where the meters go
     * @param loop the loop
     */
    public static void bindLoop(MeterRegistry registry, EventLoop loop) {
        Objects.requireNonNull(registry, "registry");
        Tags tags = Tags.of("loop", loop.name());
        FunctionCounter.builder("fiberloop.loop.tasks", loop, l -> l.stats().tasksRun()).tags(tags)
                .description("Tasks and timer callbacks the loop ran").register(registry);
        Gauge.builder("fiberloop.loop.queue.depth", loop, l -> l.stats().queueDepth()).tags(tags)
                .description("Tasks waiting to run").register(registry);
        Gauge.builder("fiberloop.loop.timers.pending", loop, l -> l.stats().pendingTimers()).tags(tags)
                .description("Timers pending").register(registry);
        TimeGauge.builder("fiberloop.loop.lag.max", loop, TimeUnit.NANOSECONDS, l -> l.stats().maxLag().toNanos()).tags(tags)
                .description("The latest a timer fired after its deadline").register(registry);
        TimeGauge.builder("fiberloop.loop.lag.mean", loop, TimeUnit.NANOSECONDS, l -> l.stats().meanLag().toNanos()).tags(tags)
                .description("The mean lateness of fired timers").register(registry);
        FunctionCounter.builder("fiberloop.loop.stalls", loop, l -> l.stats().stalls()).tags(tags)
                .description("Stalls the loop's watchdog reported").register(registry);
        Gauge.builder("fiberloop.loop.stalled", loop, l -> l.stats().stalled() ? 1 : 0).tags(tags)
                .description("1 while the loop is stalled (its watchdog reported work holding it), else 0").register(registry);
        Gauge.builder("fiberloop.loop.tasks.live", loop, FiberLoops::liveTasks).tags(tags)
                .description("Live tasks (fibers), running or suspended").register(registry);
    }

    @Override
    public void serverStarted(HttpServer server) {
        Tags tags = Tags.of("port", String.valueOf(server.port()));
        serverTags = tags;
        for (EventLoop loop : server.loops()) {
            bindLoop(registry, loop);
        }
        Gauge.builder("http.server.requests.active", server, HttpServer::activeRequests).tags(tags)
                .description("Requests in flight").register(registry);
        Gauge.builder("http.server.connections.active", connections, AtomicInteger::get).tags(tags).strongReference(true)
                .description("Open connections").register(registry);
        FunctionCounter.builder("http.server.connections", accepted, LongAdder::sum).tags(tags)
                .description("Connections accepted").register(registry);
        FunctionCounter.builder("http.server.body.received", received, LongAdder::sum).tags(tags).baseUnit("bytes")
                .description("Request body bytes received").register(registry);
        FunctionCounter.builder("http.server.body.sent", sent, LongAdder::sum).tags(tags).baseUnit("bytes")
                .description("Response body bytes sent").register(registry);
    }

    @Override
    public void requestDone(Request r) {
        String method = METHODS.contains(r.method()) ? r.method() : "OTHER";
        Timer timer = timers.computeIfAbsent(new Key(method, r.route(), r.status()), this::timer);
        timer.record(r.durationNanos(), TimeUnit.NANOSECONDS);
        received.add(r.bytesReceived());
        sent.add(r.bytesSent());
    }

    private Timer timer(Key k) {
        String uri = k.route() != null ? k.route() : k.status() == 404 ? "NOT_FOUND" : "UNKNOWN";
        return Timer.builder("http.server.requests")
                .tags(serverTags)
                .tags("method", k.method(), "uri", uri, "status", String.valueOf(k.status()), "outcome", outcome(k.status()))
                .description("HTTP requests, from the head's arrival to the end of the response")
                .publishPercentileHistogram()
                .register(registry);
    }

    private static String outcome(int status) {
        return switch (status / 100) {
            case 1 -> "INFORMATIONAL";
            case 2 -> "SUCCESS";
            case 3 -> "REDIRECTION";
            case 4 -> "CLIENT_ERROR";
            case 5 -> "SERVER_ERROR";
            default -> "UNKNOWN";
        };
    }

    @Override
    public void connectionOpened(EventLoop loop, SocketAddress remote) {
        connections.incrementAndGet();
        accepted.increment();
    }

    @Override
    public void connectionClosed(EventLoop loop, SocketAddress remote) {
        connections.decrementAndGet();
    }
}
