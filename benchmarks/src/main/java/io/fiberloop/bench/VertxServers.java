package io.fiberloop.bench;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.transport.Transport;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * Vert.x 5's servers for the load harnesses (the second baseline: the library a user would
 * otherwise pick), each run by them in a child JVM of its own with the child protocol of
 * {@link ChildJvm#serveUntilStdinEof}. One Vert.x instance with one event loop, on the transport
 * asked for (Vert.x's own epoll/io_uring transport over our Netty); the server lives in a verticle
 * deployed either on that event loop ({@code eventloop}: handlers are callbacks on the loop) or
 * with {@link ThreadingModel#VIRTUAL_THREAD} ({@code virtual}: each handler call runs in a virtual
 * thread of the JDK's default scheduler, Vert.x's blocking-style mode, the closest to fiberloop's).
 *
 * <p>Usage (normally only through {@link HttpLoad}, {@link EchoLoad} and {@link WebLoad}):
 * {@code java ... -cp benchmarks.jar io.fiberloop.bench.VertxServers http|echo eventloop|virtual epoll}, or
 * {@code ... VertxServers web eventloop epoll DIRECTORY}.
 */
public final class VertxServers {
    private VertxServers() {
    }

    /**
     * Starts one server and serves until stdin ends.
     *
     * @param args {@code http|echo|web}, {@code eventloop|virtual}, the transport ({@code epoll},
     *     {@code io_uring}, {@code nio}); for {@code web}, the directory of its files
     * @throws Exception if Vert.x cannot start or bind, or the transport is not available
     */
    public static void main(String[] args) throws Exception {
        if (args.length != 3 && !(args.length == 4 && args[0].equals("web"))) {
            throw new IllegalArgumentException("usage: VertxServers http|echo eventloop|virtual epoll|io_uring|nio, "
                    + "or VertxServers web eventloop|virtual epoll|io_uring|nio DIRECTORY");
        }
        VerticleBase verticle = switch (args[0]) {
            case "http" -> new Http();
            case "echo" -> new Echo();
            case "web" -> new Web(args[3]);
            default -> throw new IllegalArgumentException("server kind must be http, echo or web: " + args[0]);
        };
        ThreadingModel model = switch (args[1]) {
            case "eventloop" -> ThreadingModel.EVENT_LOOP;
            case "virtual" -> ThreadingModel.VIRTUAL_THREAD;
            default -> throw new IllegalArgumentException("threading model must be eventloop or virtual: " + args[1]);
        };
        Transport transport = switch (BenchTransports.norm(args[2])) {
            case "epoll" -> Transport.EPOLL;
            case "io_uring" -> Transport.IO_URING;
            case "nio" -> Transport.NIO;
            default -> throw new IllegalArgumentException("unknown transport " + args[2] + ": use epoll, io_uring or nio");
        };
        if (!transport.available()) {
            throw new IllegalStateException("Vert.x's " + transport.name() + " transport is not available",
                    transport.unavailabilityCause());
        }
        Vertx vertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(1)).withTransport(transport).build();
        vertx.deployVerticle(verticle, new DeploymentOptions().setThreadingModel(model))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        System.out.println("vert.x " + args[0] + " " + args[1] + " on " + transport.name() + ", native transport "
                + vertx.isNativeTransportEnabled());
        int port = switch (verticle) {
            case Http h -> h.port;
            case Echo e -> e.port;
            case Web w -> w.port;
            default -> throw new AssertionError(verticle);
        };
        ChildJvm.serveUntilStdinEof(port,
                () -> vertx.close().toCompletionStage().toCompletableFuture().get(2, TimeUnit.SECONDS));
    }

    /** {@code GET /plaintext}: {@code Hello, World!} with the same headers as the other servers. */
    static final class Http extends VerticleBase {
        private static final Buffer HELLO = Buffer.buffer(HttpServers.HELLO);
        private static final CharSequence TEXT_PLAIN = HttpHeaders.createOptimized("text/plain");
        private static final CharSequence LENGTH = HttpHeaders.createOptimized(Integer.toString(HttpServers.HELLO.length));
        /** The Date header of the current second; replaced whole, so any handler thread may read it. */
        private volatile DateOfSecond date = new DateOfSecond(Long.MIN_VALUE, "");
        volatile int port;

        private record DateOfSecond(long second, CharSequence value) {
        }

        @Override
        public Future<?> start() {
            return vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0).setTcpNoDelay(true)
                            .setAcceptBacklog(1024))
                    .requestHandler(this::handle)
                    .listen()
                    .onSuccess(s -> port = s.actualPort());
        }

        private void handle(HttpServerRequest req) {
            if (!req.path().equals("/plaintext")) {
                req.response().setStatusCode(404).putHeader(HttpHeaders.DATE, date()).end();
                return;
            }
            req.response()
                    .putHeader(HttpHeaders.CONTENT_TYPE, TEXT_PLAIN)
                    .putHeader(HttpHeaders.CONTENT_LENGTH, LENGTH)
                    .putHeader(HttpHeaders.DATE, date())
                    .end(HELLO);
        }

        private CharSequence date() {
            long now = System.currentTimeMillis() / 1000;
            DateOfSecond d = date;
            if (d.second() != now) {
                d = new DateOfSecond(now, HttpHeaders.createOptimized(
                        HttpServers.RawNetty.HTTP_DATE.format(Instant.ofEpochSecond(now))));
                date = d;
            }
            return d.value();
        }
    }

    /** Echo: every buffer read is written back. */
    static final class Echo extends VerticleBase {
        volatile int port;

        @Override
        public Future<?> start() {
            return vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0).setTcpNoDelay(true)
                            .setAcceptBacklog(1024))
                    .connectHandler(Echo::echo)
                    .listen()
                    .onSuccess(s -> port = s.actualPort());
        }

        private static void echo(NetSocket socket) {
            socket.handler(socket::write);
        }
    }

    /**
     * The web features, as {@link WebServers}' servers: {@code /ws} echoes each WebSocket message
     * (Vert.x reassembles messages, as fiberloop does; per-message compression is not offered by
     * the load's client), {@code /files/NAME} sends a file with {@code sendFile} (zero-copy where the
     * transport has it).
     */
    static final class Web extends VerticleBase {
        private final String directory;
        volatile int port;

        Web(String directory) {
            this.directory = directory;
        }

        @Override
        public Future<?> start() {
            return vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0).setTcpNoDelay(true)
                            .setAcceptBacklog(1024))
                    .exceptionHandler(err -> { }) // a load client that stops mid-file resets its connection: not news
                    .webSocketHandler(ws -> {
                        if (!ws.path().equals("/ws")) {
                            ws.close((short) 1008);
                            return;
                        }
                        ws.binaryMessageHandler(ws::writeBinaryMessage);
                    })
                    .requestHandler(req -> {
                        String path = req.path();
                        if (!path.startsWith("/files/") || path.contains("..")) {
                            req.response().setStatusCode(404).end();
                            return;
                        }
                        req.response().sendFile(directory + "/" + path.substring("/files/".length()));
                    })
                    .listen()
                    .onSuccess(s -> port = s.actualPort());
        }
    }
}
