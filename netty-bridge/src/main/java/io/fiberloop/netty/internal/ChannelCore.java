package io.fiberloop.netty.internal;

import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.loop.EventLoop;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.function.BooleanSupplier;

/**
 * The one connection core under every protocol of netty-bridge: TCP byte and message connections,
 * UDP endpoints, the HTTP server's connections and (through a message connection) the HTTP
 * client. It is the Netty handler at the tail of a channel's pipeline (its callbacks run in the
 * loop's work fiber, Netty's owning thread) and the fiber-facing side of the channel (its methods
 * run in fibers on the same carrier). Both sides run on one carrier thread, one at a time, so the
 * state is plain fields; the hand-over points are {@code park}/{@code unpark}, which order memory
 * anyway.
 *
 * <h2>What it owns</h2>
 * <ul>
 *   <li><b>The outbox and the per-turn flush.</b> {@link #send} queues a message and queues this
 *       connection once on the loop's I/O driver ({@link QueuedOps}); the driver runs
 *       {@link #runQueued()} at the start of its next poll, on Netty's owning thread, which writes
 *       the outbox and flushes once: the writes a fiber makes within one turn go out in one
 *       flush. Code already on Netty's owning thread (a Netty handler) writes directly.</li>
 *   <li><b>Backpressure.</b> {@link #flush()} waits until the queued writes reached Netty;
 *       {@link #drain()} returns at once while little waits to go out, else waits while the channel
 *       is not writable (asyncio's {@code drain}). The queue, its write and flush counts and the
 *       waiting writer are the connection's {@link Outbox}.</li>
 *   <li><b>Read waits.</b> {@link #awaitReadable} suspends the reading fiber until the
 *       subclass's condition holds, the connection fails or closes, or a timeout expires (one loop
 *       timer per wait, a wake-up: {@code EventLoop.scheduleWake}). The waiting reader and its
 *       timeout are the connection's {@link ReadWait}.</li>
 *   <li><b>Demand-driven reads.</b> Channels run with auto-read off; {@link #requestRead()} asks
 *       Netty for one read, from a fiber (queued) or from Netty's side (at once).</li>
 *   <li><b>Closing.</b> {@link #close()} and {@link #shutdownOutput()} are queued too, and wait
 *       for the flushed writes to complete (io_uring may still have them in flight); a peer that
 *       never reads cannot hold a close back longer than {@link Outbound#CLOSE_LINGER}.</li>
 *   <li><b>Failures.</b> The first failure is kept and rethrown, as a fresh exception of the same
 *       well-known type, by every later call ({@link #checkFailure()}).</li>
 * </ul>
 *
 * <p>Threading: Netty callbacks on the owning thread; every other method from fibers of the
 * channel's loop, checked by the public methods of the subclasses ({@link #checkLoop}).
 */
public abstract class ChannelCore extends ChannelInboundHandlerAdapter implements QueuedOps {
    protected final EventLoop loop;
    protected final QueuedOps.Queue queue;
    protected Channel ch;
    protected ChannelHandlerContext ctx;

    /** The outbound half: fibers queue, the owning thread writes and flushes. */
    private final Outbox out = new Outbox(this);

    /** The fiber waiting to read, and its timeout. */
    private final ReadWait reads = new ReadWait(this);

    // state
    protected IOException failure;
    protected boolean inactive;
    protected boolean closedLocally;
    private boolean outputShut;

    // operations for the owning thread
    private boolean queued;
    private boolean wantRead;
    /** A read is asked and not yet answered (Netty keeps a read armed with auto-read off). */
    protected boolean readRequested;
    private boolean wantShutdownOutput;
    private boolean wantClose;

    /** The most bytes this connection held for its peer: queued and in Netty's outbound buffer (tests; carrier). */
    public long maxOutboundBytes;

    protected ChannelCore(EventLoop loop, QueuedOps.Queue queue) {
        this.loop = loop;
        this.queue = queue;
    }

    /** {@return the channel (null until the handler is added)} */
    public Channel channel() {
        return ch;
    }

    // ------------------------------------------------------------------ Netty side (owning thread)

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.ch = ctx.channel();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        writabilityChanged();
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * What the writability of the channel (or of what stands for it, {@link #writable()}) changed:
     * wakes the fiber waiting in {@link #drain()}. Owning thread.
     */
    protected final void writabilityChanged() {
        out.wakeWriter();
        if (writable()) {
            onWritable();
        }
    }

    /**
     * Whether the peer takes more now: {@code ch.isWritable()}. A connection that is a part of a
     * channel (an HTTP/2 stream) answers for its part (its flow-control windows). Carrier only.
     *
     * @return whether writes go out without waiting
     */
    protected boolean writable() {
        return ch.isWritable();
    }

    /**
     * Whether the connection is open: {@code ch.isActive()} (an HTTP/2 stream: and not closed). Carrier only.
     *
     * @return whether it is open
     */
    protected boolean active() {
        return ch.isActive();
    }

    /** The channel became writable again (its peer read). Owning thread. */
    protected void onWritable() {
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        markInactive();
    }

    /** The connection closed (either side): the body of {@link #channelInactive}. Owning thread. */
    protected final void markInactive() {
        inactive = true;
        onInactive();
        if (closedLocally) {
            releaseAll();
        }
        reads.wake();
        out.wakeWriter();
    }

    /** The channel closed (either side). Owning thread, before the fibers are woken. */
    protected void onInactive() {
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(cause);
        ctx.close();
    }

    /**
     * Records the first failure (unwrapping a decoder's wrapper around an SSL failure) and wakes
     * the fibers. Owning thread, or a fiber of the loop.
     *
     * @param cause what failed
     */
    public void fail(Throwable cause) {
        if (failure == null) {
            failure = Failures.recorded(cause);
        }
        reads.wake();
        out.wakeWriter();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (closedLocally) {
            releaseAll();
        }
    }

    /** Wakes the fiber waiting in {@link #awaitReadable}, if any. */
    protected final void wakeReader() {
        reads.wake();
    }

    /**
     * Carries out the queued operations. Owning thread (inside the driver's poll). Does nothing if
     * {@link #runQueuedNow()} carried them out since they were queued.
     */
    @Override
    public void runQueued() {
        if (queued) {
            runQueuedNow();
        }
    }

    /**
     * Carries out the queued operations at once, before the driver's next poll; the driver's pass
     * then skips this connection unless more was queued meanwhile. Owning thread (a loop task on
     * the work fiber that owns Netty's loop, e.g. the end of an exchange answered inline).
     */
    protected final void runQueuedNow() {
        queued = false;
        Channel c = ch;
        if (wantRead) {
            wantRead = false;
            if (!inactive && !closedLocally) {
                c.read();
            }
        }
        if (out.writeQueued()) { // queued just now, or written straight to Netty by send()
            flushChannel(c);
            noteOutbound(inNetty());
        }
        out.flushed();
        afterWrites();
        if (wantShutdownOutput) {
            wantShutdownOutput = false;
            if (c instanceof DuplexChannel d && !inactive) {
                Outbound.afterFlushed(c, d::shutdownOutput);
            }
        }
        if (wantClose) {
            wantClose = false;
            releaseAll();
            closeChannel(c);
        }
    }

    /**
     * Closes the channel once the writes flushed so far are out (at once after a failure). A
     * connection that is a part of a channel (an HTTP/2 stream) ends its part instead. Owning
     * thread, from the queued operations of {@link #close()}.
     *
     * @param c the channel
     */
    protected void closeChannel(Channel c) {
        if (inactive || failure != null) {
            c.close();
        } else {
            Outbound.afterFlushed(c, c::close);
        }
    }

    /**
     * Hands one message to Netty (not flushed): {@code ch.write(msg, voidPromise)}. A connection that
     * is a part of a channel (an HTTP/2 stream) writes to its part. Owning thread.
     *
     * @param msg the message (ownership passes on)
     */
    protected void writeOut(Object msg) {
        ch.write(msg, ch.voidPromise());
    }

    /**
     * Flushes what {@link #runQueued()} just wrote: {@code c.flush()}. A connection that shares its
     * socket with others (an HTTP/2 stream) may defer it, so that one flush serves them all in this
     * poll. Owning thread.
     *
     * @param c the channel
     */
    protected void flushChannel(Channel c) {
        c.flush();
    }

    /** What a subclass carries out after the queued writes were flushed (finish an exchange, read on). Owning thread. */
    protected void afterWrites() {
    }

    /**
     * Records what the connection holds for its peer (test statistics). Carrier only.
     *
     * @param bytes bytes queued or in Netty's outbound buffer
     */
    protected void noteOutbound(long bytes) {
        if (bytes > maxOutboundBytes) {
            maxOutboundBytes = bytes;
        }
    }

    /** The driver closed with this connection queued: release what it holds. Owning thread. */
    @Override
    public void dropQueued() {
        queued = false; // as after a run: a later operation queues it again, and is dropped (released) too
        releaseAll();
        out.wakeWriter();
    }

    /** Releases every message still held (the outbox, and what the subclass holds). Carrier only. */
    protected void releaseAll() {
        out.release();
        releaseInbound();
    }

    /** Releases what the subclass holds of the input. Carrier only. */
    protected void releaseInbound() {
    }

    /** Queues this connection's operations for the driver's next poll (once). Carrier only. */
    protected final void scheduleOps() {
        if (!queued) {
            queued = true;
            queue.enqueue(this);
        }
    }

    // ------------------------------------------------------------------ reading

    /**
     * Asks Netty for a read unless one is pending or the input is over: from Netty's side (owning
     * thread) at once, from a fiber through the queued operations. Carrier only.
     */
    public void requestRead() {
        if (readRequested || inactive || closedLocally) {
            return;
        }
        readRequested = true;
        if (ch.isActive() && ch.eventLoop().inEventLoop()) {
            ch.read();
        } else {
            wantRead = true;
            scheduleOps();
        }
    }

    /**
     * Suspends the calling fiber until {@code ready} holds, the connection fails, closes or is
     * closed by this side, or {@code timeoutNanos} (when positive) passes. Whoever makes
     * {@code ready} true must call {@link #wakeReader()}. Cancellation (and deadlines) raise
     * {@link io.fiberloop.fiber.CancelledException}.
     *
     * @param ready the condition to wait for
     * @param timeoutNanos the longest wait, or 0 for none
     * @param what what reads, for messages ("read", "the request body")
     * @return {@code false} if the wait timed out with {@code ready} still false
     * @throws IllegalStateException if another fiber is waiting to read, or the caller is not a fiber
     * @throws InterruptedIOException if the fiber is interrupted
     */
    protected final boolean awaitReadable(BooleanSupplier ready, long timeoutNanos, String what) throws InterruptedIOException {
        return reads.await(ready, timeoutNanos, what);
    }

    // ------------------------------------------------------------------ writing

    /**
     * Queues {@code msg} (ownership taken) for the next flush. A fiber of the loop. On failure
     * the message is released.
     *
     * @param msg the message
     * @throws IOException if the connection cannot be written
     */
    protected final void send(Object msg) throws IOException {
        try {
            checkWritable();
        } catch (IOException | RuntimeException e) {
            ReferenceCountUtil.release(msg);
            throw e;
        }
        int n = Outbound.sizeOf(msg);
        if (n == 0 && msg instanceof ByteBuf b) {
            b.release();
            return;
        }
        if (canWriteNow()) {
            // Netty's owning thread (a handler running inline on the loop's work fiber): straight to
            // Netty; the flush waits for the driver's next poll, which begins with the queued operations
            writeOut(msg);
            out.wroteStraight();
        } else {
            noteOutbound(out.add(msg, n));
        }
        onWrite();
        scheduleOps();
    }

    /**
     * Whether a message may go straight to Netty now, ahead of nothing: the caller is Netty's
     * owning thread (a handler running inline on the loop's work fiber) and no message is queued.
     * Carrier only.
     *
     * @return whether {@link #writeOut} may be called at once
     */
    protected final boolean canWriteNow() {
        return out.isEmpty() && ch.eventLoop().inEventLoop();
    }

    /** A write was queued (for an idle timer's activity). Carrier only. */
    protected void onWrite() {
    }

    /**
     * Throws if this side cannot write: closed here, output shut down, failed, closed by the peer.
     *
     * @throws IOException saying which
     */
    public void checkWritable() throws IOException {
        if (closedLocally) {
            throw new IOException("connection " + this + " was closed by this side");
        }
        if (outputShut) {
            throw new IOException("the output of " + this + " was shut down");
        }
        checkFailure();
        if (inactive) {
            throw new IOException("connection " + this + " was closed by the peer");
        }
    }

    /**
     * Waits until everything queued so far was handed to Netty (and its socket). A fiber of the loop.
     *
     * @throws IOException if the connection failed or closed first
     */
    public void flush() throws IOException {
        out.awaitFlushed();
    }

    /**
     * Backpressure: returns at once while little waits to go out (below the high-water mark and
     * fewer than {@value Outbox#DRAIN_FREE_MESSAGES} messages), else flushes and waits while the
     * channel is not writable. A fiber of the loop.
     *
     * @throws IOException if the connection failed or closed first
     */
    public void drain() throws IOException {
        out.drain();
    }

    /**
     * Throws a fresh exception for the recorded failure (so its stack trace shows this call), of
     * the same well-known type ({@link Failures#rethrown}).
     *
     * @throws IOException if the connection failed
     */
    public void checkFailure() throws IOException {
        IOException f = failure;
        if (f != null) {
            throw Failures.rethrown(f);
        }
    }

    /** Shuts the output down once the queued writes are out (TCP half-close). A fiber of the loop. */
    public void shutdownOutput() {
        if (outputShut || closedLocally) {
            return;
        }
        outputShut = true;
        wantShutdownOutput = true;
        scheduleOps();
    }

    /** Closes once the queued writes are out; unread input is released. Idempotent. A fiber of the loop. */
    public void close() {
        if (closedLocally) {
            return;
        }
        closedLocally = true;
        onClose();
        releaseInbound();
        wantClose = true;
        scheduleOps();
        reads.wake();
        out.wakeWriter();
    }

    /** This side is closing the connection. Carrier only, before the inbound is released. */
    protected void onClose() {
    }

    /**
     * Fails the connection and queues its close: for timeouts that end a connection (an idle
     * timeout). Carrier only (a wake task or a fiber).
     *
     * @param why the failure later calls raise
     */
    protected final void failAndClose(IOException why) {
        if (failure == null) {
            failure = why;
        }
        wantClose = true;
        scheduleOps();
        reads.wake();
        out.wakeWriter();
    }

    /** {@return whether the connection is open on both sides and has not failed} */
    public boolean isOpen() {
        return !closedLocally && !inactive && failure == null;
    }

    // ------------------------------------------------------------------ helpers

    /**
     * Checks that the caller runs on the connection's loop.
     *
     * @param what the operation, for the message
     * @throws IllegalStateException if not
     */
    public void checkLoop(String what) {
        if (!loop.inLoop()) {
            throw new IllegalStateException(kind() + "." + what + " was called from thread '" + Thread.currentThread().getName()
                    + "', which is not on its loop '" + loop.name() + "': use " + noun() + " only from fibers of its loop");
        }
    }

    /** {@return the user-facing type, for messages ("Connection")} */
    protected String kind() {
        return "Connection";
    }

    /** {@return what the user holds, in prose, for messages ("a connection")} */
    protected String noun() {
        return "a connection";
    }

    /**
     * {@return the calling fiber's strand}
     *
     * @param what the operation that would suspend, for the message
     * @throws IllegalStateException if the caller is not a fiber
     */
    final Strand requireFiber(String what) {
        Strand s = Strand.currentOrNull();
        if (s == null) {
            throw new IllegalStateException(kind() + "." + what + "() would suspend a loop callback or Netty handler, which must not block: "
                    + "call it from a fiber (spawn one with Fibers.spawn(...))");
        }
        return s;
    }

    /** {@return bytes queued here and not yet written to Netty. Carrier only.} */
    protected final long outboxBytes() {
        return out.bytes();
    }

    /** {@return bytes in Netty's outbound buffer, written but not yet taken by the socket (0 before registration or after close). Carrier only.} */
    protected final long inNetty() {
        return ch == null ? 0 : Outbound.pendingBytes(ch);
    }

    @Override
    public String toString() {
        Channel c = ch;
        return c == null ? kind() + "[unregistered]" : kind() + "[" + c.localAddress() + " <-> " + c.remoteAddress() + "]";
    }
}
