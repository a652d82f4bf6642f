package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.loop.EventLoop;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Plain JDK blocking calls in a fiber suspend only that fiber: the other fibers of the loop keep
 * running meanwhile, which each test proves by having another fiber do something the blocked one
 * then observes (or needs).
 */
@Timeout(20)
class BlockingTest {

    private static void onLoop(EventLoop loop, List<String> out, String who) {
        if (EventLoop.currentOrNull() != loop || !Thread.currentThread().isVirtual()) {
            out.add(who + " NOT on the loop's fiber");
        }
    }

    @Test
    void threadSleep() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> order = loop.run(() -> {
                List<String> out = new ArrayList<>();
                AtomicInteger counter = new AtomicInteger();
                Task<Void> sleeper = Fibers.spawn(() -> {
                    out.add("sleeper sleeps");
                    Thread.sleep(30);
                    onLoop(loop, out, "sleeper");
                    out.add("sleeper woke, counter=" + counter.get());
                    return null;
                });
                Task<Void> other = Fibers.spawn(() -> {
                    counter.incrementAndGet();
                    out.add("other ran, sleeper " + sleeper.fiber().strand.thread().getState());
                    return null;
                });
                Fibers.awaitAll(List.of(sleeper, other));
                return out;
            });
            assertEquals(List.of("sleeper sleeps", "other ran, sleeper TIMED_WAITING", "sleeper woke, counter=1"), order);
        }
    }

    @Test
    void reentrantLockHeldByOneFiberWhileAnotherWaitsInLock() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> order = loop.run(() -> {
                List<String> out = new ArrayList<>();
                ReentrantLock lock = new ReentrantLock();
                AtomicInteger counter = new AtomicInteger();
                CompletableFuture<Void> gate = new CompletableFuture<>();
                Task<Void> holder = Fibers.spawn(() -> {
                    lock.lock();
                    try {
                        out.add("holder locked");
                        Fibers.await(gate);
                        out.add("holder unlocks");
                    } finally {
                        lock.unlock();
                    }
                    return null;
                });
                Task<Void> waiter = Fibers.spawn(() -> {
                    out.add("waiter calls lock");
                    lock.lock(); // parks this fiber only
                    try {
                        onLoop(loop, out, "waiter");
                        out.add("waiter locked, counter=" + counter.get());
                    } finally {
                        lock.unlock();
                    }
                    return null;
                });
                Task<Void> third = Fibers.spawn(() -> {
                    out.add("third runs, waiter queued=" + lock.hasQueuedThreads());
                    counter.incrementAndGet();
                    gate.complete(null);
                    return null;
                });
                Fibers.awaitAll(List.of(holder, waiter, third));
                return out;
            });
            assertEquals(List.of("holder locked", "waiter calls lock", "third runs, waiter queued=true", "holder unlocks", "waiter locked, counter=1"), order);
        }
    }

    @Test
    void conditionAwaitAndSignalBetweenFibers() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> order = loop.run(() -> {
                List<String> out = new ArrayList<>();
                ReentrantLock lock = new ReentrantLock();
                Condition ready = lock.newCondition();
                boolean[] flag = {false};
                Task<Void> waiter = Fibers.spawn(() -> {
                    lock.lock();
                    try {
                        while (!flag[0]) {
                            out.add("waiter awaits");
                            ready.await();
                        }
                        out.add("waiter woke");
                    } finally {
                        lock.unlock();
                    }
                    return null;
                });
                Task<Void> signaller = Fibers.spawn(() -> {
                    lock.lock();
                    try {
                        flag[0] = true;
                        out.add("signal");
                        ready.signal();
                    } finally {
                        lock.unlock();
                    }
                    return null;
                });
                Fibers.awaitAll(List.of(waiter, signaller));
                return out;
            });
            assertEquals(List.of("waiter awaits", "signal", "waiter woke"), order);
        }
    }

    @Test
    void synchronizedWaitAndNotifyBetweenTwoFibers() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> order = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Object monitor = new Object();
                boolean[] flag = {false};
                AtomicInteger counter = new AtomicInteger();
                Task<Void> waiter = Fibers.spawn(() -> {
                    synchronized (monitor) {
                        while (!flag[0]) {
                            out.add("waiter waits");
                            monitor.wait();
                        }
                        onLoop(loop, out, "waiter");
                        out.add("waiter woke, counter=" + counter.get());
                    }
                    return null;
                });
                Task<Void> bystander = Fibers.spawn(() -> {
                    counter.incrementAndGet();
                    out.add("bystander ran");
                    return null;
                });
                Task<Void> notifier = Fibers.spawn(() -> {
                    synchronized (monitor) {
                        flag[0] = true;
                        out.add("notifier notifies");
                        monitor.notify();
                    }
                    return null;
                });
                Fibers.awaitAll(List.of(waiter, bystander, notifier));
                return out;
            });
            assertEquals(List.of("waiter waits", "bystander ran", "notifier notifies", "waiter woke, counter=1"), order);
        }
    }

    @Test
    void contendedSynchronizedBetweenTwoFibers() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> order = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Object monitor = new Object();
                CompletableFuture<Void> gate = new CompletableFuture<>();
                Task<Void> holder = Fibers.spawn(() -> {
                    synchronized (monitor) {
                        out.add("holder in");
                        Fibers.await(gate); // parks while holding the monitor (JEP 491)
                        out.add("holder out");
                    }
                    return null;
                });
                Task<Void> blocked = Fibers.spawn(() -> {
                    out.add("blocked enters");
                    synchronized (monitor) {
                        out.add("blocked in");
                    }
                    return null;
                });
                Task<Void> opener = Fibers.spawn(() -> {
                    out.add("opener runs");
                    gate.complete(null);
                    return null;
                });
                Fibers.awaitAll(List.of(holder, blocked, opener));
                return out;
            });
            assertEquals(List.of("holder in", "blocked enters", "opener runs", "holder out", "blocked in"), order);
        }
    }

    @Test
    void completableFutureGetCompletedByAnotherFiber() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> order = loop.run(() -> {
                List<String> out = new ArrayList<>();
                CompletableFuture<String> cf = new CompletableFuture<>();
                Task<Void> getter = Fibers.spawn(() -> {
                    out.add("getter blocks in get()");
                    String v = cf.get(); // a JDK blocking call, not Fibers.await
                    onLoop(loop, out, "getter");
                    out.add("getter got " + v);
                    return null;
                });
                Task<Void> completer = Fibers.spawn(() -> {
                    out.add("completer completes");
                    cf.complete("v");
                    out.add("completer continues");
                    return null;
                });
                Fibers.awaitAll(List.of(getter, completer));
                return out;
            });
            assertEquals(List.of("getter blocks in get()", "completer completes", "completer continues", "getter got v"), order);
        }
    }

    @Test
    void countDownLatchAwaitReleasedByAnotherFiber() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> order = loop.run(() -> {
                List<String> out = new ArrayList<>();
                CountDownLatch latch = new CountDownLatch(2);
                Task<Void> awaiter = Fibers.spawn(() -> {
                    latch.await();
                    out.add("released");
                    return null;
                });
                Task<Void> a = Fibers.spawn(() -> { out.add("a"); latch.countDown(); return null; });
                Task<Void> b = Fibers.spawn(() -> { out.add("b"); latch.countDown(); return null; });
                Fibers.awaitAll(List.of(awaiter, a, b));
                return out;
            });
            assertEquals(List.of("a", "b", "released"), order);
        }
    }

    @Test
    void aPlainSocketInAFiberDoesNotBlockTheLoop() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop();
             ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<String> serverGotRequest = new CompletableFuture<>();
            CountDownLatch mayReply = new CountDownLatch(1);
            Thread serverThread = Thread.ofPlatform().name("test-server").start(() -> {
                try (Socket s = server.accept()) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                    serverGotRequest.complete(in.readLine());
                    mayReply.await();
                    OutputStream out = s.getOutputStream();
                    out.write("pong\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                } catch (Exception e) {
                    serverGotRequest.completeExceptionally(e);
                }
            });
            List<String> order = Collections.synchronizedList(new ArrayList<>());
            loop.run(() -> {
                Task<String> client = Fibers.spawn("socket-client", () -> {
                    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
                        PrintWriter w = new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8);
                        w.println("ping");
                        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                        order.add("client reads");
                        String line = in.readLine(); // blocks this fiber only
                        onLoop(loop, order, "client");
                        order.add("client got " + line);
                        return line;
                    }
                });
                // The server replies only once this fiber has run: if the client's read held the
                // carrier, it never would, and the test would time out.
                Task<Void> other = Fibers.spawn(() -> {
                    String req = Fibers.await(serverGotRequest);
                    order.add("other fiber sees request " + req);
                    for (int i = 0; i < 3; i++) {
                        Fibers.yieldNow();
                    }
                    order.add("other fiber releases the server");
                    mayReply.countDown();
                    return null;
                });
                assertEquals("pong", client.join());
                other.join();
                return null;
            });
            serverThread.join();
            assertEquals(List.of("client reads", "other fiber sees request ping", "other fiber releases the server", "client got pong"), order);
            // the loop is still healthy afterwards, and the JDK's poller did not end up on it
            long before = loop.stats().continuationsRun();
            assertEquals("still alive", loop.run(() -> {
                Fibers.yieldNow();
                return "still alive";
            }));
            assertTrue(loop.stats().continuationsRun() > before);
        }
    }
}
