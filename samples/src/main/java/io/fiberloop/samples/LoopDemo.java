package io.fiberloop.samples;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.fiber.TaskScope;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopStats;
import io.fiberloop.loop.TimerHandle;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A tour of the event loop and its fibers: tasks run in FIFO order, timers fire in deadline order,
 * a cancelled timer never fires, a failing task is reported and the loop keeps going, another
 * thread submits work safely; then fibers: blocking-style tasks that sleep on the loop's timers,
 * a timeout, a cancellation whose {@code finally} runs, a structured scope, and a generator built
 * on {@link Fiber#switchTo}.
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
        try (EventLoop loop = FiberLoops.builder().name("demo-loop").build()) {
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
            fibers(loop, t0);
            LoopStats s = loop.stats();
            say(t0, "stats: " + s.tasksRun() + " tasks run, " + s.timersFired() + " timers fired, longest task "
                    + s.longestTask().toNanos() / 1000 + " us, max timer lag " + s.maxLag().toNanos() / 1000 + " us");
        }
        say(t0, "loop closed");
        return 0;
    }

    /** The same loop, now running blocking-style code in fibers. */
    private static void fibers(EventLoop loop, long t0) throws Exception {
        loop.run(() -> {
            say(t0, "fibers: main is " + Fiber.current());
            Task<String> slow = Fibers.spawn("slow", () -> {
                Fibers.sleep(Duration.ofMillis(80));
                return "slow done";
            });
            Task<String> fast = Fibers.spawn("fast", () -> {
                Fibers.sleep(Duration.ofMillis(20));
                return "fast done";
            });
            say(t0, "spawned two tasks; joining (main suspends, the loop keeps running)");
            say(t0, fast.join() + ", then " + slow.join());

            String timedOut = Fibers.withTimeoutOrNull(Duration.ofMillis(30), () -> {
                Fibers.sleep(Duration.ofSeconds(10));
                return "never";
            });
            say(t0, "withTimeoutOrNull(30 ms) around a 10 s sleep returned " + timedOut);

            Task<Void> victim = Fibers.spawn("victim", () -> {
                try {
                    Fibers.sleep(Duration.ofHours(1));
                } finally {
                    say(t0, "victim's finally block runs as it is cancelled");
                }
                return null;
            });
            Fibers.yieldNow();
            victim.cancel();
            try {
                victim.join();
            } catch (CancelledException expected) {
                say(t0, "join() on the cancelled task threw CancelledException, state " + victim.state());
            }

            try (TaskScope scope = TaskScope.open()) {
                Task<Integer> a = scope.fork(() -> { Fibers.sleep(Duration.ofMillis(10)); return 20; });
                Task<Integer> b = scope.fork(() -> { Fibers.sleep(Duration.ofMillis(15)); return 22; });
                scope.join();
                say(t0, "TaskScope joined two children: " + a.resultNow() + " + " + b.resultNow() + " = " + (a.resultNow() + b.resultNow()));
            }

            Fiber consumer = Fiber.current();
            Fiber generator = new Fiber(() -> {
                for (int i = 0; i < 3; i++) {
                    consumer.switchTo(i * i);
                }
                return "generator exhausted";
            });
            StringBuilder squares = new StringBuilder();
            Object v = generator.switchTo();
            while (generator.isAlive()) {
                squares.append(v).append(' ');
                v = generator.switchTo(null);
            }
            say(t0, "generator on Fiber.switchTo yielded " + squares + "then returned '" + v + "'");
            return null;
        });
    }

    private static void say(long t0, String what) {
        System.out.printf("[%6.1f ms] %-12s %s%n", (System.nanoTime() - t0) / 1e6, Thread.currentThread().getName(), what);
    }
}
