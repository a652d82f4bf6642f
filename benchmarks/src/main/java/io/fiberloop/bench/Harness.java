package io.fiberloop.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * What both load harnesses do around their runs: the rounds of a cell in either mode (sequential or
 * interleaved), the CPU accounting around each measured slice, the time guard, the result file.
 */
final class Harness {
    private Harness() {
    }

    /**
     * What the load generator saw in one slice (or one sequential run) against one server.
     *
     * @param operations requests or round trips completed in the slice
     * @param seconds the slice's length as the load generator measured it
     * @param p50Us its median latency, µs
     * @param p99Us its 99th percentile latency, µs
     * @param loadTicks CPU ticks of a load generator outside the harness JVM ({@code wrk}), 0 for none
     * @param extra the generator's own figures, merged over the slices by {@link SliceTotals#merge}
     */
    record Slice(long operations, double seconds, double p50Us, double p99Us, long loadTicks, Map<String, Object> extra) {
    }

    /**
     * A started and checked server with its load generator, which the harness warms up and then
     * measures slice by slice. Harness thread only.
     */
    interface Contender extends AutoCloseable {
        /** {@return the server's child JVM} */
        ChildJvm.Child child();

        /** {@return the server child's process id} */
        default long pid() {
            return child().pid();
        }

        /** {@return whether the server child is still running} */
        default boolean alive() {
            return child().process.isAlive();
        }

        /** Puts load on the server for {@code seconds}, unmeasured. */
        void warmUp(int seconds) throws Exception;

        /**
         * Puts load on the server for about {@code seconds} and returns what the load generator saw.
         * When it returns, the server has no request of this slice left to answer: its CPU, read
         * around this call, is this slice's alone, and it stays idle until the next call.
         */
        Slice slice(int seconds) throws Exception;

        /** Stops the load generator and the server; never throws. */
        @Override
        void close();
    }

    /** Puts load on a server for some seconds: a warm-up or a measured slice. */
    interface Load {
        Slice run(int seconds) throws Exception;
    }

    /**
     * A contender whose load generator is an external process run per warm-up and slice
     * ({@code wrk}, {@code h2load}): checks the started server with {@code check} first (and
     * stops it if that fails), warms up and measures with {@code load}, and stops the child on close.
     */
    static Contender contender(ChildJvm.Child child, Load check, Load load) throws Exception {
        try {
            check.run(0);
        } catch (Exception e) {
            child.close();
            throw e;
        }
        return new Contender() {
            @Override
            public ChildJvm.Child child() {
                return child;
            }

            @Override
            public void warmUp(int seconds) throws Exception {
                load.run(seconds);
            }

            @Override
            public Slice slice(int seconds) throws Exception {
                return load.run(seconds);
            }

            @Override
            public void close() {
                child.close();
            }
        };
    }

    /** Starts one server and its load generator, and checks that the server answers. */
    interface Starter {
        Contender start(String server) throws Exception;
    }

    /**
     * Runs one cell: every round measures every server (see {@link LoadOptions#mode}), prints each
     * server's figures of the round and then the cell's summary, and adds the cell (and any failed
     * run) to {@code results}.
     *
     * <p>Sequential mode: each server in turn ({@link LoadOptions#roundOrder}) gets a fresh child,
     * a warm-up and one measured run of {@code --seconds}. Interleaved mode: every server of the
     * round is started and warmed up first, then {@code --slices} passes each measure every server
     * for {@code --slice-seconds} in rotating order ({@link SliceTotals#rotation}), the idle ones
     * waiting; each server's figures are summed over its slices. A round (interleaved) or a run
     * (sequential) during which the rest of the machine was busier than {@code --max-others} is
     * discarded and run again, at most {@link #MAX_RETRIES} times.
     *
     * @param cell the cell's name, e.g. {@code http -c100}
     * @param op what one operation is, {@code req} or {@code rt}
     * @param params the cell's parameters, for the result file
     * @param goals the goals to judge the servers by
     * @param common the rounds, the mode and the bound on the machine's other load
     * @param starter starts a server with its load generator
     * @param print prints one server's figures of a round
     * @param clean whether a server's figures were free of errors
     * @return whether every run completed and was clean
     */
    static boolean runCell(String cell, String op, Map<String, Object> params, List<Goal> goals, LoadOptions common,
                           List<String> servers, Starter starter, BiConsumer<String, Sample> print, Predicate<Sample> clean,
                           ResultsFile results) {
        return runCell(cell, op, params, goals, common, servers, (group, round) -> measure(group, round, common, starter),
                print, clean, results);
    }

    /** Measures a group of servers together in one round: {@link #measure}, or a stand-in in tests. */
    interface Measure {
        List<Sample> measure(List<String> group, int round) throws Exception;
    }

    /** As the other {@code runCell}, each group of servers measured by {@code measure}. */
    static boolean runCell(String cell, String op, Map<String, Object> params, List<Goal> goals, LoadOptions common,
                           List<String> servers, Measure measure, BiConsumer<String, Sample> print, Predicate<Sample> clean,
                           ResultsFile results) {
        boolean ok = true;
        List<Sample> samples = new ArrayList<>();
        for (int round = 1; round <= common.rounds; round++) {
            List<String> order = LoadOptions.roundOrder(servers, round);
            List<List<String>> groups = common.interleaved() ? List.of(order) : order.stream().map(List::of).toList();
            for (List<String> group : groups) {
                try {
                    List<Sample> got = measure.measure(group, round);
                    got.forEach(s -> print.accept(cell, s));
                    for (int retry = 0; retry < MAX_RETRIES && got.stream().anyMatch(s -> disturbed(s, common.maxOthers)); retry++) {
                        String why = String.format(Locale.ROOT, "disturbed run discarded: %s round %d of %s, others %s%% of a core",
                                group, round, cell, got.stream().map(s -> String.format(Locale.ROOT, "%.0f",
                                        (double) s.extra().get("othersCorePct"))).toList());
                        System.out.println(why + "; running it again");
                        results.discard(why);
                        got = measure.measure(group, round);
                        got.forEach(s -> print.accept(cell, s));
                    }
                    samples.addAll(got);
                    ok &= got.stream().allMatch(clean);
                } catch (Exception e) {
                    String what = String.format("%s round %d of %s: %s", String.join(",", group), round, cell,
                            e + (e.getCause() != null ? " (" + e.getCause() + ")" : ""));
                    System.out.println("FAILED " + what);
                    results.fail(what);
                    ok = false;
                }
            }
        }
        CellSummary summary = CellSummary.of(cell, samples, goals);
        Report.print(summary, op, System.out);
        String ab = Report.abLine(cell, samples);
        if (ab != null) {
            System.out.println(ab);
        }
        results.add(new ResultsFile.Cell(cell, op, params, samples, summary));
        return ok;
    }

    /**
     * Measures the servers of {@code group} together: starts and warms up each, then runs the
     * passes of slices ({@code --slices} of {@code --slice-seconds} when interleaved; one of
     * {@code --seconds} when sequential, the group then being one server), then stops them all.
     *
     * @return one sample per server, in the group's order
     */
    static List<Sample> measure(List<String> group, int round, LoadOptions common, Starter starter) throws Exception {
        Map<String, Contender> running = new LinkedHashMap<>();
        String loadBefore = ChildJvm.loadavg();
        try {
            for (String server : group) {
                running.put(server, starter.start(server));
            }
            if (common.warmup > 0) {
                for (Contender c : running.values()) {
                    c.warmUp(common.warmup);
                }
            }
            Map<String, SliceTotals> totals = new LinkedHashMap<>();
            group.forEach(s -> totals.put(s, new SliceTotals(s, CLK_TCK)));
            int passes = common.interleaved() ? common.slices : 1;
            int seconds = common.interleaved() ? common.sliceSeconds : common.seconds;
            for (int pass = 0; pass < passes; pass++) {
                for (String server : SliceTotals.rotation(group, pass)) {
                    measureSlice(server, running, seconds, totals.get(server));
                }
            }
            List<Sample> out = new ArrayList<>();
            for (SliceTotals t : totals.values()) {
                Sample s = t.sample(round);
                s.extra().put("finishedAt", Instant.now().toString());
                s.extra().put("loadBefore", loadBefore);
                s.extra().put("loadAfter", ChildJvm.loadavg());
                out.add(s);
            }
            return out;
        } finally {
            running.values().forEach(Contender::close);
        }
    }

    /** One slice of {@code server}, its CPU and the rest of the machine's read from /proc right around it. */
    private static void measureSlice(String server, Map<String, Contender> running, int seconds, SliceTotals into)
            throws Exception {
        Contender c = running.get(server);
        long self = ProcessHandle.current().pid();
        long[] c0 = ChildJvm.cpuTicks(c.pid());
        long idle0 = idleTicks(server, running);
        long self0 = sum(ChildJvm.cpuTicks(self));
        long m0 = ChildJvm.machineBusy();
        long t0 = System.nanoTime();
        Slice s = c.slice(seconds);
        long[] c1 = ChildJvm.cpuTicks(c.pid());
        long idle1 = idleTicks(server, running);
        long self1 = sum(ChildJvm.cpuTicks(self));
        long m1 = ChildJvm.machineBusy();
        double wall = (System.nanoTime() - t0) / 1e9;
        for (Map.Entry<String, Contender> e : running.entrySet()) {
            if (!e.getValue().alive()) {
                throw new IllegalStateException(e.getKey() + " server died during " + server + "'s slice");
            }
        }
        into.add(s, c1[0] - c0[0], c1[1] - c0[1], idle1 - idle0, self1 - self0 + s.loadTicks(), m1 - m0, wall);
    }

    /** The summed CPU ticks of every running server but {@code busy}. */
    private static long idleTicks(String busy, Map<String, Contender> running) {
        long sum = 0;
        for (Map.Entry<String, Contender> e : running.entrySet()) {
            if (!e.getKey().equals(busy)) {
                sum += sum(ChildJvm.cpuTicks(e.getValue().pid()));
            }
        }
        return sum;
    }

    static long sum(long[] ticks) {
        return ticks[0] + ticks[1];
    }

    /**
     * What an external load generator ({@code wrk}, {@code h2load}) printed and the CPU it took.
     *
     * @param output its standard output and error
     * @param exit its exit status
     * @param ticks its user + system CPU ticks (the last /proc sample before it exited)
     */
    record Generated(String output, int exit, long ticks) {
    }

    /**
     * Runs a load generator to completion, sampling its CPU ticks every 100 ms (a process's
     * /proc entry is gone once it is reaped, so the last sample stands for its total). It is
     * killed with the servers if the harness stops meanwhile ({@link ChildJvm#track}).
     */
    static Generated runGenerator(List<String> cmd) throws Exception {
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
                long[] t = ChildJvm.cpuTicks(p.pid());
                if (t[0] >= 0) {
                    last = t;
                }
            }
            reader.join(5_000);
            return new Generated(buf.toString(StandardCharsets.UTF_8), p.exitValue(), sum(last));
        } finally {
            p.destroyForcibly();
            ChildJvm.untrack(p);
        }
    }

    /** The kernel's clock ticks a second ({@code CLK_TCK}): 100 on Linux. */
    static final long CLK_TCK = 100;

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
