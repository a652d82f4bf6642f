package io.fiberloop.netty.http;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.fiber.channel.Channel;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.internal.ChannelCore;
import io.fiberloop.netty.internal.Outbound;
import io.fiberloop.netty.internal.QueuedOps;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * One WebSocket connection on the {@link ChannelCore}, server or client: the Netty handler at the
 * tail of the pipeline, after the frame decoder and encoder (and permessage-deflate, and the UTF-8
 * validator), and the {@link WebSocket} its fibers use.
 *
 * <h2>Netty's side (owning thread)</h2>
 * Data frames are reassembled into {@link WebSocket.Message}s (a message over the limit closes
 * with {@code 1009}) and queued for the receiving fiber; pings are answered at once (skipped while
 * the peer does not read, so a ping flood cannot grow the output); a close frame is answered once
 * the writes queued before it are out, then the server ends the connection. The frame decoder's
 * protocol errors (unmasked client frames: {@code 1002}; invalid UTF-8: {@code 1007}; an oversized
 * frame: {@code 1009}) were answered by Netty's handlers with the close frame: they are recorded.
 * Reads are demand-driven: the next is asked while fewer than {@link #READ_AHEAD_BYTES} of whole
 * messages wait for the fiber, at the end of each read (on io_uring from the queued operations).
 *
 * <h2>Closing</h2>
 * The closing handshake's state (whose close frame went and came, the code and reason, the answer
 * owed to the peer, the fiber waiting for the peer's close) is a {@link WsClosing}; this class
 * sends the frames and ends the connection.
 *
 * <h2>Timers</h2>
 * One lazily re-armed loop timer ({@link LazyTimer}) for the ping interval and the idle timeout.
 *
 * <p>Threading: Netty callbacks and the timer on the owning thread; the {@link WebSocket} methods
 * from fibers of the loop (checked).
 */
final class WsConnection extends ChannelCore implements WebSocket {
    /** Whole messages buffered for the fiber before reading stops. */
    static final int READ_AHEAD_BYTES = 64 * 1024;
    private static final int MESSAGES_CAPACITY = 16;

    final WebSocketOptions options;
    private final boolean client;
    private final HttpRequest request;
    private String subprotocol;
    private boolean compressed;
    private boolean installed;

    // inbound (owning thread adds, fibers take)
    private final ArrayDeque<Message> inbox = new ArrayDeque<>(4);
    private long inboxBytes;
    private final WsAssembler assembler;
    /** What {@link #receive()} waits for (one object, not a lambda per wait). */
    private final BooleanSupplier messageOrClose = () -> !inbox.isEmpty() || this.closing.sent;

    /** The next read is asked from the queued operations (see {@link #channelReadComplete}). */
    private boolean readLater;

    /** The closing handshake. */
    private final WsClosing closing = new WsClosing();

    // the timer
    private final LazyTimer timer = new LazyTimer(loop, this::onTimer);
    private long lastRead;
    private long lastPing;

    // Channel/Select integration
    private Channel<Message> channel;
    private Task<Void> pump;

    /** Runs when the connection ends (the server's bookkeeping). Owning thread. */
    Runnable onEnd;
    /** On the server, the task of the upgrade request, which runs the handler: the server's close waits for it. */
    Task<?> session;

    WsConnection(EventLoop loop, QueuedOps.Queue queue, WebSocketOptions options, HttpRequest request, boolean client) {
        super(loop, queue);
        this.options = options;
        this.request = request;
        this.client = client;
        this.assembler = new WsAssembler(options.maxMessageSize());
    }

    /** Records what the handshake agreed. Before the connection is used. */
    void agreed(String subprotocol, boolean compressed) {
        this.subprotocol = subprotocol;
        this.compressed = compressed;
    }

    /** {@return whether the handler was put in a pipeline (the hand-over happened). Carrier.} */
    boolean installed() {
        return installed;
    }

    // ------------------------------------------------------------------ Netty side (owning thread)

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        super.handlerAdded(ctx);
        installed = true;
        lastRead = loop.now();
        lastPing = lastRead;
        armTimer();
        if (!ch.isActive()) {
            inactive = true;
            onInactive();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        readRequested = false;
        if (!(msg instanceof WebSocketFrame f)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!client) {
            queue.delivered(f.content().readableBytes()); // the client's pipeline counts raw bytes ahead of its codecs
        }
        lastRead = loop.now();
        if (closing.received || inactive) {
            f.release();
        } else if (f instanceof PingWebSocketFrame) {
            if (!closing.sent && ch.isWritable()) {
                ctx.writeAndFlush(new PongWebSocketFrame(f.content()));
            } else {
                f.release(); // answering only while the peer reads keeps a ping flood from growing the output
            }
        } else if (f instanceof PongWebSocketFrame) {
            f.release();
        } else if (f instanceof CloseWebSocketFrame c) {
            onPeerClose(c);
        } else if (closing.sent) {
            f.release(); // after our close frame, data is dropped
        } else {
            onData(f);
        }
    }

    private void onData(WebSocketFrame f) {
        Message m = assembler.add(f);
        if (m == WsAssembler.TOO_BIG) {
            protocolClose(MESSAGE_TOO_BIG, "message larger than " + options.maxMessageSize() + " bytes");
        } else if (m != null) {
            inbox.addLast(m);
            inboxBytes += m.isText() ? m.text().length() : m.rawBytes().length;
            wakeReader();
        }
    }

    private void onPeerClose(CloseWebSocketFrame c) {
        int code = c.statusCode();
        String reason = c.reasonText();
        c.release();
        assembler.release();
        if (closing.peerClosed(code, reason)) {
            scheduleOps(); // answered once the writes queued before it are out (afterWrites)
        } else if (!client) {
            Outbound.afterFlushed(ch, ch::close); // our close was answered: the server ends the connection
        }
        wakeReader();
        closing.wakeCloser();
    }

    /** Answers the peer's close after the queued writes; asks for the next read. Owning thread. */
    @Override
    protected void afterWrites() {
        if (readLater) {
            readLater = false;
            if (wantsInput()) {
                ch.read();
            }
        }
        int code = closing.replyCode;
        if (code >= 0 && !inactive) {
            closing.replyCode = -1;
            ctx.writeAndFlush(code == 0 ? new CloseWebSocketFrame() : new CloseWebSocketFrame(code, ""));
            if (!client) {
                Outbound.afterFlushed(ch, ch::close);
            } else {
                WsClosing.endLater(loop, ch, options.closeTimeout());
            }
        }
    }

    /** Closes because of the peer: sends {@code code} (this side's close), drops the input, ends the connection. Owning thread. */
    private void protocolClose(int code, String reason) {
        assembler.release();
        if (closing.start(code, reason) && !inactive) {
            ctx.writeAndFlush(new CloseWebSocketFrame(code, reason));
        }
        if (!inactive) {
            Outbound.afterFlushed(ch, ch::close);
        }
        wakeReader();
        closing.wakeCloser();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            // the peer ended its stream: after its close frame that is the end of the handshake,
            // without one an abnormal closure (1006); either way the connection is over
            assembler.release();
            ctx.close();
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!readRequested && wantsInput() && (inboxBytes < READ_AHEAD_BYTES || assembler.gathering())) {
            readRequested = true;
            if (ch instanceof IoUringSocketChannel) {
                // read on, but from the queued operations, outside this callback: io_uring does not
                // always re-arm a read asked for while it delivers one, and a peer's reset would then
                // go unnoticed until the next write
                readLater = true;
                scheduleOps();
            } else {
                // asked before the transport's read ends, the read interest stays set: epoll spares
                // the two epoll_ctl calls (clear, set again) that a read asked later costs
                ctx.read();
            }
        }
        queue.endOfRead();
    }

    private boolean wantsInput() {
        return !inactive && !closedLocally && !closing.received;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof CorruptedWebSocketFrameException bad) {
            // Netty's decoder or UTF-8 validator sent the close frame and closes the connection
            assembler.release();
            closing.start(bad.closeStatus().code(), bad.getMessage() == null ? bad.closeStatus().reasonText() : bad.getMessage());
            Dispatcher.log.debug("WebSocket {}: the peer broke the protocol, closed with {}: {}", ch, closing.code, closing.reason);
            wakeReader();
            closing.wakeCloser();
            return;
        }
        if (cause instanceof DecompressionException || cause.getCause() instanceof DecompressionException) {
            // permessage-deflate inflated past the message limit (a compression bomb), or garbage
            Dispatcher.log.debug("WebSocket {}: a compressed message failed to inflate: {}", ch, cause.toString());
            protocolClose(MESSAGE_TOO_BIG, "message larger than " + options.maxMessageSize() + " bytes once inflated");
            return;
        }
        Dispatcher.log.debug("WebSocket {}: {}", ch, cause.toString());
        super.exceptionCaught(ctx, cause);
    }

    @Override
    protected void onInactive() {
        closing.ended(failure != null ? failure.getMessage() : "the connection ended without a close frame");
        timer.cancel();
        assembler.release();
        Runnable r = onEnd;
        onEnd = null;
        if (r != null) {
            r.run();
        }
    }

    @Override
    protected void releaseInbound() {
        assembler.release();
    }

    // ------------------------------------------------------------------ the timer (owning thread)

    private void armTimer() {
        long next = Long.MAX_VALUE;
        long ping = options.pingInterval().toNanos();
        long idle = options.idleTimeout().toNanos();
        if (ping > 0) {
            next = lastPing + ping;
        }
        if (idle > 0) {
            next = Math.min(next, lastRead + idle);
        }
        if (next != Long.MAX_VALUE && !inactive) {
            timer.armBy(next);
        }
    }

    private void onTimer() {
        if (inactive || closedLocally) {
            return;
        }
        long now = loop.now();
        long idle = options.idleTimeout().toNanos();
        if (idle > 0 && now - lastRead >= idle && !closing.sent) {
            Dispatcher.log.debug("WebSocket {} idle for {}: closing", ch, options.idleTimeout());
            protocolClose(GOING_AWAY, "idle timeout");
            return;
        }
        long ping = options.pingInterval().toNanos();
        if (ping > 0 && now - lastPing >= ping) {
            lastPing = now;
            if (!closing.sent && ch.isWritable()) {
                ctx.writeAndFlush(new PingWebSocketFrame(Unpooled.EMPTY_BUFFER));
            }
        }
        armTimer();
    }

    // ------------------------------------------------------------------ the fibers' side

    @Override
    public Message receive() throws IOException {
        checkLoop("receive()");
        if (channel != null) {
            throw new IllegalStateException("this WebSocket's messages go to its messages() channel: receive from that channel instead");
        }
        return take(0);
    }

    @Override
    public Message receive(Duration timeout) throws IOException {
        checkLoop("receive()");
        if (channel != null) {
            throw new IllegalStateException("this WebSocket's messages go to its messages() channel: receive from that channel instead");
        }
        long nanos = Objects.requireNonNull(timeout, "timeout").toNanos();
        if (nanos <= 0) {
            throw new IllegalArgumentException("a receive timeout must be positive, was " + timeout);
        }
        return take(nanos);
    }

    private Message take(long timeoutNanos) throws IOException {
        for (;;) {
            Message m = inbox.pollFirst();
            if (m != null) {
                inboxBytes -= m.isText() ? m.text().length() : m.rawBytes().length;
                if (inboxBytes < READ_AHEAD_BYTES && wantsInput()) {
                    requestRead();
                }
                return m;
            }
            if (closing.sent || closing.received || inactive || closedLocally || failure != null) {
                return null;
            }
            requestRead();
            if (!awaitReadable(messageOrClose, timeoutNanos, "receive")) {
                throw new SocketTimeoutException("no WebSocket message within " + Duration.ofNanos(timeoutNanos).toMillis() + " ms on " + this);
            }
        }
    }

    @Override
    public void send(String text) throws IOException {
        Objects.requireNonNull(text, "text");
        checkLoop("send()");
        sendFrame(new TextWebSocketFrame(ByteBufUtil.writeUtf8(ch.alloc(), text)));
    }

    @Override
    public void send(byte[] data) throws IOException {
        Objects.requireNonNull(data, "data");
        checkLoop("send()");
        sendFrame(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(data.clone())));
    }

    @Override
    public void send(Message message) throws IOException {
        Objects.requireNonNull(message, "message");
        checkLoop("send()");
        sendFrame(message.isText() ? new TextWebSocketFrame(ByteBufUtil.writeUtf8(ch.alloc(), message.text()))
                : new BinaryWebSocketFrame(Unpooled.wrappedBuffer(message.rawBytes())));
    }

    @Override
    public void ping(byte[] data) throws IOException {
        checkLoop("ping()");
        if (data.length > 125) {
            throw new IllegalArgumentException("a ping carries at most 125 bytes, was " + data.length);
        }
        sendFrame(new PingWebSocketFrame(Unpooled.wrappedBuffer(data.clone())));
    }

    private void sendFrame(WebSocketFrame f) throws IOException {
        if (closing.sent || closing.received) {
            f.release();
            throw new IOException("the WebSocket " + this + " is closed (" + closing + ")");
        }
        send(f);
        drain();
    }

    @Override
    public void close() {
        close(NORMAL_CLOSURE, "");
    }

    @Override
    public void close(int code, String reason) {
        checkLoop("close()");
        WsClosing.validate(code, reason);
        startClose(code, reason);
        try {
            Fibers.nonCancellable(() -> {
                if (!inactive && !closedLocally) {
                    closing.awaitPeer(loop, options.closeTimeout());
                }
                return null;
            });
        } catch (InterruptedIOException e) {
            Dispatcher.log.debug("WebSocket {}: interrupted while waiting for the peer's close", this);
        }
        endTransport();
    }

    /** Sends the close frame, once; does not wait. A fiber of the loop. */
    void startClose(int code, String reason) {
        if (inactive || closedLocally || !closing.start(code, reason)) {
            return;
        }
        try {
            send(new CloseWebSocketFrame(code, reason));
        } catch (IOException e) {
            Dispatcher.log.debug("WebSocket {}: the close frame could not be sent: {}", this, e.toString());
        }
        wakeReader(); // a receiving fiber sees the connection closing
    }

    /** Ends the TCP connection after the closing handshake (or its timeout). A fiber of the loop. */
    private void endTransport() {
        Task<Void> p = pump;
        if (p != null) {
            p.cancel();
        }
        if (!closedLocally) {
            super.close();
        }
    }

    /** The server's side of a session that ended: closes with {@code code} unless closed already. A fiber of the loop. */
    void endSession(int code, String reason) {
        if (!closedLocally) {
            close(code, reason);
        }
    }

    @Override
    public boolean isOpen() {
        return installed && !closing.sent && !closing.received && !inactive && !closedLocally;
    }

    @Override
    public int closeCode() {
        return isOpen() ? -1 : closing.code;
    }

    @Override
    public String closeReason() {
        return closing.reason;
    }

    @Override
    public String subprotocol() {
        return subprotocol;
    }

    @Override
    public boolean compressed() {
        return compressed;
    }

    @Override
    public HttpRequest request() {
        return request;
    }

    @Override
    public SocketAddress remoteAddress() {
        return ch.remoteAddress();
    }

    @Override
    public Channel<Message> messages() {
        checkLoop("messages()");
        if (channel == null) {
            Channel<Message> c = Channel.buffered(MESSAGES_CAPACITY);
            channel = c;
            pump = Fibers.spawn(loop, "websocket-messages", () -> {
                try {
                    for (Message m; (m = take(0)) != null; ) {
                        c.send(m);
                    }
                    c.close();
                } catch (Throwable e) {
                    c.close(e);
                    throw e;
                }
                return null;
            });
        }
        return channel;
    }

    @Override
    protected String kind() {
        return "WebSocket";
    }

    @Override
    protected String noun() {
        return "a WebSocket";
    }

    @Override
    public String toString() {
        return "WebSocket[" + (ch == null ? "unconnected" : ch.localAddress() + " <-> " + ch.remoteAddress()) + "]";
    }
}
