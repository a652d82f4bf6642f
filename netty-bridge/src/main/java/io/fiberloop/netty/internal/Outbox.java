package io.fiberloop.netty.internal;

import io.fiberloop.fiber.internal.Strand;
import io.netty.channel.Channel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayDeque;

/**
 * The outbound half of a {@link ChannelCore}: the messages its fibers queue for Netty's owning
 * thread, the count of writes made and flushed, and the one fiber that waits for them to go out.
 * One per connection, created with its core; the core decides where a write goes
 * ({@link ChannelCore#send}) and when the queue is written and flushed
 * ({@link ChannelCore#runQueued()}); this class keeps the books and does the waiting.
 *
 * <ul>
 *   <li><b>Sequence numbers, not futures.</b> Every write counts one in {@code writeSeq}; the
 *       queued operations set {@code flushedSeq} to it after their flush. {@link #awaitFlushed()}
 *       waits for the count the caller saw, so no write allocates a promise or a listener.</li>
 *   <li><b>Backpressure.</b> {@link #drain()} is asyncio's {@code drain}: free while little waits
 *       (below the channel's high-water mark and fewer than {@value #DRAIN_FREE_MESSAGES}
 *       messages), else it flushes and waits while the channel (or what stands for it,
 *       {@link ChannelCore#writable()}) is not writable.</li>
 *   <li><b>One writer.</b> Only one fiber may wait to write at a time; the core wakes it when the
 *       channel's writability changes, the connection fails or closes, and after each flush.</li>
 * </ul>
 *
 * <p>Threading: the carrier of the connection's loop only (fibers and Netty's owning thread, one
 * at a time), as its core.
 */
final class Outbox {
    /**
     * {@code drain()} returns without flushing while fewer than this many messages are queued (and
     * their bytes are below the high-water mark): decoded messages count no bytes until encoded,
     * so without it a loop of write-and-drain would never yield.
     */
    static final int DRAIN_FREE_MESSAGES = 64;

    private final ChannelCore core;
    /** Messages queued by fibers for the owning thread; created by the first (many connections never queue one). */
    private ArrayDeque<Object> queue;
    private long bytes;
    private long writeSeq;
    private long flushedSeq;
    /** Written straight to Netty (by code on its owning thread) and not flushed yet. */
    private boolean unflushed;
    /** The fiber waiting in {@link #awaitFlushed()} or {@link #drain()}. */
    private Thread writer;

    Outbox(ChannelCore core) {
        this.core = core;
    }

    /** {@return whether no message is queued} */
    boolean isEmpty() {
        return queue == null || queue.isEmpty();
    }

    /** {@return bytes queued and not yet written to Netty} */
    long bytes() {
        return bytes;
    }

    /**
     * Queues {@code msg} (ownership taken) for the owning thread, and counts the write.
     *
     * @param msg the message
     * @param size its bytes ({@link Outbound#sizeOf})
     * @return the bytes queued now
     */
    long add(Object msg, int size) {
        if (queue == null) {
            queue = new ArrayDeque<>(4);
        }
        queue.addLast(msg);
        writeSeq++;
        return bytes += size;
    }

    /** Counts a write the owning thread made straight to Netty: the next flush takes it along. */
    void wroteStraight() {
        unflushed = true;
        writeSeq++;
    }

    /**
     * Hands the queued messages to Netty ({@link ChannelCore#writeOut}, not flushed). Owning thread.
     *
     * @return whether anything waits for a flush: these, or writes made straight to Netty since
     *     the last call
     */
    boolean writeQueued() {
        ArrayDeque<Object> q = queue;
        if (q != null && !q.isEmpty()) {
            Object m;
            while ((m = q.pollFirst()) != null) {
                core.writeOut(m);
            }
            bytes = 0;
            unflushed = true;
        }
        boolean flush = unflushed;
        unflushed = false;
        return flush;
    }

    /** Every write counted so far was flushed: wakes a fiber waiting for them. Owning thread. */
    void flushed() {
        if (flushedSeq != writeSeq) {
            flushedSeq = writeSeq;
            Parking.wake(writer);
        }
    }

    /** Releases the queued messages. */
    void release() {
        Object m;
        while (queue != null && (m = queue.pollFirst()) != null) {
            ReferenceCountUtil.release(m);
        }
        bytes = 0;
    }

    /** Wakes the fiber waiting to write, if any (writability changed, failure, close). */
    void wakeWriter() {
        Parking.wake(writer);
    }

    /**
     * Waits until everything queued so far was handed to Netty (and its socket): the body of
     * {@link ChannelCore#flush()}. A fiber of the loop.
     *
     * @throws IOException if the connection failed or closed first
     */
    void awaitFlushed() throws IOException {
        long target = writeSeq;
        if (flushedSeq - target >= 0) {
            core.checkFailure();
            return;
        }
        Strand strand = enterWriter("flush");
        try {
            while (flushedSeq - target < 0 && core.failure == null && !core.inactive && !core.closedLocally) {
                Parking.parkChecked(strand, core.noun());
            }
        } finally {
            writer = null;
        }
        core.checkFailure();
        if (flushedSeq - target < 0) {
            throw new IOException("connection " + core + " closed before its writes were flushed");
        }
    }

    /**
     * Backpressure, the body of {@link ChannelCore#drain()}: returns at once while little waits to
     * go out, else flushes and waits while the channel is not writable. A fiber of the loop.
     *
     * @throws IOException if the connection failed or closed first
     */
    void drain() throws IOException {
        ChannelCore c = core;
        Channel ch = c.ch;
        long waiting = bytes + c.inNetty();
        if (waiting <= ch.config().getWriteBufferHighWaterMark() && (queue == null || queue.size() < DRAIN_FREE_MESSAGES)
                && c.writable() && c.active()) {
            // below the high-water mark: the writes go out with this turn's flush, as asyncio's drain()
            c.checkFailure();
            return;
        }
        c.flush(); // the core's, which a subclass may override (on Netty's thread: flush at once, without waiting)
        if (c.writable() || !c.active()) {
            c.checkFailure();
            return;
        }
        Strand strand = enterWriter("drain");
        try {
            while (!c.writable() && c.active() && c.failure == null && !c.closedLocally) {
                Parking.parkChecked(strand, c.noun());
            }
        } finally {
            writer = null;
        }
        c.checkFailure();
        if (!c.active() && !c.writable()) {
            throw new IOException("connection " + c + " closed while draining");
        }
    }

    private Strand enterWriter(String what) {
        Thread me = Thread.currentThread();
        if (writer != null && writer != me) {
            throw new IllegalStateException("another fiber (" + writer.getName() + ") is already waiting to write on " + core
                    + ": only one fiber may write a connection at a time");
        }
        Strand s = core.requireFiber(what);
        writer = me;
        return s;
    }
}
