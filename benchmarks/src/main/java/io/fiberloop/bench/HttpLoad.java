package io.fiberloop.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import io.fiberloop.bench.ChildJvm.Child;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The HTTP load benchmark (issue 6, item 6): {@code wrk} against {@code GET /plaintext} of
 * fiberloop's {@code HttpServer} and of a raw Netty {@code HttpServerCodec} handler, one loop each
 * on the same transport, each in a child JVM of its own (same java, JVM flags and class path as
 * this one), in one invocation. For each run: a warm-up {@code wrk} run, then a measured one with
 * {@code --latency}; prints requests a second, p50/p99 latency (wrk's), the server's CPU per
 * request (utime+stime of the child from {@code /proc/<pid>/stat}), the ratios against raw Netty,
 * and the load average before and after.
 *
 * <pre>
 * apt-get install wrk          # Debian/Ubuntu package; not needed by CI
 * ./fiberloop mvn -q -DskipTests -pl benchmarks -am package
 * ./fiberloop java -cp benchmarks/target/benchmarks.jar io.fiberloop.bench.HttpLoad \
 *     --connections 100 --threads 1 --warmup 5 --seconds 10 --rounds 2
 * </pre>
 * Options:
 * <ul>
 * <li>{@code --connections N} (default 100) and {@code --threads N} (default 1): wrk's {@code -c} and {@code -t}</li>
 * <li>{@code --warmup S} (default 5), {@code --seconds S} measured (default 10),
 *     {@code --rounds R} (default 2: the servers alternate, R times, a fresh child each run)</li>
 * <li>{@code --transport epoll|io_uring|nio} (default epoll): both servers' Netty transport</li>
 * <li>{@code --servers fiberloop,raw} (default): which servers, in this order each round</li>
 * <li>{@code --pin} / {@code --no-pin} (default: pin when there are 2+ CPUs and {@code taskset}):
 *     server children on CPU 0; wrk and this JVM on CPU 1</li>
 * <li>{@code --server-jvm-arg ARG} (repeatable): an extra JVM flag for the server children, e.g.
 *     {@code -XX:StartFlightRecording=filename=/tmp/http.jfr,settings=profile}</li>
 * </ul>
 * Exits 2 (with how to install it) when {@code wrk} is not on the PATH; 1 when a run failed or
 * saw socket errors or non-2xx responses. Children are killed at the end, on failure and from a
 * shutdown hook.
 */
public final class HttpLoad {
    private static final long CLK_TCK = 100;
    private static final List<String> SERVERS = List.of("fiberloop", "raw");

    private HttpLoad() {
    }

    // ---------------------------------------------------------------- options

    static final class Options {
        int connections = 100;
        int threads = 1;
        int warmup = 5;
        int seconds = 10;
        int rounds = 2;
        String transport = "epoll";
        List<String> servers = SERVERS;
        Boolean pin;
        List<String> serverJvmArgs = new ArrayList<>();
    }

    static void usage() {
        System.err.println("""
                usage: HttpLoad [--connections N] [--threads N] [--warmup S] [--seconds S] [--rounds R]
                                [--transport epoll|io_uring|nio] [--servers fiberloop,raw] [--pin|--no-pin]
                                [--server-jvm-arg ARG]...
                  runs wrk (apt-get install wrk) against GET /plaintext of fiberloop's HttpServer and of a raw
                  Netty HttpServerCodec handler, each in a child JVM on one loop; prints req/s, p50/p99 and
                  the server's CPU per request, and the ratios against raw Netty.""");
    }

    static Options parse(String[] args) {
        Options o = new Options();
        Set<String> valued = Set.of("--connections", "-c", "--threads", "-t", "--warmup", "-w", "--seconds", "-d",
                "--rounds", "-r", "--transport", "--servers", "--server-jvm-arg");
        CliArgs.parse(args, Set.of("--pin", "--no-pin"), valued, HttpLoad::usage, (a, v) -> {
            switch (a) {
                case "--pin" -> o.pin = true;
                case "--no-pin" -> o.pin = false;
                case "--connections", "-c" -> o.connections = intIn(a, v, 1, 10_000);
                case "--threads", "-t" -> o.threads = intIn(a, v, 1, 64);
                case "--warmup", "-w" -> o.warmup = intIn(a, v, 0, 600);
                case "--seconds", "-d" -> o.seconds = intIn(a, v, 1, 600);
                case "--rounds", "-r" -> o.rounds = intIn(a, v, 1, 10);
                case "--transport" -> o.transport = BenchTransports.norm(v);
                case "--servers" -> o.servers = List.of(v.split(",")).stream().map(String::trim).toList();
                case "--server-jvm-arg" -> o.serverJvmArgs.add(v);
                default -> throw new AssertionError(a);
            }
        });
        for (String s : o.servers) {
            if (!SERVERS.contains(s)) {
                throw new IllegalArgumentException("unknown server " + s + ": use fiberloop, raw");
            }
        }
        BenchTransports.ioHandlerFactory(o.transport); // validates the name
        if (o.threads > o.connections) {
            throw new IllegalArgumentException("--threads must not exceed --connections");
        }
        return o;
    }

    static int intIn(String opt, String v, int min, int max) {
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(opt + ": not a number: " + v);
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException(opt + " must be " + min + ".." + max + ": " + n);
        }
        return n;
    }

    // ---------------------------------------------------------------- /proc

    // ---------------------------------------------------------------- wrk

    static boolean wrkInstalled() {
        try {
            Process p = new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(10, TimeUnit.SECONDS);
            return true; // wrk --version exits 1 but runs
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** What one wrk run reported. */
    record Wrk(double requestsPerSec, long requests, double durationSec, double p50us, double p90us, double p99us,
               double maxUs, long socketErrors, long non2xx, String raw) {
    }

    private static final Pattern LAT_PCT = Pattern.compile("^\\s*(50|75|90|99)%\\s+([0-9.]+)(us|ms|s)\\s*$");
    private static final Pattern LAT_LINE = Pattern.compile("^\\s*Latency\\s+\\S+\\s+\\S+\\s+([0-9.]+)(us|ms|s)\\b.*$");
    private static final Pattern REQS = Pattern.compile("^\\s*(\\d+) requests in ([0-9.]+)(us|ms|s|m),.*$");
    private static final Pattern RPS = Pattern.compile("^Requests/sec:\\s+([0-9.]+)\\s*$");
    private static final Pattern SOCK = Pattern.compile("^\\s*Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)\\s*$");
    private static final Pattern NON2XX = Pattern.compile("^\\s*Non-2xx or 3xx responses: (\\d+)\\s*$");

    static double toUs(String n, String unit) {
        double v = Double.parseDouble(n);
        return switch (unit) {
            case "us" -> v;
            case "ms" -> v * 1e3;
            case "s" -> v * 1e6;
            case "m" -> v * 60e6;
            default -> throw new IllegalArgumentException(unit);
        };
    }

    /** Parses wrk's output (with {@code --latency}). */
    static Wrk parseWrk(String out) {
        double rps = Double.NaN, dur = Double.NaN, p50 = Double.NaN, p90 = Double.NaN, p99 = Double.NaN, max = Double.NaN;
        long reqs = -1, sock = 0, non2xx = 0;
        for (String line : out.split("\n")) {
            Matcher m;
            if ((m = LAT_PCT.matcher(line)).matches()) {
                double us = toUs(m.group(2), m.group(3));
                switch (m.group(1)) {
                    case "50" -> p50 = us;
                    case "90" -> p90 = us;
                    case "99" -> p99 = us;
                    default -> {
                        // 75%: not reported
                    }
                }
            } else if ((m = LAT_LINE.matcher(line)).matches()) {
                max = toUs(m.group(1), m.group(2));
            } else if ((m = REQS.matcher(line)).matches()) {
                reqs = Long.parseLong(m.group(1));
                dur = toUs(m.group(2), m.group(3)) / 1e6;
            } else if ((m = RPS.matcher(line)).matches()) {
                rps = Double.parseDouble(m.group(1));
            } else if ((m = SOCK.matcher(line)).matches()) {
                for (int g = 1; g <= 4; g++) {
                    sock += Long.parseLong(m.group(g));
                }
            } else if ((m = NON2XX.matcher(line)).matches()) {
                non2xx = Long.parseLong(m.group(1));
            }
        }
        if (Double.isNaN(rps) || reqs < 0 || Double.isNaN(p50) || Double.isNaN(p99)) {
            throw new IllegalStateException("could not parse wrk's output:\n" + out);
        }
        return new Wrk(rps, reqs, dur, p50, p90, p99, max, sock, non2xx, out);
    }

    /** Runs wrk to completion; samples its CPU time from /proc while it runs (the last sample before it exits). */
    static Wrk runWrk(Options o, int port, int seconds, boolean pin, long[] wrkTicksOut) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (pin) {
            cmd.addAll(List.of("taskset", "-c", "1"));
        }
        cmd.addAll(List.of("wrk", "-t" + o.threads, "-c" + o.connections, "-d" + seconds + "s", "--latency",
                "http://127.0.0.1:" + port + "/plaintext"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ChildJvm.track(p);
        try {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                try (InputStream in = p.getInputStream()) {
                    in.transferTo(buf);
                } catch (IOException ignored) {
                    // the process ended
                }
            });
            long[] last = {0, 0};
            while (!p.waitFor(100, TimeUnit.MILLISECONDS)) {
                // with taskset, p is taskset until it execs wrk: same pid
                long[] t = ChildJvm.cpuTicks(p.pid());
                if (t[0] >= 0) {
                    last = t;
                }
            }
            reader.join(5_000);
            if (wrkTicksOut != null) {
                wrkTicksOut[0] = last[0];
                wrkTicksOut[1] = last[1];
            }
            String out = buf.toString(StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("wrk exited " + p.exitValue() + ":\n" + out);
            }
            return parseWrk(out);
        } finally {
            p.destroyForcibly();
            ChildJvm.untrack(p);
        }
    }

    // ---------------------------------------------------------------- server child

    static Child startServer(String server, Options o, boolean pin) throws Exception {
        String main = switch (server) {
            case "fiberloop" -> HttpServers.Fiberloop.class.getName();
            case "raw" -> HttpServers.RawNetty.class.getName();
            default -> throw new IllegalArgumentException(server);
        };
        return ChildJvm.start(server, o.serverJvmArgs, pin, Duration.ofSeconds(60), main, o.transport);
    }

    /** One request over a raw socket: the server must answer 200 with {@code Hello, World!}. */
    static void check(int port, String server) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            s.setSoTimeout(5_000);
            OutputStream out = s.getOutputStream();
            out.write("GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String res = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            String lower = res.toLowerCase(Locale.ROOT);
            if (!res.startsWith("HTTP/1.1 200") || !res.endsWith("\r\n\r\nHello, World!") || !lower.contains("content-type: text/plain")
                    || !lower.contains("content-length: 13") || !lower.contains("\r\ndate: ")) {
                throw new IllegalStateException(server + " answered unexpectedly:\n" + res);
            }
        }
    }

    // ---------------------------------------------------------------- one run

    record Result(String server, int round, Wrk wrk, double cpuUsPerReq, double userUsPerReq, double serverPct,
                  double wrkPct, double othersPct, String loadBefore, String loadAfter) {
    }

    static Result run(String server, int round, Options o, boolean pin) throws Exception {
        try (Child child = startServer(server, o, pin)) {
            check(child.port, server);
            String loadBefore = ChildJvm.loadavg();
            if (o.warmup > 0) {
                runWrk(o, child.port, o.warmup, pin, null);
            }
            long[] c0 = ChildJvm.cpuTicks(child.process.pid());
            long m0 = ChildJvm.machineBusy();
            long t0 = System.nanoTime();
            long[] wrkTicks = new long[2];
            Wrk w = runWrk(o, child.port, o.seconds, pin, wrkTicks);
            long[] c1 = ChildJvm.cpuTicks(child.process.pid());
            long m1 = ChildJvm.machineBusy();
            double elapsed = (System.nanoTime() - t0) / 1e9;
            if (!child.process.isAlive()) {
                throw new IllegalStateException(server + " server died during the run");
            }
            double serverSec = (c1[0] + c1[1] - c0[0] - c0[1]) / (double) CLK_TCK;
            double userSec = (c1[0] - c0[0]) / (double) CLK_TCK;
            double wrkSec = (wrkTicks[0] + wrkTicks[1]) / (double) CLK_TCK;
            double machineSec = (m1 - m0) / (double) CLK_TCK;
            double othersSec = Math.max(0, machineSec - serverSec - wrkSec);
            return new Result(server, round, w, serverSec * 1e6 / w.requests(), userSec * 1e6 / w.requests(),
                    100 * serverSec / elapsed, 100 * wrkSec / elapsed, 100 * othersSec / elapsed, loadBefore, ChildJvm.loadavg());
        }
    }

    // ---------------------------------------------------------------- main

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("HttpLoad: " + e.getMessage());
            usage();
            System.exit(2);
            return;
        }
        if (!wrkInstalled()) {
            System.err.println("HttpLoad: wrk is not on the PATH. Install it (Debian/Ubuntu package wrk):\n"
                    + "  apt-get install wrk\n"
                    + "(or build it from https://github.com/wg/wrk), then run this command again.");
            System.exit(2);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(ChildJvm::killAll, "kill-http-servers"));

        int cpus = Runtime.getRuntime().availableProcessors();
        boolean tasksetOk = Files.isExecutable(Path.of("/usr/bin/taskset")) || Files.isExecutable(Path.of("/bin/taskset"));
        boolean pin = o.pin != null ? o.pin && tasksetOk : cpus >= 2 && tasksetOk;
        if (pin) {
            // This JVM (every thread) on CPU 1 with wrk; the server children on CPU 0.
            Process p = new ProcessBuilder("taskset", "-a", "-p", "-c", "1", Long.toString(ProcessHandle.current().pid()))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                System.err.println("HttpLoad: could not pin this JVM to CPU 1; continuing unpinned");
                pin = false;
            }
        }

        int runs = o.rounds * o.servers.size();
        long budgetSec = runs * (o.warmup + o.seconds + 60L) + 60;
        Thread guard = new Thread(() -> {
            try {
                Thread.sleep(budgetSec * 1000);
                System.err.println("HttpLoad: time budget of " + budgetSec + " s exceeded; stopping");
                System.exit(3);
            } catch (InterruptedException ignored) {
                // finished in time
            }
        }, "http-time-guard");
        guard.setDaemon(true);
        guard.start();

        String started = ChildJvm.loadavg();
        System.out.printf("HttpLoad %s UTC: %d CPUs, pin=%s (server CPU 0, wrk CPU 1), transport %s, "
                        + "wrk -t%d -c%d, warm-up %d s, measured %d s, rounds %d, java %s, load average %s%n",
                DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").format(Instant.now().atOffset(ZoneOffset.UTC)),
                cpus, pin, o.transport, o.threads, o.connections, o.warmup, o.seconds, o.rounds, Runtime.version(), started);
        System.out.println("server JVM flags: " + String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments())
                + (o.serverJvmArgs.isEmpty() ? "" : " " + String.join(" ", o.serverJvmArgs)));

        List<Result> all = new ArrayList<>();
        int exit = 0;
        try {
            for (int round = 1; round <= o.rounds; round++) {
                for (String server : o.servers) {
                    try {
                        Result r = run(server, round, o, pin);
                        all.add(r);
                        printRun(r);
                        if (r.wrk().socketErrors() > 0 || r.wrk().non2xx() > 0) {
                            exit = 1;
                        }
                    } catch (Exception e) {
                        System.out.printf("FAILED %s round %d: %s%n", server, round, e);
                        exit = 1;
                    }
                }
            }
        } finally {
            ChildJvm.killAll();
        }
        printTable(all, o);
        System.out.println("load average: " + started + " -> " + ChildJvm.loadavg());
        guard.interrupt();
        System.exit(exit);
    }

    static String us(double us) {
        return Double.isNaN(us) ? "-" : us >= 10_000 ? String.format(Locale.ROOT, "%.1f ms", us / 1000)
                : String.format(Locale.ROOT, "%.0f µs", us);
    }

    static void printRun(Result r) {
        Wrk w = r.wrk();
        System.out.printf(Locale.ROOT,
                "run %-9s round %d: %9.0f req/s (%d in %.2f s), p50 %s p90 %s p99 %s max %s, server CPU %.2f µs/req (user %.2f), "
                        + "server %.0f%% wrk %.0f%% others %.0f%% of a core, socket errors %d, non-2xx %d, load %s -> %s%n",
                r.server(), r.round(), w.requestsPerSec(), w.requests(), w.durationSec(), us(w.p50us()), us(w.p90us()),
                us(w.p99us()), us(w.maxUs()), r.cpuUsPerReq(), r.userUsPerReq(), r.serverPct(), r.wrkPct(), r.othersPct(),
                w.socketErrors(), w.non2xx(), r.loadBefore(), r.loadAfter());
    }

    /** The summary: a markdown table, one row per run, ratios against raw Netty of the same round, and the goals. */
    static void printTable(List<Result> all, Options o) {
        System.out.println();
        System.out.println("| server | round | requests/s | p50 | p99 | CPU µs/req (user) | req/s vs raw | p99 vs raw | CPU/req vs raw | wrk / others' CPU | load before→after |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        for (Result r : all) {
            Result raw = rawOf(all, r.round());
            boolean cmp = raw != null && !r.server().equals("raw");
            System.out.printf(Locale.ROOT, "| %s | %d | %,.0f | %s | %s | %.2f (%.2f) | %s | %s | %s | %.0f%% / %.0f%% | %s → %s |%n",
                    r.server(), r.round(), r.wrk().requestsPerSec(), us(r.wrk().p50us()), us(r.wrk().p99us()),
                    r.cpuUsPerReq(), r.userUsPerReq(),
                    cmp ? String.format(Locale.ROOT, "%.2f", r.wrk().requestsPerSec() / raw.wrk().requestsPerSec()) : "—",
                    cmp ? String.format(Locale.ROOT, "%.2f", r.wrk().p99us() / raw.wrk().p99us()) : "—",
                    cmp ? String.format(Locale.ROOT, "%.2f", r.cpuUsPerReq() / raw.cpuUsPerReq()) : "—",
                    r.wrkPct(), r.othersPct(), r.loadBefore().split(" ")[0], r.loadAfter().split(" ")[0]);
        }
        for (Result r : all) {
            Result raw = rawOf(all, r.round());
            if (raw == null || r.server().equals("raw")) {
                continue;
            }
            double rps = r.wrk().requestsPerSec() / raw.wrk().requestsPerSec();
            double p99 = r.wrk().p99us() / raw.wrk().p99us();
            System.out.printf(Locale.ROOT, "round %d goals: req/s %.2f× raw (goal ≥ 0.90: %s), p99 %.2f× raw (goal ≤ 1.20: %s)%n",
                    r.round(), rps, rps >= 0.9 ? "met" : "NOT met", p99, p99 <= 1.2 ? "met" : "NOT met");
        }
    }

    static Result rawOf(List<Result> all, int round) {
        return all.stream().filter(x -> x.server().equals("raw") && x.round() == round).findFirst().orElse(null);
    }
}
