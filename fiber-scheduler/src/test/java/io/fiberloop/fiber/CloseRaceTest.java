package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.channel.Channel;
import io.fiberloop.fiber.channel.Select;
import io.fiberloop.fiber.sync.Event;
import io.fiberloop.fiber.sync.Semaphore;
import io.fiberloop.loop.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code close()} from another thread while a task runs between two suspension points (issue 19
 * item 10): the loop cancels its tasks, so the next suspension point raises
 * {@link CancelledException} and the task ends {@code CANCELLED}, whichever suspension point it is,
 * never {@code FAILED} with the loop's refusal to schedule a timer.
 */
@Timeout(60)
class CloseRaceTest {

    /** Each suspension point, called by a task of a loop that has just begun to close. */
    private static Map<String, Callable<Object>> suspensionPoints() {
        Map<String, Callable<Object>> points = new LinkedHashMap<>();
        points.put("sleep", () -> {
            Fibers.sleep(Duration.ofMillis(5));
            return null;
        });
        points.put("withTimeout", () -> Fibers.withTimeout(Duration.ofSeconds(5), () -> "body ran"));
        points.put("withTimeoutOrNull", () -> Fibers.withTimeoutOrNull(Duration.ofSeconds(5), () -> "body ran"));
        points.put("Select.onTimeout", () -> Select.<String>create()
                .onReceive(Channel.<String>unbounded(), v -> v).onTimeout(Duration.ofSeconds(5), () -> "timeout").run());
        points.put("Event.await(timeout)", () -> Event.create().await(Duration.ofSeconds(5)));
        points.put("Semaphore.tryAcquire(timeout)", () -> Semaphore.create(0).tryAcquire(Duration.ofSeconds(5)));
        points.put("Task.get(timeout)", () -> Fibers.spawn(() -> Fibers.await(new CompletableFuture<>())).get(5, TimeUnit.SECONDS));
        points.put("join", () -> Fibers.spawn(() -> Fibers.await(new CompletableFuture<>())).join());
        points.put("await", () -> Fibers.await(new CompletableFuture<>()));
        points.put("Channel.receive", () -> Channel.<String>rendezvous().receive());
        points.put("Offload.call", () -> Offload.call(() -> {
            Thread.sleep(50);
            return "offloaded";
        }));
        return points;
    }

    @Test
    void everySuspensionPointRaisesCancelledExceptionOnceTheLoopCloses() throws Exception {
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, Callable<Object>> point : suspensionPoints().entrySet()) {
            String outcome = closeWhileBetweenSuspensionPoints(point.getValue());
            if (!outcome.equals("CANCELLED by CancelledException")) {
                wrong.add(point.getKey() + ": " + outcome);
            }
        }
        assertEquals(List.of(), wrong);
    }

    /**
     * Runs a task that waits, spinning on the carrier, until another thread has called
     * {@code close()}, then calls {@code point}. @return the task's state and what the point raised
     */
    private static String closeWhileBetweenSuspensionPoints(Callable<Object> point) throws Exception {
        EventLoop loop = FiberLoops.newLoop();
        CountDownLatch running = new CountDownLatch(1);
        CompletableFuture<Throwable> raised = new CompletableFuture<>();
        Task<Object> task = Fibers.spawn(loop, () -> {
            running.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (loop.state() != EventLoop.State.CLOSING && System.nanoTime() < deadline) {
                Thread.onSpinWait(); // between suspension points: holding the carrier
            }
            try {
                return point.call();
            } catch (Exception | Error t) {
                raised.complete(t);
                throw t;
            }
        });
        running.await();
        loop.close();
        Throwable t = raised.getNow(null);
        return task.state() + " by " + (t == null ? "nothing" : t.getClass().getSimpleName());
    }

    /**
     * The probe of the issue: close right after {@code run(main)} returned while the tasks main
     * spawned keep sleeping and timing out. Every task must end cancelled; 300 rounds (227 of 300
     * failed before the fix).
     */
    @Test
    void closingRightAfterRunReturnsCancelsEveryTask() throws Exception {
        int rounds = 300;
        List<String> wrong = new ArrayList<>();
        for (int round = 0; round < rounds && wrong.isEmpty(); round++) {
            EventLoop loop = FiberLoops.builder().name("probe-" + round).build();
            List<Task<Void>> tasks = loop.run(() -> {
                List<Task<Void>> spawned = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    spawned.add(Fibers.spawn(() -> {
                        while (true) {
                            Fibers.sleep(Duration.ofNanos(1_000));
                            Fibers.withTimeout(Duration.ofMillis(50), () -> {
                                Fibers.yieldNow();
                                return null;
                            });
                        }
                    }));
                }
                Fibers.yieldNow();
                return spawned;
            });
            loop.close();
            for (Task<Void> t : tasks) {
                if (t.state() != Future.State.CANCELLED) {
                    wrong.add("round " + round + ": " + t + " ended " + t.state()
                            + (t.state() == Future.State.FAILED ? " with " + t.exceptionNow() : ""));
                } else {
                    assertThrows(CancelledException.class, t::join);
                }
            }
        }
        assertEquals(List.of(), wrong);
    }
}
