package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;
import static io.fiberloop.fiber.LoopFixture.virtualLoop;

import io.fiberloop.loop.EventLoop;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** TaskScope: structured concurrency, no child outlives its scope. */
@Timeout(20)
class ScopeTest {

    private static Task<String> sleeper(TaskScope scope, List<String> out, String name, Duration d) {
        return scope.fork(name, () -> {
            try {
                Fibers.sleep(d);
                out.add(name + " done");
                return name;
            } catch (CancelledException e) {
                out.add(name + " cancelled");
                throw e;
            } finally {
                out.add(name + " finally");
            }
        });
    }

    @Test
    void joinWaitsForEveryChild() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                try (TaskScope scope = TaskScope.open()) {
                    Task<String> c = sleeper(scope, out, "c3", Duration.ofHours(3));
                    Task<String> a = sleeper(scope, out, "a1", Duration.ofHours(1));
                    Task<String> b = sleeper(scope, out, "b2", Duration.ofHours(2));
                    assertEquals(List.of(c, a, b), scope.children());
                    scope.join();
                    out.add("joined at " + Duration.ofNanos(loop.now()));
                    for (Task<?> t : scope.children()) {
                        assertEquals(Future.State.SUCCESS, t.state());
                    }
                    assertEquals("c3", c.resultNow());
                }
                return out;
            });
            assertEquals(List.of("a1 done", "a1 finally", "b2 done", "b2 finally", "c3 done", "c3 finally", "joined at PT3H"), events);
        }
    }

    @Test
    void aFailingChildCancelsItsSiblingsAndJoinThrowsTheFirstFailureWithTheOthersSuppressed() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            IllegalArgumentException first = new IllegalArgumentException("first");
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                List<Task<?>> kids;
                try (TaskScope scope = TaskScope.open()) {
                    sleeper(scope, out, "sibling", Duration.ofHours(5));
                    scope.fork("failing", () -> {
                        Fibers.sleep(Duration.ofHours(1));
                        out.add("failing throws");
                        throw first;
                    });
                    scope.fork("cleanup-fails", () -> {
                        try {
                            Fibers.sleep(Duration.ofHours(5));
                            return "no";
                        } catch (CancelledException e) {
                            out.add("cleanup-fails cancelled");
                            throw new IOException("cleanup failed");
                        }
                    });
                    kids = scope.children();
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, scope::join);
                    assertSame(first, e);
                    assertEquals(1, e.getSuppressed().length);
                    assertInstanceOf(IOException.class, e.getSuppressed()[0]);
                    assertEquals("cleanup failed", e.getSuppressed()[0].getMessage());
                    out.add("join threw at " + Duration.ofNanos(loop.now()));
                }
                out.add("closed");
                assertEquals(List.of(Future.State.CANCELLED, Future.State.FAILED, Future.State.FAILED), kids.stream().map(Future::state).toList());
                return out;
            });
            assertEquals(List.of("failing throws", "sibling cancelled", "sibling finally", "cleanup-fails cancelled", "join threw at PT1H", "closed"), events);
        }
    }

    @Test
    void aCheckedFailureComesWrapped() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            IOException io = new IOException("io");
            loop.run(() -> {
                try (TaskScope scope = TaskScope.open()) {
                    scope.fork(() -> {
                        throw io;
                    });
                    CompletionException e = assertThrows(CompletionException.class, scope::join);
                    assertSame(io, e.getCause());
                }
                return null;
            });
        }
    }

    @Test
    void closeCancelsUnfinishedChildrenAndWaitsForThem() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<Task<?>> kids = new ArrayList<>();
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                try (TaskScope scope = TaskScope.open()) {
                    sleeper(scope, out, "a", Duration.ofHours(1));
                    sleeper(scope, out, "b", Duration.ofHours(2));
                    scope.fork("quick", () -> "quick");
                    Fibers.yieldNow(); // every child starts; "quick" finishes
                    kids.addAll(scope.children());
                    out.add("closing");
                }
                out.add("closed; all done=" + kids.stream().allMatch(Future::isDone));
                return out;
            });
            assertEquals(List.of("closing", "a cancelled", "a finally", "b cancelled", "b finally", "closed; all done=true"), events);
            assertEquals(List.of(Future.State.CANCELLED, Future.State.CANCELLED, Future.State.SUCCESS), kids.stream().map(Future::state).toList());
            assertEquals(0, loop.now()); // close did not wait for the sleeps to end
        }
    }

    @Test
    void closeWaitsForAChildWhoseCleanupSuspends() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<String> child;
                try (TaskScope scope = TaskScope.open()) {
                    child = scope.fork(() -> {
                        try {
                            Fibers.sleep(Duration.ofHours(1));
                            return "no";
                        } finally {
                            Fibers.nonCancellable(() -> {
                                Fibers.sleep(Duration.ofMinutes(5));
                                out.add("child cleanup done");
                                return null;
                            });
                        }
                    });
                    Fibers.yieldNow();
                }
                out.add("closed at " + Duration.ofNanos(loop.now()) + " child done=" + child.isDone());
                return out;
            });
            assertEquals(List.of("child cleanup done", "closed at PT5M child done=true"), events);
        }
    }

    @Test
    void forkAfterCloseThrows() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                TaskScope scope = TaskScope.open();
                scope.fork(() -> "x");
                scope.join();
                scope.close();
                scope.close(); // idempotent
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> scope.fork(() -> "late"));
                assertTrue(e.getMessage().contains("closed"), e.getMessage());
                assertEquals(1, scope.children().size());
                return null;
            });
        }
    }

    @Test
    void onlyTheOwnerMayUseTheScope() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                try (TaskScope scope = TaskScope.open()) {
                    Task<Throwable> other = Fibers.spawn(() -> {
                        try {
                            scope.fork(() -> "x");
                            return null;
                        } catch (Throwable e) {
                            return e;
                        }
                    });
                    assertInstanceOf(IllegalStateException.class, other.join());
                    assertEquals(0, scope.children().size());
                }
                return null;
            });
        }
        assertThrows(IllegalStateException.class, TaskScope::open);
    }

    @Test
    void ownerCancelledWhileJoiningCancelsTheChildrenThenPropagates() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<Task<?>> kids = new ArrayList<>();
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<String> owner = Fibers.spawn(() -> {
                    try (TaskScope scope = TaskScope.open()) {
                        sleeper(scope, out, "k1", Duration.ofHours(1));
                        sleeper(scope, out, "k2", Duration.ofHours(2));
                        kids.addAll(scope.children());
                        out.add("owner joins");
                        scope.join();
                        out.add("owner joined?!");
                        return "no";
                    } catch (CancelledException e) {
                        out.add("owner cancelled; children done=" + kids.stream().allMatch(Future::isDone));
                        throw e;
                    } finally {
                        out.add("owner finally");
                    }
                });
                Fibers.sleep(Duration.ofMinutes(1));
                out.add("cancel owner");
                owner.cancel();
                assertThrows(CancelledException.class, owner::join);
                out.add("owner joined by main");
                assertTrue(owner.isCancelled());
                return out;
            });
            assertEquals(List.of("owner joins", "cancel owner", "k1 cancelled", "k1 finally", "k2 cancelled", "k2 finally",
                    "owner cancelled; children done=true", "owner finally", "owner joined by main"), events);
            assertEquals(List.of(Future.State.CANCELLED, Future.State.CANCELLED), kids.stream().map(Future::state).toList());
            assertEquals(Duration.ofMinutes(1).toNanos(), loop.now());
        }
    }
}
