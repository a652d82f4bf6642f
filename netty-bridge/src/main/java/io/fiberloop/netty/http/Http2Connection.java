package io.fiberloop.netty.http;

import io.fiberloop.netty.internal.QueuedOps;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import java.util.ArrayList;
import java.util.List;

/**
 * One HTTP/2 connection: the handler at the tail of its pipeline (after Netty's
 * {@code Http2FrameCodec}), which serves its streams and owns what they share.
 * <ul>
 *   <li><b>Streams without child channels</b>: the codec's frames and stream events arrive here,
 *       and each goes to its {@link Http2Stream} (found by the stream's id), created by the
 *       request's first {@code HEADERS}; Netty's close of a stream (its end, a reset either way,
 *       the connection's close) ends it. A stream error (a malformed request the codec rejects)
 *       resets that stream with the error's code.</li>
 *   <li><b>One flush per read batch</b>: the exchanges of the streams a read began run as loop
 *       tasks in this turn, and a task queued after them ({@link #flushBatch()}) flushes what they
 *       wrote at once, as Netty's own handlers flush at the end of a read, while the frames are
 *       still in the CPU's caches. Writes made later (a handler that suspended, a stream's queued
 *       writes) ask for a flush ({@link #flushSoon()}), done once for all streams when the driver
 *       next runs its operations (this connection is a {@link QueuedOps} too).</li>
 *   <li><b>Budgets</b> against floods: frames that ask for work but carry no request
 *       ({@code PING}, {@code SETTINGS}, {@code PRIORITY}, unknown types) count against
 *       {@link Http2Options#maxControlFrames}; past it the peer gets
 *       {@code GOAWAY ENHANCE_YOUR_CALM} and the connection closes. (Resets, empty frames,
 *       {@code CONTINUATION} floods and unread control frames are Netty's, configured by
 *       {@link Http2Setup}.)</li>
 *   <li><b>One timer</b>, lazily re-armed ({@link LazyTimer}): with no stream open, the idle timeout closes the
 *       connection ({@code GOAWAY}); with streams open, every quarter of the stall timeout it looks
 *       for streams whose peer gives them no window (reset once stalled for the stall timeout)
 *       and for a connection whose window or socket stays blocked (closed).</li>
 *   <li><b>Graceful close</b> ({@link #shutdown()}): {@code GOAWAY NO_ERROR} at once, the streams
 *       in flight finish, then the connection closes.</li>
 * </ul>
 *
 * <p>Threading: the carrier of the connection's loop (Netty's side; {@link #shutdown()} from a fiber).
 */
final class Http2Connection extends ChannelInboundHandlerAdapter implements QueuedOps, ServedConnection {
    final ServerLoop server;
    final Http2Messages.Names headerNames = new Http2Messages.Names();
    private final Http2Options options;
    final Http2FrameCodec codec;
    /** The streams being served, by id. */
    private final IntObjectHashMap<Http2Stream> streams = new IntObjectHashMap<>();
    /** The highest id in {@link #streams} so far: a {@code HEADERS} above it opens a new stream, without a lookup. */
    private int highestId;
    private ChannelHandlerContext ctx;
    private Channel ch;
    /** The request that came with an {@code Upgrade: h2c}, served as stream 1. */
    private io.netty.handler.codec.http.HttpRequest upgradeRequest;

    private boolean queued;
    private boolean wantFlush;
    /** Streams began in the read under way: their exchanges are loop tasks, and the batch's flush follows them. */
    private boolean begunInRead;
    /** {@link #flushBatch()}, made once. */
    private final Runnable flushBatch = this::flushBatch;
    private boolean wantShutdown;
    private boolean goingAway;
    private boolean closed;

    // the control-frame budget
    private long budgetStart;
    private int budgetUsed;

    // the timer
    private final LazyTimer timer;
    private long idleSince;
    private long socketBlockedSince;
    private long windowBlockedSince;

    Http2Connection(ServerLoop server, Http2FrameCodec codec) {
        this.server = server;
        this.options = server.config.http2;
        this.codec = codec;
        this.timer = new LazyTimer(server.loop, this::onTimer);
    }

    /** Serves {@code request} (an {@code Upgrade: h2c} request, taken over) as stream 1. Owning thread, before the upgrade. */
    void upgradeRequest(io.netty.handler.codec.http.HttpRequest request) {
        this.upgradeRequest = request;
    }

    // ------------------------------------------------------------------ Netty side (owning thread)

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        this.ch = ctx.channel();
        server.connectionOpened(this);
        // the codec opened the connection window as far as one stream's; open it to the connection's own
        io.netty.handler.codec.http2.Http2Connection c = codec.connection();
        int delta = options.connectionWindowSize() - c.local().flowController().initialWindowSize(c.connectionStream());
        if (delta > 0) {
            c.local().flowController().incrementWindowSize(c.connectionStream(), delta);
        }
        idleSince = server.loop.now();
        armTimer(idleSince + server.config.idleTimeoutNanos);
        c.addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(io.netty.handler.codec.http2.Http2Stream stream) {
                Http2Stream s = streams.get(stream.id());
                if (s != null) {
                    s.onClosed(); // (which calls streamClosed)
                }
            }
        });
        ch.config().setAutoRead(true); // every frame is bounded by the protocol's limits (see the class comment)
        ctx.flush();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame h) {
            int id = h.stream().id();
            Http2Stream s = id > highestId ? null : streams.get(id); // (a client's new streams' ids rise: RFC 9113 5.1.1)
            if (s == null) {
                if (closed) {
                    return;
                }
                s = new Http2Stream(this, h.stream(), ctx);
                streamOpened(s);
            }
            s.onHeaders(h);
        } else if (msg instanceof Http2DataFrame d) {
            Http2Stream s = streams.get(d.stream().id());
            if (s != null) {
                s.onData(d);
            } else {
                // a stream no longer served: drop the data and give its window back
                int n = d.initialFlowControlledBytes();
                d.release();
                if (n > 0) {
                    ctx.write(new DefaultHttp2WindowUpdateFrame(n).stream(d.stream()), ctx.voidPromise());
                    flushSoon();
                }
            }
        } else if (msg instanceof Http2ResetFrame r) {
            Http2Stream s = streams.get(r.stream().id());
            if (s != null) {
                s.onReset(r.errorCode());
            }
        } else {
            ReferenceCountUtil.release(msg);
            if (msg instanceof Http2GoAwayFrame) {
                noMoreStreams(); // the client opens no more streams here
            } // SETTINGS, PING, PRIORITY, WINDOW_UPDATE, unknown types (counted by the guard)
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2FrameStreamEvent e) {
            if (e.type() == Http2FrameStreamEvent.Type.Writability) {
                Http2Stream s = streams.get(e.stream().id());
                if (s != null) {
                    s.onWritabilityChanged();
                }
            } else if (upgradeRequest != null && e.stream().id() == 1 && !streams.containsKey(1)) {
                // after Upgrade: h2c the codec opens stream 1 (half-closed): it serves the upgrade's request
                io.netty.handler.codec.http.HttpRequest r = upgradeRequest;
                upgradeRequest = null;
                Http2Stream s = new Http2Stream(this, e.stream(), ctx);
                streamOpened(s);
                s.onUpgraded(r);
            } // other state changes: a stream starts with its HEADERS and ends with Netty's close (the listener above)
            return;
        }
        if (evt == ChannelInputShutdownEvent.INSTANCE) {
            noMoreStreams(); // the client sends nothing more (it closed its side, as Node's session.close() does)
        }
        ctx.fireUserEventTriggered(evt); // (the tail releases what is counted: an upgrade's event)
    }

    /**
     * No more streams will open (the client's GOAWAY or the end of its input, or this server's
     * GOAWAY): the connection closes once its open streams have ended ({@link #streamClosed}), at
     * once if none is open. Owning thread.
     */
    private void noMoreStreams() {
        goingAway = true;
        if (streams.isEmpty() && !closed && ch.isActive()) {
            closeWhenFlushed();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (begunInRead) {
            begunInRead = false;
            server.loop.execute(flushBatch); // after the exchanges this read began (their tasks are queued already)
        }
        server.queue.endOfRead();
    }

    /** A stream of this read began its exchange (a loop task): the read's end queues the batch's flush after it. Owning thread. */
    void exchangeBegun() {
        begunInRead = true;
    }

    /**
     * The read batch's flush, a loop task after the exchanges the read began: what the ones that
     * answered at once wrote goes out now, in one write for the batch. On a work fiber that is not
     * Netty's owning thread (an exchange suspended and the loop's work moved on), the flush waits
     * for the driver's operations instead. Loop task.
     */
    private void flushBatch() {
        if (wantFlush && !closed && ch.eventLoop().inEventLoop()) {
            wantFlush = false;
            ch.flush();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        timer.cancel();
        server.connectionClosed(this);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2FrameStreamException e) {
            // a stream error the codec found on a request (a malformed header block, a bad content-length...): reset it
            Dispatcher.log.debug("HTTP/2 stream {} on {}: {}", e.stream().id(), ch, String.valueOf(e.getCause()));
            Http2Stream s = streams.get(e.stream().id());
            if (s != null) {
                s.resetNow(e.error());
            } else if (e.stream().state() != io.netty.handler.codec.http2.Http2Stream.State.CLOSED) {
                ctx.write(new DefaultHttp2ResetFrame(e.error()).stream(e.stream()), ctx.voidPromise());
                flushSoon();
            }
            return;
        }
        Dispatcher.log.debug("HTTP/2 connection {}: {}", ch, cause.toString());
    }

    /** A frame that asks for work but carries no request: counts against the budget. Owning thread. */
    private void controlFrame() {
        long now = server.loop.now();
        if (now - budgetStart > options.controlFrameWindow().toNanos()) {
            budgetStart = now;
            budgetUsed = 0;
        }
        if (++budgetUsed > options.maxControlFrames()) {
            abuse("more than " + options.maxControlFrames() + " PING, SETTINGS, PRIORITY or unknown frames within "
                    + options.controlFrameWindow().toMillis() + " ms");
        }
    }

    /** Ends a connection whose peer abuses the protocol: {@code GOAWAY ENHANCE_YOUR_CALM}, then close. Owning thread. */
    private void abuse(String why) {
        if (closed) {
            return;
        }
        closed = true;
        Dispatcher.log.info("closing HTTP/2 connection {}: {}", ch, why);
        ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.ENHANCE_YOUR_CALM));
        ctx.close();
    }

    void streamOpened(Http2Stream s) {
        streams.put(s.id(), s);
        highestId = Math.max(highestId, s.id());
        if (streams.size() == 1) {
            // the first open stream: the idle timer becomes the stall check (with streams open, the
            // check re-arms itself every period, so a further stream needs no clock read)
            armTimer(server.loop.now() + checkPeriod());
        }
    }

    void streamClosed(Http2Stream s) {
        if (streams.remove(s.id()) != null && streams.isEmpty()) {
            idleSince = server.loop.now();
            if (goingAway && !closed) {
                closeWhenFlushed();
            } else {
                armTimer(idleSince + server.config.idleTimeoutNanos);
            }
        }
    }

    // ------------------------------------------------------------------ queued operations

    /** A stream wrote frames: flush them (once for all streams) in this poll. Carrier only. */
    void flushSoon() {
        wantFlush = true;
        schedule();
    }

    private void schedule() {
        if (!queued) {
            queued = true;
            server.queue.enqueue(this);
        }
    }

    @Override
    public void runQueued() {
        queued = false;
        if (wantShutdown) {
            wantShutdown = false;
            if (!closed && ch.isActive()) {
                ctx.write(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
                wantFlush = true;
                noMoreStreams();
            }
        }
        if (wantFlush) {
            wantFlush = false;
            ch.flush();
        }
    }

    @Override
    public void dropQueued() {
        queued = false;
    }

    private void closeWhenFlushed() {
        closed = true;
        timer.cancel();
        ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(f -> ch.close());
    }

    // ------------------------------------------------------------------ ServedConnection

    @Override
    public void shutdown() {
        wantShutdown = true;
        schedule();
    }

    @Override
    public void addRunning(List<io.fiberloop.fiber.Task<?>> tasks) {
        for (Http2Stream s : streams.values()) {
            io.fiberloop.fiber.Task<?> t = s.runningTask();
            if (t != null) {
                tasks.add(t);
            }
        }
    }

    @Override
    public boolean busy() {
        return !streams.isEmpty();
    }

    @Override
    public Channel channel() {
        return ch;
    }

    // ------------------------------------------------------------------ the timer (loop callbacks)

    private long checkPeriod() {
        return Math.max(1, options.stallTimeout().toNanos() / 4);
    }

    private void armTimer(long deadline) {
        if (!closed) {
            timer.armBy(deadline);
        }
    }

    private void onTimer() {
        if (closed || !ch.isActive()) {
            return;
        }
        long now = server.loop.now();
        if (streams.isEmpty()) {
            if (now - idleSince >= server.config.idleTimeoutNanos) {
                Dispatcher.log.debug("closing idle HTTP/2 connection {}", ch);
                closed = true;
                ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
                ctx.close();
                return;
            }
            armTimer(idleSince + server.config.idleTimeoutNanos);
            return;
        }
        long stall = options.stallTimeout().toNanos();
        io.netty.handler.codec.http2.Http2Connection c = codec.connection();
        Http2RemoteFlowController flow = c.remote().flowController();
        socketBlockedSince = ch.isWritable() ? 0 : socketBlockedSince == 0 ? now : socketBlockedSince;
        boolean windowBlocked = flow.windowSize(c.connectionStream()) <= 0 && anyPending(c, flow);
        windowBlockedSince = !windowBlocked ? 0 : windowBlockedSince == 0 ? now : windowBlockedSince;
        if (socketBlockedSince != 0 && now - socketBlockedSince >= stall || windowBlockedSince != 0 && now - windowBlockedSince >= stall) {
            abuse("the client took no data for " + options.stallTimeout().toMillis() + " ms (stall timeout)");
            return;
        }
        List<Http2Stream> stalled = new ArrayList<>();
        for (Http2Stream s : streams.values()) {
            io.netty.handler.codec.http2.Http2Stream ns = c.stream(s.id());
            boolean blocked = ns != null && flow.hasFlowControlled(ns) && flow.windowSize(ns) <= 0;
            s.blockedSince = !blocked ? 0 : s.blockedSince == 0 ? now : s.blockedSince;
            if (s.blockedSince != 0 && now - s.blockedSince >= stall) {
                stalled.add(s);
            }
        }
        for (Http2Stream s : stalled) {
            Dispatcher.log.debug("resetting {}: no window from the client for {} ms", s, options.stallTimeout().toMillis());
            s.resetNow(Http2Error.CANCEL);
        }
        armTimer(now + checkPeriod());
    }

    private boolean anyPending(io.netty.handler.codec.http2.Http2Connection c, Http2RemoteFlowController flow) {
        for (Http2Stream s : streams.values()) {
            io.netty.handler.codec.http2.Http2Stream ns = c.stream(s.id());
            if (ns != null && flow.hasFlowControlled(ns)) {
                return true;
            }
        }
        return false;
    }

    /** {@return the handler that goes before the codec: see {@link FrameGuard}} */
    ChannelInboundHandlerAdapter frameGuard() {
        return new FrameGuard();
    }

    /**
     * Sits before the codec, on the bytes as they come off the socket (after TLS): counts them
     * towards the driver's slices (the codec's frames are not buffers the core counts), and reads
     * the frame headers as they pass (nine bytes per frame; payloads are skipped, not copied), so
     * that every frame that asks for work but carries no request counts against the budget,
     * also those Netty drops without telling (a {@code PRIORITY} for any stream, an unknown type).
     * Once the connection is closed for abuse, what the peer still sends is dropped here.
     */
    private final class FrameGuard extends ChannelInboundHandlerAdapter {
        private static final int PRIORITY = 2, SETTINGS = 4, PING = 6, LAST_KNOWN = 9;
        private final byte[] head = new byte[9];
        private int headLen;
        /** Bytes still to pass before the next frame header: the client's 24-byte preface first. */
        private long skip = 24;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf b)) {
                ctx.fireChannelRead(msg);
                return;
            }
            server.queue.delivered(b.readableBytes());
            for (int i = b.readerIndex(), end = b.writerIndex(); i < end && !closed; ) {
                if (skip > 0) {
                    int n = (int) Math.min(skip, end - i);
                    i += n;
                    skip -= n;
                    continue;
                }
                head[headLen++] = b.getByte(i++);
                if (headLen == head.length) {
                    headLen = 0;
                    skip = (head[0] & 0xff) << 16 | (head[1] & 0xff) << 8 | head[2] & 0xff;
                    int type = head[3] & 0xff;
                    boolean ack = (head[4] & 1) != 0;
                    if (type == PRIORITY || type > LAST_KNOWN || (type == PING || type == SETTINGS) && !ack) {
                        controlFrame();
                    }
                }
            }
            if (closed) {
                b.release();
                return;
            }
            ctx.fireChannelRead(b);
        }
    }

    @Override
    public String toString() {
        return "Http2Connection[" + ch + ", " + streams.size() + " streams]";
    }
}
