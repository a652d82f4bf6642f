package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.sync.Event;
import io.fiberloop.loop.EventLoop;
import java.lang.ref.WeakReference;
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

    private static volatile Object sink;

    @Test
    void aTaskKeepsItsSpawnersNameButNotItsEndedSpawner() throws Exception {
        try (EventLoop loop = FiberLoops.builder().name("spawners").build()) {
            Event release = loop.run(() -> Event.create());
            Object[] out = loop.run(() -> {
                Task<Task<String>> spawner = Fibers.spawn("spawner", () -> {
                    Task<String> c = Fibers.spawn(() -> { // captures nothing of its spawner
                        release.await();
                        return Fiber.current().name();
                    });
                    if (c.fiber().spawner() != Fiber.current()) {
                        throw new AssertionError("while the spawner runs, it is its task's spawner: " + c.fiber().spawner());
                    }
                    return c;
                });
                Task<String> child = spawner.join();
                Fibers.yieldNow(); // the child now waits for the release
                return new Object[] {new WeakReference<>(spawner.fiber()), child};
            });
            @SuppressWarnings("unchecked")
            WeakReference<Fiber> spawnerRef = (WeakReference<Fiber>) out[0];
            @SuppressWarnings("unchecked")
            Task<String> child = (Task<String>) out[1];
            // the spawner ended: the live child no longer reaches it, and it can be collected
            assertNull(loop.run(() -> child.fiber().spawner()));
            for (int i = 0; i < 50 && spawnerRef.get() != null; i++) {
                System.gc();
                sink = new byte[64 * 1024];
            }
            assertNull(spawnerRef.get(), "the ended spawner is collectable while the task it spawned runs");
            loop.run(() -> {
                release.set();
                return null;
            });
            String name = child.get(10, TimeUnit.SECONDS);
            assertTrue(name.matches("task-\\d+ from 'spawner'"), name);
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
