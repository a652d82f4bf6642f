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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Select: exactly one operation, in case order, with timeout and default, closed channels, cancellation. */
@Timeout(30)
class SelectTest {

    private static Select<String> receiveEither(Channel<String> a, Channel<String> b) {
        return Select.<String>create().onReceive(a, x -> "A:" + x).onReceive(b, x -> "B:" + x);
    }

    @Test
    void whenTwoChannelsAreReadyTheFirstCaseIsTakenAndTheOtherKeepsItsElement() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> a = Channel.buffered(2);
                Channel<String> b = Channel.buffered(2);
                a.send("a1");
                a.send("a2");
                b.send("b1");
                assertEquals("A:a1", receiveEither(a, b).run());
                assertEquals(1, a.size());
                assertEquals(1, b.size());
                assertEquals("B:b1", receiveEither(b, a).run().replace("A:", "B:"));
                assertEquals(1, a.size());
                assertEquals(0, b.size());
                assertEquals("a2", a.receive());
                return null;
            });
        }
    }

    @Test
    void waitsUntilOneChannelIsReadyAndLeavesNoWaiterOnTheOthers() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> a = Channel.rendezvous();
                Channel<String> b = Channel.rendezvous();
                Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofSeconds(1));
                    b.send("late");
                    return null;
                });
                assertEquals("B:late", receiveEither(a, b).run());
                assertEquals(Duration.ofSeconds(1).toNanos(), loop.now());
                assertFalse(a.trySend("x"), "the select's waiter on a must be gone");
                return null;
            });
        }
    }

    @Test
    void exactlyOneOperationHappensWhenTwoChannelsBecomeReadyAtOnce() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> a = Channel.rendezvous();
                Channel<String> b = Channel.buffered(1);
                Task<String> sel = Fibers.spawn(() -> receiveEither(a, b).run());
                Fibers.yieldNow(); // sel waits on both
                assertTrue(a.trySend("1"));  // claims the select
                assertTrue(b.trySend("2"));  // the select's node on b is skipped: 2 goes into b's buffer
                assertEquals("A:1", sel.join());
                assertEquals(1, b.size());
                assertEquals("2", b.receive());

                Channel<String> c = Channel.rendezvous();
                Channel<String> d = Channel.rendezvous();
                Task<String> sel2 = Fibers.spawn(() -> receiveEither(c, d).run());
                Fibers.yieldNow();
                assertTrue(d.trySend("x"));
                assertFalse(c.trySend("y"), "nobody else waits on c");
                assertEquals("B:x", sel2.join());
                return null;
            });
        }
    }

    @Test
    void manySelectsCompetingForOneElementOnlyOneGetsIt() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> a = Channel.rendezvous();
                Channel<String> b = Channel.rendezvous();
                List<Task<String>> selects = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    selects.add(Fibers.spawn(() -> receiveEither(a, b).onTimeout(Duration.ofSeconds(10), () -> "timeout").run()));
                }
                Fibers.yieldNow();
                assertTrue(a.trySend("one"));
                assertTrue(b.trySend("two"));
                List<String> results = new ArrayList<>();
                for (Task<String> t : selects) {
                    results.add(t.join());
                }
                // first come, first served: the first select got a's element, the second b's
                assertEquals(List.of("A:one", "B:two", "timeout", "timeout", "timeout"), results);
                assertEquals(Duration.ofSeconds(10).toNanos(), loop.now());
                return null;
            });
        }
    }

    @Test
    void timeoutFiresWhenNothingIsReady() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> a = Channel.rendezvous();
                String r = Select.<String>create().onReceive(a, x -> x).onTimeout(Duration.ofSeconds(5), () -> "timeout").run();
                assertEquals("timeout", r);
                assertEquals(Duration.ofSeconds(5).toNanos(), loop.now());
                assertFalse(a.trySend("x"), "no waiter left behind after a timeout");

                // a ready case wins without waiting, and its timer does not fire later
                Channel<String> b = Channel.buffered(1);
                b.send("now");
                assertEquals("now", Select.<String>create().onReceive(b, x -> x).onTimeout(Duration.ofSeconds(5), () -> "timeout").run());
                assertEquals(Duration.ofSeconds(5).toNanos(), loop.now());

                // a zero timeout does not wait
                assertEquals("t0", Select.<String>create().onReceive(a, x -> x).onTimeout(Duration.ZERO, () -> "t0").run());
                // a timeout alone is a sleep
                assertEquals("slept", Select.<String>create().onTimeout(Duration.ofSeconds(1), () -> "slept").run());
                assertEquals(Duration.ofSeconds(6).toNanos(), loop.now());
                return null;
            });
        }
    }

    @Test
    void defaultCaseRunsWhenNothingIsReady() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> a = Channel.buffered(1);
                Select<String> s = Select.<String>create().onReceive(a, x -> "got " + x).onDefault(() -> "nothing");
                assertEquals("nothing", s.run());
                a.send("x");
                assertEquals("got x", s.run());
                assertEquals("nothing", s.run());
                assertFalse(a.isClosedForReceive());
                return null;
            });
        }
    }

    @Test
    void sendCasesSendToAWaitingReceiverOrIntoRoomAndOtherwiseWait() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<Integer> out = Channel.buffered(1);
                Select<String> s = Select.<String>create().onSend(out, 1, () -> "sent").onDefault(() -> "full");
                assertEquals("sent", s.run());
                assertEquals("full", s.run());
                assertEquals(1, out.receive());
                assertEquals("sent", s.run());
                assertEquals(1, out.receive());

                Channel<Integer> rv = Channel.rendezvous();
                Channel<Integer> in = Channel.rendezvous();
                Task<Integer> r = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofSeconds(1));
                    return rv.receive();
                });
                String what = Select.<String>create().onReceive(in, x -> "received").onSend(rv, 7, () -> "sent 7").run();
                assertEquals("sent 7", what);
                assertEquals(7, r.join());
                assertEquals(Duration.ofSeconds(1).toNanos(), loop.now());
                assertFalse(in.trySend(1), "no waiter left on the other channel");
                return null;
            });
        }
    }

    @Test
    void aSelectSendingMeetsASelectReceiving() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> ch = Channel.rendezvous();
                Channel<String> back = Channel.rendezvous();
                Task<String> x = Fibers.spawn(() -> Select.<String>create()
                        .onSend(ch, "x", () -> "x sent")
                        .onReceive(back, v -> "x got " + v)
                        .run());
                Fibers.yieldNow(); // x waits on both
                String y = Select.<String>create()
                        .onReceive(ch, v -> "y got " + v)
                        .onTimeout(Duration.ofSeconds(1), () -> "y timeout")
                        .run();
                assertEquals("y got x", y);
                assertEquals("x sent", x.join());
                assertFalse(back.trySend("late"), "x's receive node was unlinked");
                assertEquals(0, loop.now());
                return null;
            });
        }
    }

    @Test
    void closedChannelsInASelect() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> c = Channel.buffered(1);
                c.send("last");
                c.close();
                assertEquals("last", Select.<String>create().onReceive(c, x -> x).run(), "drains first");
                assertThrows(ChannelClosedException.class, () -> Select.<String>create().onReceive(c, x -> x).run());
                assertEquals("end", Select.<String>create().onReceiveOrNull(c, x -> x == null ? "end" : x).run());
                assertThrows(ChannelClosedException.class,
                        () -> Select.<String>create().onSend(c, "x", () -> "sent").onDefault(() -> "default").run());

                // closing while a select waits
                Channel<String> a = Channel.rendezvous();
                Channel<String> b = Channel.rendezvous();
                Task<String> sel = Fibers.spawn(() -> Select.<String>create()
                        .onReceiveOrNull(a, x -> x == null ? "a ended" : x)
                        .onReceive(b, x -> x)
                        .run());
                Fibers.yieldNow();
                a.close();
                assertEquals("a ended", sel.join());
                assertFalse(b.trySend("y"));

                Channel<String> d = Channel.rendezvous();
                Task<String> sender = Fibers.spawn(() -> Select.<String>create().onSend(d, "v", () -> "sent").onReceive(b, x -> x).run());
                Fibers.yieldNow();
                d.close();
                assertThrows(ChannelClosedException.class, sender::join);
                assertFalse(b.trySend("z"));
                return null;
            });
        }
    }

    @Test
    void aSelectCancelledWhileWaitingPerformsNoOperation() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<String> a = Channel.rendezvous();
                Channel<String> b = Channel.rendezvous();
                Channel<String> out = Channel.rendezvous();
                Task<String> sel = Fibers.spawn(() -> Select.<String>create()
                        .onReceive(a, x -> x).onReceive(b, x -> x).onSend(out, "o", () -> "sent").run());
                Fibers.yieldNow();
                sel.cancel();
                assertThrows(CancelledException.class, sel::join);
                assertFalse(a.trySend("x"));
                assertFalse(b.trySend("y"));
                assertNull(out.tryReceive());

                // cancelled and completed at the same moment: the operation wins, nothing is lost
                Task<String> sel2 = Fibers.spawn(() -> receiveEither(a, b).run());
                Fibers.yieldNow();
                sel2.cancel();
                assertTrue(a.trySend("x"));
                assertEquals("A:x", sel2.join());
                assertFalse(b.trySend("y"));

                // a deadline around a select
                assertNull(Fibers.withTimeoutOrNull(Duration.ofSeconds(1), () -> receiveEither(a, b).run()));
                assertFalse(a.trySend("x"));
                return null;
            });
        }
    }

    @Test
    void theSameSelectRunsAgainAndAgain() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Channel<Integer> a = Channel.buffered(10);
                Channel<Integer> b = Channel.buffered(10);
                for (int i = 1; i <= 5; i++) {
                    a.send(i);
                    b.send(100 * i);
                }
                a.close();
                b.close();
                Select<Integer> s = Select.<Integer>create()
                        .onReceiveOrNull(a, x -> x == null ? -1 : x)
                        .onReceiveOrNull(b, x -> x == null ? -2 : x);
                List<Integer> got = new ArrayList<>();
                for (int i = 0; i < 7; i++) {
                    got.add(s.run());
                }
                // cases are tried in order: a first; once a has ended, its end is always ready
                assertEquals(List.of(1, 2, 3, 4, 5, -1, -1), got);
                assertEquals(5, b.size());
                Select<Integer> onlyB = Select.<Integer>create().onReceiveOrNull(b, x -> x == null ? -2 : x);
                int sum = 0;
                for (int x; (x = onlyB.run()) != -2; ) {
                    sum += x;
                }
                assertEquals(1500, sum);
                assertTrue(a.isClosedForReceive());
                assertTrue(b.isClosedForReceive());
                return null;
            });
        }
    }

    @Test
    void plainThreadsSelectTooAndBlock() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            Channel<String> a = Channel.rendezvous();
            Channel<String> b = Channel.rendezvous();
            Task<Void> t = Fibers.spawn(loop, () -> {
                b.send("from fiber");
                return null;
            });
            assertEquals("B:from fiber", receiveEither(a, b).run());
            t.get(10, TimeUnit.SECONDS);

            Task<String> r = Fibers.spawn(loop, a::receive);
            assertEquals("sent", Select.<String>create().onSend(a, "to fiber", () -> "sent").run());
            assertEquals("to fiber", r.get(10, TimeUnit.SECONDS));

            long start = System.nanoTime();
            assertEquals("timeout", Select.<String>create().onReceive(a, x -> x).onTimeout(Duration.ofMillis(20), () -> "timeout").run());
            assertTrue(System.nanoTime() - start >= Duration.ofMillis(20).toNanos());
            assertFalse(a.trySend("x"));
        }
    }

    @Test
    void aLoopCallbackMaySelectOnlyWithADefault() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            Channel<String> a = Channel.rendezvous();
            CompletableFuture<Object> got = new CompletableFuture<>();
            loop.execute(() -> {
                try {
                    assertEquals("d", Select.<String>create().onReceive(a, x -> x).onDefault(() -> "d").run());
                    Select.<String>create().onReceive(a, x -> x).run();
                    got.complete("waited?!");
                } catch (Throwable e) {
                    got.complete(e);
                }
            });
            IllegalStateException e = assertInstanceOf(IllegalStateException.class, got.get(10, TimeUnit.SECONDS));
            assertTrue(e.getMessage().contains("Select.run()"), e.getMessage());
            assertFalse(a.trySend("x"));
        }
    }

    @Test
    void anEmptySelectIsRefused() {
        assertThrows(IllegalStateException.class, () -> Select.<String>create().run());
        assertEquals("d", Select.<String>create().onDefault(() -> "d").run());
    }
}
