package io.fiberloop.fiber.context;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.fiber.TaskScope;
import io.fiberloop.loop.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.MDC;

/**
 * Context inheritance through spawning itself: a task starts with a snapshot of its spawner's
 * fiber locals and MDC, taken at the spawn, whichever thread spawns it.
 */
@Timeout(20)
class FiberLocalSpawnTest {
    private static final FiberLocal<String> LOCAL = FiberLocal.withInitial(() -> "initial");

    @Test
    void spawnedTasksStartWithASnapshotOfTheSpawnersContext() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                LOCAL.set("p1");
                MDC.put("request", "r-1");
                try {
                    Task<Void> child = Fibers.spawn(() -> {
                        out.add("child sees " + LOCAL.get() + " " + MDC.get("request"));
                        LOCAL.set("c");
                        MDC.put("request", "child");
                        Fibers.yieldNow();
                        out.add("child still sees " + LOCAL.get() + " " + MDC.get("request"));
                        out.add("grandchild saw " + Fibers.spawn(() -> LOCAL.get() + " " + MDC.get("request")).join());
                        return null;
                    });
                    LOCAL.set("p2");
                    MDC.put("request", "r-2");
                    Fibers.yieldNow();
                    out.add("parent sees " + LOCAL.get() + " " + MDC.get("request"));
                    child.join();
                    out.add("parent still sees " + LOCAL.get() + " " + MDC.get("request"));
                } finally {
                    MDC.clear();
                }
                return out;
            });
            assertEquals(List.of("child sees p1 r-1", "parent sees p2 r-2", "child still sees c child", "grandchild saw c child",
                    "parent still sees p2 r-2"), events);
        }
    }

    @Test
    void scopeChildrenAndScopedValuesAreInheritedToo() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            String seen = loop.run(() -> FiberLocal.where(LOCAL, "scoped", () -> {
                try (TaskScope scope = TaskScope.open()) {
                    Task<String> forked = scope.fork(LOCAL::get);
                    scope.join();
                    return forked.resultNow() + " " + Fibers.spawn(LOCAL::get).join();
                }
            }));
            assertEquals("scoped scoped", seen);
        }
    }

    @Test
    void aPlainThreadSpawningOnALoopHandsOverItsContext() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            LOCAL.set("from the test thread");
            MDC.put("request", "r-plain");
            Task<String> t;
            try {
                t = Fibers.spawn(loop, () -> LOCAL.get() + " / " + MDC.get("request"));
            } finally {
                LOCAL.remove();
                MDC.clear();
            }
            assertEquals("from the test thread / r-plain", t.join());
        }
    }

    @Test
    void aTaskOfAnEmptyContextStartsEmpty() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            AtomicReference<String> seen = new AtomicReference<>();
            loop.run(() -> {
                assertTrue(FiberContext.capture().isEmpty());
                Fibers.spawn(() -> {
                    seen.set(LOCAL.isPresent() + " " + MDC.get("request"));
                    return null;
                }).join();
                return null;
            });
            assertEquals("false null", seen.get());
        }
    }
}
