package io.fiberloop.netty.http;

import io.fiberloop.netty.internal.Outbound;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayDeque;

/**
 * One HTTP/1.1 server connection on the connection core ({@link HttpConnection}): the Netty handler after the request
 * decoder (its callbacks run in the loop's work fiber, Netty's owning thread), serving one
 * exchange at a time, each a task of the loop ({@link Exchange}, {@link Dispatcher}).
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
 * One lazily re-armed loop timer ({@link LazyTimer}): idle (keep-alive) between requests, and the
 * request timeout once the first bytes of a request arrived and its head is not complete
 * ({@code 408}, written as the server's {@linkplain ResponseWriter#refusal refusals} are).
 */
final class Http1Connection extends HttpConnection implements ServedConnection {
    /** How far the body is read ahead of the handler. */
    static final int BODY_AHEAD_BYTES = 64 * 1024;
    private static final int WAIT_NONE = 0;
    private static final int WAIT_IDLE = 1;
    private static final int WAIT_HEAD = 2;
    /** The names of this connection's handlers in the pipeline (a protocol upgrade replaces them). */
    static final String DECODER = "fiberloop-http-decoder";
    static final String ENCODER = "fiberloop-http-encoder";

    private final Http1Decoder decoder;
    /** The encoder's context: a write from it skips the encoder (for responses already encoded). */
    private ChannelHandlerContext encoderCtx;

    // inbound (owning thread)
    private final ArrayDeque<HttpObject> pending = new ArrayDeque<>(2);
    private Exchange current;
    private Exchange receiving;
    private boolean sawBytes;
    private boolean inputShut;
    private boolean closing;

    // requests from fibers, carried out on the owning thread (afterWrites)
    private boolean wantBody;
    private boolean wantShutdown;
    /** A protocol upgrade to carry out once its {@code 101} is written; then the connection is detached. */
    private java.util.function.Consumer<io.netty.channel.ChannelPipeline> upgradeTo;
    private boolean upgraded;

    // the timer
    private int waitState;
    private long deadline;
    private final LazyTimer timer = new LazyTimer(loop, this::onTimer);

    Http1Connection(ServerLoop server) {
        super(server);
        this.decoder = config.newDecoder(this);
    }

    /** Adds the connection's handlers after whatever is in the pipeline (TLS). Owning thread. */
    void install(io.netty.channel.ChannelPipeline p) {
        p.addLast(DECODER, decoder);
        p.addLast(ENCODER, new io.netty.handler.codec.http.HttpResponseEncoder());
        encoderCtx = p.context(ENCODER);
        p.addLast("fiberloop-http", this);
    }

    /**
     * Writes a whole response already encoded ({@link WholeResponseEncoder}: a {@link ByteBuf})
     * past Netty's encoder, and the rest (Netty's response objects, streamed parts) through it.
     * Owning thread.
     */
    @Override
    protected void writeOut(Object msg) {
        if (msg instanceof ByteBuf b) {
            encoderCtx.write(b, encoderCtx.voidPromise());
        } else {
            super.writeOut(msg);
        }
    }

    /** Raw bytes came off the socket (before the decoder). Owning thread. */
    void bytesRead(int n) {
        readRequested = false;
        sawBytes = true;
        queue.delivered(n); // raw bytes: the decoder's objects are not buffers
    }

    /** Decodes what the decoder holds (no read): one more object if it holds a whole one. Owning thread, outside the decoder. */
    private void pump() {
        try {
            decoder.pump();
        } catch (Exception e) {
            exceptionCaught(ctx, e);
        }
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
        decoder.produced();
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
        if (!decoder.running()) {
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
        HttpRequest parsed;
        try {
            parsed = RequestHead.parse(head, config.maxBodySize);
        } catch (HttpException rejected) {
            ReferenceCountUtil.release(head);
            Dispatcher.log.debug("rejecting a request on {} with {}: {}", ch, rejected.status(), rejected.getMessage());
            sendErrorAndClose(rejected.status(), rejected.getMessage());
            return;
        }
        if (server.h2c != null && server.h2c.tryUpgrade(this, ctx, head)) {
            return; // the request goes on as HTTP/2 stream 1
        }
        Exchange ex = new Exchange(this, parsed);
        current = ex;
        receiving = ex;
        if (head instanceof HttpContent c && ex.body.offer(c)) {
            receiving = null;
        }
        server.exchangeStarted();
        loop.execute(ex); // runs this turn, inline on the loop's work fiber until it first suspends
    }

    /**
     * Asks for what the connection wants next, if anything: the next head (no exchange runs), body
     * pieces (the handler reads the body), or one armed read to notice a reset (a handler runs).
     * Nothing while the client is not reading its responses. Owning thread, outside the decoder.
     */
    private void readMore() {
        if (inactive || closing || inputShut || decoder.running()) {
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
            // the body: decode what the decoder holds, up to a bound, and read the socket only once
            // the handler reads the body and has taken what arrived (so TCP flow control slows a
            // fast uploader, and the body of a request answered without it is never read)
            while (receiving != null && decoder.mayDecodeMore() && receiving.body.bufferedBytes() < BODY_AHEAD_BYTES) {
                pump();
            }
            if (receiving != null && receiving.body.taken() && receiving.body.inboxEmpty()) {
                requestRead();
            }
        } else if (pending.isEmpty() && !decoder.mayDecodeMore()) {
            requestRead(); // armed to notice a reset while the handler runs
        }
    }

    /** The next decoded object: from what the decoder holds, else from the socket. */
    private void nextObject() {
        if (decoder.mayDecodeMore()) {
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
        FullHttpResponse res = server.writer.refusal(status, message, true);
        server.refused(ch, status, res.content().readableBytes(), "HTTP/1.1");
        ctx.writeAndFlush(res);
        Outbound.afterFlushed(ch, ch::close);
    }

    /** The connection leaves HTTP/1.1 (an h2c upgrade): it reads, decodes and times nothing more, and the server forgets it. Owning thread. */
    void handOver() {
        closing = true;
        cancelTimer();
        releasePending();
        server.connectionClosed(this);
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
            Outbound.afterFlushed(ch, ch::close);
        }
    }

    private void releasePending() {
        HttpObject o;
        while ((o = pending.pollFirst()) != null) {
            ReferenceCountUtil.release(o);
        }
    }

    // ------------------------------------------------------------------ the fibers' requests

    @Override
    void sendResponsePart(Object msg) throws IOException {
        if (inactive) {
            ReferenceCountUtil.release(msg);
            throw new IOException("the client closed the connection");
        }
        send(msg);
    }

    @Override
    void wantBody() {
        if (!wantBody) {
            wantBody = true;
            scheduleOps();
        }
    }

    /**
     * A protocol upgrade (WebSocket): queues the {@code 101} response, and once it is written hands
     * the channel over: {@code install} puts the new protocol's handlers in the pipeline and
     * replaces this connection's (see {@link #DECODER}, {@link #ENCODER}, and this
     * handler), after which this connection does nothing more. The exchange's fiber goes on serving
     * the new protocol; {@link #flush()} returns once the hand-over happened. A fiber of the loop.
     */
    void upgrade(Object response, java.util.function.Consumer<io.netty.channel.ChannelPipeline> install) throws IOException {
        upgradeTo = install;
        sendResponsePart(response);
    }

    /** The response broke after its head went out: drop the connection. A fiber of the loop. */
    @Override
    void abort() {
        closing = true;
        closeAfter = true;
        close();
    }

    @Override
    public void shutdown() {
        closeAfter = true;
        wantShutdown = true;
        scheduleOps();
    }

    @Override
    public void addRunning(java.util.List<io.fiberloop.fiber.Task<?>> tasks) {
        Exchange c = current;
        if (c != null && !c.done && c.task != null) {
            tasks.add(c.task.task());
        }
    }

    @Override
    public boolean busy() {
        return current != null;
    }

    @Override
    String version(io.netty.handler.codec.http.HttpRequest head) {
        return head.protocolVersion().text();
    }

    /**
     * Flushes and finishes an exchange answered inline at once, unless another request is already
     * decoded behind it (its response then goes out in the same flush, at the driver's next poll).
     * Flushing each connection as its answer is ready, rather than every connection's at the next
     * poll, is what a Netty handler does (it flushes when its read completes): each response's
     * buffer goes back to the allocator while it is warm, and with a hundred connections ready at
     * once, Netty's per-thread pools of buffers and outbound entries (32 a thread) do not overflow
     * into their shared queues. Owning thread.
     */
    @Override
    void answeredInline(Exchange ex) {
        if (finished == ex && pending.isEmpty() && canWriteNow()) {
            runQueuedNow();
        }
    }

    /** What the fibers asked, on the owning thread, after their writes went out. */
    @Override
    protected void afterWrites() {
        if (upgradeTo != null) {
            switchProtocols();
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

    /** Hands the connection over (as an h2c upgrade does) and lets the upgrade install its protocol. Owning thread, after the 101 was written. */
    private void switchProtocols() {
        java.util.function.Consumer<io.netty.channel.ChannelPipeline> install = upgradeTo;
        upgradeTo = null;
        if (inactive || closing) {
            return;
        }
        upgraded = true;
        handOver();
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
        timer.armBy(deadline);
    }

    private void enterHead() {
        waitState = WAIT_HEAD;
        deadline = loop.now() + config.requestTimeoutNanos;
        timer.armBy(deadline);
    }

    private void cancelTimer() {
        waitState = WAIT_NONE;
        timer.cancel();
    }

    private void onTimer() {
        if (inactive || closing || waitState == WAIT_NONE || current != null) {
            return;
        }
        if (loop.now() - deadline < 0) {
            timer.armBy(deadline); // it fired early: the deadline moved on since it was armed
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
