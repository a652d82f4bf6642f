package io.fiberloop.test.dogfood;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.fiber.TaskScope;
import io.fiberloop.fiber.channel.Channel;
import io.fiberloop.fiber.sync.Lock;
import io.fiberloop.fiber.sync.Semaphore;
import io.fiberloop.test.Explore;
import io.fiberloop.test.FiberLoopTest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The coordination primitives' invariants under schedule exploration, a fixed set of 20 seeds
 * each (the same on every run; -Dfiberloop.explore.iterations=N for a larger run): whatever order
 * the ready fibers, tasks and timers run in, a lock admits one holder, a semaphore never lends
 * more than its permits, and a channel delivers each element once.
 */
@FiberLoopTest
class SyncUnderExplorationTest {

    @Explore(iterations = 20)
    void aLockAdmitsOneHolderAtATime() {
        Lock lock = Lock.create();
        int[] inside = {0};
        int[] entries = {0};
        try (TaskScope scope = TaskScope.open()) {
            for (int i = 0; i < 5; i++) {
                scope.fork(() -> {
                    for (int round = 0; round < 3; round++) {
                        lock.withLock(() -> {
                            inside[0]++;
                            entries[0]++;
                            assertEquals(1, inside[0], "two fibers hold the lock");
                            Fibers.yieldNow();
                            inside[0]--;
                            return null;
                        });
                    }
                    return null;
                });
            }
            scope.join();
        }
        assertEquals(15, entries[0]);
    }

    @Explore(iterations = 20)
    void aSemaphoreNeverLendsMoreThanItsPermits() {
        Semaphore sem = Semaphore.create(2);
        int[] holders = {0};
        int[] most = {0};
        try (TaskScope scope = TaskScope.open()) {
            for (int i = 0; i < 6; i++) {
                int n = i;
                scope.fork(() -> sem.withPermit(() -> {
                    most[0] = Math.max(most[0], ++holders[0]);
                    Fibers.sleep(Duration.ofMillis(n % 3));
                    holders[0]--;
                    return null;
                }));
            }
            scope.join();
        }
        assertTrue(most[0] <= 2, "at most 2 holders, saw " + most[0]);
        assertEquals(2, sem.availablePermits());
    }

    @Explore(iterations = 20)
    void aChannelDeliversEachElementOnce() {
        Channel<Integer> ch = Channel.buffered(2);
        List<Integer> got = new ArrayList<>();
        List<Task<Void>> producers = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            int base = p * 10;
            producers.add(Fibers.spawn(() -> {
                for (int i = 0; i < 5; i++) {
                    ch.send(base + i);
                }
                return null;
            }));
        }
        Task<Void> consumer = Fibers.spawn(() -> {
            for (Integer x; (x = ch.receiveOrNull()) != null; ) {
                got.add(x);
            }
            return null;
        });
        Fibers.awaitAll(producers);
        ch.close();
        consumer.join();
        List<Integer> expected = IntStream.range(0, 3).boxed().flatMap(p -> IntStream.range(0, 5).mapToObj(i -> p * 10 + i)).toList();
        assertEquals(expected, got.stream().sorted().toList());
    }
}
