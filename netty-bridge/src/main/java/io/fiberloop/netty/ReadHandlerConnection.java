package io.fiberloop.netty;

import io.fiberloop.fiber.Task;
import io.fiberloop.fiber.internal.FiberHost;
import io.fiberloop.fiber.internal.Inline;
import io.fiberloop.fiber.internal.InlineCall;
import io.fiberloop.loop.LoopClosedException;
import io.fiberloop.netty.internal.Listeners;
import io.fiberloop.netty.internal.Outbound;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * A byte connection served a read at a time by a {@link TcpServer.ReadHandler}, with no fiber of
 * its own: each buffer that arrives becomes one call of {@code onRead}, a task of the loop that
 * runs inline on the loop's work fiber until it first suspends (see
 * {@link io.fiberloop.fiber.internal.Inline}). A call that returns at once costs no fiber switch;
 * one that suspends (a {@code drain()} on a slow peer, a read of more bytes, an await) carries on as
 * its own fiber, and the connection's next call waits for it.
 *
 * <h2>Order and backpressure</h2>
 * One call at a time per connection, in the order the bytes arrived. While a call runs, what
 * arrives waits in the inbox, within the read-ahead bound of {@link ChannelConnection}; past it
 * Netty reads nothing more, and TCP flow control slows the peer. After the last call of a read the
 * connection's writes are flushed at once (as a Netty handler's {@code channelReadComplete} does).
 * While the writes are backed up (Netty's channel is not writable: more than its high-water mark
 * waits for a peer that does not read), the next call waits until they drain below the low-water
 * mark, as a Netty handler that turns auto-read off on {@code channelWritabilityChanged} does; so
 * a call that only writes needs no {@code drain()}, and never suspends for it.
 *
 * <h2>The end</h2>
 * When the peer ends its output, the connection fails or times out, this side closes it, or the
 * server closes, the buffered input is handed out (not after a failure, a close or the server's
 * close: then it is dropped), {@code onEnd} is called once, after the last {@code onRead} has
 * returned, and the connection is closed.
 *
 * <p>Threading: Netty callbacks on the owning thread; calls on the loop's work fiber, or their own
 * fiber after they suspend; everything on the loop's carrier.
 */
final class ReadHandlerConnection extends ConnectionImpl implements Callable<Void> {
    /** The read-handler connections of one listener (its attachment), for closing the server. The listener's loop. */
    static final class Served {
        final Listeners.Listener listener;
        final Set<ReadHandlerConnection> open = new LinkedHashSet<>();

        Served(Listeners.Listener listener) {
            this.listener = listener;
        }

        /** {@return the calls in progress (or queued) on these connections} */
        List<Task<?>> calls() {
            List<Task<?>> l = new ArrayList<>();
            for (ReadHandlerConnection c : open) {
                InlineCall<Void> t = c.call;
                if (t != null) {
                    l.add(t.task()); // a task from now on, which the drain can wait for and cancel
                }
            }
            return l;
        }

        /** The server is closing: idle connections end now, busy ones after their call. */
        void closing() {
            for (ReadHandlerConnection c : List.copyOf(open)) {
                c.serverClosing();
            }
        }

        /** The grace is over: close every connection left. */
        void closeAll() {
            for (ReadHandlerConnection c : List.copyOf(open)) {
                c.close();
            }
        }
    }

    private final TcpServer.ReadHandler handler;
    private final FiberHost fibers;
    private final Served served;
    private final Runnable runCalls = this::runCalls;
    /** The call queued or running: set when it is queued, cleared when it has returned. */
    private InlineCall<Void> call;
    /** Whether {@link #runCalls} is queued on the loop. */
    private boolean callsQueued;
    /**
     * Whether {@link #runCalls} is running calls inline: the events its flushes fire (writable
     * again, a failed write's close) leave the next call to it.
     */
    private boolean running;
    /** The server is closing, or a call failed: drop the input and end. */
    private boolean ending;
    /** Whether {@code onEnd} was called (or is running). */
    private boolean endCalled;

    ReadHandlerConnection(NettyIoDriver driver, TcpServer.ReadHandler handler, Served served) {
        super(driver);
        this.handler = handler;
        this.fibers = FiberHost.of(driver.loop);
        this.served = served;
    }

    // ------------------------------------------------------------------ Netty side (owning thread)

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        super.handlerAdded(ctx);
        served.open.add(this);
        served.listener.connectionOpened();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (served.open.remove(this)) {
            served.listener.connectionClosed();
        }
        super.handlerRemoved(ctx);
        releaseInbound(); // nothing reads the connection after this (a loop closing under it never calls onEnd)
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        super.channelRead(ctx, msg);
        dispatch();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        super.userEventTriggered(ctx, evt);
        dispatch();
    }

    @Override
    protected void onInactive() {
        super.onInactive();
        dispatch();
    }

    @Override
    protected void onClose() {
        super.onClose();
        dispatch();
    }

    // ------------------------------------------------------------------ calls

    /** Starts reading. Owning thread, once the handler is in the pipeline. */
    void start() {
        requestRead();
    }

    /** The server closes: an idle connection ends now, a busy one after its call. A fiber of the loop. */
    void serverClosing() {
        ending = true;
        dispatch();
    }

    /** Whether what is buffered is dropped rather than handed out: the connection failed or was closed here, or the server closes. */
    private boolean dropsInput() {
        return ending || closedLocally || failure != null;
    }

    /** Whether no more input will come: the stream ended, or the input is dropped. */
    private boolean inputOver() {
        return eof || inactive || dropsInput();
    }

    /**
     * The peer does not read what the calls wrote: Netty's channel is above its high-water mark.
     * Calls with data wait for {@link #onWritable} (an end is handed out regardless). Carrier.
     */
    private boolean writesBackedUp() {
        return !writable() && active();
    }

    @Override
    protected void onWritable() {
        if (call == null && !callsQueued && !running && !endCalled) {
            dispatch();
            if (call == null && !inputOver()) {
                requestRead();
            }
        }
    }

    /** Queues the next call, if there is one and none is queued or running. Carrier. */
    private void dispatch() {
        if (call != null || callsQueued || running || endCalled) {
            return;
        }
        if (nextCall()) {
            callsQueued = true;
            try {
                loop.execute(runCalls);
            } catch (LoopClosedException e) {
                // the loop closed under the connection (its channels close with it): nothing more
                // runs, and no onEnd (the loop is gone)
                callsQueued = false;
                endCalled = true;
                call.cancel();
                call = null;
                releaseInbound();
            }
        }
    }

    /**
     * Creates the next call's task, if there is something to hand out now: a buffer (unless the
     * writes are backed up), or the end. (Created here rather than when it runs, so that closing
     * the server finds it and waits for it.)
     */
    private boolean nextCall() {
        if (endCalled || inbox.isEmpty() && !inputOver()) {
            return false;
        }
        if (!inbox.isEmpty() && !dropsInput() && writesBackedUp()) {
            return false; // onWritable() dispatches it
        }
        call = Inline.call(fibers, null, this);
        return true;
    }

    /**
     * Runs the queued call and those behind it, inline on the work fiber, until the input is used
     * up, a call suspends, or the connection ended; then asks for the next read and flushes. A loop
     * task.
     */
    private void runCalls() {
        callsQueued = false;
        running = true;
        while (call != null) {
            InlineCall<Void> t = call;
            boolean returned = Inline.run(t);
            call = null;
            if (t.isCancelled()) {
                // cancelled (the server's grace ran out, the loop is closing): the input is dropped
                ending = true;
            }
            if (!returned) {
                // the call suspended: this is the work fiber it retired, which must only end now;
                // the loop's current work fiber takes the next call
                running = false;
                dispatch();
                if (call == null && !inputOver() && !writesBackedUp()) {
                    requestRead();
                }
                return;
            }
            if (outboxBytes() + inNetty() > ch.config().getWriteBufferHighWaterMark()) {
                flushIfOwner(); // hand the writes to the socket now, so that writable() says whether the peer keeps up
            }
            if (!nextCall()) { // false once onEnd was called, or while the writes are backed up
                break;
            }
        }
        running = false; // from here on, writable again (in the flush below) dispatches the next call
        if (!endCalled && !writesBackedUp()) {
            requestRead();
        }
        flushIfOwner(); // flushes what the calls wrote, as a Netty handler flushes when its read completes
    }

    /**
     * Carries out the queued operations now if this is Netty's owning thread (the work fiber). Off
     * it (the side fiber that runs tasks in the middle of a poll, or a new work fiber before its
     * first poll) they stay queued, and the driver carries them out in its next pass: right after
     * the slice, or at the next poll.
     */
    private void flushIfOwner() {
        if (ch.eventLoop().inEventLoop()) {
            runQueued();
        }
    }

    /** One call: {@code onRead} with the next buffer, or {@code onEnd}. The call's task. */
    @Override
    public Void call() {
        ByteBuf data = dropsInput() ? null : (ByteBuf) inbox.pollFirst();
        if (data != null) {
            inboxBytes -= Outbound.sizeOf(data);
            try {
                handler.onRead(this, data);
            } catch (Throwable e) {
                failed("onRead", e);
            }
            return null;
        }
        endCalled = true;
        releaseInbound();
        try {
            handler.onEnd(this);
        } catch (Throwable e) {
            failed("onEnd", e);
        } finally {
            close();
        }
        return null;
    }

    /**
     * {@return whether the connection is held back by its writes (tests): no call queued or
     * running, no read asked for, and the writes backed up} Input may wait in the inbox or not:
     * when the call that backed the writes up took the last buffer, nothing waits, and the
     * connection still reads nothing until the writes drain. Carrier.
     */
    boolean heldBackByWrites() {
        return call == null && !callsQueued && !running && !readRequested && writesBackedUp();
    }

    /** A call threw: logged as a connection handler's failure is, and the connection ends. */
    private void failed(String what, Throwable e) {
        TcpServer.logEnd(what + " on " + this, e);
        ending = true;
        releaseInbound();
    }
}
