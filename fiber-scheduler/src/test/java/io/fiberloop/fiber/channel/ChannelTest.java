package io.fiberloop.fiber.channel;

import static io.fiberloop.fiber.LoopFixture.virtualLoop;
import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Channel semantics: buffered, rendezvous, unbounded, close, plain threads, cancellation. */
@Timeout(30)
class ChannelTest {

    @Test
    void bufferedChannelKeepsOrderAndSuspendsTheSenderWhileFull() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> ev = new ArrayList<>();
                Channel<Integer> ch = Channel.buffered(2);
                Task<Void> p = Fibers.spawn(() -> {
                    for (int i = 1; i <= 4; i++) {
                        ch.send(i);
                        ev.add("sent" + i);
                    }
                    return null;
                });
                Fibers.yieldNow(); // p sends 1 and 2, then waits to send 3
                assertEquals(2, ch.size());
                assertEquals(Fiber.State.SUSPENDED, p.fiber().state());
                ev.add("got" + ch.receive()); // takes 1; 3 moves into the buffer; p is woken
                Fibers.yieldNow();            // p: "sent3", then waits to send 4
                ev.add("got" + ch.receive());
                ev.add("got" + ch.receive());
                ev.add("got" + ch.receive());
                p.join();
                assertEquals(0, ch.size());
                return ev;
            });
            assertEquals(List.of("sent1", "sent2", "got1", "sent3", "got2", "got3", "got4", "sent4"), events);
        }
    }

    @Test
    void rendezvousSendCompletesOnlyWhenAReceiverTakesIt() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> ev = new ArrayList<>();
                Channel<String> ch = Channel.rendezvous();
                assertEquals(0, ch.capacity());
                Task<Void> p = Fibers.spawn(() -> {
                    ev.add("sending");
                    ch.send("a");
                    ev.add("sent a");
                    return null;
                });
                Fibers.yieldNow();
                assertEquals(Fiber.State.SUSPENDED, p.fiber().state());
                assertEquals(0, ch.size());
                assertFalse(ch.trySend("x"), "no receiver waits: trySend must fail on a rendezvous channel");
                ev.add("got " + ch.receive());
                Fibers.yieldNow();
                p.join();

                // a receiver waiting first: trySend hands the element over
                Task<String> r = Fibers.spawn(() -> {
                    String s = ch.receive();
                    ev.add("got " + s);
                    return s;
                });
                Fibers.yieldNow();
                assertTrue(ch.trySend("b"));
                ev.add("handed b");
                assertEquals("b", r.join());
                assertNull(ch.tryReceive());
                return ev;
            });
            assertEquals(List.of("sending", "got a", "sent a", "handed b", "got b"), events);
        }
    }

    @Test
    void unboundedChannelNeverSuspendsTheSender() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<Integer> ch = Channel.unbounded();
                assertEquals(Integer.MAX_VALUE, ch.capacity());
                AtomicBoolean otherRan = new AtomicBoolean();
                Fibers.spawn(() -> {
                    otherRan.set(true);
                    return null;
                });
                for (int i = 0; i < 100_000; i++) {
                    ch.send(i);
                }
                assertFalse(otherRan.get(), "send on an unbounded channel must not suspend");
                assertEquals(100_000, ch.size());
                for (int i = 0; i < 100_000; i++) {
                    assertEquals(i, ch.receive());
                }
                assertNull(ch.tryReceive());
                return null;
            });
        }
    }

    @Test
    void closeLetsReceiversDrainThenSignalsTheEnd() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<Integer> ch = Channel.buffered(5);
                ch.send(1);
                ch.send(2);
                assertTrue(ch.trySend(3));
                assertFalse(ch.isClosedForSend());
                assertTrue(ch.close());
                assertFalse(ch.close(), "close is idempotent");
                assertTrue(ch.isClosedForSend());
                assertFalse(ch.isClosedForReceive());
                assertThrows(ChannelClosedException.class, () -> ch.send(4));
                assertThrows(ChannelClosedException.class, () -> ch.trySend(4));
                assertEquals(1, ch.receive());
                assertEquals(2, ch.tryReceive());
                assertEquals(3, ch.receiveOrNull());
                assertTrue(ch.isClosedForReceive());
                ChannelClosedException end = assertThrows(ChannelClosedException.class, ch::receive);
                assertNull(end.getCause());
                assertNull(ch.receiveOrNull());
                assertNull(ch.tryReceive());
                assertFalse(ch.iterator().hasNext());
                return null;
            });
        }
    }

    @Test
    void iterationAndForEachEndWhenTheChannelIsClosedAndDrained() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<Integer> ch = Channel.buffered(3);
                Fibers.spawn(() -> {
                    for (int i = 1; i <= 10; i++) {
                        ch.send(i);
                    }
                    ch.close();
                    return null;
                });
                List<Integer> got = new ArrayList<>();
                for (int x : ch) {
                    got.add(x);
                }
                assertEquals(IntStream.rangeClosed(1, 10).boxed().toList(), got);

                Channel<String> ch2 = Channel.rendezvous();
                Fibers.spawn(() -> {
                    ch2.send("x");
                    ch2.send("y");
                    ch2.close();
                    return null;
                });
                List<String> got2 = new ArrayList<>();
                ch2.forEach(got2::add);
                assertEquals(List.of("x", "y"), got2);
                return null;
            });
        }
    }

    @Test
    void closeWakesWaitingReceiversWithTheEndAndFailsWaitingSenders() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> ch = Channel.rendezvous();
                Task<String> r1 = Fibers.spawn(() -> ch.receiveOrNull() == null ? "end" : "value");
                Task<String> r2 = Fibers.spawn(() -> {
                    try {
                        return ch.receive();
                    } catch (ChannelClosedException e) {
                        return "closed";
                    }
                });
                Channel<String> full = Channel.buffered(1);
                full.send("x");
                Task<String> s = Fibers.spawn(() -> {
                    try {
                        full.send("y");
                        return "sent";
                    } catch (ChannelClosedException e) {
                        return "send failed";
                    }
                });
                Fibers.yieldNow();
                assertTrue(ch.close());
                assertTrue(full.close());
                assertEquals("end", r1.join());
                assertEquals("closed", r2.join());
                assertEquals("send failed", s.join());
                assertEquals("x", full.receive(), "what was sent before close is still received");
                assertNull(full.receiveOrNull(), "the failed send's element was not sent");
                return null;
            });
        }
    }

    @Test
    void closeWithACausePassesItToReceiversAfterTheyDrain() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<Integer> ch = Channel.buffered(3);
                ch.send(1);
                IOException boom = new IOException("boom");
                assertTrue(ch.close(boom));
                assertSame(boom, assertThrows(ChannelClosedException.class, () -> ch.send(2)).getCause());
                assertEquals(1, ch.receive());
                assertSame(boom, assertThrows(ChannelClosedException.class, ch::receive).getCause());
                assertSame(boom, assertThrows(ChannelClosedException.class, ch::receiveOrNull).getCause());
                assertSame(boom, assertThrows(ChannelClosedException.class, () -> ch.forEach(x -> { })).getCause());
                assertNull(ch.tryReceive());
                return null;
            });
        }
    }

    @Test
    void nullElementsAreRefusedAndCapacityMustNotBeNegative() {
        Channel<String> ch = Channel.unbounded();
        assertThrows(NullPointerException.class, () -> ch.trySend(null));
        assertThrows(IllegalArgumentException.class, () -> Channel.buffered(-1));
        assertEquals(0, Channel.buffered(0).capacity());
    }

    @Test
    void plainThreadsSendToAndReceiveFromAFiber() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            Channel<Integer> in = Channel.buffered(1);
            Channel<Integer> out = Channel.rendezvous();
            Task<Void> worker = Fibers.spawn(loop, () -> {
                for (int x : in) {
                    out.send(x * 2);
                }
                out.close();
                return null;
            });
            Thread producer = Thread.ofPlatform().name("producer").start(() -> {
                for (int i = 1; i <= 1000; i++) {
                    in.send(i); // blocks this thread while the fiber is behind
                }
                in.close();
            });
            List<Integer> got = new ArrayList<>();
            for (int x : out) { // the test thread blocks in receive
                got.add(x);
            }
            producer.join();
            worker.get(10, TimeUnit.SECONDS);
            assertEquals(IntStream.rangeClosed(1, 1000).map(i -> 2 * i).boxed().toList(), got);
        }
    }

    @Test
    void aPlainThreadInterruptedWhileWaitingTakesNothing() throws Exception {
        Channel<String> ch = Channel.rendezvous();
        CompletableFuture<Throwable> result = new CompletableFuture<>();
        AtomicBoolean stillInterrupted = new AtomicBoolean();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                ch.receive();
                result.complete(null);
            } catch (Throwable e) {
                stillInterrupted.set(Thread.currentThread().isInterrupted());
                result.complete(e);
            }
        });
        while (t.getState() != Thread.State.WAITING) {
            Thread.onSpinWait();
        }
        t.interrupt();
        assertInstanceOf(CancelledException.class, result.get(10, TimeUnit.SECONDS));
        t.join();
        assertTrue(stillInterrupted.get(), "the interrupt status is kept");
        assertFalse(ch.trySend("x"), "the interrupted receiver must not stay registered");
    }

    @Test
    void aLoopCallbackMayNotWaitButMayTryAndUseReadyElements() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            Channel<String> full = Channel.buffered(1);
            full.send("a");
            CompletableFuture<Object> got = new CompletableFuture<>();
            loop.execute(() -> {
                try {
                    assertFalse(full.trySend("b"));
                    full.send("b");
                    got.complete("sent");
                } catch (Throwable e) {
                    got.complete(e);
                }
            });
            IllegalStateException e = assertInstanceOf(IllegalStateException.class, got.get(10, TimeUnit.SECONDS));
            assertTrue(e.getMessage().contains("Channel.send()"), e.getMessage());
            CompletableFuture<Object> received = new CompletableFuture<>();
            loop.execute(() -> received.complete(full.receive())); // an element is there: no wait
            assertEquals("a", received.get(10, TimeUnit.SECONDS));
        }
    }

    // ------------------------------------------------------------------ cancellation

    @Test
    void aSenderCancelledWhileWaitingSendsNothing() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> ch = Channel.buffered(1);
                ch.send("a");
                List<String> ev = new ArrayList<>();
                Task<Void> s = Fibers.spawn(() -> {
                    ch.send("b");
                    ev.add("sent b?!");
                    return null;
                });
                Fibers.yieldNow();
                assertTrue(s.cancel());
                assertThrows(CancelledException.class, s::join);
                assertEquals("a", ch.receive());
                assertNull(ch.tryReceive());

                Channel<String> rv = Channel.rendezvous();
                Task<Void> s2 = Fibers.spawn(() -> {
                    rv.send("c");
                    ev.add("sent c?!");
                    return null;
                });
                Fibers.yieldNow();
                s2.cancel();
                assertThrows(CancelledException.class, s2::join);
                assertNull(rv.tryReceive());
                assertTrue(ev.isEmpty(), ev::toString);
                return null;
            });
        }
    }

    @Test
    void aReceiverCancelledWhileWaitingTakesNothingAndTheNextReceiverGetsTheElement() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> ch = Channel.rendezvous();
                Task<String> r1 = Fibers.spawn(ch::receive);
                Task<String> r2 = Fibers.spawn(ch::receive);
                Fibers.yieldNow();
                r1.cancel();
                assertThrows(CancelledException.class, r1::join);
                ch.send("x");
                assertEquals("x", r2.join());
                return null;
            });
        }
    }

    @Test
    void aReceiveThatCompletesAsItIsCancelledKeepsTheElement() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> ch = Channel.rendezvous();
                List<String> got = new ArrayList<>();
                Task<Void> r = Fibers.spawn(() -> {
                    got.add(ch.receive());
                    Fibers.yieldNow(); // the cancellation surfaces here
                    got.add("not reached");
                    return null;
                });
                Fibers.yieldNow();
                r.cancel();                  // r is woken but has not run yet...
                assertTrue(ch.trySend("x")); // ...and is still registered: it gets x
                assertThrows(CancelledException.class, r::join);
                assertEquals(List.of("x"), got);
                return null;
            });
        }
    }

    @Test
    void aSendThatCompletesAsItIsCancelledIsNotLost() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> ch = Channel.buffered(1);
                ch.send("a");
                List<String> ev = new ArrayList<>();
                Task<Void> s = Fibers.spawn(() -> {
                    ch.send("b");
                    ev.add("sent b");
                    Fibers.yieldNow();
                    ev.add("not reached");
                    return null;
                });
                Fibers.yieldNow();
                s.cancel();
                assertEquals("a", ch.tryReceive()); // b moves into the buffer: s's send completed
                assertThrows(CancelledException.class, s::join);
                assertEquals(List.of("sent b"), ev);
                assertEquals("b", ch.tryReceive());
                return null;
            });
        }
    }

    @Test
    void aTimedOutReceiveLeavesNoWaiterBehind() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> ch = Channel.rendezvous();
                assertNull(Fibers.withTimeoutOrNull(Duration.ofSeconds(1), ch::receive));
                assertEquals(Duration.ofSeconds(1).toNanos(), loop.now());
                assertFalse(ch.trySend("x"));
                Task<String> r = Fibers.spawn(ch::receive);
                Fibers.yieldNow();
                assertTrue(ch.trySend("y"));
                assertEquals("y", r.join());
                return null;
            });
        }
    }

    @Test
    void aCancelledFiberFailsAtOnceEvenWhenTheOperationCouldComplete() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> ch = Channel.unbounded();
                Task<Void> t = Fibers.spawn(() -> {
                    try {
                        Fibers.sleep(Duration.ofHours(1));
                    } catch (CancelledException swallowed) {
                        // level-triggered: the next send still raises it
                    }
                    ch.send("after cancel");
                    return null;
                });
                Fibers.yieldNow();
                t.cancel();
                assertThrows(CancelledException.class, t::join);
                assertNull(ch.tryReceive());
                return null;
            });
        }
    }
}
