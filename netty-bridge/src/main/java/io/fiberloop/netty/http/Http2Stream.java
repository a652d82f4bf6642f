package io.fiberloop.netty.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;

/**
 * One HTTP/2 stream on the connection core, served on the connection's own pipeline: the
 * {@link Http2Connection} (after Netty's {@code Http2FrameCodec}) hands it the frames of its
 * stream, and it serves exactly one exchange with the same machinery as HTTP/1.1 ({@link Exchange},
 * {@link RequestBody}, {@link Dispatcher}, {@link ResponseWriter}). A request's header block
 * becomes the request head ({@link Http2Messages#toRequest}, its fields copied only if asked for);
 * a whole response becomes {@code HEADERS} and {@code DATA} built straight from the handler's
 * fields ({@link #sendWhole}), any other response part frames of this stream
 * ({@link Http2Messages#toFrames}), written to the codec. No child channel: the
 * stream is a {@link io.fiberloop.netty.internal.ChannelCore} on the connection's channel whose
 * writes, writability, close and end are its stream's.
 *
 * <h2>Flow control is the backpressure</h2>
 * The codec delivers DATA as it comes, but gives the peer's window for this stream back only when
 * the handler has taken what arrived ({@link #wantBody()}: consumed bytes), so what a stream
 * buffers is bounded by its receive window. Outbound, the stream is writable while its own and the
 * connection's send windows and the socket take what was written (the codec's remote flow
 * controller), so {@code drain()} waits on all three.
 *
 * <h2>Differences from HTTP/1.1</h2>
 * No keep-alive, pipelining or {@code Connection} header: the stream ends with the exchange. A
 * handler that answers before the body ended leaves the rest to be dropped (and its window given
 * back); a reset from the peer cancels the exchange's task.
 *
 * <p>Threading: the carrier of the connection's loop (Netty's side and the exchange's fibers).
 */
final class Http2Stream extends HttpConnection {
    private static final byte[] NO_BYTES = new byte[0];
    private final Http2Connection owner;
    private final Http2FrameStream stream;
    private Exchange current;
    /** The request's head arrived (the next {@code HEADERS} are its trailers). */
    private boolean began;
    /** The exchange's body is still arriving. */
    private boolean receiving;
    /** The response's last frame (END_STREAM) was written: the stream's close that follows is its normal end. */
    private boolean endSent;
    /** Bytes of DATA delivered whose window was not given back yet. */
    private int unacked;
    private boolean ackAll;
    /** When the peer's window was first seen blocking this stream (0: not blocked). Owning thread. */
    long blockedSince;

    Http2Stream(Http2Connection owner, Http2FrameStream stream, ChannelHandlerContext ctx) {
        super(owner.server);
        this.owner = owner;
        this.stream = stream;
        this.ctx = ctx;
        this.ch = ctx.channel();
    }

    /** {@return the stream's id} */
    int id() {
        return stream.id();
    }

    // ------------------------------------------------------------------ Netty side (owning thread)

    /** Stream 1 after an {@code Upgrade: h2c}: serves the request that asked for it (it had no body). */
    void onUpgraded(io.netty.handler.codec.http.HttpRequest request) {
        began = true;
        begin(request, true);
    }

    /** A {@code HEADERS} frame of this stream: the request's head, or its trailers. */
    void onHeaders(Http2HeadersFrame h) {
        if (!began) {
            began = true;
            Http2Messages.Head head = Http2Messages.toRequest(h.headers(), owner.headerNames);
            if (head == null) {
                resetNow(Http2Error.PROTOCOL_ERROR); // RFC 9113 8.3.1: a request without :method, :scheme or :path
                return;
            }
            begin(head, h.isEndStream());
        } else if (h.isEndStream() && receiving) {
            DefaultLastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
            Http2Messages.copyFields(h.headers(), last.trailingHeaders());
            offer(last);
        } else if (!h.isEndStream()) {
            resetNow(Http2Error.PROTOCOL_ERROR); // RFC 9113 8.1: a second header block must end the stream
        }
    }

    /** A {@code DATA} frame of this stream. Takes ownership. */
    void onData(Http2DataFrame d) {
        int n = d.initialFlowControlledBytes();
        if (receiving && !inactive) {
            unacked += n;
            offer(d.isEndStream() ? new DefaultLastHttpContent(d.content()) : new DefaultHttpContent(d.content()));
        } else {
            d.release();
            giveBack(n);
        }
    }

    /** The peer reset the stream ({@code RST_STREAM}): a body still arriving fails; the close that follows cancels the task. */
    void onReset(long errorCode) {
        Exchange a = current;
        if (a != null && receiving) {
            receiving = false;
            a.body.fail(new HttpException(400, "the client reset the stream (error code " + errorCode + ")"));
        }
    }

    /** Netty closed the stream (its end, a reset either way, or the connection's close). */
    void onClosed() {
        markInactive();
    }

    /** The codec found the stream's writability changed (its windows, the socket). */
    void onWritabilityChanged() {
        writabilityChanged();
    }

    @Override
    protected void onInactive() {
        owner.streamClosed(this);
        Exchange a = current;
        if (a != null) {
            if (receiving) {
                receiving = false;
                a.body.fail(new HttpException(400, "the stream closed before the request body was complete"));
            }
            if (a.task != null && !a.done && !endSent) {
                // (a stream closed by the response's end is not cancelled: its task is finishing)
                a.task.cancel();
                // a task cancelled before it started never serves: its exchange is finished here
                a.task.task().onComplete((v, e) -> {
                    if (!a.done) {
                        a.done = true;
                        a.body.release();
                        server.exchangeEnded(a);
                    }
                });
            }
        }
    }

    private void offer(HttpContent c) {
        if (current.body.offer(c)) {
            receiving = false;
        }
    }

    /** A request head: its exchange starts as a loop task (inline, see Exchange), or a rejected one is answered at once. */
    private void begin(io.netty.handler.codec.http.HttpRequest head, boolean endStream) {
        HttpRequest parsed;
        try {
            parsed = head instanceof Http2Messages.Head h2 ? owner.headerNames.checked(h2, config.maxBodySize)
                    : RequestHead.parseHttp2(head, config.maxBodySize);
        } catch (HttpException rejected) {
            ReferenceCountUtil.release(head);
            Dispatcher.log.debug("rejecting a request on {} with {}: {}", ch, rejected.status(), rejected.getMessage());
            FullHttpResponse res = server.writer.refusal(rejected.status(), rejected.getMessage(), false);
            server.refused(ch, rejected.status(), res.content().readableBytes(), "HTTP/2.0");
            writeNow(res);
            return;
        }
        Exchange ex = new Exchange(this, parsed);
        current = ex;
        receiving = !endStream;
        if (endStream) {
            ex.body.offer(LastHttpContent.EMPTY_LAST_CONTENT);
        }
        server.exchangeStarted();
        loop.execute(ex); // runs this turn, inline on the loop's work fiber until it first suspends
        owner.exchangeBegun();
    }

    /** Writes a response (its frames) from Netty's side, flushed with this poll's connection flush. */
    private void writeNow(HttpResponse res) {
        for (Object f : Http2Messages.toFrames(res, owner.headerNames, stream)) {
            endSent |= Http2Messages.endsStream(f);
            writeOut(f);
        }
        owner.flushSoon();
    }

    /** Gives {@code bytes} of window back to the peer at once (dropped DATA). Owning thread. */
    private void giveBack(int bytes) {
        if (bytes > 0 && !inactive) {
            ctx.write(new DefaultHttp2WindowUpdateFrame(bytes).stream(stream), ctx.voidPromise());
            owner.flushSoon();
        }
    }

    /** Resets the stream with {@code error} (Netty closes it: {@link #onClosed()}). Owning thread. */
    void resetNow(Http2Error error) {
        if (!inactive) {
            ctx.write(new DefaultHttp2ResetFrame(error).stream(stream), ctx.voidPromise());
            owner.flushSoon();
        }
    }

    @Override
    protected void writeOut(Object msg) {
        if (inactive) {
            ReferenceCountUtil.release(msg); // reset meanwhile: the frames have no stream to go on
        } else {
            // a plain promise, not the void one: the codec's encoder would make a void promise a real
            // one with a listener that reports failures (for a stream, a reset: nothing to report)
            ctx.write(msg, ctx.newPromise());
        }
    }

    @Override
    protected boolean writable() {
        if (inactive) {
            return false;
        }
        io.netty.handler.codec.http2.Http2Connection c = owner.codec.connection();
        io.netty.handler.codec.http2.Http2Stream s = c.stream(stream.id());
        return s != null && c.remote().flowController().isWritable(s);
    }

    @Override
    protected boolean active() {
        return !inactive && ch.isActive();
    }

    /** Ends the stream for {@link #close()} (an aborted response): {@code RST_STREAM CANCEL} unless it is over. */
    @Override
    protected void closeChannel(Channel c) {
        resetNow(Http2Error.CANCEL);
    }

    @Override
    protected void flushChannel(Channel c) {
        owner.flushSoon(); // the frames are with the connection's codec already: one flush for all streams
    }

    @Override
    protected void afterWrites() {
        if (ackAll) {
            ackAll = false;
            int n = unacked;
            unacked = 0;
            giveBack(n);
        }
        Exchange f = finished;
        if (f != null) {
            finished = null;
            finish(f);
        }
    }

    /** Ends the exchange {@code f} whose response is written. Owning thread. */
    private void finish(Exchange f) {
        if (current == f) {
            current = null;
        }
        if (receiving) {
            // answered before the body ended: drop the rest as it comes, and give its window back
            receiving = false;
            giveBack(unacked);
            unacked = 0;
        }
        f.body.release();
        server.exchangeEnded(f);
    }

    // ------------------------------------------------------------------ the exchange's fiber

    @Override
    void sendResponsePart(Object msg) throws IOException {
        if (inactive) {
            ReferenceCountUtil.release(msg);
            throw new IOException("the client reset the stream");
        }
        for (Object f : Http2Messages.toFrames(msg, owner.headerNames, stream)) {
            endSent |= Http2Messages.endsStream(f);
            send(f);
        }
    }

    /**
     * Sends a whole response (its body in hand, not streamed) as this stream's {@code HEADERS} and
     * {@code DATA}: the header block is built straight from the handler's fields
     * ({@link Http2Messages.Names#response}), and from a handler running inline on Netty's thread
     * the frames go straight to the codec, flushed with the connection's flush of this poll. A fiber
     * of the loop.
     *
     * @param ex the exchange answered
     * @param res the response
     * @param cache validates the handler's fields
     * @param isHead whether the request was {@code HEAD} (the length is sent, the body is not)
     * @param noBody whether the status has no body (1xx, 204, 304: no length either)
     * @throws IOException if the stream was reset or closed
     */
    void sendWhole(Exchange ex, io.fiberloop.netty.http.HttpResponse res, HeaderCache cache, boolean isHead, boolean noBody)
            throws IOException {
        byte[] body = res.bodyBytes() == null ? NO_BYTES : res.bodyBytes();
        boolean sendBody = !isHead && !noBody && body.length > 0;
        int st = res.status();
        Http2Headers h = owner.headerNames.response(st, res.rawHeaders(), res.headerEnd(), cache, noBody ? null : cache.length(body.length));
        ex.status = st;
        if (inactive) {
            throw new IOException("the client reset the stream");
        }
        checkWritable();
        Object head = new DefaultHttp2HeadersFrame(h, !sendBody).stream(stream);
        Object data = sendBody ? new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true).stream(stream) : null;
        endSent = true;
        if (canWriteNow()) {
            writeOut(head);
            if (data != null) {
                writeOut(data);
            }
            owner.flushSoon();
        } else {
            send(head);
            if (data != null) {
                send(data);
            }
        }
        ex.headSent = true;
        ex.bytesSent = sendBody ? body.length : 0;
    }

    /** Finishes an exchange whose whole response is with Netty at once, without a turn through the queued operations. */
    @Override
    void exchangeDone(Exchange ex) {
        if (endSent && canWriteNow()) {
            ex.done = true;
            finish(ex);
        } else {
            super.exchangeDone(ex);
        }
    }

    /** {@return the task of the exchange running on this stream, or {@code null}} */
    io.fiberloop.fiber.Task<?> runningTask() {
        Exchange c = current;
        return c == null || c.done || c.task == null ? null : c.task.task();
    }

    @Override
    void wantBody() {
        if (!ackAll) {
            ackAll = true;
            scheduleOps();
        }
    }

    @Override
    void abort() {
        closeAfter = true;
        close();
    }

    @Override
    String version(io.netty.handler.codec.http.HttpRequest head) {
        return "HTTP/2.0";
    }

    @Override
    protected void releaseInbound() {
        Exchange a = current;
        if (a != null) {
            a.body.release();
        }
    }

    @Override
    protected String kind() {
        return "HttpRequest";
    }

    @Override
    protected String noun() {
        return "an HTTP/2 stream";
    }

    @Override
    public String toString() {
        return "Http2Stream[" + ch + " #" + stream.id() + "]";
    }
}
