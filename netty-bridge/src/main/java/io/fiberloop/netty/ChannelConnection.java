package io.fiberloop.netty;

import io.fiberloop.fiber.Fiber;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.TimerHandle;
import io.fiberloop.loop.spi.WakeTask;
import io.fiberloop.netty.internal.Parking;
import io.fiberloop.netty.internal.QueuedOps;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * The core shared by byte connections ({@link ConnectionImpl}), message connections
 * ({@link MessageConnectionImpl}) and UDP endpoints: a Netty inbound handler at the tail of the
 * channel's pipeline (its callbacks run in the loop's work fiber, Netty's owning thread) and the
 * fiber-facing side (its methods run in fibers on the same carrier). Both sides run on one carrier
 * thread, one at a time, so the state below is plain fields; the hand-over points are
 * {@link LockSupport#park}/{@code unpark}, which order memory anyway.
 *
 * <p>Operations that must touch the channel (ask for a read, write and flush, shut down, close)
 * are recorded in flags and the connection queues itself once on the driver, which carries them
 * out at the start of its next poll, on Netty's owning thread ({@link #runPending()}).
 *
 * <p>The inbox holds whatever reaches the tail of the pipeline: {@link ByteBuf}s for a plain
 * connection, decoded messages when codecs sit in front. Reads are demand-driven with a bounded
 * read-ahead: auto-read is off; the first read is asked when a fiber wants an element and none is
 * buffered, and each delivery asks for the next one at once while the inbox holds at most
 * {@link #READ_AHEAD_BYTES} (so a fiber that keeps reading never waits for a round trip through the
 * driver, and epoll's read interest is not toggled per read); above it, Netty reads nothing more
 * until the fiber has emptied the inbox. Decoders that need more bytes for a message ask for the
 * next read themselves, as Netty's {@code ByteToMessageDecoder} and {@code SslHandler} do with
 * auto-read off.
 */
abstract class ChannelConnection extends ChannelInboundHandlerAdapter implements QueuedOps {
    /**
     * The most bytes one read request delivers (one or more socket reads, see
     * {@link BoundedReadAllocator}): the bound on what is buffered unasked.
     */
    static final int MAX_READ_BYTES = 64 * 1024;
    /**
     * The most unread input a connection holds while the stream is open: the read-ahead threshold
     * plus one read request. (After the peer's half-close, epoll and io_uring read on to the end of
     * stream, so what was left in the socket's receive buffer moves into the inbox at once; that is
     * bounded by the kernel's buffer, not by this.)
     */
    static final int MAX_BUFFERED_BYTES = 2 * MAX_READ_BYTES;
    /**
     * Read-ahead: after a delivery, the next read is asked at once while the inbox holds at most
     * this many bytes (and fewer than {@link #READ_AHEAD_MESSAGES} elements), so at most this plus
     * one read request ({@link #MAX_BUFFERED_BYTES}) is buffered before the fiber asks. Beyond it,
     * reads wait for the fiber. Read-ahead counts as traffic for the idle timeout.
     */
    static final int READ_AHEAD_BYTES = MAX_BUFFERED_BYTES - MAX_READ_BYTES;
    /** The read-ahead bound in elements, for decoded messages whose bytes are not counted. */
    static final int READ_AHEAD_MESSAGES = 16;
    /**
     * {@code drain()} returns without flushing while fewer than this many messages are queued (and
     * their bytes are below the high-water mark): decoded messages count no bytes until encoded,
     * so without it a loop of write-and-drain would never yield.
     */
    static final int DRAIN_FREE_MESSAGES = 64;
    /** How long a close waits for flushed writes to complete before it forces the channel shut. */
    static final Duration CLOSE_LINGER = Duration.ofSeconds(10);

    static RecvByteBufAllocator newRecvAllocator() {
        return new BoundedReadAllocator(MAX_READ_BYTES);
    }

    final NettyIoDriver driver;
    /** Whether this handler counts what it receives towards the driver's slices (see {@link #countRawBytes}). */
    private boolean countsDelivered = true;
    final EventLoop loop;
    Channel ch;

    // inbound
    final ArrayDeque<Object> inbox = new ArrayDeque<>(4);
    int inboxBytes;
    boolean eof;
    private boolean readRequested;
    private Thread reader;
    private boolean readTimedOut;
    private long readTimeoutNanos;
    private final WakeTask readTimeoutTask = this::onReadTimeout;
    private final WakeTask idleCheckTask = this::onIdleCheck;

    // outbound
    private final ArrayDeque<Object> outbox = new ArrayDeque<>(4);
    private long outboxBytes;
    private long writeSeq;
    private long flushedSeq;
    private Thread writer;

    // idle timeout
    private long idleTimeoutNanos;
    private long lastActivity;
    private TimerHandle idleTimer;

    // state
    IOException failure;
    boolean inactive;
    boolean closedLocally;
    private boolean outputShut;

    // operations for the owning thread
    private boolean queued;
    private boolean wantRead;
    private boolean wantShutdownOutput;
    private boolean wantClose;

    // test statistics: the most bytes ever buffered (carrier only)
    int maxInboxBytes;
    int maxInboxBuffers;
    long maxOutboundBytes;

    ChannelConnection(NettyIoDriver driver) {
        this.driver = driver;
        this.loop = driver.loop;
    }

    Channel channel() {
        return ch;
    }

    /** Whether {@code msg}, arriving at the tail of the pipeline, goes to the inbox (else it is released). */
    abstract boolean accepts(Object msg);

    /**
     * For a pipeline with codecs, whose decoded messages may not be buffers: the channel's bytes
     * are counted towards the driver's slices as they come off the socket, by a handler put first,
     * instead of here. Nothing to do where the transport does not slice. Netty's owning thread,
     * while the pipeline is set up (after its codecs are in place).
     */
    void countRawBytes(ChannelPipeline p) {
        ChannelHandler counter = driver.rawByteCounter();
        if (counter != null) {
            p.addFirst("fiberloop-read-bytes", counter);
            countsDelivered = false;
        }
    }

    /** The bytes {@code msg} holds, for the buffer accounting (0 for plain objects). */
    static int sizeOf(Object msg) {
        if (msg instanceof ByteBuf b) {
            return b.readableBytes();
        }
        if (msg instanceof ByteBufHolder h) {
            return h.content().readableBytes();
        }
        return 0;
    }

    // ------------------------------------------------------------------ Netty side (owning thread)

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ch = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closedLocally || !accepts(msg)) {
            ReferenceCountUtil.release(msg);
            if (!closedLocally) {
                // the read was used up by nothing the fiber can take: let it ask again
                readRequested = false;
                wake(reader);
            }
            return;
        }
        inbox.addLast(msg);
        int size = sizeOf(msg);
        inboxBytes += size;
        if (countsDelivered) {
            driver.delivered(size);
        }
        if (inboxBytes > maxInboxBytes) {
            maxInboxBytes = inboxBytes;
            maxInboxBuffers = inbox.size();
        }
        readRequested = false;
        touch();
        wake(reader);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // A read that found no data leaves Netty's read armed (autoRead off keeps readPending), so
        // readRequested stays set: asking again would overlap two reads and double what is buffered.
        if (!readRequested && !eof && !inactive && !closedLocally
                && inboxBytes <= READ_AHEAD_BYTES && inbox.size() < READ_AHEAD_MESSAGES) {
            // Read ahead: the fiber almost always reads again. Asking now, before the transport's
            // read loop ends, leaves its read interest set (no epoll_ctl per read) and spares the
            // fiber a trip through the driver; what is buffered unasked stays at most
            // READ_AHEAD_BYTES plus one read request. (Not in channelRead: the epoll and NIO datagram
            // channels clear their pending read after delivering.)
            readRequested = true;
            ctx.read();
        }
        driver.endOfRead();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE) {
            eof = true;
            wake(reader);
        } else if (evt instanceof SslHandshakeCompletionEvent e && !e.isSuccess()) {
            fail(e.cause());
            ctx.close();
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        wake(writer);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        inactive = true;
        eof = true;
        cancelIdleTimer();
        if (closedLocally) {
            releaseAll();
        }
        wake(reader);
        wake(writer);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(cause);
        ctx.close();
    }

    /** Records the first failure (unwrapping a decoder's wrapper around an SSL failure) and wakes the fibers. */
    void fail(Throwable cause) {
        if (failure == null) {
            Throwable c = cause;
            if (c instanceof DecoderException && c.getCause() instanceof SSLException ssl) {
                c = ssl;
            }
            failure = c instanceof IOException io ? io : new IOException(c.toString(), c);
        }
        wake(reader);
        wake(writer);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelIdleTimer();
        if (closedLocally) {
            releaseAll();
        }
    }

    static void wake(Thread t) {
        Parking.wake(t);
    }

    /** Carries out the queued operations. Owning thread (inside the driver's poll). */
    @Override
    public void runQueued() {
        queued = false;
        Channel c = ch;
        if (wantRead) {
            wantRead = false;
            if (!inactive && !closedLocally) {
                c.read();
            }
        }
        if (!outbox.isEmpty()) {
            Object m;
            while ((m = outbox.pollFirst()) != null) {
                c.write(m, c.voidPromise());
            }
            outboxBytes = 0;
            c.flush();
            long inNetty = inNetty();
            if (inNetty > maxOutboundBytes) {
                maxOutboundBytes = inNetty;
            }
        }
        if (flushedSeq != writeSeq) {
            flushedSeq = writeSeq;
            wake(writer);
        }
        if (wantShutdownOutput) {
            wantShutdownOutput = false;
            if (c instanceof DuplexChannel d && !inactive) {
                afterWrites(c, d::shutdownOutput);
            }
        }
        if (wantClose) {
            wantClose = false;
            releaseAll();
            if (inactive || failure != null) {
                c.close();
            } else {
                afterWrites(c, c::close);
            }
        }
    }

    /**
     * Runs {@code action} once the writes already flushed have completed: with io_uring a flushed
     * write may still be in flight, and closing or shutting down the output would fail it. A peer
     * that never reads could hold the close back forever, so it is forced after {@link #CLOSE_LINGER}.
     */
    private static void afterWrites(Channel c, Runnable action) {
        ChannelOutboundBuffer ob = c.unsafe().outboundBuffer();
        if (ob == null || ob.isEmpty()) {
            action.run();
            return;
        }
        ChannelFuture written = c.writeAndFlush(Unpooled.EMPTY_BUFFER);
        if (written.isDone()) {
            action.run();
            return;
        }
        written.addListener(f -> action.run());
        c.eventLoop().schedule(() -> {
            if (c.isOpen()) {
                c.close();
            }
        }, CLOSE_LINGER.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The driver closed with this connection queued: release what it holds. Owning thread. */
    @Override
    public void dropQueued() {
        queued = false; // as after a run: a later operation queues it again, and is dropped (released) too
        releaseAll();
    }

    /** Releases every message still held. Carrier only. */
    void releaseAll() {
        Object m;
        while ((m = inbox.pollFirst()) != null) {
            ReferenceCountUtil.release(m);
        }
        inboxBytes = 0;
        while ((m = outbox.pollFirst()) != null) {
            ReferenceCountUtil.release(m);
        }
        outboxBytes = 0;
    }

    private void schedule() {
        if (!queued) {
            queued = true;
            driver.enqueue(this);
        }
    }

    // ------------------------------------------------------------------ fiber side: reading

    /** The next inbound element, or {@code null} at end of stream. Fiber of the loop. */
    Object readObject(String what) throws IOException {
        checkLoop(what);
        for (;;) {
            Object m = inbox.pollFirst();
            if (m != null) {
                inboxBytes -= sizeOf(m);
                return m;
            }
            checkReadable();
            if (eof) {
                return null;
            }
            if (!readRequested) {
                readRequested = true;
                wantRead = true;
                schedule();
            }
            awaitInput();
        }
    }

    /**
     * Asks Netty for a read now, as a fiber's read would (unless one is pending or the stream
     * ended): a TLS handshake needs input before any fiber reads. Carrier only.
     */
    void requestRead() {
        if (!readRequested && !eof && !closedLocally) {
            readRequested = true;
            wantRead = true;
            schedule();
        }
    }

    /** Puts {@code m} back at the head of the inbox (a partial read's rest). */
    void unread(Object m) {
        inbox.addFirst(m);
        inboxBytes += sizeOf(m);
    }

    void checkReadable() throws IOException {
        if (closedLocally) {
            throw new IOException("connection " + this + " was closed by this side");
        }
        checkFailure();
    }

    /** Suspends the reading fiber until input, end of stream, failure, timeout or cancellation. */
    private void awaitInput() throws IOException {
        Thread me = Thread.currentThread();
        if (reader != null && reader != me) {
            throw new IllegalStateException("another fiber (" + reader.getName() + ") is already reading from " + this
                    + ": only one fiber may read a connection at a time");
        }
        requireFiber("read");
        reader = me;
        TimerHandle timer = readTimeoutNanos > 0 ? Parking.wakeAfter(loop, readTimeoutTask, Duration.ofNanos(readTimeoutNanos)) : null;
        readTimedOut = false;
        try {
            while (inbox.isEmpty() && !eof && failure == null && !closedLocally && readRequested && !readTimedOut) {
                parkChecked();
            }
            if (readTimedOut && inbox.isEmpty() && !eof && failure == null) {
                throw new SocketTimeoutException("read timed out after " + Duration.ofNanos(readTimeoutNanos).toMillis() + " ms on " + this);
            }
        } finally {
            reader = null;
            if (timer != null) {
                timer.cancel();
            }
        }
    }

    private void onReadTimeout() {
        readTimedOut = true;
        wake(reader);
    }

    // ------------------------------------------------------------------ fiber side: writing

    /** Queues {@code msg} (ownership taken) for the next flush. Fiber of the loop. */
    void writeObject(Object msg, String what) throws IOException {
        try {
            checkLoop(what);
            checkWritable();
        } catch (IOException | RuntimeException e) {
            ReferenceCountUtil.release(msg);
            throw e;
        }
        int n = sizeOf(msg);
        if (n == 0 && msg instanceof ByteBuf b) {
            b.release();
            return;
        }
        outbox.addLast(msg);
        outboxBytes += n;
        if (outboxBytes > maxOutboundBytes) {
            maxOutboundBytes = outboxBytes;
        }
        writeSeq++;
        touch();
        schedule();
    }

    void checkWritable() throws IOException {
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

    public void flush() throws IOException {
        checkLoop("flush()");
        long target = writeSeq;
        if (flushedSeq - target >= 0) {
            checkFailure();
            return;
        }
        enterWriter("flush");
        try {
            while (flushedSeq - target < 0 && failure == null && !inactive && !closedLocally) {
                parkChecked();
            }
        } finally {
            writer = null;
        }
        checkFailure();
        if (flushedSeq - target < 0) {
            throw new IOException("connection " + this + " closed before its writes were flushed");
        }
    }

    public void drain() throws IOException {
        checkLoop("drain()");
        Channel c = ch;
        long waiting = outboxBytes + inNetty();
        if (waiting <= c.config().getWriteBufferHighWaterMark() && outbox.size() < DRAIN_FREE_MESSAGES
                && c.isWritable() && c.isActive()) {
            // below the high-water mark: the writes go out with this turn's flush, as asyncio's drain()
            checkFailure();
            return;
        }
        flush();
        if (c.isWritable() || !c.isActive()) {
            checkFailure();
            return;
        }
        enterWriter("drain");
        try {
            while (!c.isWritable() && c.isActive() && failure == null && !closedLocally) {
                parkChecked();
            }
        } finally {
            writer = null;
        }
        checkFailure();
        if (!c.isActive() && !c.isWritable()) {
            throw new IOException("connection " + this + " closed while draining");
        }
    }

    private void enterWriter(String what) {
        Thread me = Thread.currentThread();
        if (writer != null && writer != me) {
            throw new IllegalStateException("another fiber (" + writer.getName() + ") is already waiting to write on " + this
                    + ": only one fiber may write a connection at a time");
        }
        requireFiber(what);
        writer = me;
    }

    /**
     * Throws a fresh exception for the recorded failure (a fresh one, so its stack trace shows
     * this call), of the same well-known type: {@link SocketTimeoutException} for an idle timeout,
     * {@link SSLHandshakeException} / {@link SSLException} for TLS, else {@link IOException}.
     */
    void checkFailure() throws IOException {
        IOException f = failure;
        if (f == null) {
            return;
        }
        IOException e;
        if (f instanceof SocketTimeoutException) {
            e = new SocketTimeoutException(f.getMessage());
            e.initCause(f);
        } else if (f instanceof SSLHandshakeException) {
            e = new SSLHandshakeException(f.getMessage());
            e.initCause(f);
        } else if (f instanceof SSLException) {
            e = new SSLException(f.getMessage(), f);
        } else {
            e = new IOException(f.getMessage(), f);
        }
        throw e;
    }

    public void shutdownOutput() {
        checkLoop("shutdownOutput()");
        if (outputShut || closedLocally) {
            return;
        }
        outputShut = true;
        wantShutdownOutput = true;
        schedule();
    }

    public void close() {
        checkLoop("close()");
        if (closedLocally) {
            return;
        }
        closedLocally = true;
        cancelIdleTimer();
        Object m;
        while ((m = inbox.pollFirst()) != null) {
            ReferenceCountUtil.release(m);
        }
        inboxBytes = 0;
        wantClose = true;
        schedule();
        wake(reader);
        wake(writer);
    }

    public boolean isOpen() {
        return !closedLocally && !inactive && failure == null;
    }

    public SocketAddress remoteAddress() {
        return ch.remoteAddress();
    }

    public SocketAddress localAddress() {
        return ch.localAddress();
    }

    public void readTimeout(Duration timeout) {
        checkLoop("readTimeout()");
        readTimeoutUnchecked(timeout);
    }

    void readTimeoutUnchecked(Duration timeout) {
        readTimeoutNanos = timeout == null || timeout.isNegative() ? 0 : timeout.toNanos();
    }

    public Duration readTimeout() {
        return readTimeoutNanos == 0 ? null : Duration.ofNanos(readTimeoutNanos);
    }

    // ------------------------------------------------------------------ idle timeout

    /**
     * Sets the idle timeout: once nothing was read nor written for {@code timeout}, the connection
     * fails with a {@link SocketTimeoutException} (raised by the next or current call that reads or
     * waits) and is closed. Any thread of the loop (a fiber, or a Netty handler at setup).
     */
    void idleTimeout(Duration timeout) {
        idleTimeoutNanos = timeout == null || timeout.isNegative() ? 0 : timeout.toNanos();
        cancelIdleTimer();
        if (idleTimeoutNanos > 0 && !inactive && !closedLocally) {
            lastActivity = loop.now();
            idleTimer = loop.schedule(idleCheckTask, Duration.ofNanos(idleTimeoutNanos));
        }
    }

    Duration idleTimeout() {
        return idleTimeoutNanos == 0 ? null : Duration.ofNanos(idleTimeoutNanos);
    }

    private void touch() {
        if (idleTimeoutNanos > 0) {
            lastActivity = loop.now();
        }
    }

    private void cancelIdleTimer() {
        TimerHandle t = idleTimer;
        if (t != null) {
            idleTimer = null;
            t.cancel();
        }
    }

    /**
     * The idle timer fired: close if idle long enough, else look again later. A wake task: it
     * re-arms, or marks the connection failed, queues its close and wakes its fibers.
     */
    private void onIdleCheck() {
        idleTimer = null;
        if (idleTimeoutNanos == 0 || inactive || closedLocally || failure != null) {
            return;
        }
        long idle = loop.now() - lastActivity;
        if (idle < idleTimeoutNanos) {
            idleTimer = loop.schedule(idleCheckTask, Duration.ofNanos(idleTimeoutNanos - idle));
            return;
        }
        failure = new SocketTimeoutException("no traffic for " + Duration.ofNanos(idleTimeoutNanos).toMillis()
                + " ms (idle timeout) on " + this + ": closed");
        wantClose = true;
        schedule();
        wake(reader);
        wake(writer);
    }

    // ------------------------------------------------------------------ helpers

    void checkLoop(String what) {
        if (!loop.inLoop()) {
            throw new IllegalStateException(kind() + "." + what + " was called from thread '" + Thread.currentThread().getName()
                    + "', which is not on its loop '" + loop.name() + "': use " + noun() + " only from fibers of its loop");
        }
    }

    String kind() {
        return "Connection";
    }

    /** What the user holds, in prose, for messages: "a connection" (a UDP endpoint says "an endpoint"). */
    String noun() {
        return "a connection";
    }

    private void requireFiber(String what) {
        if (Fiber.currentOrNull() == null) {
            throw new IllegalStateException(kind() + "." + what + "() would suspend a loop callback or Netty handler, which must not block: "
                    + "call it from a fiber (spawn one with Fibers.spawn(...))");
        }
    }

    /** Parks the calling fiber once; cancellation (and deadlines) raise CancelledException. */
    private static void parkChecked() throws InterruptedIOException {
        Parking.parkChecked("a connection");
    }

    /** Bytes this side holds for the connection: unread input, and output not yet taken by the socket. Carrier only. */
    long bufferedBytes() {
        return inboxBytes + outboxBytes + inNetty();
    }

    /** Bytes in Netty's outbound buffer, written but not yet taken by the socket (0 before registration or after close). Carrier only. */
    private long inNetty() {
        ChannelOutboundBuffer ob = ch == null ? null : ch.unsafe().outboundBuffer();
        return ob == null ? 0 : ob.totalPendingWriteBytes();
    }

    @Override
    public String toString() {
        Channel c = ch;
        return c == null ? kind() + "[unregistered]" : kind() + "[" + c.localAddress() + " <-> " + c.remoteAddress() + "]";
    }
}
