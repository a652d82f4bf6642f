package io.fiberloop.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HTTP/2 load: {@code h2load -c10 -m100} on {@code /plaintext} against fiberloop's server, raw
 * Netty's HTTP/2 handler and Vert.x 5 ({@link H2Servers}), each in its own unpinned child JVM on one
 * event loop ({@link HttpServers.Fiberloop} speaks HTTP/2 as well), in alternating rounds (the order rotates each round); per round and server:
 * requests/s, and the server's user and system CPU per request from {@code /proc}. Prints each
 * round and the medians, with fiberloop's ratios to raw Netty. A benchmark, not a test: run it
 * under {@code flock -x /work/.cpu.lock}.
 * <pre>
 * java @fiberloop.jvmopts -cp benchmarks/target/benchmarks.jar io.fiberloop.bench.H2Load [rounds] [seconds] [transport]
 * </pre>
 * Defaults: 5 rounds of 10 s (after a 3 s warm-up per server start), epoll.
 */
public final class H2Load {
    private static final Pattern REQS = Pattern.compile("finished in [0-9.]+m?s, ([0-9.]+) req/s");
    private static final Pattern DONE = Pattern.compile("requests: (\\d+) total, \\d+ started, (\\d+) done, (\\d+) succeeded, (\\d+) failed, (\\d+) errored");

    private H2Load() {
    }

    record Sample(double reqPerSec, long requests, double userUs, double sysUs, long failed) {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        String transport = args.length > 2 ? args[2] : "epoll";
        Map<String, String> servers = new LinkedHashMap<>();
        servers.put("netty", "io.fiberloop.bench.H2Servers$RawNetty");
        servers.put("fiberloop", "io.fiberloop.bench.HttpServers$Fiberloop");
        servers.put("vertx", "io.fiberloop.bench.H2Servers$Vertx");
        Map<String, List<Sample>> results = new LinkedHashMap<>();
        servers.keySet().forEach(k -> results.put(k, new ArrayList<>()));
        List<String> order = new ArrayList<>(servers.keySet());
        for (int r = 1; r <= rounds; r++) {
            for (String name : order) {
                Sample s = run(name, servers.get(name), transport, seconds);
                results.get(name).add(s);
                System.out.printf(Locale.ROOT, "round %d %-9s %9.0f req/s  user %6.2f us/req  sys %6.2f us/req  failed %d%n",
                        r, name, s.reqPerSec, s.userUs, s.sysUs, s.failed);
            }
            order.add(order.remove(0));
        }
        System.out.println();
        System.out.println("medians of " + rounds + " rounds, h2load -c10 -m100 -D " + seconds + " /plaintext, " + transport + ":");
        Map<String, double[]> med = new LinkedHashMap<>();
        for (var e : results.entrySet()) {
            double rps = median(e.getValue().stream().mapToDouble(Sample::reqPerSec).toArray());
            double user = median(e.getValue().stream().mapToDouble(Sample::userUs).toArray());
            double sys = median(e.getValue().stream().mapToDouble(Sample::sysUs).toArray());
            med.put(e.getKey(), new double[] {rps, user, sys});
            System.out.printf(Locale.ROOT, "  %-9s %9.0f req/s  cpu %6.2f us/req (user %6.2f, sys %6.2f)%n", e.getKey(), rps, user + sys, user, sys);
        }
        double[] n = med.get("netty");
        double[] f = med.get("fiberloop");
        System.out.printf(Locale.ROOT, "fiberloop / netty: %.3fx req/s (goal >= 0.9), %.3fx cpu/req (goal <= 1.15), user %.3fx, sys %.3fx%n",
                f[0] / n[0], (f[1] + f[2]) / (n[1] + n[2]), f[1] / n[1], f[2] / n[2]);
        double[] v = med.get("vertx");
        System.out.printf(Locale.ROOT, "vertx / netty:     %.3fx req/s, %.3fx cpu/req%n", v[0] / n[0], (v[1] + v[2]) / (n[1] + n[2]));
    }

    private static Sample run(String name, String mainClass, String transport, int seconds) throws Exception {
        try (ChildJvm.Child child = ChildJvm.start(name, List.of(), Duration.ofSeconds(30), mainClass, transport)) {
            String url = "http://127.0.0.1:" + child.port + "/plaintext";
            h2load(url, 3); // warm-up: JIT, pools
            long[] before = ChildJvm.cpuTicks(child.pid());
            String out = h2load(url, seconds);
            long[] after = ChildJvm.cpuTicks(child.pid());
            Matcher m = REQS.matcher(out);
            Matcher d = DONE.matcher(out);
            if (!m.find() || !d.find()) {
                throw new IllegalStateException(name + ": cannot read h2load's output:\n" + out);
            }
            long done = Long.parseLong(d.group(3));
            long failed = Long.parseLong(d.group(4)) + Long.parseLong(d.group(5));
            double tick = 1e6 / 100; // clock ticks are 10 ms
            return new Sample(Double.parseDouble(m.group(1)), done, (after[0] - before[0]) * tick / done, (after[1] - before[1]) * tick / done,
                    failed);
        }
    }

    private static String h2load(String url, int seconds) throws Exception {
        Process p = new ProcessBuilder("h2load", "-c10", "-m100", "-t1", "-D", Integer.toString(seconds), url).redirectErrorStream(true).start();
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

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
