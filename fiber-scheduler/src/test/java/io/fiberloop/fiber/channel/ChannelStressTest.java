package io.fiberloop.fiber.channel;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Channels under contention: fibers of two loops and plain threads sending and receiving at once,
 * with cancellation and select in the mix; every message is counted per producer.
 */
@Timeout(60)
class ChannelStressTest {
    private static final int PRODUCERS = 3;
    private static final long SEQ_MASK = (1L << 40) - 1;

    /** What one consumer received: per producer, how many, their sum, and whether in order. */
    static final class Stats {
        final long[] count = new long[PRODUCERS];
        final long[] sum = new long[PRODUCERS];
        final long[] last = {-1, -1, -1};
        boolean ordered = true;

        void record(long v) {
            int p = (int) (v >>> 40);
            long seq = v & SEQ_MASK;
            count[p]++;
            sum[p] += seq;
            if (seq <= last[p]) {
                ordered = false; // a channel is FIFO: one consumer sees each producer's messages in order
            }
            last[p] = seq;
        }

        long total() {
            long t = 0;
            for (long c : count) {
                t += c;
            }
            return t;
        }
    }

    private static void produce(Channel<Long> ch, int producer, int n) {
        produce(ch, producer, n, () -> { });
    }

    private static void produce(Channel<Long> ch, int producer, int n, Runnable halfway) {
        long base = (long) producer << 40;
        for (int i = 0; i < n; i++) {
            ch.send(base | i);
            if (i == n / 2) {
                halfway.run();
            }
        }
    }

    private static void assertExactlyOnce(List<Stats> all, int perProducer) {
        long expectedSum = (long) perProducer * (perProducer - 1) / 2;
        for (int p = 0; p < PRODUCERS; p++) {
            long count = 0;
            long sum = 0;
            for (Stats s : all) {
                count += s.count[p];
                sum += s.sum[p];
            }
            assertEquals(perProducer, count, "messages of producer " + p);
            assertEquals(expectedSum, sum, "sum of producer " + p);
        }
        for (Stats s : all) {
            assertTrue(s.ordered, "a consumer saw a producer's messages out of order");
        }
    }

    @Test
    void aMillionMessagesAcrossTwoLoopsAndAPlainThreadNoneLostOrDuplicated() throws Exception {
        int perProducer = 333_334; // 3 producers: a million messages
        Channel<Long> ch = Channel.buffered(1024);
        try (EventLoop a = FiberLoops.newLoop(); EventLoop b = FiberLoops.newLoop()) {
            // consumers: a fiber on each loop, a plain thread, and a fiber on b that is cancelled midway
            Stats sa = new Stats();
            Stats sb = new Stats();
            Stats st = new Stats();
            Stats sc = new Stats();
            Task<Void> ca = Fibers.spawn(a, () -> {
                ch.forEach(sa::record);
                return null;
            });
            Task<Void> cb = Fibers.spawn(b, () -> {
                for (Long v; (v = ch.receiveOrNull()) != null; ) {
                    sb.record(v);
                }
                return null;
            });
            CountDownLatch cancelMe = new CountDownLatch(1);
            Task<Void> cc = Fibers.spawn(b, () -> {
                while (true) {
                    sc.record(ch.receive()); // cancelled while waiting here, or between two receives
                }
            });
            AtomicReference<Throwable> threadFailure = new AtomicReference<>();
            Thread ct = Thread.ofPlatform().name("stress-consumer").start(() -> {
                try {
                    for (long v : ch) {
                        st.record(v);
                    }
                } catch (Throwable e) {
                    threadFailure.set(e);
                }
            });
            // producers: a fiber on each loop and a plain thread
            Task<Void> pa = Fibers.spawn(a, () -> {
                produce(ch, 0, perProducer, cancelMe::countDown);
                return null;
            });
            Task<Void> pb = Fibers.spawn(b, () -> {
                produce(ch, 1, perProducer);
                return null;
            });
            Thread pt = Thread.ofPlatform().name("stress-producer").start(() -> produce(ch, 2, perProducer));

            assertTrue(cancelMe.await(30, TimeUnit.SECONDS));
            cc.cancel();
            assertThrows(CancelledException.class, cc::join);
            pa.get(30, TimeUnit.SECONDS);
            pb.get(30, TimeUnit.SECONDS);
            pt.join();
            ch.close();
            ca.get(30, TimeUnit.SECONDS);
            cb.get(30, TimeUnit.SECONDS);
            ct.join();
            assertNull(threadFailure.get());
            assertExactlyOnce(List.of(sa, sb, st, sc), perProducer);
        }
    }

    /** Consumes from two channels with select until both have ended. */
    private static void selectUntilBothEnd(Channel<Long> x, Channel<Long> y, Stats stats) {
        Select<Long> both = Select.<Long>create()
                .onReceiveOrNull(x, v -> v == null ? -1L : v)
                .onReceiveOrNull(y, v -> v == null ? -2L : v);
        Select<Long> onlyX = Select.<Long>create().onReceiveOrNull(x, v -> v == null ? -1L : v);
        Select<Long> onlyY = Select.<Long>create().onReceiveOrNull(y, v -> v == null ? -2L : v);
        boolean xOpen = true;
        boolean yOpen = true;
        while (xOpen || yOpen) {
            long v = (xOpen && yOpen ? both : xOpen ? onlyX : onlyY).run();
            if (v == -1L) {
                xOpen = false;
            } else if (v == -2L) {
                yOpen = false;
            } else {
                stats.record(v);
            }
        }
    }

    @Test
    void selectsOnTwoLoopsAndAPlainThreadTakeEachMessageExactlyOnce() throws Exception {
        int perProducer = 100_000;
        Channel<Long> x = Channel.rendezvous();
        Channel<Long> y = Channel.buffered(16);
        try (EventLoop a = FiberLoops.newLoop(); EventLoop b = FiberLoops.newLoop()) {
            Stats sa = new Stats();
            Stats sb = new Stats();
            Stats st = new Stats();
            Task<Void> ca = Fibers.spawn(a, () -> {
                selectUntilBothEnd(x, y, sa);
                return null;
            });
            Task<Void> cb = Fibers.spawn(b, () -> {
                selectUntilBothEnd(y, x, sb);
                return null;
            });
            Thread ct = Thread.ofPlatform().start(() -> selectUntilBothEnd(x, y, st));
            // producers: loop a sends to x, a plain thread to y, loop b to both through a select send
            Task<Void> pa = Fibers.spawn(a, () -> {
                produce(x, 0, perProducer);
                return null;
            });
            Thread pt = Thread.ofPlatform().start(() -> produce(y, 1, perProducer));
            Task<Void> pb = Fibers.spawn(b, () -> {
                long base = 2L << 40;
                for (int i = 0; i < perProducer; i++) {
                    long v = base | i;
                    Select.<Boolean>create().onSend(x, v, () -> true).onSend(y, v, () -> true).run();
                }
                return null;
            });
            pa.get(30, TimeUnit.SECONDS);
            pb.get(30, TimeUnit.SECONDS);
            pt.join();
            x.close();
            y.close();
            ca.get(30, TimeUnit.SECONDS);
            cb.get(30, TimeUnit.SECONDS);
            ct.join();
            // producer 2 sent through two channels, so one consumer may see its messages out of order
            Stats merged = new Stats();
            List<Stats> all = new ArrayList<>(List.of(sa, sb, st));
            for (Stats s : all) {
                for (int p = 0; p < PRODUCERS; p++) {
                    merged.count[p] += s.count[p];
                    merged.sum[p] += s.sum[p];
                }
                s.ordered = true;
            }
            assertExactlyOnce(List.of(merged), perProducer);
        }
    }
}
