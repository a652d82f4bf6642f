package io.fiberloop.bench;

import io.fiberloop.bench.ChildJvm.Child;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;

/**
 * The outline every load harness ({@link HttpLoad}, {@link H2Load}, {@link EchoLoad}) runs as a
 * picocli command: check the options (exit 2 with the reason), check that the load generator is
 * installed (exit 2 with how to install it), kill the server children from a shutdown hook and
 * stop the whole run with a time guard, print a header line, run the cells
 * ({@link Harness#runCell}), kill the children, write the result file, and exit 1 if a run failed
 * or saw errors, else 0. A harness adds its own options and says what its cells are.
 *
 * <p>Threading: the harness's main thread only.
 */
abstract class LoadHarness implements Callable<Integer> {
    /** The server that runs fiberloop's server from {@code --baseline-jar}'s class path. */
    static final String BASELINE_SERVER = "fiberloop-base";

    @Mixin
    LoadOptions common = new LoadOptions();

    /** The command line as given, for the result file. */
    private final List<String> args = new ArrayList<>();
    /** The harness's name, its class's ({@code HttpLoad}): the prefix of its messages, its time guard's and result file's name. */
    private final String name = getClass().getSimpleName();

    /**
     * Runs {@code harness} with the command line {@code args} and exits the JVM with its status.
     *
     * @param harness a new harness
     * @param args see its {@code --help}
     */
    static void main(LoadHarness harness, String[] args) {
        harness.args.addAll(List.of(args));
        System.exit(new CommandLine(harness).execute(args));
    }

    /**
     * Checks the harness's own options (after {@link LoadOptions#validate()}).
     *
     * @throws IllegalArgumentException naming the option and what it must be
     */
    abstract void validate();

    /** {@return the servers to measure ({@code --servers}), in the order of odd rounds} */
    abstract List<String> servers();

    /** {@return what the load is, for the header line: e.g. {@code wrk -t1 -c[100, 1000]}} */
    abstract String load();

    /** {@return what the header line says after "not pinned, " and before the load average: empty, or ending in ", "} */
    String notes() {
        return "";
    }

    /** {@return why the harness cannot run (its load generator is not installed, and how to install it), or {@code null}} */
    String missing() {
        return null;
    }

    /** {@return the seconds the run may take before the time guard stops it} */
    abstract long budgetSeconds();

    /**
     * Adds the harness's own options to the result file's options (the common ones follow).
     *
     * @param m the options, in order
     */
    abstract void describe(Map<String, Object> m);

    /**
     * Runs every cell, adding each to {@code results}.
     *
     * @param results the result file
     * @return whether every run completed and was clean
     * @throws Exception if the harness cannot go on
     */
    abstract boolean runCells(ResultsFile results) throws Exception;

    @Override
    public final Integer call() throws Exception {
        try {
            common.validate();
            validate();
        } catch (IllegalArgumentException e) {
            System.err.println(name + ": " + e.getMessage() + " (see --help)");
            return 2;
        }
        String missing = missing();
        if (missing != null) {
            System.err.println(name + ": " + missing);
            return 2;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(ChildJvm::killAll, "kill-" + name + "-servers"));
        Thread guard = Harness.timeGuard(name, budgetSeconds());
        ResultsFile results = new ResultsFile(name, args, options());
        System.out.printf("%s: %s, commit %s, transport %s, %s, %s, %d rounds, servers %s, not pinned, %sload average %s%n",
                name, ResultsFile.machine(), ResultsFile.commit(), common.transport, load(), common.describeMode(), common.rounds,
                servers(), notes(), ChildJvm.loadavg());
        boolean ok;
        try {
            ok = runCells(results);
        } finally {
            ChildJvm.killAll();
        }
        Harness.finish(results, common.out, guard);
        return ok ? 0 : 1;
    }

    /** {@return the options for the result file: the harness's own, then the common ones} */
    final Map<String, Object> options() {
        Map<String, Object> m = new LinkedHashMap<>();
        describe(m);
        common.describe(m);
        return m;
    }

    /**
     * Starts {@code server}'s child JVM with the {@code --server-jvm-arg} flags; the
     * {@value #BASELINE_SERVER} server on {@code --baseline-jar}'s class path, any other on this one.
     *
     * @param server the server's name, the child's label
     * @param ready how long the child may take to say it listens
     * @param mainClass the child's main class
     * @param childArgs its arguments
     * @return the started child
     * @throws Exception if it cannot be started or does not get ready
     */
    final Child startChild(String server, Duration ready, String mainClass, String... childArgs) throws Exception {
        return server.equals(BASELINE_SERVER)
                ? ChildJvm.start(server, common.serverJvmArgs, common.baselineClassPath(), ready, mainClass, childArgs)
                : ChildJvm.start(server, common.serverJvmArgs, ready, mainClass, childArgs);
    }

    /**
     * {@return the message for a load generator that is not on the PATH}
     *
     * @param tool the command, e.g. {@code wrk}
     * @param debianPackage the Debian/Ubuntu package that has it
     */
    static String notInstalled(String tool, String debianPackage) {
        return tool + " is not on the PATH. Install it (Debian/Ubuntu package " + debianPackage + "): apt-get install "
                + debianPackage + ", then run this command again.";
    }
}
