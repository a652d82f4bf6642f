package io.fiberloop.fiber;

import static io.fiberloop.fiber.LoopFixture.virtualLoop;
import static org.junit.jupiter.api.Assertions.*;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.fiberloop.loop.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * A task's outcome, kept in the task and handed to callbacks and to its future view: every
 * callback and every view sees it exactly once, whichever thread registers and whether it does so
 * before, during or after the loop settles the task.
 */
@Timeout(60)
class TaskOutcomeTest {
    private static final int TASKS = 2_000;

    @Test
    void callbacksAndViewsFromAnotherThreadSeeEachOutcomeExactlyOnce() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            CompletableFuture<Void> go = new CompletableFuture<>();
            List<Task<Integer>> tasks = new ArrayList<>(TASKS);
            for (int i = 0; i < TASKS; i++) {
                int n = i;
                tasks.add(Fibers.spawn(loop, () -> {
                    Fibers.await(go);
                    Fibers.yieldNow();
                    if (n % 3 == 0) {
                        throw new IllegalStateException("task " + n);
                    }
                    return n;
                }));
            }
            CountDownLatch settled = new CountDownLatch(TASKS);
            for (Task<Integer> t : tasks) {
                t.onComplete((v, e) -> settled.countDown());
            }
            AtomicIntegerArray callbacks = new AtomicIntegerArray(TASKS);
            AtomicIntegerArray views = new AtomicIntegerArray(TASKS);
            Queue<String> wrong = new ConcurrentLinkedQueue<>();
            CountDownLatch all = new CountDownLatch(2 * TASKS);
            int third = TASKS / 3;
            register(tasks, 0, third, callbacks, views, wrong, all); // before any task settles
            go.complete(null);
            register(tasks, third, 2 * third, callbacks, views, wrong, all); // while the loop settles them
            assertTrue(settled.await(30, TimeUnit.SECONDS), "the tasks never finished");
            register(tasks, 2 * third, TASKS, callbacks, views, wrong, all); // after every task settled
            assertTrue(all.await(30, TimeUnit.SECONDS), () -> all.getCount() + " callbacks or views never saw their task's outcome");
            assertEquals(List.of(), List.copyOf(wrong));
            for (int n = 0; n < TASKS; n++) {
                assertEquals(1, callbacks.get(n), "callbacks of task " + n);
                assertEquals(1, views.get(n), "view completions of task " + n);
                assertEquals(n % 3 == 0 ? Task.State.FAILED : Task.State.SUCCESS, tasks.get(n).state());
            }
        }
    }

    /** Registers a counted callback and a counted view stage on tasks [from, to). */
    private static void register(List<Task<Integer>> tasks, int from, int to, AtomicIntegerArray callbacks, AtomicIntegerArray views,
            Queue<String> wrong, CountDownLatch all) {
        for (int i = from; i < to; i++) {
            int n = i;
            Task<Integer> t = tasks.get(i);
            t.onComplete(expect(n, wrong, "callback", () -> {
                callbacks.incrementAndGet(n);
                all.countDown();
            }));
            t.toCompletableFuture().whenComplete(expect(n, wrong, "view", () -> {
                views.incrementAndGet(n);
                all.countDown();
            }));
        }
    }

    /** A callback that checks it received task {@code n}'s outcome, then runs {@code then}. */
    private static BiConsumer<Integer, Throwable> expect(int n, Queue<String> wrong, String who, Runnable then) {
        return (v, e) -> {
            boolean ok = n % 3 == 0
                    ? v == null && e instanceof IllegalStateException && e.getMessage().equals("task " + n)
                    : e == null && v != null && v == n;
            if (!ok) {
                wrong.add(who + " of task " + n + " got (" + v + ", " + e + ")");
            }
            then.run();
        };
    }

    @Test
    void aCallbackThatThrowsIsLoggedAndTheOthersStillRun() throws Exception {
        Logger taskLogger = (Logger) LoggerFactory.getLogger("io.fiberloop.fiber.Task");
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        taskLogger.addAppender(appender);
        try (EventLoop loop = virtualLoop()) {
            List<String> out = new ArrayList<>();
            String name = loop.run(() -> {
                Task<String> t = Fibers.spawn(() -> {
                    Fibers.yieldNow();
                    return "v";
                });
                t.onComplete((v, e) -> {
                    throw new IllegalStateException("the callback broke");
                });
                t.onComplete((v, e) -> out.add("second saw " + v));
                assertEquals("v", t.join());
                return t.name();
            });
            assertEquals(List.of("second saw v"), out);
            List<ILoggingEvent> events;
            synchronized (appender) {
                events = List.copyOf(appender.list);
            }
            assertEquals(1, events.size(), () -> "events: " + events);
            ILoggingEvent e = events.get(0);
            assertEquals(Level.ERROR, e.getLevel());
            assertEquals("an onComplete callback of task '" + name + "' failed", e.getFormattedMessage());
            assertEquals("the callback broke", e.getThrowableProxy().getMessage());
        } finally {
            taskLogger.detachAppender(appender);
            appender.stop();
        }
    }
}
