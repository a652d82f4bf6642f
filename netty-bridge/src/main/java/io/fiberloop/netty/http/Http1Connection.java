package io.fiberloop.netty.http;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.TimerHandle;
import io.fiberloop.netty.internal.ChannelCore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.function.BooleanSupplier;

/**
 * One HTTP/1.1 server connection on the {@link ChannelCore}: the Netty handler after the request
 * decoder (its callbacks run in the loop's work fiber, Netty's owning thread), serving one
 * exchange at a time, each in a fiber of the loop ({@link Dispatcher}).
 *
 * <h2>Reading on demand</h2>
 * The channel runs with auto-read off and the decoder decodes one object per read
 * ({@code singleDecode}); what a read brought beyond it stays as bytes in the decoder until the
 * connection wants more. The connection wants the next request head only when no exchange runs
 * and its client reads what it is sent; it wants body pieces while the handler reads the body:
 * what the decoder holds is decoded up to {@link #BODY_AHEAD_BYTES} ahead, and the socket is read
 * only once the handler has taken what arrived. It then {@linkplain #pump pumps} the decoder, or
 * asks the socket for a read when the decoder holds nothing decodable. While a handler runs with
 * its body received, one read is kept armed, so that a client that resets the connection is
 * noticed (its exchange is cancelled). So whatever a client sends, the connection holds at most
 * one read of raw bytes and one decoded request ahead.
 *
 * <h2>Pipelining and backpressure</h2>
 * Requests are answered in order, one at a time. While the responses the client has not taken
 * exceed the channel's high-water mark, the connection starts no exchange and reads nothing; it
 * goes on when the channel is writable again.
 *
 * <h2>Half-close</h2>
 * When the client shuts its output down, the decoder decodes all it holds, the requests received
 * are answered, and the connection is closed. A body cut short fails with {@code 400}. A reset
 * cancels the running exchange.
 *
 * <h2>Timers</h2>
 * One lazily re-armed loop timer: idle (keep-alive) between requests, and the request timeout
 * once the first bytes of a request arrived and its head is not complete ({@code 408}).
 */
final class Http1Connection extends ChannelCore {
    /** How far the body is read ahead of the handler. */
    static final int BODY_AHEAD_BYTES = 64 * 1024;
    private static final int WAIT_NONE = 0;
    private static final int WAIT_IDLE = 1;
    private static final int WAIT_HEAD = 2;
    /** The names of this connection's handlers in the pipeline (a protocol upgrade replaces them). */
    static final String PUMP = "fiberloop-http-pump";
    static final String DECODER = "fiberloop-http-decoder";
    static final String ENCODER = "fiberloop-http-encoder";

    final ServerConfig config;
    private final ServerLoop server;
    private final Pump pump = new Pump();
    private final RequestRules.Decoder decoder;

    // inbound (owning thread)
    private final ArrayDeque<HttpObject> pending = new ArrayDeque<>(2);
    private Exchange current;
    private Exchange receiving;
    /** The decoder produced an object at its last run: it may hold more that it can decode without a read. */
    private boolean mayDecodeMore;
    private boolean producedThisRun;
    /** True while the decoder runs (inside {@link Pump}): a pump must not re-enter it. */
    private boolean decoding;
    private boolean sawBytes;
    /** No more requests on this connection: close once the current one is answered. */
    boolean closeAfter;
    private boolean inputShut;
    private boolean closing;

    // requests from fibers, carried out on the owning thread (afterWrites)
    private boolean wantBody;
    private boolean wantShutdown;
    private Exchange finished;
    /** A protocol upgrade to carry out once its {@code 101} is written; then the connection is detached. */
    private java.util.function.Consumer<io.netty.channel.ChannelPipeline> upgradeTo;
    private boolean upgraded;

    // the timer
    private int waitState;
    private long deadline;
    private TimerHandle timer;
    private long timerDeadline;
    private final Runnable onTimer = this::onTimer;

    Http1Connection(ServerLoop server) {
        super(server.loop, server.queue);
        this.server = server;
        this.config = server.config;
        this.decoder = config.newDecoder();
        decoder.setSingleDecode(true);
    }

    /** Adds the connection's handlers after whatever is in the pipeline (TLS). Owning thread. */
    void install(io.netty.channel.ChannelPipeline p) {
        p.addLast(PUMP, pump);
        p.addLast(DECODER, decoder);
        p.addLast(ENCODER, new io.netty.handler.codec.http.HttpResponseEncoder());
        p.addLast("fiberloop-http", this);
    }

    /**
     * Sits before the decoder: counts the raw bytes towards the driver's slices, notes that a
     * request began, lets the decoder decode all it holds once the input is shut, and is where
     * {@link #pump} feeds the decoder from.
     */
    private final class Pump extends ChannelInboundHandlerAdapter {
        ChannelHandlerContext ctx;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            readRequested = false;
            if (msg instanceof ByteBuf b) {
                sawBytes = true;
                queue.delivered(b.readableBytes()); // raw bytes: the decoder's objects are not buffers
            }
            decode(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == ChannelInputShutdownEvent.INSTANCE) {
                // decode every request the client sent before it shut its output (single decoding
                // would leave them in the decoder, which drops them at the end of input)
                decoder.setSingleDecode(false);
            }
            ctx.fireUserEventTriggered(evt);
        }
    }

    /** Runs the decoder on {@code msg} (bytes read, or an empty buffer to decode what it holds). Owning thread. */
    private void decode(Object msg) {
        decoding = true;
        producedThisRun = false;
        try {
            pump.ctx.fireChannelRead(msg);
        } finally {
            decoding = false;
            mayDecodeMore = producedThisRun;
        }
    }

    /** Decodes what the decoder holds (no read): one more object if it holds a whole one. Owning thread, outside the decoder. */
    private void pump() {
        decode(Unpooled.EMPTY_BUFFER);
    }

    // ------------------------------------------------------------------ Netty side (owning thread)

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        enterIdle();
        readMore();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        producedThisRun = true;
        if (inactive || closing || !(msg instanceof HttpObject o)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        pending.addLast(o);
        process();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (current == null && pending.isEmpty() && sawBytes && waitState != WAIT_HEAD && !closing) {
            enterHead();
        }
        readMore();
        queue.endOfRead();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE) {
            // a half-close: the client sends nothing more, but still reads. The decoder has passed on
            // whatever it held; answer what was received, then close.
            inputShut = true;
            Exchange r = receiving;
            if (r != null) {
                receiving = null;
                r.body.fail(new HttpException(400, "the client closed its side of the connection before the request body was complete"));
            }
            process();
            if (current == null && pending.isEmpty() && !closing) {
                closeGracefully();
            }
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    protected void onWritable() {
        // the client read its responses: serve the next pipelined request, and read on
        if (!decoding) {
            process();
            readMore();
        }
    }

    @Override
    protected void onInactive() {
        closing = true;
        releasePending();
        cancelTimer();
        server.connectionClosed(this);
        Exchange a = current;
        if (a != null) {
            if (receiving == a) {
                receiving = null;
                a.body.fail(new HttpException(400, "the client closed the connection"));
            }
            if (a.task != null && !a.done) {
                a.task.cancel();
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Dispatcher.log.debug("connection {}: {}", ch, cause.toString());
        ctx.close();
    }

    /** Hands the decoded objects on: body pieces to the exchange receiving one, a head to a new exchange when none runs. */
    private void process() {
        while (!pending.isEmpty()) {
            HttpObject o = pending.peekFirst();
            if (!(o instanceof io.netty.handler.codec.http.HttpRequest head)) {
                pending.pollFirst();
                Exchange r = receiving;
                if (r != null && o instanceof HttpContent c) {
                    if (r.body.offer(c)) {
                        receiving = null;
                    }
                } else {
                    ReferenceCountUtil.release(o); // left over from a request whose body was abandoned
                }
                continue;
            }
            if (current != null || closing) {
                break;
            }
            if (!ch.isWritable()) {
                // the client is not reading its answers: hold the next request (and read nothing)
                // until it does, so what is buffered for it stays bounded
                server.readPaused();
                break;
            }
            pending.pollFirst();
            begin(head);
            if (closing) {
                releasePending();
                return;
            }
        }
    }

    /** A request head: starts its exchange, or answers a rejected one and closes. */
    private void begin(io.netty.handler.codec.http.HttpRequest head) {
        sawBytes = false;
        waitState = WAIT_NONE;
        if (closeAfter || server.closing()) {
            ReferenceCountUtil.release(head);
            closeGracefully();
            return;
        }
        RequestHead parsed;
        try {
            parsed = RequestHead.parse(head, config.maxBodySize);
        } catch (HttpException rejected) {
            ReferenceCountUtil.release(head);
            Dispatcher.log.debug("rejecting a request on {} with {}: {}", ch, rejected.status(), rejected.getMessage());
            sendErrorAndClose(rejected.status(), rejected.getMessage());
            return;
        }
        Exchange ex = new Exchange(this, head, parsed);
        current = ex;
        receiving = ex;
        if (head instanceof HttpContent c && ex.body.offer(c)) {
            receiving = null;
        }
        ex.task = Fibers.spawn(loop, null, () -> {
            server.dispatcher.serve(ex, server.writer);
            return null;
        });
        server.track(ex);
    }

    /**
     * Asks for what the connection wants next, if anything: the next head (no exchange runs), body
     * pieces (the handler reads the body), or one armed read to notice a reset (a handler runs).
     * Nothing while the client is not reading its responses. Owning thread, outside the decoder.
     */
    private void readMore() {
        if (inactive || closing || inputShut || decoding) {
            return;
        }
        if (!ch.isWritable()) {
            server.readPaused();
            return;
        }
        if (current == null) {
            if (pending.isEmpty()) {
                nextObject();
            }
        } else if (receiving == current) {
            // the body: decode what the decoder holds, up to a bound, and read the socket only
            // once the handler has taken what arrived (so TCP flow control slows a fast uploader)
            while (receiving != null && mayDecodeMore && receiving.body.bufferedBytes() < BODY_AHEAD_BYTES) {
                pump();
            }
            if (receiving != null && receiving.body.inboxEmpty()) {
                requestRead();
            }
        } else if (pending.isEmpty() && !mayDecodeMore) {
            requestRead(); // armed to notice a reset while the handler runs
        }
    }

    /** The next decoded object: from what the decoder holds, else from the socket. */
    private void nextObject() {
        if (mayDecodeMore) {
            pump();
            if (!pending.isEmpty() || inactive || closing) {
                return;
            }
        }
        requestRead();
    }

    /** Answers with {@code status} and closes (owning thread). */
    private void sendErrorAndClose(int status, String message) {
        if (closing || inactive) {
            return;
        }
        closing = true;
        closeAfter = true;
        cancelTimer();
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        DefaultHttpHeaders h = new DefaultHttpHeaders();
        h.set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=UTF-8");
        h.set(HttpHeaderNames.CONTENT_LENGTH, body.length);
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        h.set(HttpHeaderNames.DATE, server.writer.date());
        DefaultFullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.wrappedBuffer(body), h, EmptyHttpHeaders.INSTANCE);
        server.accessLog(ch, null, status, body.length, 0);
        ctx.writeAndFlush(res);
        afterFlushed(ch, ch::close);
    }

    /** Closes once what was written is out (owning thread). */
    private void closeGracefully() {
        if (closing && !inactive && !ch.isOpen()) {
            return;
        }
        closing = true;
        cancelTimer();
        releasePending();
        if (!inactive) {
            afterFlushed(ch, ch::close);
        }
    }

    private void releasePending() {
        HttpObject o;
        while ((o = pending.pollFirst()) != null) {
            ReferenceCountUtil.release(o);
        }
    }

    // ------------------------------------------------------------------ the fibers' requests

    /** Queues a part of the answer (takes ownership). A fiber of the loop. */
    void sendResponsePart(Object msg) throws IOException {
        if (inactive) {
            ReferenceCountUtil.release(msg);
            throw new IOException("the client closed the connection");
        }
        send(msg);
    }

    /** The exchange's handler wants more of the body. A fiber of the loop. */
    void wantBody() {
        if (!wantBody) {
            wantBody = true;
            scheduleOps();
        }
    }

    /** The body got a piece (or ended): wake its reader. Owning thread. */
    void bodyArrived() {
        wakeReader();
    }

    /**
     * Waits for body pieces. A fiber of the loop.
     *
     * @return {@code false} if the request timeout passed first
     */
    boolean awaitBody(BooleanSupplier ready, long timeoutNanos) throws InterruptedIOException {
        return awaitReadable(ready, timeoutNanos, "the request body");
    }

    /** The exchange is answered (its fiber is about to end). A fiber of the loop. */
    void exchangeDone(Exchange ex) {
        ex.done = true;
        finished = ex;
        scheduleOps();
    }

    /**
     * A protocol upgrade (WebSocket): queues the {@code 101} response, and once it is written hands
     * the channel over: {@code install} puts the new protocol's handlers in the pipeline and
     * replaces this connection's (see {@link #PUMP}, {@link #DECODER}, {@link #ENCODER}, and this
     * handler), after which this connection does nothing more. The exchange's fiber goes on serving
     * the new protocol; {@link #flush()} returns once the hand-over happened. A fiber of the loop.
     */
    void upgrade(Object response, java.util.function.Consumer<io.netty.channel.ChannelPipeline> install) throws IOException {
        upgradeTo = install;
        sendResponsePart(response);
    }

    /** The response broke after its head went out: drop the connection. A fiber of the loop. */
    void abort() {
        closing = true;
        closeAfter = true;
        close();
    }

    /** Server shutdown: close now if idle, else after the current exchange. A fiber of the loop. */
    void shutdown() {
        closeAfter = true;
        wantShutdown = true;
        scheduleOps();
    }

    /** @return the server's part on this connection's loop */
    ServerLoop serverLoop() {
        return server;
    }

    /** @return whether an exchange runs on this connection */
    boolean busy() {
        return current != null;
    }

    /** @return whether the server that owns this connection is closing */
    boolean serverClosing() {
        return server.closing();
    }

    /** What the fibers asked, on the owning thread, after their writes went out. */
    @Override
    protected void afterWrites() {
        if (upgradeTo != null) {
            handOver();
        }
        Exchange f = finished;
        if (f != null) {
            finished = null;
            afterExchange(f);
        }
        if (wantShutdown) {
            wantShutdown = false;
            if (current == null && !inactive) {
                closeGracefully();
            }
        }
        if (wantBody || f != null) {
            wantBody = false;
            readMore();
        }
    }

    /** Detaches this connection and lets the upgrade install its protocol. Owning thread, after the 101 was written. */
    private void handOver() {
        java.util.function.Consumer<io.netty.channel.ChannelPipeline> install = upgradeTo;
        upgradeTo = null;
        if (inactive || closing) {
            return;
        }
        upgraded = true;
        closing = true;
        cancelTimer();
        releasePending();
        server.connectionClosed(this);
        install.accept(ch.pipeline());
    }

    private void afterExchange(Exchange ex) {
        if (upgraded) {
            ex.body.release();
            server.exchangeEnded(ex);
            return;
        }
        if (current == ex) {
            current = null;
        }
        if (receiving == ex) {
            // the handler answered without taking the whole body: we do not skip it, we close
            receiving = null;
            closeAfter = true;
        }
        ex.body.release();
        server.exchangeEnded(ex);
        if (inactive) {
            return;
        }
        if (closeAfter || server.closing() || closing) {
            closeGracefully();
            return;
        }
        if (pending.isEmpty()) {
            if (inputShut) {
                closeGracefully(); // half-closed, and every request received is answered
                return;
            }
            enterIdle();
        }
        process();
    }

    @Override
    protected void noteOutbound(long bytes) {
        super.noteOutbound(bytes);
        server.noteBuffered(bytes);
    }

    // ------------------------------------------------------------------ timers (loop callbacks)

    private void enterIdle() {
        waitState = WAIT_IDLE;
        deadline = loop.now() + config.idleTimeoutNanos;
        armTimer();
    }

    private void enterHead() {
        waitState = WAIT_HEAD;
        deadline = loop.now() + config.requestTimeoutNanos;
        armTimer();
    }

    private void armTimer() {
        if (timer != null) {
            if (timerDeadline <= deadline) {
                return; // fires early and re-arms
            }
            timer.cancel();
        }
        timerDeadline = deadline;
        timer = loop.scheduleAt(onTimer, deadline);
    }

    private void cancelTimer() {
        waitState = WAIT_NONE;
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
    }

    private void onTimer() {
        timer = null;
        if (inactive || closing || waitState == WAIT_NONE || current != null) {
            return;
        }
        if (loop.now() - deadline < 0) {
            armTimer();
            return;
        }
        if (waitState == WAIT_IDLE) {
            Dispatcher.log.debug("closing idle connection {}", ch);
            closing = true;
            releasePending();
            ctx.close();
        } else {
            Dispatcher.log.debug("request head timed out on {}", ch);
            sendErrorAndClose(408, "request timeout");
        }
    }

    @Override
    protected String kind() {
        return "HttpRequest";
    }

    @Override
    protected String noun() {
        return "an HTTP connection";
    }

    @Override
    public String toString() {
        return "Http1Connection[" + ch + "]";
    }
}
