package io.fiberloop.netty;

import io.netty.channel.ChannelConfig;
import io.netty.channel.DefaultMaxMessagesRecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;
import io.netty.util.internal.AdaptiveCalculator;

/**
 * The receive-buffer allocator of fiber connections: the buffer sizes of Netty's
 * {@code AdaptiveRecvByteBufAllocator} (its {@link AdaptiveCalculator}, fed the same way), plus a
 * read loop that keeps going with auto-read off, up to a byte budget.
 *
 * <p>With auto-read off, Netty's own handles stop every read request after one buffer. Data that
 * arrives as several socket segments then costs one read request, one delivery and one fiber
 * wake-up per segment, and the adaptive guess, which learns from the bytes per request, shrinks to
 * the segment size: 64 KiB messages sent as two 32 KiB segments settled on 32 KiB reads, two per
 * message, even when the whole message was queued. This handle continues the transport's read
 * loop while the last read filled its buffer (so more data is probably queued) and was not small
 * ({@link #CONTINUE_MIN_BYTES}), at most {@code budget} bytes in all, the last buffer cut to what
 * is left of the budget. The guess then follows the bytes available per request (one 64 KiB read
 * per 64 KiB message), and one read request still delivers at most {@code budget} bytes, which
 * keeps the connection's bound on unread input (read-ahead threshold plus one request).
 *
 * <p>For stream channels only: datagram read loops count messages, not bytes.
 *
 * <p>{@link AdaptiveCalculator} is in Netty's {@code internal} package, which Netty may change
 * between versions: a Netty upgrade that changes it fails this class's compilation (and
 * {@code BoundedReadAllocatorTest} checks the sizes it gives), rather than changing behaviour.
 */
final class BoundedReadAllocator extends DefaultMaxMessagesRecvByteBufAllocator {
    /**
     * The most buffers one read request yields: a guard besides the byte budget (which, with
     * {@link #CONTINUE_MIN_BYTES}, already allows no more than eight).
     */
    private static final int MAX_BUFFERS_PER_REQUEST = 16;
    /**
     * A full read smaller than this ends the loop all the same: small messages that exactly fit
     * the adaptive guess (a 1 KiB echo) would otherwise pay a second read that finds nothing,
     * which costs more than the wake-up it could save.
     */
    static final int CONTINUE_MIN_BYTES = 8 * 1024;

    /** The smallest buffer the adaptive guess goes down to. */
    private static final int MINIMUM = 64;
    /** The first guess. */
    private static final int INITIAL = 2048;

    private final int budget;

    /**
     * @param budget the most bytes one read request may deliver; also the largest buffer
     */
    BoundedReadAllocator(int budget) {
        super(MAX_BUFFERS_PER_REQUEST);
        this.budget = budget;
    }

    @Override
    public Handle newHandle() {
        return new BudgetHandle();
    }

    /**
     * Netty's adaptive sizes (its {@link AdaptiveCalculator}, fed as Netty's own adaptive handle
     * feeds it), the loop's continuation and the cut. One object with the calculator rather than a
     * wrapper around Netty's handle: at a thousand connections each read request touches the
     * handle's state cold, and every object in the chain is one more cache miss.
     */
    private final class BudgetHandle extends MaxMessageHandle {
        private final AdaptiveCalculator sizes = new AdaptiveCalculator(MINIMUM, INITIAL, budget);
        /** The buffers read since the last reset that held bytes. */
        private int loopBuffers;

        @Override
        public void reset(ChannelConfig config) {
            super.reset(config);
            loopBuffers = 0;
        }

        /**
         * The adaptive guess, cut to what is left of the budget. Once the budget is spent the
         * guess is not cut: a transport may read on regardless (epoll drains the socket after the
         * peer's half-close, to find the end of stream), and tiny buffers would only make that slow.
         */
        @Override
        public int guess() {
            int guess = sizes.nextSize();
            int left = budget - totalBytesRead();
            return left > 0 ? Math.min(guess, left) : guess;
        }

        @Override
        public void lastBytesRead(int bytes) {
            if (bytes == attemptedBytesRead()) {
                sizes.record(bytes); // a full buffer: the guess may grow at once
            }
            super.lastBytesRead(bytes);
            if (bytes > 0) {
                loopBuffers++;
            }
        }

        @Override
        public void readComplete() {
            sizes.record(totalBytesRead());
        }

        @Override
        public boolean continueReading() {
            return continueReading(null);
        }

        /**
         * Continues while the last read filled a buffer of at least {@link #CONTINUE_MIN_BYTES}
         * and the budget is not spent, whatever auto-read says. The transport's own "maybe more"
         * test is not used: io_uring's is "read anything", which costs an extra empty receive per
         * loop on kernels that do not report whether the socket still holds data.
         */
        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            int last = lastBytesRead();
            return last >= CONTINUE_MIN_BYTES && last == attemptedBytesRead()
                    && totalBytesRead() < budget && loopBuffers < MAX_BUFFERS_PER_REQUEST;
        }
    }
}
