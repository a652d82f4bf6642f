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
 * Args: rounds (5), seconds per measurement (10), transport (epoll).
 */
public final class WebLoad {
    private static final int CONNECTIONS = 100;
    private static final int MESSAGE = 1024;
    private static final Pattern WRK_RATE = Pattern.compile("Requests/sec:\\s+([0-9.]+)");

    private WebLoad() {
    }

    record Sample(String server, double rate, double cpuMicros) {
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
        String[][] servers = {{"fiberloop", WebServers.Fiberloop.class.getName()}, {"raw-netty", WebServers.RawNetty.class.getName()},
                {"vertx", VertxServers.class.getName(), "web", "eventloop"}};
        List<Sample> ws = new ArrayList<>();
        List<Sample> files = new ArrayList<>();
        try {
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < servers.length; i++) {
                    String[] s = servers[(i + r) % servers.length];
                    List<String> childArgs = new ArrayList<>(List.of(s).subList(2, s.length));
                    childArgs.add(transport);
                    childArgs.add(dir.toString());
                    try (ChildJvm.Child c = ChildJvm.start(s[0], List.of(), Duration.ofSeconds(30), s[1], childArgs.toArray(String[]::new))) {
                        Sample w = wsEcho(s[0], c, seconds);
                        Sample f = file(s[0], c, seconds);
                        ws.add(w);
                        files.add(f);
                        System.out.printf(Locale.ROOT, "round %d %-10s ws echo %,10.0f msg/s %6.2f us/msg | file %,8.1f MiB/s %7.1f us/req%n",
                                r + 1, s[0], w.rate(), w.cpuMicros(), f.rate(), f.cpuMicros());
                    }
                }
            }
        } finally {
            ChildJvm.killAll();
        }
        report("WebSocket echo 1 KiB x 100 conns, msg/s", ws, 0.9, 1.15);
        report("static 1 MiB file, MiB/s", files, 0.9, Double.NaN);
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
        return v.length == 0 ? Double.NaN : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double ticksToMicros(long[] a, long[] b) {
        return ((b[0] + b[1]) - (a[0] + a[1])) * 10_000.0; // USER_HZ = 100
    }

    /** 100 connections, each echoing one 1 KiB message at a time: warm-up, then {@code seconds} measured. */
    private static Sample wsEcho(String name, ChildJvm.Child c, int seconds) throws Exception {
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
            long s0 = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            long n1 = received.sum();
            long[] t1 = ChildJvm.cpuTicks(c.pid());
            double secs = (System.nanoTime() - s0) / 1e9;
            long msgs = n1 - n0;
            return new Sample(name, msgs / secs, ticksToMicros(t0, t1) / msgs);
        } finally {
            for (Channel ch : channels) {
                ch.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
    }

    /** wrk -t1 -c16 on the 1 MiB file: MiB/s and server CPU per request. */
    private static Sample file(String name, ChildJvm.Child c, int seconds) throws Exception {
        String url = "http://127.0.0.1:" + c.port + "/files/big.bin";
        run(List.of("wrk", "-t1", "-c16", "-d2s", url)); // warm-up
        long[] t0 = ChildJvm.cpuTicks(c.pid());
        String out = run(List.of("wrk", "-t1", "-c16", "-d" + seconds + "s", url));
        long[] t1 = ChildJvm.cpuTicks(c.pid());
        Matcher m = WRK_RATE.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("wrk printed no rate: " + out);
        }
        double rps = Double.parseDouble(m.group(1));
        double requests = rps * seconds;
        return new Sample(name, rps, ticksToMicros(t0, t1) / requests); // 1 MiB per request: MiB/s = requests/s
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
