package io.fiberloop.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/** What both load harnesses do around their runs: the rounds of a cell, the time guard, the result file. */
final class Harness {
    private Harness() {
    }

    /** One server's measured run in one round. */
    interface Run {
        Sample run(String server, int round) throws Exception;
    }

    /**
     * Runs one cell: every round runs every server once ({@link LoadOptions#roundOrder}), prints each
     * run and then the cell's summary, and adds the cell (and any failed run) to {@code results}.
     *
     * @param cell the cell's name, e.g. {@code http -c100}
     * @param op what one operation is, {@code req} or {@code rt}
     * @param params the cell's parameters, for the result file
     * @param goals the goals to judge the servers by
     * @param common the rounds, and the bound on the machine's other load beyond which a run is
     *     discarded and run again (at most {@link #MAX_RETRIES} times)
     * @param print prints one run's line
     * @param clean whether a run was free of errors
     * @return whether every run completed and was clean
     */
    static boolean runCell(String cell, String op, Map<String, Object> params, List<Goal> goals, LoadOptions common,
                           List<String> servers, Run run, BiConsumer<String, Sample> print, Predicate<Sample> clean,
                           ResultsFile results) {
        boolean ok = true;
        List<Sample> samples = new ArrayList<>();
        for (int round = 1; round <= common.rounds; round++) {
            for (String server : LoadOptions.roundOrder(servers, round)) {
                try {
                    Sample s = run.run(server, round);
                    print.accept(cell, s);
                    for (int retry = 0; retry < MAX_RETRIES && disturbed(s, common.maxOthers); retry++) {
                        String why = String.format(Locale.ROOT, "disturbed run discarded: %s round %d of %s, others %.0f%% of a core",
                                server, round, cell, (double) s.extra().get("othersCorePct"));
                        System.out.println(why + "; running it again");
                        results.discard(why);
                        s = run.run(server, round);
                        print.accept(cell, s);
                    }
                    samples.add(s);
                    ok &= clean.test(s);
                } catch (Exception e) {
                    String what = String.format("%s round %d of %s: %s", server, round, cell,
                            e + (e.getCause() != null ? " (" + e.getCause() + ")" : ""));
                    System.out.println("FAILED " + what);
                    results.fail(what);
                    ok = false;
                }
            }
        }
        CellSummary summary = CellSummary.of(cell, samples, goals);
        Report.print(summary, op, System.out);
        results.add(new ResultsFile.Cell(cell, op, params, samples, summary));
        return ok;
    }

    /** How often a disturbed run is run again before it is kept anyway. */
    static final int MAX_RETRIES = 2;

    /** Whether the rest of the machine was busier than {@code maxOthersPct}% of a core during the run. */
    static boolean disturbed(Sample s, int maxOthersPct) {
        return s.extra().get("othersCorePct") instanceof Double others && others > maxOthersPct;
    }

    /** Stops the time guard, writes the result file and says where it went. */
    static void finish(ResultsFile results, Path out, Thread guard) throws IOException {
        guard.interrupt();
        Path file = results.write(out);
        System.out.println("\nresults: " + file + "\nload average at the end: " + ChildJvm.loadavg());
    }

    /**
     * Starts a daemon thread that stops the JVM (exit 3, which runs the shutdown hooks that kill
     * the children) when the run takes longer than planned; interrupt it when done.
     */
    static Thread timeGuard(String harness, long budgetSec) {
        Thread guard = new Thread(() -> {
            try {
                Thread.sleep(budgetSec * 1000);
                System.err.println(harness + ": time budget of " + budgetSec + " s exceeded; stopping");
                System.exit(3);
            } catch (InterruptedException ignored) {
                // finished in time
            }
        }, harness + "-time-guard");
        guard.setDaemon(true);
        guard.start();
        return guard;
    }
}
