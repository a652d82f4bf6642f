package io.fiberloop.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The web features against raw Netty and Vert.x 5 (its event loop), same session, alternating rounds, medians: a WebSocket echo
 * of 1 KiB binary messages over 100 connections (one message in flight per connection; the load
 * is a one-thread Netty client in this JVM) and a 1 MiB static file ({@code wrk -t1 -c16}). Server
 * CPU per message is read from {@code /proc}.
 * {@snippet :
 * flock -x /work/.cpu.lock ./fiberloop java -cp benchmarks/target/benchmarks.jar io.fiberloop.bench.WebLoad 5 10 epoll
 * }
 * Args: rounds (5), seconds per measurement (10), transport (epoll). System properties:
 * {@code -Dwebload.fileWarmup=SECONDS} (10) is the file's warm-up;
 * {@code -Dwebload.baseline=JAR} adds {@code fiberloop-base}, fiberloop's server from another
 * build's jar (an A/B in one session); {@code -Dwebload.only=ws} skips the file measurement;
 * {@code -Dwebload.servers=fiberloop,raw-netty} runs only the servers named; {@code -Dwebload.jfr=DIR}
 * records each server with JFR ({@code settings=profile}, Java and native samples every
 * millisecond) into {@code DIR/LABEL-rROUND.jfr}.
 */
public final class WebLoad {
    private static final int CONNECTIONS = 100;
    private static final int MESSAGE = 1024;
    private static final Pattern WRK_RATE = Pattern.compile("Requests/sec:\\s+([0-9.]+)");

    private WebLoad() {
    }

    /**
     * One measurement: the rate, the server's user and system CPU per unit, and the part of that CPU
     * its JIT compiler threads spent (code still being compiled in the window; NaN if unreadable).
     */
    record Sample(String server, int round, double rate, double userMicros, double sysMicros, double jitMicros) {
        double cpuMicros() {
            return userMicros + sysMicros;
        }
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        String transport = args.length > 2 ? args[2] : "epoll";
        Path dir = Files.createTempDirectory("webload");
        byte[] mib = new byte[1024 * 1024];
        new Random(1).nextBytes(mib);
        Files.write(dir.resolve("big.bin"), mib);
        // label, main class, its arguments (the transport and the directory are appended)
        List<String[]> servers = new ArrayList<>(List.of(new String[] {"fiberloop", WebServers.Fiberloop.class.getName()},
                new String[] {"raw-netty", WebServers.RawNetty.class.getName()},
                new String[] {"vertx", VertxServers.class.getName(), "web", "eventloop"}));
        String baseline = System.getProperty("webload.baseline");
        if (baseline != null) {
            servers.add(new String[] {"fiberloop-base", WebServers.Fiberloop.class.getName()});
        }
        String only = System.getProperty("webload.servers");
        if (only != null) {
            List<String> names = List.of(only.split(","));
            servers.removeIf(s -> !names.contains(s[0]));
        }
        boolean filesToo = !"ws".equals(System.getProperty("webload.only"));
        String jfr = System.getProperty("webload.jfr");
        List<Sample> ws = new ArrayList<>();
        List<Sample> files = new ArrayList<>();
        try {
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < servers.size(); i++) {
                    String[] s = servers.get((i + r) % servers.size());
                    List<String> childArgs = new ArrayList<>(List.of(s).subList(2, s.length));
                    childArgs.add(transport);
                    childArgs.add(dir.toString());
                    List<String> jvm = jfr == null ? List.of()
                            : List.of("-XX:StartFlightRecording=settings=profile,jdk.ExecutionSample#period=1ms,"
                            + "jdk.NativeMethodSample#period=1ms,filename=" + Path.of(jfr, s[0] + "-r" + (r + 1) + ".jfr"));
                    String cp = s[0].equals("fiberloop-base") ? baseline : System.getProperty("java.class.path");
                    try (ChildJvm.Child c = ChildJvm.start(s[0], jvm, cp, Duration.ofSeconds(30), s[1], childArgs.toArray(String[]::new))) {
                        Sample w = wsEcho(s[0], r, c, seconds);
                        ws.add(w);
                        String fileLine = "";
                        if (filesToo) {
                            Sample f = file(s[0], r, c, seconds);
                            files.add(f);
                            fileLine = String.format(Locale.ROOT, " | file %,8.1f MiB/s %7.1f us/req (user %6.1f, sys %6.1f, jit %6.1f)",
                                    f.rate(), f.cpuMicros(), f.userMicros(), f.sysMicros(), f.jitMicros());
                        }
                        System.out.printf(Locale.ROOT, "round %d %-14s ws echo %,10.0f msg/s %6.2f us/msg (user %6.2f, sys %6.2f, jit %5.2f)%s%n",
                                r + 1, s[0], w.rate(), w.cpuMicros(), w.userMicros(), w.sysMicros(), w.jitMicros(), fileLine);
                    }
                }
            }
        } finally {
            ChildJvm.killAll();
        }
        report("WebSocket echo 1 KiB x 100 conns, msg/s", ws, 0.9, 1.15);
        if (filesToo) {
            report("static 1 MiB file, MiB/s", files, 0.9, Double.NaN);
        }
    }

    private static void report(String what, List<Sample> samples, double minRate, double maxCpu) {
        double fr = median(samples, "fiberloop", true);
        double rr = median(samples, "raw-netty", true);
        double vr = median(samples, "vertx", true);
        double fc = median(samples, "fiberloop", false);
        double rc = median(samples, "raw-netty", false);
        double vc = median(samples, "vertx", false);
        System.out.printf(Locale.ROOT, "%s: fiberloop %,.1f (cpu %.2f us) vs raw Netty %,.1f (cpu %.2f us): rate %.3fx (goal >= %.2fx: %s)%s%n",
                what, fr, fc, rr, rc, fr / rr, minRate, fr / rr >= minRate ? "met" : "MISSED",
                Double.isNaN(maxCpu) ? "" : String.format(Locale.ROOT, ", cpu %.3fx (goal <= %.2fx: %s)", fc / rc, maxCpu,
                        fc / rc <= maxCpu ? "met" : "MISSED"));
        System.out.printf(Locale.ROOT, "%s: Vert.x 5 %,.1f (cpu %.2f us): rate %.3fx raw Netty's, cpu %.3fx%n", what, vr, vc, vr / rr, vc / rc);
        System.out.printf(Locale.ROOT, "%s: raw Netty's rate over the rounds %s%n", what, spread(samples, "raw-netty"));
        for (String server : List.of("fiberloop", "raw-netty", "vertx", "fiberloop-base")) {
            double[] user = samples.stream().filter(s -> s.server().equals(server)).mapToDouble(Sample::userMicros).sorted().toArray();
            double[] sys = samples.stream().filter(s -> s.server().equals(server)).mapToDouble(Sample::sysMicros).sorted().toArray();
            double[] jit = samples.stream().filter(s -> s.server().equals(server)).mapToDouble(Sample::jitMicros).sorted().toArray();
            if (user.length > 0) {
                System.out.printf(Locale.ROOT, "%s: %-14s rate %,.1f, cpu %.2f us: user %.2f us, sys %.2f us; of the cpu, JIT compiling %.2f us "
                        + "(medians)%n", what, server, median(samples, server, true), median(samples, server, false), median(user), median(sys),
                        median(jit));
            }
        }
        System.out.printf(Locale.ROOT, "%s: per-round ratios (medians): fiberloop / raw Netty rate %s, cpu %s; Vert.x / raw Netty rate %s, cpu %s%n",
                what, roundRatio(samples, "fiberloop", "raw-netty", true), roundRatio(samples, "fiberloop", "raw-netty", false),
                roundRatio(samples, "vertx", "raw-netty", true), roundRatio(samples, "vertx", "raw-netty", false));
        double br = median(samples, "fiberloop-base", true);
        if (!Double.isNaN(br)) {
            System.out.printf(Locale.ROOT, "%s: fiberloop / fiberloop-base: rate %.3fx, cpu %.3fx (medians); per round: rate %s, cpu %s%n",
                    what, fr / br, fc / median(samples, "fiberloop-base", false), roundRatio(samples, "fiberloop", "fiberloop-base", true),
                    roundRatio(samples, "fiberloop", "fiberloop-base", false));
        }
    }

    /**
     * {@return the median over the rounds of {@code a}'s rate (or CPU per unit) over {@code b}'s in the same round, "-" without
     * both} Steadier than the ratio of medians when the machine's speed swings from round to round.
     */
    private static String roundRatio(List<Sample> samples, String a, String b, boolean rate) {
        List<Double> ratios = new ArrayList<>();
        for (Sample x : samples) {
            if (x.server().equals(a)) {
                samples.stream().filter(y -> y.server().equals(b) && y.round() == x.round()).findFirst()
                        .ifPresent(y -> ratios.add(rate ? x.rate() / y.rate() : x.cpuMicros() / y.cpuMicros()));
            }
        }
        if (ratios.isEmpty()) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.3fx", median(ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray()));
    }

    /** {@return the lowest and highest rate of {@code server} and their spread as a share of the median} */
    private static String spread(List<Sample> samples, String server) {
        double[] v = samples.stream().filter(s -> s.server().equals(server)).mapToDouble(Sample::rate).sorted().toArray();
        if (v.length == 0) {
            return "-";
        }
        return String.format(Locale.ROOT, "%,.0f-%,.0f, spread %.1f%% of its median", v[0], v[v.length - 1],
                100 * (v[v.length - 1] - v[0]) / median(samples, server, true));
    }

    private static double median(List<Sample> samples, String server, boolean rate) {
        double[] v = samples.stream().filter(s -> s.server().equals(server)).mapToDouble(s -> rate ? s.rate() : s.cpuMicros())
                .sorted().toArray();
        return median(v);
    }

    private static double median(double[] sorted) {
        double[] v = sorted;
        return v.length == 0 ? Double.NaN : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** {@return the CPU time between two {@code /proc} readings, µs: user ({@code i == 0}) or system ({@code i == 1})} */
    private static double ticksToMicros(long[] a, long[] b, int i) {
        return (b[i] - a[i]) * 10_000.0; // USER_HZ = 100
    }

    /** {@return the JIT compiler threads' CPU between two readings, µs, or NaN when unreadable} */
    private static double jitMicros(Map<String, Long> before, Map<String, Long> after) {
        long ticks = ChildJvm.jitTicksBetween(before, after);
        return ticks < 0 ? Double.NaN : ticks * 10_000.0; // USER_HZ = 100
    }

    /** 100 connections, each echoing one 1 KiB message at a time: warm-up, then {@code seconds} measured. */
    private static Sample wsEcho(String name, int round, ChildJvm.Child c, int seconds) throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, BenchTransports.ioHandlerFactory("epoll"));
        LongAdder received = new LongAdder();
        CountDownLatch open = new CountDownLatch(CONNECTIONS);
        ByteBuf payload = Unpooled.unreleasableBuffer(Unpooled.directBuffer(MESSAGE).writeBytes(new byte[MESSAGE]));
        List<Channel> channels = new ArrayList<>();
        try {
            Bootstrap b = new Bootstrap().group(group).channel(BenchTransports.socketChannel("epoll"))
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(8192),
                                    new WebSocketClientProtocolHandler(WebSocketClientProtocolConfig.newBuilder()
                                            .webSocketUri(URI.create("ws://127.0.0.1:" + c.port + "/ws")).build()),
                                    new SimpleChannelInboundHandler<WebSocketFrame>() {
                                        @Override
                                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                            if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
                                                open.countDown();
                                                ctx.writeAndFlush(new BinaryWebSocketFrame(payload.duplicate()));
                                            }
                                        }

                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame f) {
                                            received.increment();
                                            ctx.write(new BinaryWebSocketFrame(payload.duplicate()));
                                        }

                                        @Override
                                        public void channelReadComplete(ChannelHandlerContext ctx) {
                                            ctx.flush();
                                        }
                                    });
                        }
                    });
            for (int i = 0; i < CONNECTIONS; i++) {
                channels.add(b.connect("127.0.0.1", c.port).sync().channel());
            }
            if (!open.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException(name + ": only " + (CONNECTIONS - open.getCount()) + " WebSockets opened");
            }
            Thread.sleep(3000); // warm-up
            long n0 = received.sum();
            long[] t0 = ChildJvm.cpuTicks(c.pid());
            Map<String, Long> jit0 = ChildJvm.jitTicks(c.pid());
            long s0 = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            long n1 = received.sum();
            long[] t1 = ChildJvm.cpuTicks(c.pid());
            Map<String, Long> jit1 = ChildJvm.jitTicks(c.pid());
            double secs = (System.nanoTime() - s0) / 1e9;
            long msgs = n1 - n0;
            return new Sample(name, round, msgs / secs, ticksToMicros(t0, t1, 0) / msgs, ticksToMicros(t0, t1, 1) / msgs,
                    jitMicros(jit0, jit1) / msgs);
        } finally {
            for (Channel ch : channels) {
                ch.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
    }

    /**
     * wrk -t1 -c16 on the 1 MiB file: MiB/s and server CPU per request. The warm-up
     * ({@code -Dwebload.fileWarmup}, seconds, default 10) must outlast the JIT compiling the file
     * path: after 3 s the compiler threads still spent about 150 µs a request and the loop ran
     * partly unoptimised code, more than the whole difference between the servers.
     */
    private static Sample file(String name, int round, ChildJvm.Child c, int seconds) throws Exception {
        String url = "http://127.0.0.1:" + c.port + "/files/big.bin";
        run(List.of("wrk", "-t1", "-c16", "-d" + Integer.getInteger("webload.fileWarmup", 10) + "s", url)); // warm-up
        long[] t0 = ChildJvm.cpuTicks(c.pid());
        Map<String, Long> jit0 = ChildJvm.jitTicks(c.pid());
        String out = run(List.of("wrk", "-t1", "-c16", "-d" + seconds + "s", url));
        long[] t1 = ChildJvm.cpuTicks(c.pid());
        Map<String, Long> jit1 = ChildJvm.jitTicks(c.pid());
        Matcher m = WRK_RATE.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("wrk printed no rate: " + out);
        }
        double rps = Double.parseDouble(m.group(1));
        double requests = rps * seconds;
        // 1 MiB per request: MiB/s = requests/s
        return new Sample(name, round, rps, ticksToMicros(t0, t1, 0) / requests, ticksToMicros(t0, t1, 1) / requests,
                jitMicros(jit0, jit1) / requests);
    }

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ChildJvm.track(p);
        StringBuilder sb = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                sb.append(line).append('\n');
            }
        }
        p.waitFor();
        ChildJvm.untrack(p);
        return sb.toString();
    }
}
