package io.fiberloop.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options every load harness ({@link LoadHarness}: {@link HttpLoad}, {@link H2Load}, {@link EchoLoad}) takes (a picocli mixin). */
final class LoadOptions {
    @Option(names = "--mode", defaultValue = "interleaved", paramLabel = "M",
            description = "interleaved: per round, start every server, warm each up, then measure them in turns of "
                    + "--slice-seconds, --slices turns each, in rotating order; sequential: per round, each server in "
                    + "turn gets a fresh child, a warm-up and one run of --seconds (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--slices", defaultValue = "8", paramLabel = "K",
            description = "Interleaved mode: measured slices per server and round (default: ${DEFAULT-VALUE}).")
    int slices;

    @Option(names = "--slice-seconds", defaultValue = "2", paramLabel = "S",
            description = "Interleaved mode: seconds of each slice (default: ${DEFAULT-VALUE}).")
    int sliceSeconds;

    @Option(names = {"-w", "--warmup"}, defaultValue = "5", paramLabel = "S",
            description = "Warm-up seconds of each fresh server before it is measured (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = {"-d", "--seconds"}, defaultValue = "10", paramLabel = "S",
            description = "Sequential mode: measured seconds of each run (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = {"-r", "--rounds"}, defaultValue = "5", paramLabel = "R",
            description = "Rounds: each round measures every server, fresh child JVMs each round, in the given order in "
                    + "odd rounds and reversed in even ones; the figures are medians over the rounds (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--transport", defaultValue = "epoll", paramLabel = "T",
            description = "Every server's Netty transport: epoll, io_uring or nio (default: ${DEFAULT-VALUE}).")
    String transport;

    @Option(names = "--server-jvm-arg", paramLabel = "ARG",
            description = "An extra JVM flag for the server children (repeatable), e.g. "
                    + "-XX:StartFlightRecording=filename=/tmp/s.jfr,settings=profile,dumponexit=true")
    List<String> serverJvmArgs = new ArrayList<>();

    @Option(names = "--max-others", defaultValue = "10", paramLabel = "PCT",
            description = "A run during which the rest of the machine (neither the server nor the load generator) was busy "
                    + "for more than PCT%% of a core is disturbed: it is discarded and run again, up to twice "
                    + "(default: ${DEFAULT-VALUE}; 100 keeps every run).")
    int maxOthers;

    @Option(names = "--baseline-jar", paramLabel = "JAR",
            description = "An earlier build's benchmarks jar: its fiberloop server runs as the server fiberloop-base "
                    + "(name it in --servers), an A/B of two builds in the same rounds.")
    Path baselineJar;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE",
            description = "The JSON result file (default: benchmarks/results/<harness>-<UTC time>.json under the git "
                    + "work tree, else the current directory).")
    Path out;

    /**
     * Checks the ranges and normalises the transport's name.
     *
     * @throws IllegalArgumentException naming the option and its range
     */
    void validate() {
        check("--warmup", warmup, 0, 600);
        check("--seconds", seconds, 1, 600);
        check("--rounds", rounds, 1, 50);
        check("--slices", slices, 1, 100);
        check("--slice-seconds", sliceSeconds, 1, 60);
        if (!mode.equals("interleaved") && !mode.equals("sequential")) {
            throw new IllegalArgumentException("--mode must be interleaved or sequential, not " + mode);
        }
        check("--max-others", maxOthers, 1, 100);
        if (baselineJar != null && !java.nio.file.Files.isRegularFile(baselineJar)) {
            throw new IllegalArgumentException("--baseline-jar " + baselineJar + " is not a file: give a benchmarks.jar of an earlier build");
        }
        transport = BenchTransports.norm(transport);
        BenchTransports.ioHandlerFactory(transport); // throws for an unknown name
    }

    /** Adds these options to a result file's options. */
    void describe(Map<String, Object> m) {
        m.put("transport", transport);
        m.put("mode", mode);
        if (interleaved()) {
            m.put("slices", slices);
            m.put("sliceSeconds", sliceSeconds);
        }
        m.put("warmupSeconds", warmup);
        m.put("seconds", measuredSeconds());
        m.put("rounds", rounds);
        m.put("maxOthersPct", maxOthers);
        m.put("serverJvmArgs", serverJvmArgs);
        if (baselineJar != null) {
            m.put("baselineJar", baselineJar.toString());
        }
    }

    /** E.g. {@code interleaved: warm-up 5 s, 8 slices of 2 s} or {@code sequential: warm-up 5 s, measured 10 s}. */
    String describeMode() {
        return interleaved() ? "interleaved: warm-up " + warmup + " s, " + slices + " slices of " + sliceSeconds + " s"
                : "sequential: warm-up " + warmup + " s, measured " + seconds + " s";
    }

    /** Whether the servers of a round are measured in interleaved slices ({@code --mode interleaved}). */
    boolean interleaved() {
        return mode.equals("interleaved");
    }

    /** The measured seconds of each server in each round: {@code --slices × --slice-seconds}, or {@code --seconds}. */
    int measuredSeconds() {
        return interleaved() ? slices * sliceSeconds : seconds;
    }

    /**
     * The time a harness may take for {@code cells} cells of {@code servers} servers, with a minute
     * per server and round for starting and stopping, before its time guard stops it.
     */
    long budgetSeconds(int cells, int servers) {
        return (long) cells * rounds * servers * (warmup + measuredSeconds() + 60L) + 60;
    }

    static void check(String option, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(option + " must be " + min + ".." + max + ", not " + value);
        }
    }

    /** As {@link #check}, for each of an option's values. */
    static void checkEach(String option, List<Integer> values, long min, long max) {
        for (int v : values) {
            check(option, v, min, max);
        }
    }

    /**
     * {@return the class path of the {@code fiberloop-base} server}
     *
     * @throws IllegalArgumentException if no {@code --baseline-jar} was given
     */
    String baselineClassPath() {
        if (baselineJar == null) {
            throw new IllegalArgumentException("the server fiberloop-base needs --baseline-jar JAR (an earlier build's benchmarks jar)");
        }
        return baselineJar.toAbsolutePath().toString();
    }

    /** The servers in the order they run in {@code round}: as given in odd rounds, reversed in even ones. */
    static List<String> roundOrder(List<String> servers, int round) {
        return round % 2 == 1 ? servers : servers.reversed();
    }

    /**
     * Checks a server list against the known names.
     *
     * @throws IllegalArgumentException naming the unknown server and the known ones
     */
    static void checkServers(List<String> servers, List<String> known) {
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("--servers needs at least one of " + String.join(",", known));
        }
        for (String s : servers) {
            if (!known.contains(s)) {
                throw new IllegalArgumentException("unknown server " + s + ": use " + String.join(",", known));
            }
        }
    }
}
