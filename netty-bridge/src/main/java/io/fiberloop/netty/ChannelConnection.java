package io.fiberloop.netty;

import io.fiberloop.loop.TimerHandle;
import io.fiberloop.netty.internal.ChannelCore;
import io.fiberloop.netty.internal.Outbound;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * The stream connections' side of the {@link ChannelCore}: byte connections
 * ({@link ConnectionImpl}), message connections ({@link MessageConnectionImpl}) and UDP endpoints.
 * It adds the inbox (whatever reaches the tail of the pipeline: {@code ByteBuf}s for a plain
 * connection, decoded messages when codecs sit in front), end of stream, read and idle timeouts.
 *
 * <p>Reads are demand-driven with a bounded read-ahead: auto-read is off; the first read is asked
 * when a fiber wants an element and none is buffered, and each delivery asks for the next one at
 * once while the inbox holds at most {@link #READ_AHEAD_BYTES} (so a fiber that keeps reading never
 * waits for a round trip through the driver, and epoll's read interest is not toggled per read);
 * above it, Netty reads nothing more until the fiber has emptied the inbox. Decoders that need more
 * bytes for a message ask for the next read themselves, as Netty's {@code ByteToMessageDecoder} and
 * {@code SslHandler} do with auto-read off.
 */
abstract class ChannelConnection extends ChannelCore {
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

    static RecvByteBufAllocator newRecvAllocator() {
        return new BoundedReadAllocator(MAX_READ_BYTES);
    }

    final NettyIoDriver driver;
    /** Whether this handler counts what it receives towards the driver's slices (see {@link #countRawBytes}). */
    private boolean countsDelivered = true;

    // inbound
    final ArrayDeque<Object> inbox = new ArrayDeque<>(4);
    private final java.util.function.BooleanSupplier inputReady = this::inputReady;
    int inboxBytes;
    boolean eof;
    private long readTimeoutNanos;

    // idle timeout
    private final Runnable idleCheckTask = this::onIdleCheck;
    private long idleTimeoutNanos;
    private long lastActivity;
    private TimerHandle idleTimer;

    // test statistics: the most bytes ever buffered (carrier only)
    int maxInboxBytes;
    int maxInboxBuffers;

    ChannelConnection(NettyIoDriver driver) {
        super(driver.loop, driver.netty);
        this.driver = driver;
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

    // ------------------------------------------------------------------ Netty side (owning thread)

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closedLocally || !accepts(msg)) {
            ReferenceCountUtil.release(msg);
            if (!closedLocally) {
                // the read was used up by nothing the fiber can take: let it ask again
                readRequested = false;
                wakeReader();
            }
            return;
        }
        inbox.addLast(msg);
        int size = Outbound.sizeOf(msg);
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
        wakeReader();
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
            wakeReader();
        } else if (evt instanceof SslHandshakeCompletionEvent e && !e.isSuccess()) {
            fail(e.cause());
            ctx.close();
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    protected void onInactive() {
        eof = true;
        cancelIdleTimer();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelIdleTimer();
        super.handlerRemoved(ctx);
    }

    @Override
    protected void releaseInbound() {
        Object m;
        while ((m = inbox.pollFirst()) != null) {
            ReferenceCountUtil.release(m);
        }
        inboxBytes = 0;
    }

    // ------------------------------------------------------------------ fiber side: reading

    /** The next inbound element, or {@code null} at end of stream. Fiber of the loop. */
    Object readObject(String what) throws IOException {
        checkLoop(what);
        for (;;) {
            Object m = inbox.pollFirst();
            if (m != null) {
                inboxBytes -= Outbound.sizeOf(m);
                return m;
            }
            checkReadable();
            if (eof) {
                return null;
            }
            requestRead();
            if (!awaitReadable(inputReady, readTimeoutNanos, "read") && inbox.isEmpty() && !eof && failure == null) {
                throw new SocketTimeoutException("read timed out after " + Duration.ofNanos(readTimeoutNanos).toMillis() + " ms on " + this);
            }
        }
    }

    /** Whether a read can go on: an element, the end of stream, or a read used up without one (ask again). */
    private boolean inputReady() {
        return !inbox.isEmpty() || eof || !readRequested;
    }

    @Override
    public void requestRead() {
        if (!eof) {
            super.requestRead();
        }
    }

    /** Puts {@code m} back at the head of the inbox (a partial read's rest). */
    void unread(Object m) {
        inbox.addFirst(m);
        inboxBytes += Outbound.sizeOf(m);
    }

    void checkReadable() throws IOException {
        if (closedLocally) {
            throw new IOException("connection " + this + " was closed by this side");
        }
        checkFailure();
    }

    /** Queues {@code msg} (ownership taken) for the next flush. Fiber of the loop. */
    void writeObject(Object msg, String what) throws IOException {
        try {
            checkLoop(what);
        } catch (RuntimeException e) {
            ReferenceCountUtil.release(msg);
            throw e;
        }
        send(msg);
    }

    @Override
    protected void onWrite() {
        touch();
    }

    @Override
    public void flush() throws IOException {
        checkLoop("flush()");
        if (ch.eventLoop().inEventLoop()) {
            // Netty's owning thread (a read handler's call, inline on the work fiber): flush now,
            // rather than suspend the call until the driver's next poll does it
            runQueued();
        }
        super.flush();
    }

    @Override
    public void drain() throws IOException {
        checkLoop("drain()");
        super.drain();
    }

    @Override
    public void shutdownOutput() {
        checkLoop("shutdownOutput()");
        super.shutdownOutput();
    }

    @Override
    public void close() {
        checkLoop("close()");
        super.close();
    }

    @Override
    protected void onClose() {
        cancelIdleTimer();
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
            idleTimer = loop.scheduleWake(idleCheckTask, Duration.ofNanos(idleTimeoutNanos));
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
            idleTimer = loop.scheduleWake(idleCheckTask, Duration.ofNanos(idleTimeoutNanos - idle));
            return;
        }
        failAndClose(new SocketTimeoutException("no traffic for " + Duration.ofNanos(idleTimeoutNanos).toMillis()
                + " ms (idle timeout) on " + this + ": closed"));
    }

    /** Bytes this side holds for the connection: unread input, and output not yet taken by the socket. Carrier only. */
    long bufferedBytes() {
        return inboxBytes + outboxBytes() + inNetty();
    }
}
