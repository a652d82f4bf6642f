package io.fiberloop.bench;

import io.fiberloop.bench.ChildJvm.Child;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The echo load benchmark: fiberloop's fiber-per-connection echo server ({@code TcpServer}, read,
 * write, drain), a hand-written raw Netty echo handler, Vert.x 5's {@code NetServer} on its event
 * loop and Vert.x 5 in virtual-thread mode, each in a child JVM of its own on one event loop of the
 * same transport (epoll by default), none pinned to a CPU, driven in turn by the same Netty client:
 * one event loop in this JVM, N connections each doing ping-pong of {@code size} bytes. Every
 * (size, connections) pair is a cell; every round measures every server with fresh children, by
 * default in interleaved slices (all servers connected, measured in turns while the others' connections
 * idle), else one after the other ({@link Harness#runCell}). Per cell it prints the medians over the
 * rounds of round trips a second, p50/p99 latency (HdrHistogram, on the client; the median of the
 * slices') and the server's CPU per round trip split into user and system time
 * ({@code /proc/<pid>/stat} around each slice), the median of the per-round ratios
 * against raw Netty, issue 20's verdict on them, and raw's spread over the rounds; it writes
 * everything to a JSON file ({@link ResultsFile}) that {@link Charts} renders.
 *
 * <pre>
 * ./fiberloop mvn -q -DskipTests -pl benchmarks -am package
 * ./fiberloop java -cp benchmarks/target/benchmarks.jar io.fiberloop.bench.EchoLoad --help
 * </pre>
 * Exits 2 for bad options, 1 when a run failed or saw errors. Bounds: at most 10,000 connections,
 * 16 MiB messages, 600 s per phase; the whole run is stopped after its planned time plus a margin.
 * Children are killed at the end, on failure and from a shutdown hook.
 */
@Command(name = "EchoLoad", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 110,
        description = {"Ping-pong echo of fiberloop, raw Netty, Vert.x 5 (event loop) and Vert.x 5 (virtual threads), each "
                + "in a child JVM on one event loop, not pinned, driven by one Netty client loop in this JVM; alternating "
                + "rounds, medians, ratios against raw Netty, issue 20's verdicts; a JSON result file."})
public final class EchoLoad extends LoadHarness {
    /** Every server the harness knows; {@code fiberloop-turn} writes without {@code drain()}, relying on the per-turn flush. */
    static final List<String> SERVERS = List.of("fiberloop", "raw", "vertx", "vertx-vt", "fiberloop-turn", "fiberloop-base",
            "fiberloop-reads");

    @Option(names = {"-c", "--connections"}, split = ",", defaultValue = "50,1000", paramLabel = "N[,N]",
            description = "Connections; one cell per value and size (default: ${DEFAULT-VALUE}).")
    List<Integer> connections;

    @Option(names = {"-s", "--size"}, split = ",", defaultValue = "1k,64k", paramLabel = "BYTES[,BYTES]",
            converter = SizeConverter.class,
            description = "Message sizes in bytes, k = 1024 (default: ${DEFAULT-VALUE}).")
    List<Integer> sizes;

    @Option(names = "--servers", split = ",", defaultValue = "fiberloop,raw,vertx,vertx-vt", paramLabel = "LIST",
            description = "Servers, in the order of odd rounds: fiberloop, raw, vertx, vertx-vt, fiberloop-turn, fiberloop-reads (a "
                    + "TcpServer.ReadHandler: no fiber per connection), "
                    + "fiberloop-base (the fiberloop server of --baseline-jar) "
                    + "(default: ${DEFAULT-VALUE}).")
    List<String> servers;

    @Option(names = "--baseline-mode", defaultValue = "drain", paramLabel = "MODE",
            description = "How fiberloop-base serves: drain (a fiber per connection, as fiberloop), turn, or reads "
                    + "(a read handler, as fiberloop-reads) (default: ${DEFAULT-VALUE}).")
    String baselineMode;

    @Option(names = "--client-transport", defaultValue = "epoll", paramLabel = "T",
            description = "The client's transport, the same for every server (default: ${DEFAULT-VALUE}).")
    String clientTransport;

    @Option(names = "--prewarm", defaultValue = "0", paramLabel = "N",
            description = "Before the measured connections, open and close N connections to the server, 100 at a time, "
                    + "so its per-connection code is compiled first (default: ${DEFAULT-VALUE}).")
    int prewarm;

    @Option(names = "--client-warmup", defaultValue = "5", paramLabel = "S",
            description = "Before the first cell, one unrecorded run of S seconds against raw (else the first server) so "
                    + "that the client JVM is compiled before the first measured run; 0 for none (default: ${DEFAULT-VALUE}).")
    int clientWarmup;

    @Option(names = "--timer-probe",
            description = "A fiber on fiberloop's loop sleeps 1 ms over and over; the server prints how late the sleeps ended.")
    boolean timerProbe;

    /**
     * Runs the harness.
     *
     * @param args see {@code --help}
     */
    public static void main(String[] args) {
        LoadHarness.main(new EchoLoad(), args);
    }

    /** Sizes such as {@code 1024}, {@code 1k} or {@code 64K}. */
    static final class SizeConverter implements CommandLine.ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            String s = value.trim().toLowerCase(Locale.ROOT);
            int mul = s.endsWith("k") ? 1024 : 1;
            try {
                return Integer.parseInt(mul == 1 ? s : s.substring(0, s.length() - 1)) * mul;
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("not a size in bytes (e.g. 1024 or 64k): " + value);
            }
        }
    }

    @Override
    void validate() {
        LoadOptions.checkServers(servers, SERVERS);
        LoadOptions.checkEach("--connections", connections, 1, 10_000);
        LoadOptions.checkEach("--size", sizes, 1, 16 << 20);
        LoadOptions.check("--prewarm", prewarm, 0, 100_000);
        LoadOptions.check("--client-warmup", clientWarmup, 0, 600);
        if (!List.of("drain", "turn", "reads").contains(baselineMode)) {
            throw new IllegalArgumentException("--baseline-mode must be drain, turn or reads, not " + baselineMode);
        }
        clientTransport = BenchTransports.norm(clientTransport);
        BenchTransports.ioHandlerFactory(clientTransport);
    }

    @Override
    List<String> servers() {
        return servers;
    }

    @Override
    String load() {
        return "client " + clientTransport + ", sizes " + sizes + ", connections " + connections;
    }

    @Override
    String notes() {
        return "open files limit " + maxFds() + ", ";
    }

    @Override
    long budgetSeconds() {
        return common.budgetSeconds(connections.size() * sizes.size(), servers.size())
                + (clientWarmup > 0 ? common.warmup + clientWarmup + 60L : 0);
    }

    @Override
    void describe(Map<String, Object> m) {
        m.put("sizes", sizes);
        m.put("connections", connections);
        m.put("servers", servers);
        m.put("clientTransport", clientTransport);
        m.put("prewarm", prewarm);
        m.put("clientWarmupSeconds", clientWarmup);
        m.put("timerProbe", timerProbe);
    }

    /** The client's warm-up ({@code --client-warmup}), then every (size, connections) cell, on one client loop. */
    @Override
    boolean runCells(ResultsFile results) throws Exception {
        MultiThreadIoEventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory("echo-client"), BenchTransports.ioHandlerFactory(clientTransport));
        boolean ok = true;
        try {
            if (clientWarmup > 0) {
                String server = servers.contains("raw") ? "raw" : servers.get(0);
                try (Harness.Contender c = contender(server, connections.get(0), sizes.get(0), clientGroup)) {
                    c.warmUp(common.warmup);
                    Harness.Slice w = c.slice(clientWarmup);
                    System.out.printf(Locale.ROOT, "client warm-up against %s (not recorded): %.0f rt/s%n", server,
                            w.operations() / w.seconds());
                } catch (Exception e) {
                    System.out.printf("FAILED client warm-up against %s: %s%n", server, e);
                    results.fail("client warm-up against " + server + ": " + e);
                    ok = false;
                }
            }
            for (int size : sizes) {
                for (int conns : connections) {
                    ok &= Harness.runCell("echo " + sizeText(size) + " x " + conns, "rt", Map.of("size", size, "connections", conns),
                            Goal.ECHO, common, servers,
                            server -> contender(server, conns, size, clientGroup),
                            EchoLoad::printRun, s -> (long) s.extra().get("errors") == 0, results);
                }
            }
        } finally {
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
        return ok;
    }

    /** {@code 1 KiB}, {@code 64 KiB} or {@code 100 B}. */
    static String sizeText(int size) {
        return size >= 1024 && size % 1024 == 0 ? (size / 1024) + " KiB" : size + " B";
    }

    static String maxFds() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (l.startsWith("Max open files")) {
                    return l.substring("Max open files".length()).trim().split("\\s+")[0];
                }
            }
        } catch (IOException ignored) {
            // unknown
        }
        return "?";
    }

    // ---------------------------------------------------------------- client

    /** State shared by all connections of one run; touched only by the client's event-loop thread, except the volatile counters. */
    static final class ClientState {
        final int size;
        final ByteBuf payload;
        /** Round-trip latencies in ns; recorded and reset on the client's loop only. */
        final Histogram histogram = new Histogram(3);
        volatile long roundTrips;
        volatile long errors;
        volatile boolean stopping;
        /** While set, a connection whose echo is complete sends nothing more: the server goes idle. Client loop only. */
        boolean paused;
        /** Pings sent whose echo is not complete (or failed) yet. Client loop only. */
        int inFlight;
        final AtomicReference<Throwable> firstError = new AtomicReference<>();

        ClientState(int size) {
            this.size = size;
            byte[] bytes = new byte[size];
            for (int i = 0; i < size; i++) {
                bytes[i] = (byte) (i * 31 + 7);
            }
            this.payload = Unpooled.unreleasableBuffer(Unpooled.directBuffer(size).writeBytes(bytes));
        }
    }

    /** One connection: send {@code size} bytes, wait for all of them back, record the latency, repeat. */
    static final class Pinger extends ChannelInboundHandlerAdapter {
        private final ClientState st;
        private ChannelHandlerContext ctx;
        private int got;
        private long sentAt;
        /** A ping is out and its echo not complete. */
        private boolean waiting;
        private boolean failed;

        Pinger(ClientState st) {
            this.st = st;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        /** Sends the next ping unless one is out or the connection failed. Event-loop thread. */
        void resume() {
            if (!waiting && !failed) {
                send();
            }
        }

        /** Event-loop thread. */
        void send() {
            st.inFlight++;
            waiting = true;
            sentAt = System.nanoTime();
            ctx.writeAndFlush(st.payload.retainedDuplicate(), ctx.voidPromise());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf m = (ByteBuf) msg;
            if (failed) {
                m.release();
                return;
            }
            // Check the first byte of each message: the echo must come back in order.
            if (got == 0 && m.isReadable() && m.getByte(m.readerIndex()) != st.payload.getByte(0)) {
                fail(new IllegalStateException("corrupt echo: first byte " + m.getByte(m.readerIndex())));
            }
            got += m.readableBytes();
            m.release();
            if (got >= st.size) {
                if (got > st.size) {
                    fail(new IllegalStateException("got " + got + " bytes for a " + st.size + "-byte ping"));
                    return;
                }
                got = 0;
                long now = System.nanoTime();
                st.histogram.recordValue(Math.max(0, now - sentAt));
                st.roundTrips = st.roundTrips + 1; // single writer: the client's event-loop thread
                st.inFlight--;
                waiting = false;
                if (!st.stopping && !st.paused) {
                    send();
                }
            }
        }

        private void fail(Throwable t) {
            if (waiting) {
                waiting = false;
                st.inFlight--; // this connection's ping will never complete
            }
            failed = true;
            st.firstError.compareAndSet(null, t);
            st.errors = st.errors + 1;
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!st.stopping) {
                fail(new IOException("connection closed by the server"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!st.stopping) {
                fail(cause);
            } else {
                ctx.close();
            }
        }
    }

    /** What to do with each channel {@link #connectInBatches} connected. */
    interface ChannelAction {
        void accept(Channel ch) throws Exception;
    }

    /**
     * Connects {@code count} channels to the server with {@code b}, 100 at a time so that its
     * listen backlog never overflows, and hands each to {@code each} once connected. Harness thread.
     *
     * @throws IOException naming {@code what} if a connect fails or takes over 15 s
     */
    static void connectInBatches(Bootstrap b, int port, int count, String what, ChannelAction each) throws Exception {
        for (int i = 0; i < count; i += 100) {
            List<ChannelFuture> batch = new ArrayList<>();
            for (int j = i; j < Math.min(count, i + 100); j++) {
                batch.add(b.connect("127.0.0.1", port));
            }
            for (ChannelFuture f : batch) {
                if (!f.await(15, TimeUnit.SECONDS) || !f.isSuccess()) {
                    throw new IOException(what + " failed", f.cause());
                }
                each.accept(f.channel());
            }
        }
    }

    /**
     * Opens and closes {@code prewarm} connections to the server (see {@code --prewarm}): the
     * server's accept-to-handler path runs that often before the measured connections arrive.
     * Harness thread; the connections live on the client's {@code loop}.
     */
    void prewarm(String server, IoEventLoop loop, int port) throws Exception {
        Bootstrap b = new Bootstrap().group(loop).channel(BenchTransports.socketChannel(clientTransport))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // nothing to do: the connection is closed as soon as it is open
                    }
                });
        connectInBatches(b, port, prewarm, "pre-warm connect to " + server, ch -> ch.close().await(15, TimeUnit.SECONDS));
    }

    // ---------------------------------------------------------------- server child

    Child startServer(String server) throws Exception {
        Duration ready = Duration.ofSeconds(30);
        String fiberloop = EchoServers.Fiberloop.class.getName();
        return switch (server) {
            case "fiberloop" -> startChild(server, ready, fiberloop, fiberloopArgs("drain"));
            case "fiberloop-turn" -> startChild(server, ready, fiberloop, fiberloopArgs("turn"));
            case "fiberloop-reads" -> startChild(server, ready, fiberloop, fiberloopArgs("reads"));
            case BASELINE_SERVER -> startChild(server, ready, fiberloop, fiberloopArgs(baselineMode));
            case "raw" -> startChild(server, ready, EchoServers.RawNetty.class.getName(), common.transport);
            case "vertx" -> startChild(server, ready, VertxServers.class.getName(), "echo", "eventloop", common.transport);
            case "vertx-vt" -> startChild(server, ready, VertxServers.class.getName(), "echo", "virtual", common.transport);
            default -> throw new IllegalArgumentException(server);
        };
    }

    private String[] fiberloopArgs(String mode) {
        return timerProbe ? new String[] {common.transport, mode, "probe=" + common.warmup} : new String[] {common.transport, mode};
    }

    // ---------------------------------------------------------------- one run

    /**
     * Starts {@code server}, pre-warms it ({@code --prewarm}) and connects {@code conns} connections
     * of the client's loop, idle until the first warm-up or slice.
     */
    Harness.Contender contender(String server, int conns, int size, MultiThreadIoEventLoopGroup clientGroup) throws Exception {
        Child child = startServer(server);
        ClientState st = new ClientState(size);
        IoEventLoop loop = (IoEventLoop) clientGroup.next();
        List<Channel> channels = new ArrayList<>(conns);
        EchoContender c = new EchoContender(server, child, st, loop, channels);
        try {
            Bootstrap b = new Bootstrap().group(loop).channel(BenchTransports.socketChannel(clientTransport))
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new Pinger(st));
                        }
                    });
            prewarm(server, loop, child.port);
            connectInBatches(b, child.port, conns, "connect to " + server, channels::add);
            return c;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    /** One server with its connections on the client's loop; paused (no ping out) between slices. Harness thread. */
    private static final class EchoContender implements Harness.Contender {
        private final String server;
        private final Child child;
        private final ClientState st;
        private final IoEventLoop loop;
        private final List<Channel> channels;
        private long errorsReported;

        EchoContender(String server, Child child, ClientState st, IoEventLoop loop, List<Channel> channels) {
            this.server = server;
            this.child = child;
            this.st = st;
            this.loop = loop;
            this.channels = channels;
        }

        @Override
        public Child child() {
            return child;
        }

        @Override
        public void warmUp(int seconds) throws Exception {
            slice(seconds);
        }

        /**
         * Resumes every connection, lets them ping-pong for {@code seconds}, pauses them and waits
         * until no ping is out: the round trips and the time count from the resume to the last echo,
         * the latency up to the pause.
         */
        @Override
        public Harness.Slice slice(int seconds) throws Exception {
            Map<String, Long> jit0 = ChildJvm.jitTicks(child.pid());
            long[] start = loop.submit(() -> {
                st.histogram.reset();
                st.paused = false;
                long[] at = {System.nanoTime(), st.roundTrips};
                for (Channel ch : channels) {
                    ch.pipeline().get(Pinger.class).resume();
                }
                return at;
            }).get(10, TimeUnit.SECONDS);
            double minRate = Double.MAX_VALUE;
            double maxRate = 0;
            long prevN = start[1];
            long prevT = start[0];
            long end = start[0] + seconds * 1_000_000_000L;
            while (System.nanoTime() < end) {
                Thread.sleep(Math.max(1, Math.min(500, (end - System.nanoTime()) / 1_000_000)));
                long n = st.roundTrips;
                long t = System.nanoTime();
                if (t - prevT >= 500_000_000L) {
                    double r = (n - prevN) * 1e9 / (t - prevT);
                    minRate = Math.min(minRate, r);
                    maxRate = Math.max(maxRate, r);
                    prevN = n;
                    prevT = t;
                }
            }
            Histogram h = loop.submit(() -> {
                st.paused = true;
                return st.histogram.copy();
            }).get(10, TimeUnit.SECONDS);
            long[] stop = drained();
            Map<String, Long> jit1 = ChildJvm.jitTicks(child.pid());
            long errors = st.errors;
            Throwable err = st.firstError.get();
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("jitTicks", ChildJvm.jitTicksBetween(jit0, jit1));
            extra.put("minRatePerHalfSecond", minRate == Double.MAX_VALUE ? Double.NaN : minRate);
            extra.put("maxRatePerHalfSecond", maxRate);
            extra.put("errors", errors - errorsReported);
            extra.put("firstError", err == null ? null : err.toString());
            errorsReported = errors;
            return new Harness.Slice(stop[1] - start[1], (stop[0] - start[0]) / 1e9, h.getValueAtPercentile(50) / 1e3,
                    h.getValueAtPercentile(99) / 1e3, 0, extra);
        }

        /** Waits (up to 10 s) until no ping is out; {@return the time and the round trips then} */
        private long[] drained() throws Exception {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (true) {
                long[] now = loop.submit(() -> st.inFlight == 0 ? new long[] {System.nanoTime(), st.roundTrips} : null)
                        .get(10, TimeUnit.SECONDS);
                if (now != null) {
                    return now;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(server + ": pings still unanswered 10 s after the slice ended");
                }
                Thread.sleep(1);
            }
        }

        @Override
        public void close() {
            st.stopping = true;
            try {
                for (Channel ch : channels) {
                    ch.close();
                }
                for (Channel ch : channels) {
                    ch.closeFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
                }
            } finally {
                st.payload.unwrap().release(); // the unreleasable wrapper's direct buffer
                child.close();
            }
        }
    }

    /** The server's JIT compiler threads' CPU per round trip over the measured slices, µs; NaN when unknown. */
    static double jitUsPerOp(Sample s) {
        long jit = (long) s.extra().get("jitTicks");
        long n = (long) s.extra().get("operations");
        return n == 0 || jit < 0 ? Double.NaN : jit * 1e6 / Harness.CLK_TCK / n;
    }

    static void printRun(String cell, Sample s) {
        Map<String, Object> x = s.extra();
        System.out.printf(Locale.ROOT,
                "run %-14s %s round %d: %9.0f rt/s (per half second min %.0f max %.0f), p50 %s p99 %s, "
                        + "server CPU %.2f µs/rt (user %.2f, sys %.2f, JIT %.2f), server %.0f%% client %.0f%% "
                        + "idle servers %.1f%% others %.0f%% of a core, load %s -> %s%s%n",
                s.server(), cell, s.round(), s.rate(), x.get("minRatePerHalfSecond"), x.get("maxRatePerHalfSecond"),
                Report.us(s.p50Us()), Report.us(s.p99Us()), s.cpuUs(), s.userUs(), s.sysUs(), jitUsPerOp(s),
                x.get("serverCorePct"), x.get("loadCorePct"), x.get("idleServersCorePct"), x.get("othersCorePct"), x.get("loadBefore"),
                x.get("loadAfter"), (long) x.get("errors") > 0 ? ", ERRORS " + x.get("errors") + " (" + x.get("firstError") + ")" : "");
    }
}
