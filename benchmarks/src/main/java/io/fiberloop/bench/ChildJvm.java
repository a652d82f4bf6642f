package io.fiberloop.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What the load harnesses ({@link EchoLoad}, {@link HttpLoad}) share: servers in child JVMs of their
 * own (same {@code java}, JVM flags and class path as the harness, not pinned to any CPU; a child
 * prints {@code PORT n} when ready and stops when its stdin closes), every child killed on the way
 * out, and CPU accounting from {@code /proc}.
 */
final class ChildJvm {
    private static final Set<Process> CHILDREN = ConcurrentHashMap.newKeySet();

    private ChildJvm() {
    }

    /** A running child server. Closing it closes its stdin, then kills it if it does not stop. */
    static final class Child implements AutoCloseable {
        final Process process;
        final int port;

        Child(Process process, int port) {
            this.process = process;
            this.port = port;
        }

        long pid() {
            return process.pid();
        }

        @Override
        public void close() {
            try {
                process.getOutputStream().close(); // stdin EOF: the child stops on its own
            } catch (IOException ignored) {
                // kill below
            }
            try {
                if (!process.waitFor(8, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            } finally {
                CHILDREN.remove(process);
            }
        }
    }

    /**
     * Starts {@code mainClass args...} in a child JVM and waits until it reports its port.
     *
     * @param label names the child in its echoed output and in errors
     * @param extraJvmArgs JVM flags added after the harness's own (e.g. JFR)
     * @param readyTimeout how long the child may take to print {@code PORT n}
     */
    static Child start(String label, List<String> extraJvmArgs, Duration readyTimeout,
                       String mainClass, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib:jdwp") && !a.startsWith("-Xrunjdwp")) {
                cmd.add(a);
            }
        }
        cmd.addAll(extraJvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        CHILDREN.add(p);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CountDownLatch ready = new CountDownLatch(1);
        int[] port = {-1};
        Thread.ofPlatform().daemon().name(label + "-stdout").start(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    if (port[0] < 0 && line.startsWith("PORT ")) {
                        port[0] = Integer.parseInt(line.substring(5).trim());
                        ready.countDown();
                    } else {
                        System.out.println("  [" + label + "] " + line);
                    }
                }
            } catch (IOException | RuntimeException ignored) {
                // child gone
            } finally {
                ready.countDown();
            }
        });
        if (!ready.await(readyTimeout.toMillis(), TimeUnit.MILLISECONDS) || port[0] < 0) {
            p.destroyForcibly();
            CHILDREN.remove(p);
            throw new IllegalStateException(label + " server did not report its port within " + readyTimeout.toSeconds() + " s (exit "
                    + (p.isAlive() ? "none" : p.exitValue()) + "); command: " + String.join(" ", cmd));
        }
        return new Child(p, port[0]);
    }

    /** Kills other processes with the children too (the load generator, say), until {@link #untrack}. */
    static void track(Process p) {
        CHILDREN.add(p);
    }

    static void untrack(Process p) {
        CHILDREN.remove(p);
    }

    /** Kills every child still running; for shutdown hooks and failures. */
    static void killAll() {
        for (Process p : CHILDREN) {
            p.destroyForcibly();
        }
    }

    // ---------------------------------------------------------------- the child's side

    /** How a child server stops. */
    interface Stop {
        void run() throws Exception;
    }

    /**
     * The child's whole side of the protocol: tells the parent it serves on {@code port}, serves
     * until stdin ends, then runs {@code stop} (halted after 5 s if that hangs) and exits.
     */
    static void serveUntilStdinEof(int port, Stop stop) throws Exception {
        ready(port);
        awaitStdinEof();
        exitSoon();
        stop.run();
        System.exit(0);
    }

    /** Tells the parent the child is serving: the line {@link #start} waits for. */
    private static void ready(int port) {
        System.out.println("PORT " + port);
        System.out.flush();
    }

    /** Blocks until stdin ends (the parent closed the pipe, or died): the child's signal to stop. */
    private static void awaitStdinEof() {
        byte[] buf = new byte[256];
        try {
            while (System.in.read(buf) >= 0) {
                // ignore anything the parent writes
            }
        } catch (IOException e) {
            // treat as end of file
        }
    }

    /** Halts the child after 5 s even if closing hangs: a bounded-time stop. */
    private static void exitSoon() {
        Thread.ofPlatform().daemon().name("exit-watchdog").start(() -> {
            try {
                Thread.sleep(5_000);
            } catch (InterruptedException ignored) {
                // exit anyway
            }
            Runtime.getRuntime().halt(4);
        });
    }

    // ---------------------------------------------------------------- /proc

    /** utime and stime of a process, in clock ticks; {@code {-1,-1}} if unreadable. */
    static long[] cpuTicks(long pid) {
        try {
            return statTicks(Files.readString(Path.of("/proc/" + pid + "/stat")));
        } catch (IOException | RuntimeException e) {
            return new long[] {-1, -1};
        }
    }

    /** utime and stime (fields 14 and 15) of a {@code /proc/.../stat} line. */
    private static long[] statTicks(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
    }

    /**
     * User+system ticks of each JIT compiler thread ({@code C1 CompilerThread*}, {@code C2
     * CompilerThread*}) of a process, by thread id, from {@code /proc/<pid>/task/*}; {@code null}
     * when unreadable. Compiling counts in the server's CPU, so a
     * window that still compiles shows it here. {@link #jitTicksBetween} turns two of these into a window's ticks.
     */
    static Map<String, Long> jitTicks(long pid) {
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            Map<String, Long> byThread = new HashMap<>();
            for (Path t : (Iterable<Path>) tasks::iterator) {
                String s;
                try {
                    s = Files.readString(t.resolve("stat"));
                } catch (IOException gone) {
                    continue; // the thread ended
                }
                String comm = s.substring(s.indexOf('(') + 1, s.lastIndexOf(')'));
                if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
                    long[] ticks = statTicks(s);
                    byThread.put(t.getFileName().toString(), ticks[0] + ticks[1]);
                }
            }
            return byThread;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The compiler threads' ticks between two {@link #jitTicks} readings, or -1 when either is
     * missing: per thread, so a thread that started in the window counts from zero, and one the JVM
     * retired in the window loses only its ticks in the window (a lower bound, never negative).
     */
    static long jitTicksBetween(Map<String, Long> before, Map<String, Long> after) {
        if (before == null || after == null) {
            return -1;
        }
        long sum = 0;
        for (Map.Entry<String, Long> e : after.entrySet()) {
            sum += e.getValue() - before.getOrDefault(e.getKey(), 0L);
        }
        return sum;
    }

    /** Busy ticks of the whole machine (user+nice+system+irq+softirq+steal, all CPUs). */
    static long machineBusy() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            return Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6])
                    + Long.parseLong(f[7]) + Long.parseLong(f[8]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The 1, 5 and 15 minute load averages, or {@code ?}. */
    static String loadavg() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }
}
