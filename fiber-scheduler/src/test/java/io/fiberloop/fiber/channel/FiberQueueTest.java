package io.fiberloop.fiber.channel;

import static io.fiberloop.fiber.LoopFixture.virtualLoop;
import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** FiberQueue: asyncio.Queue semantics for the fibers of one loop. */
@Timeout(30)
class FiberQueueTest {

    private static <T> List<T> drain(FiberQueue<T> q) {
        List<T> out = new ArrayList<>();
        for (T x; (x = q.tryGet()) != null; ) {
            out.add(x);
        }
        return out;
    }

    @Test
    void fifoLifoAndPriorityOrders() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                FiberQueue<Integer> fifo = FiberQueue.fifo();
                FiberQueue<Integer> lifo = FiberQueue.lifo(0);
                FiberQueue<Integer> prio = FiberQueue.priority(0);
                for (int x : new int[] {3, 1, 4, 1, 5, 9, 2, 6}) {
                    fifo.put(x);
                    lifo.put(x);
                    prio.put(x);
                }
                assertEquals(8, fifo.size());
                assertEquals(List.of(3, 1, 4, 1, 5, 9, 2, 6), drain(fifo));
                assertEquals(List.of(6, 2, 9, 5, 1, 4, 1, 3), drain(lifo));
                assertEquals(List.of(1, 1, 2, 3, 4, 5, 6, 9), drain(prio));
                assertTrue(fifo.isEmpty());

                // equal priorities come out in the order they were put
                FiberQueue<String> byLength = FiberQueue.priority(0, Comparator.comparingInt(String::length));
                for (String s : List.of("bb", "a", "cc", "d", "eee", "ff", "g")) {
                    byLength.put(s);
                }
                assertEquals(List.of("a", "d", "g", "bb", "cc", "ff", "eee"), drain(byLength));

                // a larger heap, against a sort
                FiberQueue<Integer> big = FiberQueue.priority(0, Comparator.reverseOrder());
                java.util.Random rnd = new java.util.Random(42);
                List<Integer> values = new ArrayList<>();
                for (int i = 0; i < 1000; i++) {
                    int v = rnd.nextInt(100);
                    values.add(v);
                    big.put(v);
                }
                values.sort(Comparator.reverseOrder());
                assertEquals(values, drain(big));
                return null;
            });
        }
    }

    @Test
    void maxsizeMakesPutWait() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> ev = new ArrayList<>();
                FiberQueue<Integer> q = FiberQueue.fifo(2);
                Task<Void> p = Fibers.spawn(() -> {
                    for (int i = 1; i <= 4; i++) {
                        q.put(i);
                        ev.add("put" + i);
                    }
                    return null;
                });
                Fibers.yieldNow();
                assertTrue(q.isFull());
                assertEquals(2, q.size());
                ev.add("got" + q.get());
                Fibers.yieldNow();
                ev.add("got" + q.get());
                ev.add("got" + q.get());
                ev.add("got" + q.get());
                p.join();
                assertTrue(q.isEmpty());
                assertFalse(q.isFull());
                return ev;
            });
            assertEquals(List.of("put1", "put2", "got1", "put3", "got2", "got3", "got4", "put4"), events);
        }
    }

    @Test
    void nowAndTryVariantsNeverWait() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                FiberQueue<String> q = FiberQueue.fifo(1);
                assertEquals(1, q.maxsize());
                assertThrows(QueueEmptyException.class, q::getNow);
                assertNull(q.tryGet());
                q.putNow("a");
                assertThrows(QueueFullException.class, () -> q.putNow("b"));
                assertFalse(q.tryPut("b"));
                assertEquals("a", q.getNow());
                assertTrue(q.tryPut("c"));
                assertEquals("c", q.tryGet());
                assertThrows(NullPointerException.class, () -> q.put(null));
                assertThrows(IllegalArgumentException.class, () -> FiberQueue.fifo(-1));
                return null;
            });
        }
    }

    @Test
    void waitingGettersAreServedFirstComeFirstServedAndTakeByTheQueueOrder() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                FiberQueue<Integer> fifo = FiberQueue.fifo();
                List<Task<Integer>> getters = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    getters.add(Fibers.spawn(fifo::get));
                }
                Fibers.yieldNow();
                fifo.put(1);
                fifo.put(2);
                fifo.put(3);
                assertNull(fifo.tryGet(), "every item is promised to a waiting getter");
                assertEquals(List.of(1, 2, 3), List.of(getters.get(0).join(), getters.get(1).join(), getters.get(2).join()));

                // a waiting getter of a priority queue takes the smallest item when it runs (asyncio)
                FiberQueue<Integer> prio = FiberQueue.priority(0);
                Task<Integer> g = Fibers.spawn(prio::get);
                Fibers.yieldNow();
                prio.put(5);
                prio.put(1);
                assertEquals(1, g.join());
                assertEquals(List.of(5), drain(prio));

                FiberQueue<String> lifo = FiberQueue.lifo(0);
                Task<String> g2 = Fibers.spawn(lifo::get);
                Fibers.yieldNow();
                lifo.put("a");
                lifo.put("b");
                assertEquals("b", g2.join());
                assertEquals(List.of("a"), drain(lifo));
                return null;
            });
        }
    }

    @Test
    void joinWaitsUntilEveryItemIsMarkedDone() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                List<String> ev = new ArrayList<>();
                FiberQueue<String> q = FiberQueue.fifo();
                q.join(); // nothing put: returns at once
                q.put("x");
                assertEquals(1, q.unfinishedTasks());
                Task<Void> j = Fibers.spawn(() -> {
                    q.join();
                    ev.add("joined");
                    return null;
                });
                Fibers.yieldNow();
                assertEquals("x", q.get());
                Fibers.yieldNow();
                assertTrue(ev.isEmpty(), "got but not done: join still waits");
                q.taskDone();
                j.join();
                assertEquals(List.of("joined"), ev);
                assertEquals(0, q.unfinishedTasks());
                IllegalStateException e = assertThrows(IllegalStateException.class, q::taskDone);
                assertTrue(e.getMessage().contains("more times"), e.getMessage());
                return null;
            });
        }
    }

    @Test
    void aWorkerPoolWithTaskDoneAndJoin() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                FiberQueue<Integer> q = FiberQueue.fifo(3);
                List<Integer> processed = new ArrayList<>();
                List<Task<Void>> workers = new ArrayList<>();
                for (int w = 0; w < 3; w++) {
                    workers.add(Fibers.spawn(() -> {
                        while (true) {
                            int x = q.get();
                            try {
                                Fibers.sleep(Duration.ofSeconds(x));
                                processed.add(x);
                            } finally {
                                q.taskDone();
                            }
                        }
                    }));
                }
                for (int i = 1; i <= 12; i++) {
                    q.put(i); // waits while 3 items are queued
                }
                q.join();
                assertEquals(12, processed.size());
                assertEquals(IntStream.rangeClosed(1, 12).boxed().toList(), processed.stream().sorted().toList());
                assertEquals(0, q.unfinishedTasks());
                // 78 seconds of work over 3 workers: done in well under 78 s of loop time
                assertTrue(loop.now() < Duration.ofSeconds(40).toNanos(), () -> Duration.ofNanos(loop.now()).toString());
                for (Task<Void> w : workers) {
                    w.cancel();
                }
                for (Task<Void> w : workers) {
                    assertThrows(CancelledException.class, w::join);
                }
                return null;
            });
        }
    }

    @Test
    void cancelledGettersTakeNothing() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                FiberQueue<String> q = FiberQueue.fifo();
                Task<String> g1 = Fibers.spawn(q::get);
                Task<String> g2 = Fibers.spawn(q::get);
                Fibers.yieldNow();
                g1.cancel();
                assertThrows(CancelledException.class, g1::join);
                q.put("x");
                assertEquals("x", g2.join());

                // promised to a getter that is cancelled before it runs: the promise passes on
                Task<String> g3 = Fibers.spawn(q::get);
                Task<String> g4 = Fibers.spawn(q::get);
                Fibers.yieldNow();
                q.put("y");   // promised to g3, which is woken
                g3.cancel();  // ...and cancelled before it runs
                assertThrows(CancelledException.class, g3::join);
                assertEquals("y", g4.join());

                // promised, cancelled, nobody else waits: the item stays in the queue
                Task<String> g5 = Fibers.spawn(q::get);
                Fibers.yieldNow();
                q.put("z");
                g5.cancel();
                assertThrows(CancelledException.class, g5::join);
                assertEquals("z", q.getNow());
                assertEquals(3, q.unfinishedTasks());
                return null;
            });
        }
    }

    @Test
    void cancelledPuttersPutNothingUnlessThePutCompletedFirst() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                List<String> ev = new ArrayList<>();
                FiberQueue<String> q = FiberQueue.fifo(1);
                q.put("a");
                Task<Void> p = Fibers.spawn(() -> {
                    q.put("b");
                    ev.add("put b?!");
                    return null;
                });
                Fibers.yieldNow();
                p.cancel();
                assertThrows(CancelledException.class, p::join);
                assertEquals(1, q.size());
                assertEquals(1, q.unfinishedTasks());
                assertEquals("a", q.get());
                assertNull(q.tryGet());

                q.put("c");
                Task<Void> p2 = Fibers.spawn(() -> {
                    q.put("d");
                    ev.add("put d");
                    Fibers.yieldNow(); // the cancellation surfaces here
                    ev.add("not reached");
                    return null;
                });
                Fibers.yieldNow();
                p2.cancel();
                assertEquals("c", q.get()); // d enters the queue: p2's put completed
                assertThrows(CancelledException.class, p2::join);
                assertEquals(List.of("put d"), ev);
                assertEquals("d", q.getNow());
                return null;
            });
        }
    }

    @Test
    void useFromAPlainThreadOrAnotherLoopIsRefusedWithAPointerToChannel() throws Exception {
        FiberQueue<String> q = FiberQueue.fifo();
        IllegalStateException plain = assertThrows(IllegalStateException.class, () -> q.put("x"));
        assertTrue(plain.getMessage().contains("Channel"), plain.getMessage());
        try (EventLoop a = FiberLoops.newLoop(); EventLoop b = FiberLoops.newLoop()) {
            Fibers.spawn(a, () -> {
                q.put("on a");
                return null;
            }).get(10, TimeUnit.SECONDS);
            Task<String> other = Fibers.spawn(b, q::get);
            java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> other.get(10, TimeUnit.SECONDS));
            IllegalStateException ise = assertInstanceOf(IllegalStateException.class, e.getCause());
            assertTrue(ise.getMessage().contains("Channel") && ise.getMessage().contains(a.name()), ise.getMessage());
            assertThrows(IllegalStateException.class, q::size);
            assertEquals("on a", Fibers.spawn(a, q::get).get(10, TimeUnit.SECONDS));

            // a loop callback of the owning loop may use it without waiting, never wait
            CompletableFuture<Object> got = new CompletableFuture<>();
            a.execute(() -> {
                try {
                    q.putNow("cb");
                    assertEquals("cb", q.getNow());
                    q.get();
                    got.complete("waited?!");
                } catch (Throwable t) {
                    got.complete(t);
                }
            });
            IllegalStateException cb = assertInstanceOf(IllegalStateException.class, got.get(10, TimeUnit.SECONDS));
            assertTrue(cb.getMessage().contains("FiberQueue.get()"), cb.getMessage());
        }
    }
}
