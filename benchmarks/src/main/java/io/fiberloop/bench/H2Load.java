package io.fiberloop.bench;

import io.fiberloop.bench.ChildJvm.Child;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * The HTTP/2 load benchmark: {@code h2load -c10 -m100 -t1} (10 connections, 100 concurrent streams
 * each) against {@code GET /plaintext} over h2c with prior knowledge, of fiberloop's
 * {@code HttpServer} ({@link HttpServers.Fiberloop}, which speaks HTTP/2 as well), raw Netty's
 * {@code Http2FrameCodec} with a hand-written handler and Vert.x 5's event-loop server
 * ({@link H2Servers}), each in a child JVM of its own on one event loop, not pinned. The method is
 * {@link HttpLoad}'s ({@link Harness#runCell}): by default every round starts all servers, warms
 * each up (12 s: long enough for the JIT to finish before the first slice) and measures them in
 * interleaved slices; per server the medians over the rounds of requests/s and CPU per request
 * (user and system, from {@code /proc}), the median of the per-round ratios against raw Netty and
 * issue 25's verdict on them (≥ 0.9× the rate at ≤ 1.15× the CPU), and a JSON result file.
 * {@code h2load} reports no latency percentiles, so p50 and p99 are left empty; its mean and
 * greatest time per request are in the result file ({@code meanUs}, {@code maxUs}).
 *
 * <pre>
 * apt-get install nghttp2-client   # h2load; not needed by CI
 * ./fiberloop java -cp benchmarks/target/benchmarks.jar io.fiberloop.bench.H2Load --help
 * </pre>
 * Exits 2 for bad options or without {@code h2load}, 1 when a run failed or saw failed requests or
 * non-2xx responses.
 */
@Command(name = "H2Load", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 110,
        defaultValueProvider = H2Load.Defaults.class,
        description = {"h2load -c10 -m100 -t1 against GET /plaintext (h2c, prior knowledge) of fiberloop, raw Netty "
                + "(Http2FrameCodec) and Vert.x 5 (and fiberloop-base: the fiberloop server of --baseline-jar), each in a "
                + "child JVM on one event loop, not pinned; interleaved slices, medians, ratios against raw Netty, "
                + "issue 25's verdicts; a JSON result file. Needs h2load (apt-get install nghttp2-client)."})
public final class H2Load extends LoadHarness {
    /** Every server the harness knows, in the default order. */
    static final List<String> SERVERS = List.of("fiberloop", "raw", "vertx", "fiberloop-base");
    /** The warm-up when {@code --warmup} is not given: the HTTP/2 servers' JIT needs longer than HTTP/1.1's. */
    static final String WARMUP = "12";

    @Option(names = {"-c", "--connections"}, defaultValue = "10", paramLabel = "N",
            description = "h2load's -c (default: ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = {"-m", "--streams"}, defaultValue = "100", paramLabel = "N",
            description = "h2load's -m: concurrent streams per connection (default: ${DEFAULT-VALUE}).")
    int streams;

    @Option(names = "--servers", split = ",", defaultValue = "fiberloop,raw,vertx", paramLabel = "LIST",
            description = "Servers, in the order of odd rounds (default: ${DEFAULT-VALUE}).")
    List<String> servers;

    /** The mixin's defaults, but {@link #WARMUP} for {@code --warmup}. */
    static final class Defaults implements CommandLine.IDefaultValueProvider {
        @Override
        public String defaultValue(ArgSpec arg) {
            return arg instanceof OptionSpec o && o.longestName().equals("--warmup") ? WARMUP : arg.defaultValue();
        }
    }

    /**
     * Runs the harness.
     *
     * @param args see {@code --help}
     */
    public static void main(String[] args) {
        LoadHarness.main(new H2Load(), args);
    }

    @Override
    void validate() {
        LoadOptions.checkServers(servers, SERVERS);
        LoadOptions.check("--connections", connections, 1, 1_000);
        LoadOptions.check("--streams", streams, 1, 100);
    }

    @Override
    List<String> servers() {
        return servers;
    }

    @Override
    String load() {
        return "h2load -c" + connections + " -m" + streams + " -t1";
    }

    @Override
    String missing() {
        return installed() ? null : notInstalled("h2load", "nghttp2-client");
    }

    @Override
    long budgetSeconds() {
        return common.budgetSeconds(1, servers.size());
    }

    @Override
    void describe(Map<String, Object> m) {
        m.put("connections", connections);
        m.put("streams", streams);
        m.put("servers", servers);
    }

    @Override
    boolean runCells(ResultsFile results) {
        return Harness.runCell("h2 -c" + connections + " -m" + streams, "req", Map.of("connections", connections, "streams", streams),
                Goal.H2, common, servers, this::contender, H2Load::printRun,
                s -> (long) s.extra().get("failed") == 0 && (long) s.extra().get("non2xx") == 0, results);
    }

    static boolean installed() {
        try {
            return Harness.runGenerator(List.of("h2load", "--version")).exit() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** Runs h2load against {@code port} for {@code seconds} ({@code -D}), or for {@code requests} requests ({@code -n}). */
    Harness.Generated h2load(int port, String limit, int value) throws Exception {
        return Harness.runGenerator(List.of("h2load", "-c" + connections, "-m" + streams, "-t1", limit, Integer.toString(value),
                "http://127.0.0.1:" + port + "/plaintext"));
    }

    H2Output parsed(Harness.Generated g, String server) {
        if (g.exit() != 0) {
            throw new IllegalStateException(server + ": h2load exited " + g.exit() + ":\n" + g.output());
        }
        return H2Output.parse(g.output());
    }

    Child startServer(String server) throws Exception {
        Duration ready = Duration.ofSeconds(60);
        return switch (server) {
            case "fiberloop", BASELINE_SERVER -> startChild(server, ready, HttpServers.Fiberloop.class.getName(), common.transport);
            case "raw" -> startChild(server, ready, H2Servers.RawNetty.class.getName(), common.transport);
            case "vertx" -> startChild(server, ready, H2Servers.Vertx.class.getName(), common.transport);
            default -> throw new IllegalArgumentException(server);
        };
    }

    /** Starts {@code server} and checks that it answers a first batch of requests over h2c, every one with a 2xx. */
    Harness.Contender contender(String server) throws Exception {
        Child child = startServer(server);
        return Harness.contender(child, ignored -> {
            H2Output first = parsed(h2load(child.port, "-n", connections * streams), server);
            if (first.done() != (long) connections * streams || first.failed() != 0 || first.non2xx() != 0) {
                throw new IllegalStateException(server + " did not answer " + connections * streams + " requests with 2xx: " + first);
            }
            return null;
        }, seconds -> {
            Harness.Generated g = h2load(child.port, "-D", seconds);
            H2Output h = parsed(g, server);
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("meanUs", h.meanUs());
            extra.put("maxUs", h.maxUs());
            extra.put("failed", h.failed());
            extra.put("non2xx", h.non2xx());
            return new Harness.Slice(h.done(), h.durationSec(), Double.NaN, Double.NaN, g.ticks(), extra);
        });
    }

    static void printRun(String cell, Sample s) {
        Map<String, Object> x = s.extra();
        System.out.printf(Locale.ROOT,
                "run %-14s %s round %d: %9.0f req/s, mean %s max %s, server CPU %.2f µs/req (user %.2f, sys %.2f), "
                        + "server %.0f%% h2load %.0f%% idle servers %.1f%% others %.0f%% of a core, failed %d, non-2xx %d, "
                        + "load %s -> %s%n",
                s.server(), cell, s.round(), s.rate(), Report.us((double) x.get("meanUs")), Report.us((double) x.get("maxUs")),
                s.cpuUs(), s.userUs(), s.sysUs(), x.get("serverCorePct"), x.get("loadCorePct"), x.get("idleServersCorePct"),
                x.get("othersCorePct"), x.get("failed"), x.get("non2xx"), x.get("loadBefore"), x.get("loadAfter"));
    }
}
