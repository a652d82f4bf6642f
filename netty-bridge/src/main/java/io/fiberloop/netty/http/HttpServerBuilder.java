package io.fiberloop.netty.http;

import io.fiberloop.fiber.FiberDump;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopGroup;
import io.fiberloop.netty.NettyLoops;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Configures and starts a server. Defaults: {@code 127.0.0.1}, port {@code 8080}, a new loop,
 * initial line 4096 bytes, headers 8192 bytes, body 10 MiB, request timeout 30 s, idle timeout
 * 60 s, access log off, a {@code 404 Not Found} fallback.
 * <p>Threading: one thread at a time; {@link #start()} from any thread.
 */
public final class HttpServerBuilder {
    String host = "127.0.0.1";
    int port = 8080;
    EventLoop loop;
    LoopGroup group;
    final Router router = new Router();
    HttpHandler notFound = r -> HttpResponse.error(404, "not found: " + r.path() + "\n");
    final List<HttpServer.BeforeFilter> before = new ArrayList<>();
    final List<HttpServer.AfterFilter> after = new ArrayList<>();
    final ErrorMappers.Builder errors = new ErrorMappers.Builder();
    JsonCodec json;
    Compression compression;
    int maxInitialLineLength = 4096;
    int maxHeaderSize = 8192;
    long maxBodySize = 10L * 1024 * 1024;
    Duration requestTimeout = Duration.ofSeconds(30);
    Duration idleTimeout = Duration.ofSeconds(60);
    boolean accessLog;
    final List<HttpObserver> observers = new ArrayList<>();
    SslContext tls;
    boolean http2 = true;
    Http2Options http2Options = Http2Options.defaults();

    HttpServerBuilder() {
    }

    /**
     * Sets the address to bind (default {@code 127.0.0.1}).
     *
     * @param host the address to bind, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
     * @return this
     */
    public HttpServerBuilder host(String host) {
        this.host = Objects.requireNonNull(host, "host");
        return this;
    }

    /**
     * Sets the port to bind (default {@code 8080}).
     *
     * @param port the port; {@code 0} for any free one (see {@link HttpServer#port()})
     * @return this
     */
    public HttpServerBuilder port(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, was " + port);
        }
        this.port = port;
        return this;
    }

    /**
     * Serves on {@code loop} (built with {@link NettyLoops}); the server does not close it.
     * Without this (or {@link #group(LoopGroup)}), {@link #start()} creates a loop that the
     * server owns and closes.
     *
     * @param loop the loop
     * @return this
     */
    public HttpServerBuilder loop(EventLoop loop) {
        this.loop = Objects.requireNonNull(loop, "loop");
        return this;
    }

    /**
     * Serves on every loop of {@code group} (built with {@link NettyLoops#newGroup}, all on
     * one transport): one listening socket per loop on the same port, with
     * {@code SO_REUSEPORT}, or on NIO one acceptor handing connections out round-robin (see
     * "Multi-core" in {@link HttpServer}). The server does not close the group. Instead of
     * {@link #loop(EventLoop)}.
     *
     * @param group the loops
     * @return this
     */
    public HttpServerBuilder group(LoopGroup group) {
        this.group = Objects.requireNonNull(group, "group");
        return this;
    }

    /**
     * Adds a route. {@code path} is literal segments, {@code {name}} segments (one segment,
     * captured as a path parameter) and an optional last {@code *} (the rest of the path,
     * captured as {@code "*"}).
     *
     * @param method the method, e.g. {@code GET} (a {@code GET} route also answers {@code HEAD})
     * @param path the path pattern, e.g. {@code /users/{id}}
     * @param handler the handler
     * @return this
     * @throws IllegalArgumentException on a bad pattern or a duplicate route
     */
    public HttpServerBuilder route(String method, String path, HttpHandler handler) {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(handler, "handler");
        router.add(HttpMethod.valueOf(method.toUpperCase(Locale.ROOT)).name(), path, handler);
        return this;
    }

    /**
     * Adds a {@code GET} route: {@code route("GET", path, handler)}.
     *
     * @param path the path pattern
     * @param handler the handler
     * @return this
     */
    public HttpServerBuilder get(String path, HttpHandler handler) {
        return route("GET", path, handler);
    }

    /**
     * Adds a {@code POST} route: {@code route("POST", path, handler)}.
     *
     * @param path the path pattern
     * @param handler the handler
     * @return this
     */
    public HttpServerBuilder post(String path, HttpHandler handler) {
        return route("POST", path, handler);
    }

    /**
     * Adds a {@code PUT} route: {@code route("PUT", path, handler)}.
     *
     * @param path the path pattern
     * @param handler the handler
     * @return this
     */
    public HttpServerBuilder put(String path, HttpHandler handler) {
        return route("PUT", path, handler);
    }

    /**
     * Adds a {@code DELETE} route: {@code route("DELETE", path, handler)}.
     *
     * @param path the path pattern
     * @param handler the handler
     * @return this
     */
    public HttpServerBuilder delete(String path, HttpHandler handler) {
        return route("DELETE", path, handler);
    }

    /**
     * Adds a WebSocket endpoint with the default {@link WebSocketOptions}: a {@code GET} route
     * at {@code path} that upgrades to a WebSocket and runs {@code handler} in the request's
     * fiber for as long as the connection lasts (see {@link WebSocket}).
     * {@snippet :
     * builder.websocket("/ws/echo", ws -> {
     *     for (WebSocket.Message msg; (msg = ws.receive()) != null; ) {
     *         ws.send(msg);
     *     }
     * });
     * }
     * A plain {@code GET} (not an upgrade) gets {@code 426 Upgrade Required}. The route's
     * pattern may hold path parameters ({@code ws.request().pathParam(...)}). Before filters run
     * on the upgrade request (authentication, CORS); a filter's response refuses the upgrade.
     *
     * @param path the path pattern
     * @param handler serves each connection
     * @return this
     */
    public HttpServerBuilder websocket(String path, WebSocketHandler handler) {
        return websocket(path, WebSocketOptions.defaults(), handler);
    }

    /**
     * Adds a WebSocket endpoint: as {@link #websocket(String, WebSocketHandler)}, with options
     * (message limit, pings, idle timeout, subprotocols, compression, origin check).
     *
     * @param path the path pattern
     * @param options the connections' options
     * @param handler serves each connection
     * @return this
     */
    public HttpServerBuilder websocket(String path, WebSocketOptions options, WebSocketHandler handler) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(handler, "handler");
        return route("GET", path, new WsUpgrade(options, handler));
    }

    /**
     * The handler of requests no route matches (default: {@code 404} text).
     *
     * @param handler the fallback
     * @return this
     */
    public HttpServerBuilder notFound(HttpHandler handler) {
        this.notFound = Objects.requireNonNull(handler, "handler");
        return this;
    }

    /**
     * Adds a filter run before the handler, in the order added.
     *
     * @param filter the filter
     * @return this
     */
    public HttpServerBuilder before(HttpServer.BeforeFilter filter) {
        before.add(Objects.requireNonNull(filter, "filter"));
        return this;
    }

    /**
     * Adds a filter run after the handler, in the order added.
     *
     * @param filter the filter
     * @return this
     */
    public HttpServerBuilder after(HttpServer.AfterFilter filter) {
        after.add(Objects.requireNonNull(filter, "filter"));
        return this;
    }

    /**
     * The JSON codec of {@link HttpRequest#body(Class)} and {@link HttpResponse#json(Object)}.
     * Without it the server uses the one found by {@link java.util.ServiceLoader} (the
     * {@code fiberloop-jackson} artifact provides one), if any.
     * {@snippet :
     * builder.json(JacksonCodec.of(new ObjectMapper().findAndRegisterModules()));
     * }
     *
     * @param codec the codec (thread-safe: every loop of the server uses it)
     * @return this
     */
    public HttpServerBuilder json(JsonCodec codec) {
        this.json = Objects.requireNonNull(codec, "codec");
        return this;
    }

    /**
     * Compresses responses with gzip or deflate when the client accepts them (see
     * {@link Compression}: text types, bodies of at least 1 KiB by default). Off by default.
     *
     * @param compression the settings, e.g. {@code Compression.defaults()}; {@code null} turns it off
     * @return this
     */
    public HttpServerBuilder compression(Compression compression) {
        this.compression = compression;
        return this;
    }

    /**
     * Serves cross-origin requests by {@code cors}'s policy: adds a before filter that answers
     * preflight requests and an after filter that adds the {@code Access-Control-*} headers
     * (see {@link Cors}). Call it before adding filters of your own (an authentication filter
     * must not refuse a preflight, which carries no credentials).
     *
     * @param cors the policy
     * @return this
     */
    public HttpServerBuilder cors(Cors cors) {
        Objects.requireNonNull(cors, "cors");
        before.add(cors::preflight);
        after.add(cors::decorate);
        return this;
    }

    /**
     * Maps exceptions of {@code type} (and its subclasses) thrown by a handler or a filter to a
     * response, instead of the default {@code 500} (or an {@link HttpException}'s status). The
     * mapping for the nearest superclass of the thrown exception wins; a mapping for
     * {@code HttpException} itself replaces the default text answers of the server's
     * {@code 400}s and {@code 413}s raised in handlers (say, to answer JSON). A mapped exception is
     * not logged.
     * {@snippet :
     * builder.onError(NoSuchElementException.class, (req, e) -> HttpResponse.error(404, "no such item\n"))
     *        .onError(IllegalArgumentException.class, (req, e) -> HttpResponse.error(400, e.getMessage() + "\n"));
     * }
     *
     * @param type the exception type
     * @param handler makes the response
     * @param <E> the exception type
     * @return this
     * @throws IllegalArgumentException if {@code type} is mapped already
     */
    public <E extends Throwable> HttpServerBuilder onError(Class<E> type, HttpServer.ErrorHandler<? super E> handler) {
        errors.add(type, handler);
        return this;
    }

    /**
     * Sets the longest request line accepted (default 4096 bytes).
     *
     * @param bytes the longest request line accepted (longer: {@code 414})
     * @return this
     */
    public HttpServerBuilder maxInitialLineLength(int bytes) {
        this.maxInitialLineLength = positive(bytes, "maxInitialLineLength");
        return this;
    }

    /**
     * Sets the most header bytes accepted (default 8192).
     *
     * @param bytes the most header bytes accepted (more: {@code 431})
     * @return this
     */
    public HttpServerBuilder maxHeaderSize(int bytes) {
        this.maxHeaderSize = positive(bytes, "maxHeaderSize");
        return this;
    }

    /**
     * Sets the largest request body accepted (default 10 MiB).
     *
     * @param bytes the largest request body accepted (larger: {@code 413})
     * @return this
     */
    public HttpServerBuilder maxBodySize(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("maxBodySize must be >= 0, was " + bytes);
        }
        this.maxBodySize = bytes;
        return this;
    }

    /**
     * How long a request head may take to arrive once it started, and how long a body read may
     * wait for data; longer: {@code 408} and the connection is closed.
     *
     * @param timeout the timeout
     * @return this
     */
    public HttpServerBuilder requestTimeout(Duration timeout) {
        this.requestTimeout = positive(timeout, "requestTimeout");
        return this;
    }

    /**
     * How long a keep-alive connection may wait for its next request before it is closed.
     *
     * @param timeout the timeout
     * @return this
     */
    public HttpServerBuilder idleTimeout(Duration timeout) {
        this.idleTimeout = positive(timeout, "idleTimeout");
        return this;
    }

    /**
     * Logs one line per request at INFO to the logger {@value HttpServer#ACCESS_LOGGER}, in
     * the Combined Log Format with the time taken in microseconds as a last field (Apache's
     * {@code %D}), which log tools (GoAccess, AWStats, Logstash's {@code COMBINEDAPACHELOG})
     * read:
     * {@code 127.0.0.1 - - [06/Dec/2026:22:41:07 +0000] "GET /users/7 HTTP/1.1" 200 13 "-" "curl/8.5.0" 412}.
     * Route your logging framework's logger of that name to its own file, with a pattern of
     * the message alone ({@code %msg%n} in Logback).
     *
     * @param on whether to log
     * @return this
     */
    public HttpServerBuilder accessLog(boolean on) {
        this.accessLog = on;
        return this;
    }

    /**
     * Adds an observer, told of every answered request and of every connection (metrics,
     * tracing); see {@link HttpObserver}. Observers are called in the order added.
     *
     * @param observer the observer (thread-safe if the server runs on several loops)
     * @return this
     */
    public HttpServerBuilder observer(HttpObserver observer) {
        observers.add(Objects.requireNonNull(observer, "observer"));
        return this;
    }

    /**
     * Adds a health check at {@code path} ({@code GET}): {@code 200} and
     * {@code {"status":"UP",...}} while every loop of this server runs and none is stalled
     * (its watchdog reports work holding it), else {@code 503} and {@code "DOWN"}; the JSON
     * body lists each loop's state, stall, queue depth and live tasks. For Kubernetes probes
     * and load balancers.
     *
     * <p>A stalled loop cannot answer its own health check (the request waits, and the probe
     * times out): on a group another loop answers for it; on a single loop, serve the check
     * from a management server on a loop of its own with {@link #health(String, List)}.
     *
     * @param path the route, e.g. {@code /health}
     * @return this
     */
    public HttpServerBuilder health(String path) {
        return get(path, new HealthCheck(null));
    }

    /**
     * Adds a health check at {@code path} ({@code GET}) that watches {@code loops}, another
     * server's: the way a management server on its own loop answers {@code 503} while the
     * application's loop is stalled. See {@link #health(String)}.
     * {@snippet :
     * EventLoop app = NettyLoops.builder().name("app").build();
     * EventLoop management = NettyLoops.builder().name("management").build();
     * HttpServer server = HttpServer.builder().loop(app).port(8080).get("/", req -> HttpResponse.text("hi")).start();
     * HttpServer probes = HttpServer.builder().loop(management).port(8081).health("/health", server.loops()).start();
     * }
     *
     * @param path the route, e.g. {@code /health}
     * @param loops the loops to watch
     * @return this
     * @throws IllegalArgumentException if {@code loops} is empty
     */
    public HttpServerBuilder health(String path, List<EventLoop> loops) {
        Objects.requireNonNull(loops, "loops");
        if (loops.isEmpty()) {
            throw new IllegalArgumentException("health(path, loops) needs at least one loop to watch; "
                    + "use health(path) to watch this server's own loops");
        }
        return get(path, new HealthCheck(loops));
    }

    /**
     * Adds a fiber dump at {@code path} ({@code GET}): every fiber loop of the JVM and its live
     * tasks as a tree, each with its name ({@code GET /users/{id}}), state, where it waits and
     * its stack ({@link FiberDump}); text, or JSON with {@code ?format=json}. It shows your
     * code's stacks: serve it on a management port, not to the public.
     *
     * @param path the route, e.g. {@code /debug/fibers}
     * @return this
     */
    public HttpServerBuilder fiberDump(String path) {
        return get(path, req -> {
            FiberDump dump = FiberDump.ofAllLoops();
            return "json".equals(req.queryParam("format")) ? HttpResponse.json(dump.json())
                    : HttpResponse.text(dump.text()).setHeader("Cache-Control", "no-store");
        });
    }

    /**
     * Applies {@code feature} to this builder: a way for a module to add several things in one
     * call (routes, filters, an observer), e.g.
     * {@code .with(FiberloopMetrics.prometheus("/metrics", registry))} from
     * {@code fiberloop-micrometer}.
     *
     * @param feature what to add
     * @return this
     */
    public HttpServerBuilder with(java.util.function.Consumer<? super HttpServerBuilder> feature) {
        Objects.requireNonNull(feature, "feature").accept(this);
        return this;
    }

    /**
     * Serves HTTPS: TLS through Netty's {@code SslHandler}, first in each connection's
     * pipeline (see "HTTPS" in {@link HttpServer}).
     * {@snippet :
     * SslContext tls = SslContextBuilder.forServer(keyManagerFactory).build();
     * HttpServer server = HttpServer.builder().port(8443).tls(tls).get("/", req -> HttpResponse.text("hi")).start();
     * }
     *
     * @param context a server context ({@code SslContextBuilder.forServer(...)}), or {@code null}
     *        for plain HTTP (the default)
     * @return this
     * @throws IllegalArgumentException if {@code context} is a client context
     */
    public HttpServerBuilder tls(SslContext context) {
        if (context != null && !context.isServer()) {
            throw new IllegalArgumentException("HttpServerBuilder.tls() needs a server context: build it with "
                    + "SslContextBuilder.forServer(keyManagerFactory) (or forServer(certificate, key)), not forClient()");
        }
        this.tls = context;
        return this;
    }

    /**
     * Whether the server speaks HTTP/2 besides HTTP/1.1 (on by default): in clear text to
     * clients that start with the HTTP/2 preface (prior knowledge) or ask for
     * {@code Upgrade: h2c}, over TLS to clients that choose {@code h2} by ALPN (the
     * {@link #tls} context must offer it: {@link Http2Options#alpn()}). The same routes,
     * filters and handlers serve both; see {@link Http2Options} for the limits.
     *
     * @param on whether to speak HTTP/2
     * @return this
     */
    public HttpServerBuilder http2(boolean on) {
        this.http2 = on;
        return this;
    }

    /**
     * The HTTP/2 limits (default {@link Http2Options#defaults()}).
     *
     * @param options the limits
     * @return this
     */
    public HttpServerBuilder http2Options(Http2Options options) {
        this.http2Options = Objects.requireNonNull(options, "options");
        return this;
    }

    /**
     * Binds and starts serving.
     * <p>Threading: any thread (a fiber of the loop is suspended, another thread blocks).
     *
     * @return the started server
     * @throws IOException if the address cannot be bound
     * @throws IllegalArgumentException if both {@link #loop} and {@link #group} were given
     */
    public HttpServer start() throws IOException {
        if (loop != null && group != null) {
            throw new IllegalArgumentException("HttpServerBuilder: loop(...) and group(...) both given; serve on one loop or on a group");
        }
        if (tls != null && !http2 && Http2Setup.offersHttp2(tls)) {
            throw new IllegalArgumentException("HttpServerBuilder: the TLS context offers h2 by ALPN but http2(false) turned HTTP/2 off; "
                    + "build the context without Http2Options.alpn() (or with HTTP/1.1 alone), or leave HTTP/2 on");
        }
        return HttpServer.start(this);
    }

    static int positive(int v, String what) {
        if (v <= 0) {
            throw new IllegalArgumentException(what + " must be > 0, was " + v);
        }
        return v;
    }

    static Duration positive(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be > 0, was " + d);
        }
        return d;
    }
}
