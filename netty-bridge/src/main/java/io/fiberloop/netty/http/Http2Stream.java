package io.fiberloop.netty.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelOption;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * One HTTP/2 stream on the connection core: the handler of the stream's child channel (Netty's
 * {@code Http2MultiplexHandler} gives each stream one), serving exactly one exchange with the same
 * machinery as HTTP/1.1 ({@link Exchange}, {@link RequestBody}, {@link Dispatcher},
 * {@link ResponseWriter}). Frames in become the {@code HttpRequest}/{@code HttpContent} objects the
 * exchange takes; the response's objects become frames ({@link Http2Messages}).
 *
 * <h2>Flow control is the backpressure</h2>
 * The child channel reads everything at once, but Netty's automatic window updates are off: the
 * peer's window for this stream is given back only when the handler has taken what arrived, so
 * what a stream buffers is bounded by its receive window. Outbound, the child channel is writable
 * while the stream's and the connection's send windows and the socket take what was written, so
 * {@code drain()} waits on all three.
 *
 * <h2>Differences from HTTP/1.1</h2>
 * No keep-alive, pipelining or {@code Connection} header: the stream ends with the exchange. A
 * handler that answers before the body ended leaves the rest to be dropped (and its window given
 * back); a reset from the peer cancels the exchange's fiber.
 *
 * <p>Threading: the carrier of the connection's loop (Netty's side and the exchange's fibers).
 */
final class Http2Stream extends HttpConnection {
    private final Http2Connection owner;
    private Exchange current;
    private boolean began;
    /** The exchange's body is still arriving. */
    private boolean receiving;
    /** Bytes of DATA delivered whose window was not given back yet. */
    private int unacked;
    private boolean ackAll;
    /** When the peer's window was first seen blocking this stream (0: not blocked). Owning thread. */
    long blockedSince;

    Http2Stream(Http2Connection owner) {
        super(owner.server);
        this.owner = owner;
    }

    /** @return the stream's id */
    int id() {
        return ((Http2StreamChannel) ch).stream().id();
    }

    // ------------------------------------------------------------------ Netty side (owning thread)

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        super.handlerAdded(ctx);
        ctx.channel().config().setOption(Http2StreamChannelOption.AUTO_STREAM_FLOW_CONTROL, false);
        owner.streamOpened(this);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (id() == 1) {
            io.netty.handler.codec.http.HttpRequest upgraded = owner.takeUpgradeRequest();
            if (upgraded != null) {
                began = true;
                begin(upgraded, true);
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2DataFrame d) {
            int n = d.initialFlowControlledBytes();
            if (receiving && !inactive) {
                unacked += n;
                offer(d.isEndStream() ? new DefaultLastHttpContent(d.content()) : new DefaultHttpContent(d.content()));
            } else {
                d.release();
                giveBack(n);
            }
        } else if (msg instanceof Http2HeadersFrame h) {
            if (!began) {
                began = true;
                io.netty.handler.codec.http.HttpRequest head = Http2Messages.toRequest(h.headers());
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
        } else {
            ReferenceCountUtil.release(msg); // PRIORITY, or a frame of an unknown type (counted by the connection's guard)
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame r) {
            Exchange a = current;
            if (a != null && receiving) {
                receiving = false;
                a.body.fail(new HttpException(400, "the client reset the stream (error code " + r.errorCode() + ")"));
            }
        }
        ReferenceCountUtil.release(evt);
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
            if (a.task != null && !a.done) {
                a.task.cancel();
                // a task cancelled before it started never serves: its exchange is finished here
                a.task.onComplete((v, e) -> {
                    if (!a.done) {
                        a.done = true;
                        a.body.release();
                        server.exchangeEnded(a);
                    }
                });
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Dispatcher.log.debug("stream {}: {}", ch, cause.toString());
        if (!(cause instanceof io.netty.handler.codec.http2.Http2Exception)) {
            ctx.close();
        } // a stream error: Netty resets the stream with its code
    }

    private void offer(HttpContent c) {
        if (current.body.offer(c)) {
            receiving = false;
        }
    }

    /** A request head: its exchange starts in a fiber, or a rejected one is answered at once. */
    private void begin(io.netty.handler.codec.http.HttpRequest head, boolean endStream) {
        RequestHead parsed;
        try {
            parsed = RequestHead.parse(head, config.maxBodySize);
        } catch (HttpException rejected) {
            ReferenceCountUtil.release(head);
            Dispatcher.log.debug("rejecting a request on {} with {}: {}", ch, rejected.status(), rejected.getMessage());
            byte[] body = (rejected.getMessage() + "\n").getBytes(StandardCharsets.UTF_8);
            DefaultHttpHeaders h = new DefaultHttpHeaders();
            h.set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=UTF-8");
            h.set(HttpHeaderNames.CONTENT_LENGTH, body.length);
            h.set(HttpHeaderNames.DATE, server.writer.date());
            server.refused(ch, rejected.status(), body.length, "HTTP/2.0");
            writeNow(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(rejected.status()),
                    Unpooled.wrappedBuffer(body), h, EmptyHttpHeaders.INSTANCE));
            return;
        }
        Exchange ex = new Exchange(this, head, parsed);
        current = ex;
        receiving = !endStream;
        if (endStream) {
            ex.body.offer(LastHttpContent.EMPTY_LAST_CONTENT);
        }
        server.exchangeStarted();
        loop.execute(ex); // runs this turn, inline on the loop's work fiber until it first suspends
    }

    /** Writes a response (its frames) from Netty's side, flushed with this poll's connection flush. */
    private void writeNow(HttpResponse res) {
        for (Object f : Http2Messages.toFrames(res, owner.headerNames)) {
            ch.write(f, ch.voidPromise());
        }
        owner.flushSoon();
    }

    /** Gives {@code bytes} of window back to the peer at once (dropped DATA). Owning thread. */
    private void giveBack(int bytes) {
        if (bytes > 0 && !inactive) {
            ch.write(new DefaultHttp2WindowUpdateFrame(bytes), ch.voidPromise());
            owner.flushSoon();
        }
    }

    /** Resets the stream with {@code error}. Owning thread. */
    void resetNow(Http2Error error) {
        if (!inactive) {
            ch.writeAndFlush(new DefaultHttp2ResetFrame(error));
            ch.close();
        }
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
    }

    // ------------------------------------------------------------------ the exchange's fiber

    @Override
    void sendResponsePart(Object msg) throws IOException {
        if (inactive) {
            ReferenceCountUtil.release(msg);
            throw new IOException("the client reset the stream");
        }
        for (Object f : Http2Messages.toFrames(msg, owner.headerNames)) {
            send(f);
        }
    }

    /** @return the task of the exchange running on this stream, or {@code null} */
    io.fiberloop.fiber.Task<?> runningTask() {
        Exchange c = current;
        return c == null || c.done ? null : c.task;
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
        return "Http2Stream[" + ch + "]";
    }
}
