package io.fiberloop.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * The receive-buffer allocator of fiber connections: Netty's adaptive buffer sizes, plus a read
 * loop that keeps going with auto-read off, up to a byte budget.
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
 */
final class BoundedReadAllocator extends AdaptiveRecvByteBufAllocator {
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

    private final int budget;

    /**
     * @param budget the most bytes one read request may deliver; also the largest buffer
     */
    BoundedReadAllocator(int budget) {
        super(64, 2048, budget);
        this.budget = budget;
    }

    @Override
    public Handle newHandle() {
        return new BudgetHandle((ExtendedHandle) super.newHandle(), budget);
    }

    /** Adaptive sizes from the delegate; the loop's continuation and the cut from this class. */
    private static final class BudgetHandle extends DelegatingHandle implements ExtendedHandle {
        private final int budget;
        private int loopBytes;
        private int loopBuffers;

        BudgetHandle(ExtendedHandle delegate, int budget) {
            super(delegate);
            this.budget = budget;
        }

        @Override
        public void reset(ChannelConfig config) {
            super.reset(config);
            loopBytes = 0;
            loopBuffers = 0;
        }

        /**
         * The delegate's guess, cut to what is left of the budget. Once the budget is spent the
         * guess is not cut: a transport may read on regardless (epoll drains the socket after the
         * peer's half-close, to find the end of stream), and tiny buffers would only make that slow.
         */
        @Override
        public int guess() {
            int guess = super.guess();
            int left = budget - loopBytes;
            return left > 0 ? Math.min(guess, left) : guess;
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            return alloc.ioBuffer(guess());
        }

        @Override
        public void incMessagesRead(int numMessages) {
            super.incMessagesRead(numMessages);
            loopBuffers += numMessages;
        }

        @Override
        public void lastBytesRead(int bytes) {
            super.lastBytesRead(bytes);
            if (bytes > 0) {
                loopBytes += bytes;
            }
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
                    && loopBytes < budget && loopBuffers < MAX_BUFFERS_PER_REQUEST;
        }
    }
}
