package io.fiberloop.samples;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.channel.FiberQueue;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.sync.Semaphore;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A worker pool with bounded concurrency and a result queue. Jobs (each taking a simulated
 * {@code cost} ms) go into a {@link FiberQueue}; a fixed set of worker fibers takes them, puts a
 * result into a result queue and calls {@code taskDone()}; the main fiber waits with
 * {@code join()} until every job is done, then cancels the idle workers and reads the results.
 *
 * <p>The {@code --semaphore} variant spawns one task per job instead and bounds how many run at
 * once with a {@link Semaphore}; both give the same schedule, because both serve waiters first come,
 * first served.
 */
@Command(name = "worker-pool", mixinStandardHelpOptions = true,
        description = "N workers on a FiberQueue (or one task per job under a Semaphore), a result queue, taskDone/join.")
final class WorkerPool extends Patterns.PatternCommand {

    /** The default job costs, ms. */
    static final List<Long> DEFAULT_COSTS = List.of(30L, 10L, 20L, 10L, 40L, 10L);

    @Option(names = "--workers", defaultValue = "3", description = "Concurrency bound (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--costs", split = ",", description = "Job costs in ms, comma-separated (default: 30,10,20,10,40,10).")
    List<Long> costs = new ArrayList<>(DEFAULT_COSTS);

    @Option(names = "--semaphore", description = "One task per job, bounded by a Semaphore, instead of a fixed set of workers.")
    boolean semaphore;

    /** A job: its number and how long it takes. */
    record Job(int id, long costMs) {
    }

    /** A job's result, as put into the result queue. */
    record Done(int id, long value, String worker, long startMs, long endMs) {
    }

    /**
     * What happened.
     *
     * @param results every job's result, by job number
     * @param doneAtMs when each job finished, by job number
     * @param maxBusy the most jobs that ran at once
     * @param totalMs when {@code join()} returned
     * @param log every event
     */
    record Result(List<Done> results, Map<Integer, Long> doneAtMs, int maxBusy, long totalMs, List<String> log) {
    }

    @Override
    public Integer call() throws Exception {
        Result r = semaphore ? withSemaphore(clock(), workers, costs) : run(clock(), workers, costs);
        PatternLog.print(r.log());
        long serial = costs.stream().mapToLong(Long::longValue).sum();
        System.out.println(r.results().size() + " jobs done in " + r.totalMs() + " ms (serially: " + serial
                + " ms); at most " + r.maxBusy() + " ran at once");
        return 0;
    }

    /** Mutable counters shared by the fibers of one loop (no synchronisation needed). */
    private static final class Busy {
        int now;
        int max;

        void enter() {
            now++;
            max = Math.max(max, now);
        }
    }

    /** A fixed set of {@code workers} fibers taking jobs from a queue. */
    static Result run(LoopClock clock, int workers, List<Long> costs) throws Exception {
        try (EventLoop loop = Patterns.loop("worker-pool", clock)) {
            return loop.run(() -> {
                PatternLog log = new PatternLog(loop);
                FiberQueue<Job> jobs = FiberQueue.fifo();
                FiberQueue<Done> results = FiberQueue.fifo();
                Busy busy = new Busy();

                List<Task<Void>> pool = new ArrayList<>();
                for (int w = 1; w <= workers; w++) {
                    String name = "worker-" + w;
                    pool.add(Fibers.spawn(name, () -> {
                        while (true) {
                            Job job = jobs.get();                  // waits while there is no job
                            try {
                                results.put(work(job, name, log, busy));
                            } finally {
                                jobs.taskDone();                   // counted by jobs.join()
                            }
                        }
                    }));
                }
                for (int i = 0; i < costs.size(); i++) {
                    jobs.put(new Job(i, costs.get(i)));
                }
                log.add("main", costs.size() + " jobs queued; join() waits until every one is done");
                jobs.join();
                long total = log.ms();
                log.add("main", "all jobs done; cancelling the idle workers");
                pool.forEach(Task::cancel);
                Fibers.awaitAllSettled(pool);
                return result(results, busy, total, log);
            });
        }
    }

    /** One task per job; a {@link Semaphore} of {@code workers} permits bounds how many run at once. */
    static Result withSemaphore(LoopClock clock, int workers, List<Long> costs) throws Exception {
        try (EventLoop loop = Patterns.loop("worker-pool", clock)) {
            return loop.run(() -> {
                PatternLog log = new PatternLog(loop);
                Semaphore permits = Semaphore.create(workers);
                FiberQueue<Done> results = FiberQueue.fifo();
                Busy busy = new Busy();
                List<Task<Void>> tasks = new ArrayList<>();
                for (int i = 0; i < costs.size(); i++) {
                    Job job = new Job(i, costs.get(i));
                    String name = "task-" + i;
                    tasks.add(Fibers.spawn(name, () -> permits.withPermit(() -> {   // waits for a permit
                        results.put(work(job, name, log, busy));
                        return null;
                    })));
                }
                log.add("main", costs.size() + " tasks spawned, at most " + workers + " hold a permit");
                Fibers.awaitAll(tasks);
                return result(results, busy, log.ms(), log);
            });
        }
    }

    private static Done work(Job job, String worker, PatternLog log, Busy busy) {
        busy.enter();
        long start = log.ms();
        log.add(worker, "starts job " + job.id() + " (" + job.costMs() + " ms)");
        try {
            Fibers.sleep(Duration.ofMillis(job.costMs()));     // simulated work that suspends
        } catch (CancelledException e) {
            log.add(worker, "cancelled during job " + job.id());
            throw e;
        } finally {
            busy.now--;
        }
        long value = (long) job.id() * job.id();
        log.add(worker, "finished job " + job.id() + " -> " + value);
        return new Done(job.id(), value, worker, start, log.ms());
    }

    private static Result result(FiberQueue<Done> results, Busy busy, long total, PatternLog log) {
        List<Done> all = new ArrayList<>();
        for (Done d = results.tryGet(); d != null; d = results.tryGet()) {
            all.add(d);
        }
        all.sort(Comparator.comparingInt(Done::id));
        Map<Integer, Long> doneAt = new TreeMap<>();
        all.forEach(d -> doneAt.put(d.id(), d.endMs()));
        return new Result(List.copyOf(all), doneAt, busy.max, total, log.lines());
    }
}
