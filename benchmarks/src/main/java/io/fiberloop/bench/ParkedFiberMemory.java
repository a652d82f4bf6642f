package io.fiberloop.bench;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Heap bytes per parked fiber (not JMH). After two warm-up rounds of up to 100,000 fibers (so
 * that the measured fibers park in JIT-compiled frames, as in a running server), on one loop,
 * spawns N tasks that each park in a
 * fiberloop wait ({@link Fibers#await} on one {@link CompletableFuture} that is completed only at
 * the end), measures the heap used once all are parked, minus the heap used before spawning
 * (each after several {@code System.gc()}), then releases them, joins them all and closes the
 * loop.
 *
 * <p>What a parked fiber costs here is everything that exists because of it: its {@code Task}
 * (a {@code CompletableFuture}) and {@code Fiber}, its virtual thread, its continuation and
 * stack chunk (a shallow stack: the task body, {@code Fibers.await} and the park frames), its
 * scheduler object, its entry in the loop's set of live tasks, the completion callback its await
 * registered on the future, and the reference in this harness's list of tasks.
 *
 * {@snippet lang=sh :
 * ./fiberloop mvn -q -DskipTests -pl benchmarks -am package
 * ./fiberloop java -Xmx2g -cp benchmarks/target/benchmarks.jar io.fiberloop.bench.ParkedFiberMemory 1000000
 * }
 *
 * With {@code -Dfiberloop.histogram=true} it also prints the top of the live-object class
 * histogram taken while all are parked. The measuring is done by the main thread while the loop is idle (every fiber parked), so the
 * collections happen while the loop has nothing to run.
 */
public final class ParkedFiberMemory {
    private static final int CHUNK = 10_000;
    private static final int WARMUP_FIBERS = 100_000;
    private static final int WARMUP_ROUNDS = 2;

    private ParkedFiberMemory() {
    }

    /**
     * @param args the number of fibers (default 1,000,000)
     * @throws Exception if the loop fails
     */
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0].replace("_", "").replace(",", "")) : 1_000_000;
        System.out.printf(Locale.ROOT, "java %s, max heap %,d MiB, %,d fibers%n",
                Runtime.version(), Runtime.getRuntime().maxMemory() >> 20, n);

        // The watchdog is off: the harness's System.gc() calls and the chunks of spawns would be
        // reported as stalls, which they are not in the sense the watchdog means.
        try (EventLoop loop = FiberLoops.builder().name("parked-fibers").watchdog(null).build()) {
            loop.run(() -> null); // start the carrier and the fiber host
            // Warm-up: the same spawn/park/release with fewer fibers, so that the measured round
            // runs JIT-compiled code, as a server does. A fiber that parks while its frames are
            // still interpreted has a larger stack chunk (interpreted frames are bigger) and takes
            // the slow path of freeze and thaw.
            int warmup = Math.min(n, WARMUP_FIBERS);
            for (int i = 1; i <= WARMUP_ROUNDS; i++) {
                round(loop, warmup, "warm-up " + i, false);
            }
            long perFiber = round(loop, n, "measured", Boolean.getBoolean("fiberloop.histogram"));
            System.out.printf(Locale.ROOT, "goal <= 1024 bytes per parked fiber: %s%n", perFiber <= 1024 ? "met" : "NOT met");
        }
    }

    /** Spawns {@code n} fibers that park, measures, releases them; returns heap bytes per parked fiber. */
    private static long round(EventLoop loop, int n, String label, boolean histogram) throws Exception {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        CompletableFuture<Void> gate = new CompletableFuture<>();
        AtomicInteger parked = new AtomicInteger();
        List<Task<Integer>> tasks = new ArrayList<>(n); // allocated before the baseline
        long before = usedAfterGc(memory);

        long t0 = System.nanoTime();
        // Spawned from loop callbacks, in chunks, so that no callback holds the loop for long.
        for (int from = 0; from < n; from += CHUNK) {
            int count = Math.min(CHUNK, n - from);
            loop.execute(() -> {
                for (int i = 0; i < count; i++) {
                    tasks.add(Fibers.spawn(() -> {
                        parked.incrementAndGet();
                        Fibers.await(gate);
                        return 1;
                    }));
                }
            });
        }
        while (parked.get() < n) {
            TimeUnit.MILLISECONDS.sleep(1);
        }
        long t1 = System.nanoTime();
        // The last task counted itself just before parking: let the loop finish parking it and go idle.
        TimeUnit.MILLISECONDS.sleep(200);

        long after = usedAfterGc(memory);
        long perFiber = (after - before) / n;
        System.out.printf(Locale.ROOT, "%s: spawned and parked %,d fibers in %,d ms; heap used %,d -> %,d bytes (+%,d MiB): "
                + "%,d bytes per parked fiber%n", label, n, (t1 - t0) / 1_000_000, before, after, (after - before) >> 20, perFiber);
        if (histogram) {
            printHistogram(25);
        }

        long t2 = System.nanoTime();
        loop.execute(() -> gate.complete(null));
        long sum = 0;
        for (Task<Integer> t : tasks) {
            sum += t.join();
        }
        long t3 = System.nanoTime();
        if (sum != n) {
            throw new IllegalStateException("tasks returned " + sum + ", expected " + n);
        }
        System.out.printf(Locale.ROOT, "%s: released and joined %,d fibers in %,d ms%n", label, n, (t3 - t2) / 1_000_000);
        return perFiber;
    }

    /** Prints the first lines of the live-object class histogram (-Dfiberloop.histogram=true). */
    private static void printHistogram(int lines) throws Exception {
        Object out = ManagementFactory.getPlatformMBeanServer().invoke(
                new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
        String[] rows = String.valueOf(out).split("\n");
        for (int i = 0; i < Math.min(lines, rows.length); i++) {
            System.out.println("  " + rows[i]);
        }
    }

    private static long usedAfterGc(MemoryMXBean memory) throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            TimeUnit.MILLISECONDS.sleep(100);
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
