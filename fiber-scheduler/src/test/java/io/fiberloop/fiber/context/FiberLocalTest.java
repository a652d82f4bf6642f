package io.fiberloop.fiber.context;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Offload;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.MDC;

/**
 * FiberLocal and FiberContext: per-fiber values, initial values, the scoped form, and inheritance
 * through {@link FiberContext#wrap} (the spawn hook's own tests are in {@link FiberLocalSpawnTest}).
 */
@Timeout(20)
class FiberLocalTest {

    @Test
    void eachFiberHasItsOwnValue() throws Exception {
        FiberLocal<String> local = FiberLocal.withInitial(() -> "initial");
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<Void> a = Fibers.spawn(() -> {
                    local.set("a");
                    out.add("a set a");
                    Fibers.yieldNow();
                    out.add("a reads " + local.get());
                    return null;
                });
                Task<Void> b = Fibers.spawn(() -> {
                    out.add("b reads " + local.get());
                    local.set("b");
                    out.add("b set b");
                    Fibers.yieldNow();
                    out.add("b reads " + local.get());
                    return null;
                });
                a.join();
                b.join();
                out.add("main reads " + local.get());
                return out;
            });
            assertEquals(List.of("a set a", "b reads initial", "b set b", "a reads a", "b reads b", "main reads initial"), events);
        }
    }

    @Test
    void initialValuesAreComputedOncePerFiberAndRemoveResetsThem() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        FiberLocal<List<String>> list = FiberLocal.withInitial(() -> {
            calls.incrementAndGet();
            return new ArrayList<>();
        });
        FiberLocal<String> plain = FiberLocal.create();
        try (EventLoop loop = FiberLoops.newLoop()) {
            loop.run(() -> {
                assertFalse(list.isPresent());
                list.get().add("x");
                list.get().add("y");
                assertEquals(List.of("x", "y"), list.get());
                assertEquals(1, calls.get());
                assertTrue(list.isPresent());
                list.remove();
                assertFalse(list.isPresent());
                assertEquals(List.of(), list.get());
                assertEquals(2, calls.get());

                assertNull(plain.get());
                assertFalse(plain.isPresent());
                plain.set(null);
                assertTrue(plain.isPresent());
                assertNull(plain.get());
                plain.set("v");
                assertEquals("v", plain.get());
                plain.remove();
                plain.remove(); // removing what is not there is harmless
                assertNull(plain.get());
                return null;
            });
        }
    }

    @Test
    void onPlainThreadsALocalIsPerThread() throws Exception {
        FiberLocal<String> local = FiberLocal.create();
        local.set("test thread");
        try {
            AtomicReference<String> seen = new AtomicReference<>("unset");
            Thread other = Thread.ofPlatform().start(() -> seen.set(local.get()));
            other.join();
            assertNull(seen.get(), "threads do not inherit at creation");
            // but handing work over carries the values
            Thread carried = Thread.ofPlatform().start(FiberContext.wrap(() -> seen.set(local.get())));
            carried.join();
            assertEquals("test thread", seen.get());
            assertEquals("test thread", local.get());
        } finally {
            local.remove();
        }
    }

    @Test
    void aWrappedTaskSeesItsSpawnersValuesAsOfTheSpawn() throws Exception {
        FiberLocal<String> local = FiberLocal.withInitial(() -> "initial");
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                local.set("p1");
                Task<Void> child = Fibers.spawn(FiberContext.wrap(() -> {
                    out.add("child sees " + local.get());
                    local.set("c");
                    Fibers.yieldNow();
                    out.add("child still sees " + local.get());
                    Task<String> grandchild = Fibers.spawn(FiberContext.wrap(local::get));
                    out.add("grandchild saw " + grandchild.join());
                    return null;
                }));
                local.set("p2"); // after the spawn: the child keeps p1
                Fibers.yieldNow();
                out.add("parent sees " + local.get());
                child.join();
                out.add("parent still sees " + local.get());
                return out;
            });
            assertEquals(List.of("child sees p1", "parent sees p2", "child still sees c", "grandchild saw c", "parent still sees p2"), events);
        }
    }

    @Test
    void theScopedFormRestoresThePreviousValue() throws Exception {
        FiberLocal<String> local = FiberLocal.withInitial(() -> "initial");
        FiberLocal<String> other = FiberLocal.create();
        try (EventLoop loop = FiberLoops.newLoop()) {
            loop.run(() -> {
                // unset before: unset after
                assertEquals("inner", FiberLocal.where(local, "inner", local::get));
                assertFalse(local.isPresent());

                local.set("outer");
                String r = FiberLocal.where(local, "inner", () -> {
                    assertEquals("inner", local.get());
                    String nested = FiberLocal.where(local, "nested", local::get);
                    assertEquals("inner", local.get());
                    other.set("set inside");
                    Task<String> child = Fibers.spawn(FiberContext.wrap(local::get));
                    local.set("changed inside");
                    return nested + "/" + child.join();
                });
                assertEquals("nested/inner", r);
                assertEquals("outer", local.get());
                assertFalse(other.isPresent(), "what the body set is discarded with the scope");

                IllegalStateException boom = new IllegalStateException("boom");
                assertSame(boom, assertThrows(IllegalStateException.class, () -> FiberLocal.where(local, "failing", () -> {
                    throw boom;
                })));
                assertEquals("outer", local.get());
                return null;
            });
        }
    }

    @Test
    void theMdcTravelsWithWrappedTasks() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                MDC.put("request", "r-1");
                try {
                    Task<Void> child = Fibers.spawn(FiberContext.wrap(() -> {
                        out.add("child request=" + MDC.get("request"));
                        MDC.put("request", "child");
                        Fibers.yieldNow();
                        out.add("child request=" + MDC.get("request"));
                        return null;
                    }));
                    MDC.put("request", "r-2");
                    Fibers.yieldNow();
                    out.add("parent request=" + MDC.get("request"));
                    child.join();
                    out.add("parent request=" + MDC.get("request"));
                } finally {
                    MDC.clear();
                }
                return out;
            });
            assertEquals(List.of("child request=r-1", "parent request=r-2", "child request=child", "parent request=r-2"), events);
        }
    }

    @Test
    void aSnapshotIsInstalledAndRemovedAroundTheWork() throws Exception {
        FiberLocal<String> local = FiberLocal.create();
        ExecutorService one = Executors.newSingleThreadExecutor();
        try {
            local.set("captured");
            MDC.put("k", "v");
            FiberContext.Snapshot snapshot = FiberContext.capture();
            assertFalse(snapshot.isEmpty());
            local.set("later");
            MDC.put("k", "later");
            assertEquals("captured v", one.submit(() -> snapshot.call(() -> local.get() + " " + MDC.get("k"))).get());
            assertEquals("null null", one.submit(() -> local.get() + " " + MDC.get("k")).get());
            // installing on the capturing thread itself restores its own context afterwards
            assertEquals("captured", snapshot.call(local::get));
            assertEquals("later", local.get());
            assertEquals("later", MDC.get("k"));
            local.remove();
            MDC.clear();
            assertTrue(FiberContext.capture().isEmpty());
        } finally {
            local.remove();
            MDC.clear();
            one.shutdownNow();
        }
    }

    static final ScopedValue<String> USER = ScopedValue.newInstance();

    @Test
    void registeredScopedValuesTravelToo() throws Exception {
        FiberContext.inheritScopedValue(USER);
        FiberContext.inheritScopedValue(USER); // twice is once
        try (EventLoop loop = FiberLoops.newLoop()) {
            String seen = loop.run(() -> ScopedValue.where(USER, "alice").call(() -> {
                Task<String> child = Fibers.spawn(FiberContext.wrap(() -> USER.get()));
                String offloaded = Offload.call(USER::get);
                return child.join() + " " + offloaded;
            }));
            assertEquals("alice alice", seen);
            assertFalse(USER.isBound());
        }
    }
}
