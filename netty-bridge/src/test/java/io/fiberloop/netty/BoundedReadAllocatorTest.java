package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The read loop of one read request, driven the way Netty's stream transports drive a handle:
 * {@code reset}, then per read {@code allocate}, {@code attemptedBytesRead}, {@code lastBytesRead},
 * {@code incMessagesRead} and {@code continueReading}, then {@code readComplete}.
 */
class BoundedReadAllocatorTest {
    private static final int BUDGET = 64 * 1024;

    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final ChannelConfig config = channel.config();
    private RecvByteBufAllocator.Handle handle;

    @BeforeEach
    void newHandle() {
        config.setAutoRead(false); // as on fiber connections: the loop must go on regardless
        handle = new BoundedReadAllocator(BUDGET).newHandle();
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    /** One socket read of up to {@code available} bytes; returns whether the loop goes on. */
    private boolean read(int available, int[] sizeAsked) {
        ByteBuf buf = handle.allocate(UnpooledByteBufAllocator.DEFAULT);
        try {
            sizeAsked[0] = buf.writableBytes();
            handle.attemptedBytesRead(buf.writableBytes());
            handle.lastBytesRead(Math.min(available, buf.writableBytes()));
            if (handle.lastBytesRead() > 0) {
                handle.incMessagesRead(1);
            }
            return handle.continueReading();
        } finally {
            buf.release();
        }
    }

    @Test
    void aSmallFullReadEndsTheRequest() {
        int[] asked = new int[1];
        handle.reset(config);
        assertFalse(read(100_000, asked), "a full read under 8 KiB must not go on");
        assertEquals(2048, asked[0], "the adaptive allocator's first guess");
        handle.readComplete();
    }

    @Test
    void largeFullReadsGoOnUntilTheBudgetIsSpent() {
        int[] asked = new int[1];
        request(100_000); // one 2 KiB read, full: the guess grows

        handle.reset(config);
        assertTrue(read(1_000_000, asked), "a full read of " + asked[0] + " bytes goes on");
        int first = asked[0];
        assertTrue(first >= BoundedReadAllocator.CONTINUE_MIN_BYTES && first < BUDGET, "grown guess " + first);
        int total = first;
        boolean more = true;
        while (more) {
            more = read(1_000_000, asked);
            total += asked[0];
            assertTrue(total <= BUDGET, "one request read " + total + " bytes, over the " + BUDGET + " budget");
        }
        assertEquals(BUDGET, total, "the last buffer is cut to what is left of the budget");
        handle.readComplete();
    }

    @Test
    void aPartialReadEndsTheRequest() {
        int[] asked = new int[1];
        request(100_000); // the guess grows past 8 KiB

        handle.reset(config);
        assertFalse(read(20_000, asked), "the socket had less than the buffer: nothing more is queued");
        handle.readComplete();
    }

    /** One read request against {@code queued} bytes; returns the bytes it read. */
    private int request(int queued) {
        int[] asked = new int[1];
        handle.reset(config);
        int left = queued;
        boolean more;
        do {
            more = read(left, asked);
            left -= Math.min(left, asked[0]);
        } while (more);
        handle.readComplete();
        return queued - left;
    }

    @Test
    void theGuessFollowsTheBytesQueuedNotTheSegmentSize() {
        // a run of requests that found only one 32 KiB segment queued brings the guess down to 32 KiB
        request(BUDGET);
        for (int i = 0; i < 6; i++) {
            request(32 * 1024);
        }
        assertTrue(handle.guess() <= 32 * 1024, "precondition: the guess shrank, to " + handle.guess());
        // whole 64 KiB messages queued: a request reads on past the first 32 KiB buffer, so the
        // guess learns 64 KiB (with one buffer per request it stayed at 32 KiB: two reads, two
        // deliveries and two wake-ups per message)
        assertEquals(BUDGET, request(BUDGET), "one request reads the whole message");
        request(BUDGET);
        int[] asked = new int[1];
        handle.reset(config);
        assertFalse(read(BUDGET, asked), "one read took the whole message");
        assertEquals(BUDGET, asked[0], "steady state: one 64 KiB read per 64 KiB message");
        handle.readComplete();
    }

    @Test
    void onceTheBudgetIsSpentTheGuessIsNotCut() {
        // epoll and io_uring read on after the peer's half-close whatever the handle says: their
        // buffers must not shrink to nothing
        int[] asked = new int[1];
        request(BUDGET); // the guess grows past 8 KiB
        handle.reset(config);
        int total = 0;
        while (total < BUDGET) {
            read(1_000_000, asked);
            total += asked[0];
        }
        assertTrue(handle.guess() >= 2048, "guess after the budget: " + handle.guess());
        handle.readComplete();
    }
}
