package io.fiberloop.loop;

import static io.fiberloop.loop.TestLoops.quiet;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many threads submit at once while the loop resubmits its own work: every task runs exactly once,
 * and each submitter's tasks run in its order.
 */
class ExecuteStressTest {
    private static final int THREADS = 8;
    private static final int PER_THREAD = 250_000;
    private static final int LOOP_CHAIN = 100_000;

    /** Loop-confined bookkeeping: only tasks touch it. */
    private static final class Book {
        final int[] next = new int[THREADS + 1]; // the sequence number expected next, per submitter
        long total;
        String error;

        void ran(int submitter, int seq) {
            total++;
            if (error == null && next[submitter] != seq) {
                error = "submitter " + submitter + ": task " + seq + " ran when " + next[submitter] + " was due";
            }
            next[submitter] = seq + 1;
        }
    }

    @Test
    @Timeout(60)
    void manySubmittersAndTheLoopItself() throws Exception {
        try (EventLoop loop = quiet("stress").build()) {
            Book book = new Book();
            long expected = (long) THREADS * PER_THREAD + LOOP_CHAIN;
            CompletableFuture<Book> done = new CompletableFuture<>();
            Runnable check = () -> {
                if (book.total == expected) {
                    done.complete(book);
                }
            };
            CountDownLatch start = new CountDownLatch(1);
            Thread[] submitters = new Thread[THREADS];
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                submitters[t] = Thread.ofPlatform().name("submitter-" + t).start(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    for (int i = 0; i < PER_THREAD; i++) {
                        int seq = i;
                        loop.execute(() -> {
                            book.ran(id, seq);
                            check.run();
                        });
                    }
                });
            }
            // the loop's own submitter: a chain that resubmits itself, interleaved with the others
            loop.execute(new Runnable() {
                int seq;

                @Override
                public void run() {
                    book.ran(THREADS, seq);
                    check.run();
                    if (++seq < LOOP_CHAIN) {
                        loop.execute(this);
                    }
                }
            });
            start.countDown();
            for (Thread t : submitters) {
                t.join();
            }
            Book b = done.get(50, TimeUnit.SECONDS);
            assertEquals(null, b.error);
            assertEquals(expected, b.total);
            for (int t = 0; t < THREADS; t++) {
                assertEquals(PER_THREAD, b.next[t], "submitter " + t);
            }
            assertEquals(LOOP_CHAIN, b.next[THREADS]);
            // nothing more runs after the expected total: no task ran twice
            TestLoops.settle(loop);
            assertEquals(expected, TestLoops.onLoop(loop, () -> book.total));
        }
    }
}
