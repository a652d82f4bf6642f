package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Task names: the one given, else one that says where the task came from, never a lambda's identity. */
@Timeout(20)
class TaskNamesTest {

    @Test
    void aTaskIsNamedAsGivenOrAfterItsSpawnerOrItsBodysClass() throws Exception {
        try (EventLoop loop = FiberLoops.builder().name("names").build()) {
            List<String> names = loop.run(() -> {
                Task<String> named = Fibers.spawn("worker", () -> Fiber.current().name());
                Task<String> child = Fibers.spawn("parent", () -> Fibers.spawn(() -> Fiber.current().name()).join());
                Task<String> ofMain = Fibers.spawn(() -> Fiber.current().name());
                return List.of(named.join(), child.join(), ofMain.join());
            });
            assertEquals("worker", names.get(0));
            assertTrue(names.get(1).matches("task-\\d+ from 'parent'"), names.get(1));
            assertTrue(names.get(2).matches("task-\\d+ from 'names-main'"), names.get(2));
            // spawned from outside the loop (no spawning task): named after the class the lambda is in
            String outside = Fibers.spawn(loop, () -> Fiber.current().name()).get(10, TimeUnit.SECONDS);
            assertTrue(outside.matches("task-\\d+ from TaskNamesTest"), outside);
            // a name set later wins
            String renamed = Fibers.spawn(loop, () -> Fiber.current().name("GET /users/{id}").name()).get(10, TimeUnit.SECONDS);
            assertEquals("GET /users/{id}", renamed);
        }
    }

    @Test
    void aFibersVirtualThreadCarriesItsNameOnceItCouldBeSeenSuspended() throws Exception {
        try (EventLoop loop = FiberLoops.builder().name("thread-names").build()) {
            List<String> names = loop.run(() -> {
                Task<String> named = Fibers.spawn("worker", () -> Thread.currentThread().getName());
                Task<String> unnamed = Fibers.spawn(() -> {
                    Fibers.yieldNow(); // named when it first leaves the carrier, so a dump sees its name
                    return Thread.currentThread().getName() + "|" + Fiber.current().name();
                });
                Task<String> renamed = Fibers.spawn(() -> {
                    Fiber.current().name("GET /users/{id}");
                    return Thread.currentThread().getName();
                });
                return List.of(named.join(), unnamed.join(), renamed.join(), Thread.currentThread().getName());
            });
            assertEquals("worker", names.get(0), "named at start");
            String[] unnamed = names.get(1).split("\\|");
            assertEquals(unnamed[1], unnamed[0], "the thread has the generated name");
            assertEquals("GET /users/{id}", names.get(2), "a rename renames the thread");
            assertEquals("thread-names-main", names.get(3));
        }
    }
}
