package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.loop.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A virtual thread started from inside a fiber ({@code Thread.ofVirtual().start}) inherits the
 * fiber's scheduler: it runs on the same loop, one at a time with the loop's fibers, and gets an
 * implicit fiber that can switch to fibers of its own.
 */
@Timeout(20)
class FiberVirtualThreadTest {

    @Test
    void virtualThreadStartedFromAFiberRunsOnTheSameLoop() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                CompletableFuture<String> done = new CompletableFuture<>();
                Thread vt = Thread.ofVirtual().name("spawned-vt").start(() -> {
                    try {
                        out.add("vt on same loop " + (EventLoop.currentOrNull() == loop) + ", inLoop " + loop.inLoop());
                        Fiber implicit = Fiber.current();
                        out.add("vt fiber " + implicit + ", same object again " + (Fiber.current() == implicit)
                                + ", is main " + (implicit == main) + ", loop " + (implicit.loop() == loop)
                                + ", alive " + implicit.isAlive() + ", parent " + implicit.parent());
                        Fiber child = new Fiber(() -> {
                            out.add("child of vt: parent is vt fiber " + (Fiber.current().parent() == implicit));
                            Object v = implicit.switchTo("child to vt");
                            return "child done with " + v;
                        });
                        out.add("vt got " + child.switchTo());
                        out.add("vt got " + child.switchTo("vt to child"));
                        done.complete("vt finished");
                    } catch (Throwable t) {
                        done.completeExceptionally(t);
                    }
                });
                assertTrue(vt.isVirtual());
                out.add("main awaits");
                out.add(Fibers.await(done));
                vt.join();
                return out;
            });
            assertEquals(List.of(
                    "main awaits",
                    "vt on same loop true, inLoop true",
                    "vt fiber Fiber[spawned-vt, RUNNING], same object again true, is main false, loop true, alive true, parent null",
                    "child of vt: parent is vt fiber true",
                    "vt got child to vt",
                    "vt got child done with vt to child",
                    "vt finished"), events);
        }
    }

    /** The virtual thread and the fiber that started it run one at a time, in a deterministic order. */
    @Test
    void virtualThreadInterleavesCooperativelyWithItsStarter() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Thread vt = Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < 3; i++) {
                        out.add("vt " + i);
                        Thread.yield();
                    }
                });
                for (int i = 0; i < 3; i++) {
                    out.add("main " + i);
                    Fibers.yieldNow();
                }
                vt.join();
                return out;
            });
            assertEquals(List.of("main 0", "vt 0", "main 1", "vt 1", "main 2", "vt 2"), events);
        }
    }

    /**
     * Switches between an implicit fiber (a virtual thread started from a fiber) and its child are
     * direct too: a task and a callback queued before the switches run only after them.
     */
    @Test
    void switchesWithAnImplicitFiberAreDirect() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                CompletableFuture<Void> done = new CompletableFuture<>();
                Thread.ofVirtual().name("vt3").start(() -> {
                    try {
                        Fiber me = Fiber.current();
                        Task<Void> task = Fibers.spawn(() -> {
                            out.add("task");
                            return null;
                        });
                        CompletableFuture<Void> callback = new CompletableFuture<>();
                        loop.execute(() -> {
                            out.add("callback");
                            callback.complete(null);
                        });
                        Fiber child = new Fiber(() -> {
                            out.add("child 1");
                            me.switchTo("c1");
                            out.add("child 2");
                            return "c2";
                        });
                        out.add("vt got " + child.switchTo());
                        out.add("vt got " + child.switchTo());
                        Fibers.await(CompletableFuture.allOf(task.toCompletableFuture(), callback));
                        done.complete(null);
                    } catch (Throwable t) {
                        done.completeExceptionally(t);
                    }
                });
                Fibers.await(done);
                return out;
            });
            assertEquals(List.of("child 1", "vt got c1", "child 2", "vt got c2"), events.subList(0, 4), events.toString());
            assertEquals(6, events.size(), events.toString());
        }
    }

    /** A virtual thread started from a fiber can switch to a fiber created by the loop's main, and back. */
    @Test
    void implicitFiberCanSwitchToAFiberCreatedByMain() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber shared = new Fiber(() -> {
                    Fiber caller = Fiber.current().parent();
                    out.add("shared started by " + caller.name());
                    return "shared done";
                });
                CompletableFuture<Object> done = new CompletableFuture<>();
                Thread.ofVirtual().name("vt2").start(() -> {
                    Fiber me = Fiber.current();
                    shared.parent(me);
                    done.complete(shared.switchTo());
                });
                out.add("main got " + Fibers.await(done));
                return out;
            });
            assertEquals(List.of("shared started by vt2", "main got shared done"), events);
        }
    }
}
