package io.fiberloop.test;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import io.fiberloop.loop.internal.Exploration;
import io.fiberloop.loop.internal.LoopInternals;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The loop's exploration option itself: each of ready fibers, a turn's queued tasks and timers due
 * at the same time runs in FIFO order without it, in an order of the seed's choosing with it, and
 * one seed always chooses the same order.
 */
@Timeout(60)
class ExplorationTest {
    private static final int SEEDS = 20;

    /** Runs {@code scenario} on a fresh loop (exploring from {@code seed}, or FIFO when null) and returns its order. */
    static List<Integer> orderOf(Long seed, Function<EventLoop, List<Integer>> scenario) {
        EventLoop.Builder b = FiberLoops.builder().clock(LoopClock.autoAdvancing());
        if (seed != null) {
            LoopInternals.get().explore(b, Exploration.seeded(seed));
        }
        try (EventLoop loop = b.build()) {
            return loop.run(() -> scenario.apply(loop));
        }
    }

    static List<Integer> readyFibers(EventLoop loop) {
        List<Integer> order = new ArrayList<>();
        List<Task<Boolean>> tasks = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            int n = i;
            tasks.add(Fibers.spawn(() -> order.add(n)));
        }
        Fibers.awaitAll(tasks);
        return order;
    }

    static List<Integer> loopTasks(EventLoop loop) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            int n = i;
            loop.execute(() -> order.add(n));
        }
        Fibers.sleep(Duration.ofSeconds(1));
        return order;
    }

    static List<Integer> tiedTimers(EventLoop loop) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            int n = i;
            loop.schedule(() -> order.add(n), Duration.ofSeconds(1));
        }
        Fibers.sleep(Duration.ofSeconds(2));
        return order;
    }

    static void check(Function<EventLoop, List<Integer>> scenario) {
        assertEquals(List.of(0, 1, 2, 3, 4), orderOf(null, scenario), "FIFO without exploration");
        Set<List<Integer>> seen = new HashSet<>();
        for (long seed = 1; seed <= SEEDS; seed++) {
            List<Integer> order = orderOf(seed, scenario);
            assertEquals(Set.of(0, 1, 2, 3, 4), new HashSet<>(order), "each runs once");
            assertEquals(order, orderOf(seed, scenario), "seed " + seed + " replays its order");
            seen.add(order);
        }
        assertTrue(seen.size() >= SEEDS / 2, "seeds choose different orders: " + seen);
    }

    @Test
    void readyFibersRunInTheSeedsOrder() {
        check(ExplorationTest::readyFibers);
    }

    @Test
    void aTurnsTasksRunInTheSeedsOrder() {
        check(ExplorationTest::loopTasks);
    }

    @Test
    void timersDueTogetherFireInTheSeedsOrder() {
        check(ExplorationTest::tiedTimers);
    }

    @Test
    void timersOfDifferentDeadlinesKeepTheirOrder() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            assertEquals(List.of(0, 1, 2), orderOf(seed, loop -> {
                List<Integer> order = new ArrayList<>();
                loop.schedule(() -> order.add(2), Duration.ofSeconds(3));
                loop.schedule(() -> order.add(0), Duration.ofSeconds(1));
                loop.schedule(() -> order.add(1), Duration.ofSeconds(2));
                Fibers.sleep(Duration.ofSeconds(4));
                return order;
            }));
        }
    }
}
