package io.fiberloop.bench;

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
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import io.fiberloop.bench.ChildJvm.Child;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The echo load benchmark (issue 5, item 10): fiberloop's fiber-per-connection echo server against
 * a hand-written Netty echo handler, each on one loop of the same transport, each in a child JVM of
 * its own, driven in turn by the same Netty client (one event loop in this JVM, N connections
 * each doing ping-pong of {@code size} bytes). Prints round trips a second, p50/p99 latency, and the
 * server's CPU per round trip (utime+stime of the child from {@code /proc/<pid>/stat}; of it, the
 * JIT compiler threads' share, which still runs after a short warm-up and shares the server's
 * pinned CPU), plus the ratios against raw Netty.
 *
 * <pre>
 * ./fiberloop mvn -q -DskipTests -pl benchmarks -am package
 * ./fiberloop java -cp benchmarks/target/benchmarks.jar io.fiberloop.bench.EchoLoad \
 *     --connections 50,1000 --size 1024,65536 --transport epoll --warmup 5 --seconds 10 --rounds 2
 * </pre>
 * Options (lists are comma-separated; every combination is run):
 * <ul>
 * <li>{@code --connections N[,N]} (default 50), {@code --size BYTES[,BYTES]} (default 1024),
 *     {@code --transport epoll|io_uring|nio[,...]} (servers' transport, default epoll)</li>
 * <li>{@code --warmup S} (default 5), {@code --seconds S} measured (default 10),
 *     {@code --rounds R} (default 2, at most 20): every server runs once per round, and the order
 *     flips from one round to the next (fiberloop, raw; then raw, fiberloop), so that a drift of
 *     the machine over the run weighs on both sides alike</li>
 * <li>{@code --servers fiberloop,raw} (default; also {@code fiberloop-turn}: write without drain,
 *     relying on the loop's per-turn flush)</li>
 * <li>{@code --client-transport T} (default epoll): the client's transport, the same for every server</li>
 * <li>{@code --pin} / {@code --no-pin} (default pin when there are 2+ CPUs and {@code taskset}):
 *     server child on CPU 0, this JVM (the client) on CPU 1</li>
 * <li>{@code --server-jvm-arg ARG} (repeatable): extra JVM flag for the server children, e.g.
 *     {@code -XX:StartFlightRecording=filename=/tmp/echo.jfr}</li>
 * <li>{@code --prewarm N} (default 0): before the measured connections, open and close N
 *     connections to the server, 100 at a time, so that its per-connection code is compiled before
 *     the measured connections arrive, as in a server that has been up for a while. It matters for
 *     fiberloop: a fiber started while that code still ran in the interpreter keeps interpreted
 *     frames at the bottom of its stack for life, and the JDK then freezes and thaws it on its slow
 *     paths at every park (measured in {@code docs/benchmarks.md}). Both servers get the same.</li>
 * <li>{@code --client-warmup S} (default 5, 0 for none): before the first cell, one run with the
 *     first cell's parameters against the raw server (the first server when raw is not run), its
 *     usual warm-up and then S seconds, not recorded. Without it the first measured run met a
 *     client JVM still compiling, and in the first cell's first round (fiberloop's, by the round
 *     order) the client held it back: that round's ratio was the lowest of its cell in four of
 *     five invocations on 2026-12-03 (see {@code docs/benchmarks.md}).</li>
 * <li>{@code --timer-probe}: a fiber on fiberloop's echo loop sleeps 1 ms over and over, and the
 *     server prints how late those sleeps ended (p50, p99, max) after the warm-up: the loop's timer
 *     lag under the load</li>
 * </ul>
 * After each cell it prints the ratio of each round's fiberloop run to the same round's raw run,
 * then a verdict: the <em>median</em> of those ratios against the goal (at least 0.95x raw's
 * round trips a second at no more than 1.1x its CPU per round trip), with the range and the number
 * of rounds that met it on their own. One pair of runs on a shared 2-core machine swings by
 * +/-15% either way; the median over several alternating rounds is the figure to quote.
 * <p>
 * Bounds: at most 10,000 connections, 16 MiB messages, 600 s per phase, 20 rounds; the whole run
 * is killed after its planned time plus a margin. Children are killed at the end, on failure and
 * from a shutdown hook.
 */
public final class EchoLoad {
    private static final long CLK_TCK = 100;

    private EchoLoad() {
    }

    // ---------------------------------------------------------------- options

    static final class Options {
        List<Integer> connections = List.of(50);
        List<Integer> sizes = List.of(1024);
        List<String> transports = List.of("epoll");
        List<String> servers = List.of("fiberloop", "raw");
        String clientTransport = "epoll";
        int warmup = 5;
        int seconds = 10;
        int rounds = 2;
        Boolean pin;
        List<String> serverJvmArgs = new ArrayList<>();
        boolean timerProbe;
        int prewarm;
        int clientWarmup = 5;
    }

    static Options parse(String[] args) {
        Options o = new Options();
        Set<String> valued = Set.of("--connections", "-c", "--size", "-s", "--transport", "-t", "--servers",
                "--client-transport", "--warmup", "-w", "--seconds", "-d", "--rounds", "-r", "--server-jvm-arg", "--prewarm",
                "--client-warmup");
        CliArgs.parse(args, Set.of("--pin", "--no-pin", "--timer-probe"), valued, EchoLoad::usage, (a, v) -> {
            switch (a) {
                case "--pin" -> o.pin = true;
                case "--no-pin" -> o.pin = false;
                case "--timer-probe" -> o.timerProbe = true;
                case "--connections", "-c" -> o.connections = ints(v, 1, 10_000);
                case "--size", "-s" -> o.sizes = ints(v, 1, 16 << 20);
                case "--transport", "-t" -> o.transports = Arrays.stream(v.split(",")).map(BenchTransports::norm).toList();
                case "--servers" -> o.servers = Arrays.stream(v.split(",")).map(String::trim).toList();
                case "--client-transport" -> o.clientTransport = BenchTransports.norm(v);
                case "--warmup", "-w" -> o.warmup = ints(v, 0, 600).get(0);
                case "--seconds", "-d" -> o.seconds = ints(v, 1, 600).get(0);
                case "--rounds", "-r" -> o.rounds = ints(v, 1, 20).get(0);
                case "--server-jvm-arg" -> o.serverJvmArgs.add(v);
                case "--prewarm" -> o.prewarm = ints(v, 0, 100_000).get(0);
                case "--client-warmup" -> o.clientWarmup = ints(v, 0, 600).get(0);
                default -> throw new AssertionError(a);
            }
        });
        for (String s : o.servers) {
            if (!List.of("fiberloop", "fiberloop-turn", "raw").contains(s)) {
                throw new IllegalArgumentException("unknown server " + s + ": use fiberloop, fiberloop-turn, raw");
            }
        }
        for (String t : o.transports) {
            BenchTransports.ioHandlerFactory(t); // validates the name
        }
        return o;
    }

    static List<Integer> ints(String v, int min, int max) {
        List<Integer> r = new ArrayList<>();
        for (String s : v.split(",")) {
            s = s.trim().toLowerCase(Locale.ROOT);
            int mul = 1;
            if (s.endsWith("k")) {
                mul = 1024;
                s = s.substring(0, s.length() - 1);
            }
            int n = Integer.parseInt(s) * mul;
            if (n < min || n > max) {
                throw new IllegalArgumentException(n + " is out of range [" + min + ", " + max + "]");
            }
            r.add(n);
        }
        return r;
    }

    static void usage() {
        System.out.println("""
                usage: EchoLoad [--connections 50[,1000]] [--size 1024[,64k]] [--transport epoll[,io_uring,nio]]
                                [--warmup 5] [--seconds 10] [--rounds 2] [--servers fiberloop,raw[,fiberloop-turn]]
                                [--client-transport epoll] [--pin|--no-pin] [--server-jvm-arg ARG]... [--timer-probe]
                                [--prewarm 0] [--client-warmup 5]
                Runs each server in its own child JVM, drives it with N ping-pong connections from one
                Netty client loop in this JVM, prints rt/s, p50/p99 latency, server CPU per round trip.""");
    }

    // ---------------------------------------------------------------- /proc

    // ---------------------------------------------------------------- histogram

    /** Log-linear latency histogram in ns: exact below 128, then 64 buckets per octave (~1.6%). */
    static final class Histogram {
        static final int SUB = 64;
        final long[] counts = new long[128 + 57 * SUB];
        long total;

        void record(long v) {
            if (v < 0) {
                v = 0;
            }
            int idx;
            if (v < 128) {
                idx = (int) v;
            } else {
                int e = 63 - Long.numberOfLeadingZeros(v);
                int shift = e - 6;
                idx = 128 + (e - 7) * SUB + (int) ((v >>> shift) - SUB);
            }
            counts[idx]++;
            total++;
        }

        static long valueOf(int idx) {
            if (idx < 128) {
                return idx;
            }
            int e = (idx - 128) / SUB + 7;
            int j = (idx - 128) % SUB;
            int shift = e - 6;
            long lo = (long) (SUB + j) << shift;
            return lo + ((1L << shift) >> 1); // bucket midpoint
        }

        long percentile(double p) {
            if (total == 0) {
                return -1;
            }
            long rank = Math.max(1, (long) Math.ceil(p * total));
            long seen = 0;
            for (int i = 0; i < counts.length; i++) {
                seen += counts[i];
                if (seen >= rank) {
                    return valueOf(i);
                }
            }
            return valueOf(counts.length - 1);
        }

        Histogram copy() {
            Histogram h = new Histogram();
            System.arraycopy(counts, 0, h.counts, 0, counts.length);
            h.total = total;
            return h;
        }

        void reset() {
            Arrays.fill(counts, 0);
            total = 0;
        }
    }

    // ---------------------------------------------------------------- client

    /** State shared by all connections of one run; touched only by the client's event-loop thread, except the volatile counters. */
    static final class ClientState {
        final int size;
        final ByteBuf payload;
        final Histogram histogram = new Histogram();
        volatile long roundTrips;
        volatile long errors;
        volatile boolean stopping;
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

        Pinger(ClientState st) {
            this.st = st;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        /** Event-loop thread. */
        void send() {
            sentAt = System.nanoTime();
            ctx.writeAndFlush(st.payload.retainedDuplicate(), ctx.voidPromise());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf m = (ByteBuf) msg;
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
                st.histogram.record(now - sentAt);
                st.roundTrips = st.roundTrips + 1; // single writer: the client's event-loop thread
                if (!st.stopping) {
                    send();
                }
            }
        }

        private void fail(Throwable t) {
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

    // ---------------------------------------------------------------- server child

    static Child startServer(String server, String transport, Options o, boolean pin) throws Exception {
        return switch (server) {
            case "fiberloop" -> ChildJvm.start(server, o.serverJvmArgs, pin, Duration.ofSeconds(30),
                    EchoServers.Fiberloop.class.getName(), fiberloopArgs(transport, "drain", o));
            case "fiberloop-turn" -> ChildJvm.start(server, o.serverJvmArgs, pin, Duration.ofSeconds(30),
                    EchoServers.Fiberloop.class.getName(), fiberloopArgs(transport, "turn", o));
            case "raw" -> ChildJvm.start(server, o.serverJvmArgs, pin, Duration.ofSeconds(30),
                    EchoServers.RawNetty.class.getName(), transport);
            default -> throw new IllegalArgumentException(server);
        };
    }

    private static String[] fiberloopArgs(String transport, String mode, Options o) {
        return o.timerProbe ? new String[] {transport, mode, "probe=" + o.warmup} : new String[] {transport, mode};
    }

    // ---------------------------------------------------------------- one run

    record Result(String server, int round, int connections, int size, String transport, double rtPerSec,
                  long p50ns, long p99ns, double cpuUsPerRt, double userUsPerRt, double jitUsPerRt, double serverCpuPct,
                  double clientCpuPct, double otherCpuPct, double minSecRate, double maxSecRate,
                  String loadBefore, String loadAfter, long errors, String firstError) {
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
     * Opens and closes {@code o.prewarm} connections to the server (see {@code --prewarm}): the
     * server's accept-to-handler path runs that often before the measured connections arrive.
     * Harness thread; the connections live on the client's {@code loop}.
     */
    static void prewarm(String server, IoEventLoop loop, Options o, int port) throws Exception {
        Bootstrap b = new Bootstrap().group(loop).channel(BenchTransports.socketChannel(o.clientTransport))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // nothing to do: the connection is closed as soon as it is open
                    }
                });
        connectInBatches(b, port, o.prewarm, "pre-warm connect to " + server, ch -> ch.close().await(15, TimeUnit.SECONDS));
    }

    /** One server's run of one cell: start it, connect, warm up, measure {@code seconds}, stop it. */
    static Result run(String server, int round, int conns, int size, String transport, Options o, int seconds, boolean pin,
                      MultiThreadIoEventLoopGroup clientGroup) throws Exception {
        String loadBefore = ChildJvm.loadavg();
        try (Child child = startServer(server, transport, o, pin)) {
            ClientState st = new ClientState(size);
            IoEventLoop loop = (IoEventLoop) clientGroup.next();
            Bootstrap b = new Bootstrap().group(loop).channel(BenchTransports.socketChannel(o.clientTransport))
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new Pinger(st));
                        }
                    });
            List<Channel> channels = new ArrayList<>(conns);
            prewarm(server, loop, o, child.port);
            try {
                connectInBatches(b, child.port, conns, "connect to " + server, channels::add);
                loop.submit(() -> {
                    for (Channel ch : channels) {
                        ch.pipeline().get(Pinger.class).send();
                    }
                }).sync();
                Thread.sleep(o.warmup * 1000L);

                // Measured window: reset the histogram on the client loop, then read counters.
                long[] c0 = ChildJvm.cpuTicks(child.pid());
                Map<String, Long> jit0 = ChildJvm.jitTicks(child.pid());
                long self0 = sum(ChildJvm.cpuTicks(ProcessHandle.current().pid()));
                long m0 = ChildJvm.machineBusy();
                long[] start = loop.submit(() -> {
                    st.histogram.reset();
                    return new long[] {System.nanoTime(), st.roundTrips};
                }).get(10, TimeUnit.SECONDS);
                double minRate = Double.MAX_VALUE;
                double maxRate = 0;
                long prevN = start[1];
                long prevT = start[0];
                long end = start[0] + seconds * 1_000_000_000L;
                while (System.nanoTime() < end) {
                    Thread.sleep(Math.max(1, Math.min(1000, (end - System.nanoTime()) / 1_000_000)));
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
                Object[] stop = loop.submit(() -> new Object[] {System.nanoTime(), st.roundTrips, st.histogram.copy()})
                        .get(10, TimeUnit.SECONDS);
                long[] c1 = ChildJvm.cpuTicks(child.pid());
                Map<String, Long> jit1 = ChildJvm.jitTicks(child.pid());
                long self1 = sum(ChildJvm.cpuTicks(ProcessHandle.current().pid()));
                long m1 = ChildJvm.machineBusy();

                double elapsed = ((long) stop[0] - start[0]) / 1e9;
                long n = (long) stop[1] - start[1];
                Histogram h = (Histogram) stop[2];
                long serverTicks = sum(c1) - sum(c0);
                double serverSec = serverTicks / (double) CLK_TCK;
                double userSec = (c1[0] - c0[0]) / (double) CLK_TCK;
                double clientSec = (self1 - self0) / (double) CLK_TCK;
                long jitTicks = ChildJvm.jitTicksBetween(jit0, jit1);
                double otherSec = ((m1 - m0) - serverTicks - (self1 - self0)) / (double) CLK_TCK;
                st.stopping = true;
                Throwable err = st.firstError.get();
                return new Result(server, round, conns, size, transport, n / elapsed,
                        h.percentile(0.50), h.percentile(0.99),
                        n == 0 ? Double.NaN : serverSec * 1e6 / n, n == 0 ? Double.NaN : userSec * 1e6 / n,
                        n == 0 || jitTicks < 0 ? Double.NaN : jitTicks / (double) CLK_TCK * 1e6 / n,
                        100 * serverSec / elapsed, 100 * clientSec / elapsed, 100 * Math.max(0, otherSec) / elapsed,
                        minRate == Double.MAX_VALUE ? Double.NaN : minRate, maxRate,
                        loadBefore, ChildJvm.loadavg(), st.errors, err == null ? null : err.toString());
            } finally {
                st.stopping = true;
                for (Channel ch : channels) {
                    ch.close();
                }
                for (Channel ch : channels) {
                    ch.closeFuture().await(5, TimeUnit.SECONDS);
                }
                st.payload.unwrap().release(); // the unreleasable wrapper's direct buffer
            }
        }
    }

    static long sum(long[] a) {
        return a[0] + a[1];
    }

    // ---------------------------------------------------------------- main

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("EchoLoad: " + e.getMessage());
            usage();
            System.exit(2);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(ChildJvm::killAll, "kill-echo-servers"));

        int cpus = Runtime.getRuntime().availableProcessors();
        boolean tasksetOk = Files.isExecutable(Path.of("/usr/bin/taskset")) || Files.isExecutable(Path.of("/bin/taskset"));
        boolean pin = o.pin != null ? o.pin && tasksetOk : cpus >= 2 && tasksetOk;
        if (pin) {
            // The client (this JVM, every thread) on CPU 1; the server children on CPU 0.
            Process p = new ProcessBuilder("taskset", "-a", "-p", "-c", "1", Long.toString(ProcessHandle.current().pid()))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                System.err.println("EchoLoad: could not pin this JVM to CPU 1; continuing unpinned");
                pin = false;
            }
        }

        int runs = o.connections.size() * o.sizes.size() * o.transports.size() * o.rounds * o.servers.size();
        long budgetSec = runs * (o.warmup + o.seconds + 60L) + (o.clientWarmup > 0 ? o.warmup + o.clientWarmup + 60L : 0) + 60;
        Thread guard = new Thread(() -> {
            try {
                Thread.sleep(budgetSec * 1000);
                System.err.println("EchoLoad: time budget of " + budgetSec + " s exceeded; stopping");
                System.exit(3);
            } catch (InterruptedException ignored) {
                // finished in time
            }
        }, "echo-time-guard");
        guard.setDaemon(true);
        guard.start();

        System.out.printf("EchoLoad %s UTC: %d CPUs, pin=%s (server CPU 0, client CPU 1), ulimit fds: %s, client %s, "
                        + "pre-warm %d connections, client warm-up %d s, warm-up %d s, measured %d s, rounds %d, java %s%n",
                DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").format(Instant.now().atOffset(ZoneOffset.UTC)),
                cpus, pin, maxFds(), o.clientTransport, o.prewarm, o.clientWarmup, o.warmup, o.seconds, o.rounds, Runtime.version());
        System.out.println("server JVM flags: " + String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments())
                + (o.serverJvmArgs.isEmpty() ? "" : " " + String.join(" ", o.serverJvmArgs)));

        MultiThreadIoEventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory("echo-client"), BenchTransports.ioHandlerFactory(o.clientTransport));
        List<Result> all = new ArrayList<>();
        int exit = 0;
        try {
            if (o.clientWarmup > 0) {
                String server = o.servers.contains("raw") ? "raw" : o.servers.get(0);
                try {
                    Result w = run(server, 0, o.connections.get(0), o.sizes.get(0), o.transports.get(0), o,
                            o.clientWarmup, pin, clientGroup);
                    System.out.printf("client warm-up against %s (not recorded): %.0f rt/s%n", server, w.rtPerSec());
                } catch (Exception e) {
                    System.out.printf("FAILED client warm-up against %s: %s%n", server, e);
                    exit = 1;
                }
            }
            for (String transport : o.transports) {
                for (int size : o.sizes) {
                    for (int conns : o.connections) {
                        List<Result> cell = new ArrayList<>();
                        for (int round = 1; round <= o.rounds; round++) {
                            for (String server : roundOrder(o.servers, round)) {
                                Result r;
                                try {
                                    r = run(server, round, conns, size, transport, o, o.seconds, pin, clientGroup);
                                } catch (Exception e) {
                                    System.out.printf("FAILED %s %s %d B x %d conns, round %d: %s%n", server, transport, size, conns, round, e + (e.getCause() != null ? " (" + e.getCause() + ")" : ""));
                                    exit = 1;
                                    continue;
                                }
                                cell.add(r);
                                all.add(r);
                                printRun(r);
                                if (r.errors > 0) {
                                    exit = 1;
                                }
                            }
                        }
                        printCell(cell, o.servers);
                    }
                }
            }
        } finally {
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
            ChildJvm.killAll();
        }
        printTable(all, o.servers);
        printVerdicts(all, o.servers);
        guard.interrupt();
        System.exit(exit);
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

    static void printRun(Result r) {
        System.out.printf(Locale.ROOT,
                "run %-14s %-8s %6d B x %4d conns, round %d: %9.0f rt/s (per-s min %.0f max %.0f), p50 %s p99 %s, "
                        + "server CPU %.2f us/rt (user %.2f, JIT %.2f), server %.0f%% client %.0f%% others %.0f%% of a core, "
                        + "load %s -> %s%s%n",
                r.server, r.transport, r.size, r.connections, r.round, r.rtPerSec, r.minSecRate, r.maxSecRate,
                us(r.p50ns), us(r.p99ns), r.cpuUsPerRt, r.userUsPerRt, r.jitUsPerRt, r.serverCpuPct, r.clientCpuPct,
                r.otherCpuPct, r.loadBefore, r.loadAfter, r.errors > 0 ? ", ERRORS " + r.errors + " (" + r.firstError + ")" : "");
    }

    static String us(long ns) {
        return ns < 0 ? "-" : String.format(Locale.ROOT, "%.0f us", ns / 1000.0);
    }

    /** The servers in the order they run in {@code round}: as given in odd rounds, reversed in even ones. */
    static List<String> roundOrder(List<String> servers, int round) {
        return round % 2 == 1 ? servers : servers.reversed();
    }

    /** Goal of issue 5: at least this fraction of raw's round trips a second... */
    static final double GOAL_RATE = 0.95;
    /** ...at no more than this multiple of raw's server CPU per round trip. */
    static final double GOAL_CPU = 1.10;

    /** One server's ratios against raw over the rounds of one cell, and the goal's verdict on their medians. */
    record Verdict(String server, int size, int connections, String transport, double[] rate, double[] cpu) {
        double medianRate() {
            return median(rate);
        }

        double medianCpu() {
            return median(cpu);
        }

        boolean met() {
            return medianRate() >= GOAL_RATE && medianCpu() <= GOAL_CPU;
        }

        long roundsMet() {
            int k = 0;
            for (int i = 0; i < rate.length; i++) {
                if (rate[i] >= GOAL_RATE && cpu[i] <= GOAL_CPU) {
                    k++;
                }
            }
            return k;
        }

        String line() {
            return String.format(Locale.ROOT,
                    "verdict %s/raw %s %d B x %d conns over %d rounds: median rt/s %.2fx (range %.2f-%.2f), "
                            + "median CPU/rt %.2fx (range %.2f-%.2f); goal (>= %.2fx at <= %.2fx) %s by the medians, "
                            + "met alone in %d of %d rounds",
                    server, transport, size, connections, rate.length, medianRate(), min(rate), max(rate),
                    medianCpu(), min(cpu), max(cpu), GOAL_RATE, GOAL_CPU, met() ? "MET" : "MISSED", roundsMet(),
                    rate.length);
        }
    }

    static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static double min(double[] a) {
        return Arrays.stream(a).min().orElse(Double.NaN);
    }

    static double max(double[] a) {
        return Arrays.stream(a).max().orElse(Double.NaN);
    }

    /** The verdicts of one cell's results (same size, connections and transport), one per non-raw server. */
    static List<Verdict> verdicts(List<Result> cell, List<String> servers) {
        List<Verdict> out = new ArrayList<>();
        if (cell.isEmpty() || !servers.contains("raw")) {
            return out;
        }
        Result first = cell.get(0);
        for (String s : servers) {
            if (s.equals("raw")) {
                continue;
            }
            List<double[]> pairs = new ArrayList<>();
            for (Result r : cell) {
                if (!r.server.equals(s)) {
                    continue;
                }
                cell.stream().filter(x -> x.server.equals("raw") && x.round == r.round).findFirst()
                        .ifPresent(raw -> pairs.add(new double[] {r.rtPerSec / raw.rtPerSec, r.cpuUsPerRt / raw.cpuUsPerRt}));
            }
            if (!pairs.isEmpty()) {
                out.add(new Verdict(s, first.size, first.connections, first.transport,
                        pairs.stream().mapToDouble(p -> p[0]).toArray(), pairs.stream().mapToDouble(p -> p[1]).toArray()));
            }
        }
        return out;
    }

    /** The summary of verdicts, markdown, one row per cell and server: the figures to quote. */
    static void printVerdicts(List<Result> all, List<String> servers) {
        List<Verdict> vs = new ArrayList<>();
        Set<List<Object>> cells = new LinkedHashSet<>();
        for (Result r : all) {
            cells.add(List.of(r.size, r.connections, r.transport));
        }
        for (List<Object> c : cells) {
            vs.addAll(verdicts(all.stream().filter(x -> List.of(x.size, x.connections, x.transport).equals(c)).toList(), servers));
        }
        if (vs.isEmpty()) {
            return;
        }
        System.out.println();
        System.out.println("| size | conns | transport | server | rounds | median rt/s vs raw (range) | median CPU/rt vs raw (range) | goal by the medians | rounds that met it alone |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        for (Verdict v : vs) {
            System.out.printf(Locale.ROOT, "| %s | %d | %s | %s | %d | %.2f× (%.2f–%.2f) | %.2f× (%.2f–%.2f) | %s | %d of %d |%n",
                    v.size >= 1024 && v.size % 1024 == 0 ? (v.size / 1024) + " KiB" : v.size + " B", v.connections,
                    v.transport, v.server, v.rate.length, v.medianRate(), min(v.rate), max(v.rate), v.medianCpu(),
                    min(v.cpu), max(v.cpu), v.met() ? "**met**" : "missed", v.roundsMet(), v.rate.length);
        }
    }

    /** Per size/connections/transport: ratios of each round's fiberloop run to the same round's raw run. */
    static void printCell(List<Result> cell, List<String> servers) {
        if (cell.isEmpty() || !servers.contains("raw")) {
            return;
        }
        for (String s : servers) {
            if (s.equals("raw")) {
                continue;
            }
            StringBuilder sb = new StringBuilder("ratio " + s + "/raw:");
            for (Result r : cell) {
                if (!r.server.equals(s)) {
                    continue;
                }
                Result raw = cell.stream().filter(x -> x.server.equals("raw") && x.round == r.round).findFirst().orElse(null);
                if (raw != null) {
                    sb.append(String.format(Locale.ROOT, " round %d rt/s %.2f CPU/rt %.2f;", r.round,
                            r.rtPerSec / raw.rtPerSec, r.cpuUsPerRt / raw.cpuUsPerRt));
                }
            }
            System.out.println(sb);
        }
        for (Verdict v : verdicts(cell, servers)) {
            System.out.println(v.line());
        }
    }

    /** The summary table, markdown, one row per run, ratio against raw of the same round. */
    static void printTable(List<Result> all, List<String> servers) {
        System.out.println();
        System.out.println("| size | conns | transport | server | round | rt/s | p50 µs | p99 µs | CPU µs/rt (user) | rt/s vs raw | CPU/rt vs raw | others' CPU | load before→after |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (Result r : all) {
            Result raw = all.stream().filter(x -> x.server.equals("raw") && x.round == r.round && x.size == r.size
                    && x.connections == r.connections && x.transport.equals(r.transport)).findFirst().orElse(null);
            String rr = raw == null || r.server.equals("raw") ? "—"
                    : String.format(Locale.ROOT, "%.2f", r.rtPerSec / raw.rtPerSec);
            String cr = raw == null || r.server.equals("raw") ? "—"
                    : String.format(Locale.ROOT, "%.2f", r.cpuUsPerRt / raw.cpuUsPerRt);
            System.out.printf(Locale.ROOT, "| %s | %d | %s | %s | %d | %.0f | %.0f | %.0f | %.2f (%.2f) | %s | %s | %.0f%% | %s → %s |%n",
                    r.size >= 1024 && r.size % 1024 == 0 ? (r.size / 1024) + " KiB" : r.size + " B", r.connections,
                    r.transport, r.server, r.round, r.rtPerSec, r.p50ns / 1000.0, r.p99ns / 1000.0, r.cpuUsPerRt,
                    r.userUsPerRt, rr, cr, r.otherCpuPct, r.loadBefore.split(" ")[0], r.loadAfter.split(" ")[0]);
        }
    }
}
