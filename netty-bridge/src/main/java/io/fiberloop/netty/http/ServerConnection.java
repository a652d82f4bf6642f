package io.fiberloop.netty.http;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.TimerHandle;
import io.fiberloop.netty.internal.Parking;
import io.fiberloop.netty.internal.QueuedOps;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One server connection: the Netty handler after {@code HttpServerCodec} (its callbacks run in the
 * loop's work fiber, Netty's owning thread) and the fiber-facing side used by the request fibers
 * (same carrier, so plain fields; hand-overs are park/unpark).
 *
 * <h2>Requests, one at a time</h2>
 * Decoded objects go to {@link #pending}; {@link #drain()} starts the next request only when the
 * previous one is answered, so pipelined requests are answered in order. The body of the request
 * being received goes to its inbox. A request runs in a fiber spawned on the loop.
 *
 * <h2>Reads on demand</h2>
 * The channel runs with autoRead off; {@link #maybeRead()} asks Netty for one read only when
 * nothing is pending and the body inbox is empty. While a handler runs without reading, one read is
 * kept armed so that a client that disconnects is noticed (and its request cancelled).
 *
 * <h2>Writes from fibers</h2>
 * A fiber queues response objects in {@link #outbox} and queues the connection once on the loop's
 * I/O driver ({@link HttpServer#scheduleOps}, the same queue as the TCP connections'); the driver
 * runs {@link #runQueued()} in the work fiber at the start of its next poll, where Netty calls are
 * direct: it writes the queue and flushes once, and finishes the request.
 *
 * <h2>Timeouts</h2>
 * One lazily re-armed loop timer per connection: idle (keep-alive) between requests, and the
 * request timeout once the first bytes of a request arrived and its head is not complete (408).
 */
final class ServerConnection extends ChannelInboundHandlerAdapter implements QueuedOps {
    private static final int WAIT_NONE = 0;
    private static final int WAIT_IDLE = 1;
    private static final int WAIT_HEAD = 2;
    static final long CLOSE_LINGER_SECONDS = 10;

    final HttpServer server;
    final EventLoop loop;
    ChannelHandlerContext ctx;
    Channel ch;

    // inbound (work fiber, and the request fiber through wantRead)
    private final ArrayDeque<HttpObject> pending = new ArrayDeque<>(2);
    HttpRequest active;
    private HttpRequest receiving;
    private boolean readArmed;
    boolean sawBytes;
    boolean inactive;
    /** No more requests on this connection: close once the active one is answered. */
    boolean closeAfter;
    /** The client half-closed: answer the requests received, then close. */
    private boolean inputShut;
    private boolean closing;

    // timer
    private int waitState;
    private long deadline;
    private TimerHandle timer;
    private long timerDeadline;
    private final Runnable onTimer = this::onTimer;

    // outbound (request fiber → work fiber)
    private final ArrayDeque<Object> outbox = new ArrayDeque<>(2);
    private boolean opsScheduled;
    private long writeSeq;
    private long flushedSeq;
    private Thread writer;
    private HttpRequest finished;

    ServerConnection(HttpServer server) {
        this.server = server;
        this.loop = server.loop;
    }

    /** Sits before the codec: notes that raw bytes arrived, and counts them towards the driver's slices. */
    static final class RawReads extends ChannelInboundHandlerAdapter {
        private final ServerConnection conn;

        RawReads(ServerConnection conn) {
            this.conn = conn;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            conn.readArmed = false;
            conn.sawBytes = true;
            if (msg instanceof ByteBuf b) {
                conn.server.delivered(b.readableBytes()); // raw bytes: the codec's messages are not buffers
            }
            ctx.fireChannelRead(msg);
        }
    }

    // ------------------------------------------------------------------ Netty side (work fiber)

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.ch = ctx.channel();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        enterIdle();
        maybeRead();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (inactive || closing || !(msg instanceof HttpObject o)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        pending.addLast(o);
        drain();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (active == null && pending.isEmpty() && sawBytes && waitState != WAIT_HEAD && !closing) {
            enterHead();
        }
        maybeRead();
        server.endOfRead();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        wake(writer);
        if (ctx.channel().isWritable()) {
            // the client read: serve the next pipelined request, and read on
            drain();
            maybeRead();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE) {
            // a half-close: the client sends nothing more, but still reads. The decoder has passed on
            // whatever the last bytes held; answer what was received, then close.
            inputShut = true;
            readArmed = false;
            HttpRequest r = receiving;
            if (r != null) {
                receiving = null;
                r.inputEnded(); // its body can never be complete
            }
            drain();
            if (active == null && pending.isEmpty() && !closing) {
                closeGracefully();
            }
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        inactive = true;
        closing = true;
        releasePending();
        releaseOutbox();
        cancelTimer();
        server.connections.remove(this);
        HttpRequest a = active;
        if (a != null) {
            a.connectionLost();
            if (a.task != null && !a.done) {
                a.task.cancel();
            }
        }
        wake(writer);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        HttpServer.log.debug("connection {}: {}", ch, cause.toString());
        ctx.close();
    }

    /** Routes pending objects: body pieces to the request being received, heads to a new request when none is active. */
    private void drain() {
        while (!pending.isEmpty()) {
            HttpObject o = pending.peekFirst();
            boolean isHead = o instanceof io.netty.handler.codec.http.HttpRequest;
            if (!isHead) {
                pending.pollFirst();
                HttpRequest r = receiving;
                if (r != null && o instanceof HttpContent c) {
                    if (r.offer(c)) {
                        receiving = null;
                    }
                } else {
                    ReferenceCountUtil.release(o); // left over from a request whose body was abandoned
                }
                continue;
            }
            if (active != null || closing) {
                break;
            }
            if (!ch.isWritable()) {
                // the client is not reading its answers: hold the next request (and stop reading)
                // until it does, so what is buffered for it stays bounded
                server.readPaused.complete(null);
                break;
            }
            pending.pollFirst();
            begin((io.netty.handler.codec.http.HttpRequest) o);
            if (closing) {
                releasePending();
                return;
            }
        }
    }

    /** A request head. Starts its fiber, or answers an invalid one with an error and closes. */
    private void begin(io.netty.handler.codec.http.HttpRequest r) {
        sawBytes = false;
        waitState = WAIT_NONE;
        DecoderResult dr = r.decoderResult();
        if (dr.isFailure()) {
            ReferenceCountUtil.release(r);
            Throwable c = dr.cause();
            int st = c instanceof TooLongHttpLineException ? 414
                    : c instanceof TooLongHttpHeaderException ? 431
                    : c instanceof TooLongFrameException ? 431 : 400;
            HttpServer.log.debug("rejecting a request on {} with {}: {}", ch, st, c.toString());
            sendErrorAndClose(st, st == 400 ? "bad request: " + c.getMessage() : c.getMessage());
            return;
        }
        if (closeAfter || server.closing) {
            ReferenceCountUtil.release(r);
            closeGracefully();
            return;
        }
        HttpVersion v = r.protocolVersion();
        if (!"HTTP".equals(v.protocolName())) {
            ReferenceCountUtil.release(r);
            sendErrorAndClose(400, "bad request: unknown protocol " + v.protocolName());
            return;
        }
        if (v.majorVersion() != 1) {
            ReferenceCountUtil.release(r);
            sendErrorAndClose(505, "HTTP version " + v.text() + " is not supported");
            return;
        }
        HttpHeaders h = r.headers();
        if (v.minorVersion() >= 1 && !exactlyOne(h, HttpHeaderNames.HOST)) {
            ReferenceCountUtil.release(r);
            sendErrorAndClose(400, "bad request: an HTTP/1.1 request needs exactly one Host header");
            return;
        }
        String host = h.get(HttpHeaderNames.HOST);
        if (host != null && (!RequestRules.validHost(host) || h.getAll(HttpHeaderNames.HOST).size() > 1)) {
            ReferenceCountUtil.release(r);
            sendErrorAndClose(400, "bad request: the Host header is not host[:port]");
            return;
        }
        String coding = RequestRules.unsupportedTransferCoding(h);
        if (coding != null) {
            ReferenceCountUtil.release(r);
            sendErrorAndClose(501, "transfer coding '" + coding + "' is not implemented; send the body with chunked alone or a Content-Length");
            return;
        }
        String uri = r.uri();
        for (int i = 0; i < uri.length(); i++) {
            char ch = uri.charAt(i);
            if (ch <= ' ' || ch >= 0x7f) {
                ReferenceCountUtil.release(r);
                sendErrorAndClose(400, "bad request: a control character or non-ASCII byte in the request target");
                return;
            }
        }
        String rawPath;
        String rawQuery = null;
        if (uri.startsWith("/")) {
            int q = uri.indexOf('?');
            rawPath = q < 0 ? uri : uri.substring(0, q);
            rawQuery = q < 0 ? null : uri.substring(q + 1);
            int hash = rawPath.indexOf('#');
            if (hash >= 0 || (rawQuery != null && rawQuery.indexOf('#') >= 0)) {
                ReferenceCountUtil.release(r);
                sendErrorAndClose(400, "bad request: a request target has no fragment");
                return;
            }
        } else if (uri.equals("*") && r.method().equals(HttpMethod.OPTIONS)) {
            rawPath = "*";
        } else if (uri.startsWith("http://") || uri.startsWith("https://")) {
            int slash = uri.indexOf('/', uri.indexOf("//") + 2);
            String rest = slash < 0 ? "/" : uri.substring(slash);
            int q = rest.indexOf('?');
            rawPath = q < 0 ? rest : rest.substring(0, q);
            rawQuery = q < 0 ? null : rest.substring(q + 1);
        } else {
            ReferenceCountUtil.release(r);
            sendErrorAndClose(400, "bad request: bad request target");
            return;
        }
        String path;
        try {
            path = rawPath.indexOf('%') < 0 ? rawPath
                    : QueryStringDecoder.decodeComponent(rawPath.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            ReferenceCountUtil.release(r);
            sendErrorAndClose(400, "bad request: bad percent-encoding in the path");
            return;
        }
        String expect = h.get(HttpHeaderNames.EXPECT);
        boolean expectContinue = false;
        boolean continueExpected = expect != null && expect.equalsIgnoreCase(HttpHeaderValues.CONTINUE.toString());
        if (continueExpected && v.minorVersion() == 0) {
            expect = null; // RFC 9110 10.1.1: a server MUST ignore a 100-continue expectation in an HTTP/1.0 request
        }
        if (expect != null) {
            if (!continueExpected) {
                ReferenceCountUtil.release(r);
                sendErrorAndClose(417, "expectation not supported: " + expect);
                return;
            }
            expectContinue = true;
        }
        long cl;
        try {
            // as HttpUtil.getContentLength(r, -1), less its WebSocket-draft lookups (their length 8 is under any limit)
            String length = h.get(HttpHeaderNames.CONTENT_LENGTH);
            cl = length == null ? -1L : Long.parseLong(length);
        } catch (NumberFormatException e) {
            ReferenceCountUtil.release(r);
            sendErrorAndClose(400, "bad request: bad Content-Length");
            return;
        }
        if (cl > server.maxBodySize) {
            ReferenceCountUtil.release(r);
            sendErrorAndClose(413, "request body larger than " + server.maxBodySize + " bytes");
            return;
        }
        HttpRequest req = new HttpRequest(this, r, path, rawQuery, expectContinue);
        active = req;
        receiving = req;
        if (r instanceof HttpContent c && req.offer(c)) {
            receiving = null;
        }
        req.task = Fibers.spawn(loop, null, () -> {
            server.serve(req);
            return null;
        });
    }

    /** Whether {@code h} has exactly one {@code name} header (without building the list of values). */
    private static boolean exactlyOne(HttpHeaders h, CharSequence name) {
        java.util.Iterator<? extends CharSequence> it = h.valueCharSequenceIterator(name);
        if (!it.hasNext()) {
            return false;
        }
        it.next();
        return !it.hasNext();
    }

    /** Answers with {@code status} and closes (work fiber). */
    void sendErrorAndClose(int status, String message) {
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
        h.set(HttpHeaderNames.DATE, server.date());
        DefaultFullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.wrappedBuffer(body), h, EmptyHttpHeaders.INSTANCE);
        server.accessLog(ch, null, status, body.length, 0);
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
        forceCloseLater();
    }

    private void closeGracefully() {
        if (closing && !inactive && !ch.isOpen()) {
            return;
        }
        closing = true;
        cancelTimer();
        releasePending();
        if (inactive) {
            return;
        }
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        forceCloseLater();
    }

    private void forceCloseLater() {
        Channel c = ch;
        c.eventLoop().schedule(() -> {
            if (c.isOpen()) {
                c.close();
            }
        }, CLOSE_LINGER_SECONDS, TimeUnit.SECONDS);
    }

    /** Server shutdown: close now if idle, else after the active request (work fiber or a loop fiber). */
    void shutdown() {
        closeAfter = true;
        if (active == null && !inactive) {
            closeGracefully();
        }
    }

    void maybeRead() {
        if (readArmed || inactive || closing || inputShut || !pending.isEmpty()) {
            return;
        }
        if (!ch.isWritable()) {
            server.readPaused.complete(null);
            return;
        }
        HttpRequest r = receiving;
        if (r != null && !r.inboxEmpty()) {
            return;
        }
        readArmed = true;
        ctx.read();
    }

    private void releasePending() {
        HttpObject o;
        while ((o = pending.pollFirst()) != null) {
            ReferenceCountUtil.release(o);
        }
    }

    /** The loop's driver closed with this connection queued: release the queued responses. Work fiber. */
    @Override
    public void dropQueued() {
        opsScheduled = false;
        releaseOutbox();
        wake(writer);
    }

    private void releaseOutbox() {
        Object o;
        while ((o = outbox.pollFirst()) != null) {
            ReferenceCountUtil.release(o);
        }
    }

    // ------------------------------------------------------------------ timers (loop callbacks)

    private void enterIdle() {
        waitState = WAIT_IDLE;
        deadline = loop.now() + server.idleTimeoutNanos;
        armTimer();
    }

    private void enterHead() {
        waitState = WAIT_HEAD;
        deadline = loop.now() + server.requestTimeoutNanos;
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
        if (inactive || closing || waitState == WAIT_NONE || active != null) {
            return;
        }
        if (loop.now() - deadline < 0) {
            armTimer();
            return;
        }
        if (waitState == WAIT_IDLE) {
            HttpServer.log.debug("closing idle connection {}", ch);
            closing = true;
            releasePending();
            ctx.close();
        } else {
            HttpServer.log.debug("request head timed out on {}", ch);
            sendErrorAndClose(408, "request timeout");
        }
    }

    // ------------------------------------------------------------------ fiber side

    /** Queues a response object (takes ownership) and schedules the write. Carrier (a fiber of the loop). */
    void send(Object msg) throws IOException {
        if (inactive || (closing && finished == null && !ch.isOpen())) {
            ReferenceCountUtil.release(msg);
            throw new IOException("the client closed the connection");
        }
        outbox.addLast(msg);
        writeSeq++;
        scheduleOps();
    }

    /** The request fiber wants more body. */
    void wantRead() {
        if (!readArmed) {
            scheduleOps();
        }
    }

    /** The request is answered (its fiber is about to end). */
    void exchangeDone(HttpRequest req) {
        req.done = true;
        finished = req;
        scheduleOps();
    }

    /** The response broke after its head went out: drop the connection. */
    void abort() {
        closing = true;
        closeAfter = true;
        if (!inactive) {
            loop.execute(() -> {
                releaseOutbox();
                ch.close();
            });
        }
    }

    private void scheduleOps() {
        if (!opsScheduled) {
            opsScheduled = true;
            server.scheduleOps(this);
        }
    }

    /** Work fiber (queued by {@link HttpServer#scheduleOps}): write and flush what fibers queued, finish the answered request, read on. */
    @Override
    public void runQueued() {
        opsScheduled = false;
        if (inactive) {
            releaseOutbox();
            wake(writer);
            if (finished != null) {
                if (active == finished) {
                    active = null;
                }
                finished = null;
            }
            return;
        }
        if (!outbox.isEmpty()) {
            Object o;
            while ((o = outbox.pollFirst()) != null) {
                ctx.write(o, ctx.voidPromise());
            }
            ctx.flush();
            io.netty.channel.ChannelOutboundBuffer ob = ch.unsafe().outboundBuffer();
            if (ob != null) {
                server.noteBuffered(ob.totalPendingWriteBytes());
            }
        }
        if (flushedSeq != writeSeq) {
            flushedSeq = writeSeq;
            wake(writer);
        }
        HttpRequest f = finished;
        if (f != null) {
            finished = null;
            afterExchange(f);
        }
        maybeRead();
    }

    private void afterExchange(HttpRequest req) {
        if (active == req) {
            active = null;
        }
        if (receiving == req) {
            // the handler answered without taking the whole body: we do not skip it, we close
            receiving = null;
            closeAfter = true;
        }
        req.releaseBody();
        if (closeAfter || server.closing || closing) {
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
        drain();
    }

    /** Waits until everything queued is handed to the socket. A fiber of the loop. */
    void flushOut() throws IOException {
        long target = writeSeq;
        if (flushedSeq - target >= 0 || inactive) {
            checkOpen();
            return;
        }
        enterWriter();
        try {
            while (flushedSeq - target < 0 && !inactive) {
                parkChecked();
            }
        } finally {
            writer = null;
        }
        checkOpen();
    }

    /** {@link #flushOut()}, then waits while the channel is not writable. */
    void drainOut() throws IOException {
        flushOut();
        if (ch.isWritable()) {
            return;
        }
        enterWriter();
        try {
            while (!ch.isWritable() && !inactive) {
                parkChecked();
            }
        } finally {
            writer = null;
        }
        checkOpen();
    }

    private void enterWriter() {
        if (io.fiberloop.fiber.Fiber.currentOrNull() == null) {
            throw new IllegalStateException("flush()/drain() would block a loop callback: call them from the request's fiber");
        }
        Thread me = Thread.currentThread();
        if (writer != null && writer != me) {
            throw new IllegalStateException("another fiber is already waiting to write on this connection");
        }
        writer = me;
    }

    private void checkOpen() throws IOException {
        if (inactive) {
            throw new IOException("the client closed the connection");
        }
    }

    void checkLoop(String what) {
        if (!loop.inLoop()) {
            throw new IllegalStateException(what + " was called from thread '" + Thread.currentThread().getName()
                    + "', which is not on the server's loop '" + loop.name() + "': use a request only from fibers of its loop");
        }
    }

    static void parkChecked() throws InterruptedIOException {
        Parking.parkChecked("an HTTP connection");
    }

    private static void wake(Thread t) {
        Parking.wake(t);
    }

    // ------------------------------------------------------------------ body writer

    /** The streamed body of one response. */
    final class ChunkWriter implements BodyWriter {
        private final HttpRequest req;

        ChunkWriter(HttpRequest req) {
            this.req = req;
        }

        @Override
        public void write(byte[] bytes) throws IOException {
            if (bytes.length > 0) {
                write(Unpooled.wrappedBuffer(bytes.clone()));
            }
        }

        @Override
        public void write(String text) throws IOException {
            if (!text.isEmpty()) {
                write(ByteBufUtil.writeUtf8(ch.alloc(), text));
            }
        }

        @Override
        public void write(ByteBuf buf) throws IOException {
            checkLoop("BodyWriter.write()");
            int n = buf.readableBytes();
            if (n == 0) {
                buf.release();
                checkOpen();
                return;
            }
            req.bytesSent += n;
            send(new DefaultHttpContent(buf));
        }

        @Override
        public void flush() throws IOException {
            checkLoop("BodyWriter.flush()");
            flushOut();
        }

        @Override
        public void drain() throws IOException {
            checkLoop("BodyWriter.drain()");
            drainOut();
        }
    }

    @Override
    public String toString() {
        return "ServerConnection[" + ch + "]";
    }
}
