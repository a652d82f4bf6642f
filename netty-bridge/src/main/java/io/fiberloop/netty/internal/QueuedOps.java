package io.fiberloop.netty.internal;

import io.netty.channel.IoEventLoop;

/**
 * A connection's operations that must run on Netty's owning thread (write and flush, ask for a
 * read, finish a request, close...), queued by the connection's fibers on the loop's I/O driver.
 * The driver runs them at the start of its next poll, before Netty's I/O (or at the end of
 * the current slice on io_uring and epoll), so the writes a fiber makes within one turn go out in one flush.
 * A connection queues itself once and keeps its own "queued" flag. Both packages' connections
 * (TCP, UDP and message connections; the HTTP server's) use this one queue. Not exported: the
 * module's own plumbing.
 *
 * <p>Threading: the carrier of the connection's loop only.
 */
public interface QueuedOps {
    /** Carries out the queued operations. Netty's owning thread (the loop's work fiber). */
    void runQueued();

    /** The driver closed without running them: release what they hold. Netty's owning thread. */
    void dropQueued();

    /** A loop's queue of {@link QueuedOps}: the Netty loop of a loop built by {@code NettyLoops}. */
    interface Queue {
        /**
         * Queues {@code ops} for the driver's next poll (at once dropped if the driver is closed).
         * A fiber of the loop (the carrier).
         *
         * @param ops the connection with operations to carry out
         */
        void enqueue(QueuedOps ops);

        /**
         * Counts {@code bytes} read from one of the loop's channels, towards the driver's slices
         * (on io_uring, fibers run inside a long Netty run once enough was read). A connection
         * counts what it reads as it comes off the socket, before any codec. Netty's owning thread.
         *
         * @param bytes bytes just read
         */
        void delivered(int bytes);

        /**
         * The end of a channel's read (its {@code channelReadComplete}, at the pipeline's tail):
         * where the driver may run a slice. Netty's owning thread.
         */
        void endOfRead();

        /**
         * The queue of the loop whose Netty loop is {@code netty}.
         *
         * @param netty {@code NettyLoops.nettyLoop(loop)}
         * @return its queue
         * @throws IllegalArgumentException if {@code netty} is not a fiberloop driver's Netty loop
         */
        static Queue of(IoEventLoop netty) {
            if (netty instanceof Queue q) {
                return q;
            }
            throw new IllegalArgumentException(netty + " is not the Netty loop of a loop built with NettyLoops");
        }
    }
}
