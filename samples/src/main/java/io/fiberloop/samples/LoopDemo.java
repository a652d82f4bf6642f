package io.fiberloop.samples;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopStats;
import io.fiberloop.loop.TimerHandle;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A tour of the event loop: tasks run in FIFO order, timers fire in deadline order, a cancelled
 * timer never fires, a failing task is reported and the loop keeps going, and another thread
 * submits work safely.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Tour of the event loop: tasks, timers, cancellation, failures, cross-thread submission.")
final class LoopDemo implements Callable<Integer> {

    @Option(names = "--ticks", defaultValue = "3", description = "How many ticks the periodic timer prints (default: ${DEFAULT-VALUE}).")
    int ticks;

    @Option(names = "--period-ms", defaultValue = "100", description = "Period of the ticker in milliseconds (default: ${DEFAULT-VALUE}).")
    long periodMs;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        try (EventLoop loop = EventLoop.builder().name("demo-loop").build()) {
            String result = loop.run(() -> {
                say(t0, "main runs on " + Thread.currentThread().getName());
                loop.execute(() -> say(t0, "task 1 (FIFO)"));
                loop.execute(() -> say(t0, "task 2 (FIFO)"));
                loop.schedule(() -> say(t0, "timer at 50 ms"), Duration.ofMillis(50));
                loop.schedule(() -> say(t0, "timer at 20 ms (scheduled second, fires first)"), Duration.ofMillis(20));
                TimerHandle never = loop.schedule(() -> say(t0, "this cancelled timer must not fire"), Duration.ofMillis(30));
                never.cancel();
                loop.execute(() -> {
                    throw new IllegalStateException("a deliberately failing task: logged, and the loop keeps going");
                });
                return "main returned";
            });
            say(t0, "run() returned: " + result);

            var done = new java.util.concurrent.CountDownLatch(ticks);
            Thread other = Thread.ofPlatform().name("other-thread").start(() ->
                    loop.execute(() -> say(t0, "task submitted from 'other-thread' runs on " + Thread.currentThread().getName())));
            other.join();
            for (int i = 1; i <= ticks; i++) {
                int n = i;
                loop.schedule(() -> {
                    say(t0, "tick " + n + " of " + ticks);
                    done.countDown();
                }, Duration.ofMillis(periodMs * i));
            }
            done.await();
            LoopStats s = loop.stats();
            say(t0, "stats: " + s.tasksRun() + " tasks run, " + s.timersFired() + " timers fired, longest task "
                    + s.longestTask().toNanos() / 1000 + " us, max timer lag " + s.maxLag().toNanos() / 1000 + " us");
        }
        say(t0, "loop closed");
        return 0;
    }

    private static void say(long t0, String what) {
        System.out.printf("[%6.1f ms] %-12s %s%n", (System.nanoTime() - t0) / 1e6, Thread.currentThread().getName(), what);
    }
}
