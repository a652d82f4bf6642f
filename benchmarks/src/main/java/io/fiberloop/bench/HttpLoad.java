package io.fiberloop.bench;

import io.fiberloop.bench.ChildJvm.Child;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The HTTP load benchmark: {@code wrk} against {@code GET /plaintext} ({@code Hello, World!},
 * {@code Content-Type: text/plain}, {@code Content-Length}, {@code Date}) of fiberloop's
 * {@code HttpServer}, raw Netty ({@code HttpServerCodec} and a hand-written handler), Vert.x 5's
 * event-loop {@code HttpServer} and Vert.x 5 in virtual-thread mode. Each server runs in a child JVM
 * of its own, one event loop (one thread) each, on the same transport (epoll by default), none
 * pinned to a CPU. Every round measures every server with fresh children (a check request, a warm-up
 * {@code wrk} run, then {@code wrk --latency}): by default in interleaved slices, all servers running
 * and measured in turns, else one after the other ({@link Harness#runCell}). Per connection count (a
 * cell) it prints the medians over the rounds of requests/s, p50/p99 (wrk's; the median of the
 * slices') and the server's CPU per request split into user and system time (from
 * {@code /proc/<pid>/stat} around each measured slice), the median of the per-round ratios against raw
 * Netty, issue 20's verdict on them, and raw's own spread over the rounds; it writes everything to
 * a JSON file ({@link ResultsFile}) that {@link Charts} renders.
 *
 * <pre>
 * apt-get install wrk          # not needed by CI
 * ./fiberloop mvn -q -DskipTests -pl benchmarks -am package
 * ./fiberloop java -cp benchmarks/target/benchmarks.jar io.fiberloop.bench.HttpLoad --help
 * </pre>
 * Exits 2 for bad options or without {@code wrk}, 1 when a run failed or saw socket errors or
 * non-2xx responses. Children are killed at the end, on failure and from a shutdown hook.
 */
@Command(name = "HttpLoad", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 110,
        description = {"wrk against GET /plaintext of fiberloop, raw Netty, Vert.x 5 (event loop) and Vert.x 5 (virtual "
                + "threads) (and fiberloop-jfr: fiberloop with a JFR recording of fiberloop.jfc; fiberloop-base: "
                + "the fiberloop server of --baseline-jar), each in a child JVM "
                + "on one event loop, not pinned; alternating rounds, medians, ratios against "
                + "raw Netty, issue 20's verdicts; a JSON result file. Needs wrk (apt-get install wrk)."})
public final class HttpLoad extends LoadHarness {
    /** Every server the harness knows, in the default order. */
    static final List<String> SERVERS = List.of("fiberloop", "raw", "vertx", "vertx-vt", "fiberloop-jfr", "fiberloop-base");

    @Option(names = {"-c", "--connections"}, split = ",", defaultValue = "100,1000", paramLabel = "N[,N]",
            description = "wrk's -c; one cell per value (default: ${DEFAULT-VALUE}).")
    List<Integer> connections;

    @Option(names = {"-t", "--threads"}, defaultValue = "1", paramLabel = "N",
            description = "wrk's -t (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--servers", split = ",", defaultValue = "fiberloop,raw,vertx,vertx-vt", paramLabel = "LIST",
            description = "Servers, in the order of odd rounds (default: ${DEFAULT-VALUE}).")
    List<String> servers;

    /**
     * Runs the harness.
     *
     * @param args see {@code --help}
     */
    public static void main(String[] args) {
        LoadHarness.main(new HttpLoad(), args);
    }

    @Override
    void validate() {
        LoadOptions.checkServers(servers, SERVERS);
        LoadOptions.checkEach("--connections", connections, 1, 10_000);
        LoadOptions.check("--threads", threads, 1, 64);
        if (threads > connections.stream().mapToInt(Integer::intValue).min().orElse(1)) {
            throw new IllegalArgumentException("--threads must not exceed --connections");
        }
    }

    @Override
    List<String> servers() {
        return servers;
    }

    @Override
    String load() {
        return "wrk -t" + threads + " -c" + connections;
    }

    @Override
    String missing() {
        return wrkInstalled() ? null : notInstalled("wrk", "wrk");
    }

    @Override
    long budgetSeconds() {
        return common.budgetSeconds(connections.size(), servers.size());
    }

    @Override
    void describe(Map<String, Object> m) {
        m.put("connections", connections);
        m.put("threads", threads);
        m.put("servers", servers);
    }

    @Override
    boolean runCells(ResultsFile results) {
        boolean ok = true;
        for (int conns : connections) {
            ok &= Harness.runCell("http -c" + conns, "req", Map.of("connections", conns, "threads", threads), Goal.HTTP,
                    common, servers, server -> contender(server, conns), HttpLoad::printRun,
                    s -> (long) s.extra().get("socketErrors") == 0 && (long) s.extra().get("non2xx") == 0, results);
        }
        return ok;
    }

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

    /** Runs wrk to completion; {@code wrkTicksOut} gets its CPU ticks (the last /proc sample before it exits). */
    WrkOutput runWrk(int port, int conns, int seconds, long[] wrkTicksOut) throws Exception {
        Harness.Generated g = Harness.runGenerator(List.of("wrk", "-t" + threads, "-c" + conns, "-d" + seconds + "s", "--latency",
                "http://127.0.0.1:" + port + "/plaintext"));
        if (wrkTicksOut != null) {
            wrkTicksOut[0] = g.ticks();
        }
        if (g.exit() != 0) {
            throw new IllegalStateException("wrk exited " + g.exit() + ":\n" + g.output());
        }
        return WrkOutput.parse(g.output());
    }

    // ---------------------------------------------------------------- one run

    Child startServer(String server) throws Exception {
        Duration ready = Duration.ofSeconds(60);
        return switch (server) {
            case "fiberloop", BASELINE_SERVER -> startChild(server, ready, HttpServers.Fiberloop.class.getName(), common.transport);
            case "fiberloop-jfr" -> ChildJvm.start(server, withFiberloopRecording(common.serverJvmArgs), ready,
                    HttpServers.Fiberloop.class.getName(), common.transport);
            case "raw" -> startChild(server, ready, HttpServers.RawNetty.class.getName(), common.transport);
            case "vertx" -> startChild(server, ready, VertxServers.class.getName(), "http", "eventloop", common.transport);
            case "vertx-vt" -> startChild(server, ready, VertxServers.class.getName(), "http", "virtual", common.transport);
            default -> throw new IllegalArgumentException(server);
        };
    }

    /**
     * {@code jvm} plus a JFR recording of fiberloop's events alone (the project's {@code fiberloop.jfc}:
     * an {@code io.fiberloop.HttpRequest} per request), to a file deleted on exit: what recording
     * costs the request path, against {@code fiberloop} in the same run.
     */
    private static List<String> withFiberloopRecording(List<String> jvm) throws IOException {
        java.nio.file.Path jfc = java.nio.file.Path.of("fiberloop.jfc").toAbsolutePath();
        if (!java.nio.file.Files.isRegularFile(jfc)) {
            throw new IllegalArgumentException("fiberloop-jfr needs " + jfc + ": run HttpLoad from the project's root");
        }
        java.nio.file.Path out = java.nio.file.Files.createTempFile("httpload-fiberloop", ".jfr");
        out.toFile().deleteOnExit();
        List<String> l = new java.util.ArrayList<>(jvm);
        l.add("-XX:StartFlightRecording=settings=" + jfc + ",filename=" + out + ",maxsize=64m");
        return l;
    }

    /** One request over a raw socket: the server must answer 200 with {@code Hello, World!} and the three headers. */
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

    /** Starts {@code server}, checks its answer; wrk with {@code conns} connections is its load. */
    Harness.Contender contender(String server, int conns) throws Exception {
        Child child = startServer(server);
        return Harness.contender(child, ignored -> {
            check(child.port, server);
            return null;
        }, seconds -> {
            long[] wrkTicks = new long[1];
            WrkOutput w = runWrk(child.port, conns, seconds, wrkTicks);
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("p90Us", w.p90Us());
            extra.put("maxUs", w.maxUs());
            extra.put("socketErrors", w.socketErrors());
            extra.put("non2xx", w.non2xx());
            return new Harness.Slice(w.requests(), w.durationSec(), w.p50Us(), w.p99Us(), wrkTicks[0], extra);
        });
    }

    static void printRun(String cell, Sample s) {
        Map<String, Object> x = s.extra();
        System.out.printf(Locale.ROOT,
                "run %-9s %s round %d: %9.0f req/s, p50 %s p99 %s max %s, server CPU %.2f µs/req (user %.2f, sys %.2f), "
                        + "server %.0f%% wrk %.0f%% idle servers %.1f%% others %.0f%% of a core, socket errors %d, non-2xx %d, "
                        + "load %s -> %s%n",
                s.server(), cell, s.round(), s.rate(), Report.us(s.p50Us()), Report.us(s.p99Us()),
                Report.us((double) x.get("maxUs")), s.cpuUs(), s.userUs(), s.sysUs(), x.get("serverCorePct"),
                x.get("loadCorePct"), x.get("idleServersCorePct"), x.get("othersCorePct"), x.get("socketErrors"),
                x.get("non2xx"), x.get("loadBefore"), x.get("loadAfter"));
    }
}
