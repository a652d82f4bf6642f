package io.fiberloop.test;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import io.netty.channel.FileRegion;
import io.netty.channel.IoHandle;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.DuplexChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ConnectionPendingException;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One end of a TCP connection on a {@link SimNetwork}: a client's channel, or a connection a
 * {@link SimServerChannel} accepted. Its bytes go through the network (which splits, delays,
 * resets or stalls them as configured) into its peer's inbound queue, which it hands to its
 * pipeline when a read is asked for, in {@link SimIoHandler}'s run. Addresses are
 * {@link InetSocketAddress}es, as code written for real sockets expects.
 *
 * <p>Threading: Netty's owning thread (the loop's work fiber), as for any Netty channel.
 */
final class SimChannel extends AbstractChannel implements DuplexChannel {
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

    /** The I/O handle of a simulated channel, registered with {@link SimIoHandler}. */
    interface Handle extends IoHandle {
        /** Closes the channel at once, as the loop closes. */
        void closeNow();
    }

    private enum State { OPEN, CONNECTING, CONNECTED, CLOSED }

    final SimNetwork network;
    private final Config config = new Config(this);
    private final SimRegistration registration;
    /** Bytes (and {@link SimNetwork#EOF}) delivered and not yet read. */
    private final ArrayDeque<Object> inbound = new ArrayDeque<>();
    private State state = State.OPEN;
    private InetSocketAddress local;
    private InetSocketAddress remote;
    private ChannelPromise connectPromise;
    /** The other end; set once connected (on the server side at accept). */
    SimChannel peer;
    /** What both ends share: byte count, stall and reset state. */
    SimPipes.Link link;
    /** When the last byte this end sent arrives (deliveries keep their order). */
    long lastArrival;
    /** When this end's outgoing link is free again (bandwidth). */
    long linkFree;
    private boolean readPending;
    private boolean reading;
    private boolean inputShutdown;
    private boolean outputShutdown;

    /** A client's channel. */
    SimChannel(SimNetwork network) {
        super(null);
        this.network = network;
        this.registration = new SimRegistration(this, network);
    }

    /** A connection {@code parent} accepted. */
    SimChannel(SimServerChannel parent, InetSocketAddress local, InetSocketAddress remote) {
        super(parent);
        this.network = parent.network;
        this.registration = new SimRegistration(this, network);
        this.local = local;
        this.remote = remote;
        this.state = State.CONNECTED;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public ChannelConfig config() {
        return config;
    }

    @Override
    public boolean isOpen() {
        return state != State.CLOSED;
    }

    @Override
    public boolean isActive() {
        return state == State.CONNECTED;
    }

    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) super.localAddress();
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return (InetSocketAddress) super.remoteAddress();
    }

    @Override
    protected SocketAddress localAddress0() {
        return local;
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return remote;
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new SimUnsafe();
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return SimRegistration.compatible(loop);
    }

    @Override
    protected void doRegister(ChannelPromise promise) {
        registration.register(promise);
    }

    @Override
    protected void doDeregister() {
        registration.cancel();
    }

    @Override
    protected void doBind(SocketAddress localAddress) {
        local = (InetSocketAddress) localAddress;
    }

    @Override
    protected void doDisconnect() {
        doClose();
    }

    @Override
    protected void doClose() {
        State was = state;
        state = State.CLOSED;
        releaseInbound();
        if (was == State.CONNECTED && !outputShutdown) {
            outputShutdown = true;
            network.pipes.sendEnd(this);
        }
        ChannelPromise p = connectPromise;
        connectPromise = null;
        if (p != null) {
            p.tryFailure(new java.nio.channels.ClosedChannelException());
        }
    }

    @Override
    protected void doShutdownOutput() {
        if (!outputShutdown && state == State.CONNECTED) {
            outputShutdown = true;
            network.pipes.sendEnd(this);
        }
        outputShutdown = true;
    }

    @Override
    protected void doBeginRead() {
        if (state == State.CLOSED) {
            return;
        }
        readPending = true;
        if (!inbound.isEmpty() && !reading) {
            network.readyToRead(this::readNow);
        }
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf || msg instanceof FileRegion) {
            return msg;
        }
        throw new UnsupportedOperationException("the simulated network carries ByteBuf and FileRegion, not "
                + msg.getClass().getName() + ": encode it in the pipeline first");
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) throws Exception {
        while (true) {
            Object msg = in.current();
            if (msg == null) {
                return;
            }
            if (outputShutdown || state != State.CONNECTED) {
                throw new IOException("the output of " + this + " is shut down");
            }
            if (msg instanceof ByteBuf b) {
                if (b.isReadable()) {
                    network.pipes.send(this, b);
                }
                in.remove();
            } else {
                FileRegion region = (FileRegion) msg;
                ByteBuf copy = alloc().buffer((int) Math.min(Integer.MAX_VALUE, region.count()));
                try {
                    WritableByteChannel sink = new WritableByteChannel() {
                        @Override
                        public int write(ByteBuffer src) {
                            int n = src.remaining();
                            copy.writeBytes(src);
                            return n;
                        }

                        @Override
                        public boolean isOpen() {
                            return true;
                        }

                        @Override
                        public void close() {
                        }
                    };
                    while (region.transferred() < region.count()) {
                        if (region.transferTo(sink, region.transferred()) <= 0) {
                            break;
                        }
                    }
                    network.pipes.send(this, copy);
                } finally {
                    copy.release();
                }
                in.remove();
            }
        }
    }

    // ------------------------------------------------------------------ from the network

    /** An accepted connection its server closed before handing it out (never registered). Owning thread. */
    void abandon() {
        if (state == State.CONNECTED) {
            state = State.CLOSED;
            outputShutdown = true;
            releaseInbound();
            network.pipes.sendEnd(this);
        }
        state = State.CLOSED;
    }

    /** The connection a client asked for is established. Owning thread. */
    void connected(SimChannel server) {
        ChannelPromise p = connectPromise;
        connectPromise = null;
        if (state != State.CONNECTING || p == null) {
            network.pipes.sendEnd(server); // the client gave up meanwhile: the server's end hears the close
            return;
        }
        peer = server;
        remote = server.localAddress();
        state = State.CONNECTED;
        p.trySuccess();
        pipeline().fireChannelActive();
    }

    /** The connection a client asked for was refused. Owning thread. */
    void refused(IOException why) {
        ChannelPromise p = connectPromise;
        connectPromise = null;
        if (p != null) {
            p.tryFailure(why);
        }
        if (isOpen()) {
            unsafe().close(unsafe().voidPromise());
        }
    }

    /**
     * Bytes (a buffer this channel now owns) or {@link SimNetwork#EOF} arrived. Owning thread.
     *
     * @return false if the channel is closed (the caller releases what it brought)
     */
    boolean arrive(Object msg) {
        if (state == State.CLOSED || inputShutdown) {
            return false;
        }
        inbound.add(msg);
        if (readPending && !reading) {
            network.readyToRead(this::readNow);
        }
        return true;
    }

    /** The network reset the connection: what was not read is lost, the pipeline hears why, the channel closes. */
    void reset(IOException why) {
        if (state == State.CLOSED) {
            return;
        }
        releaseInbound();
        pipeline().fireExceptionCaught(why);
        unsafe().close(unsafe().voidPromise());
    }

    /** Hands what arrived to the pipeline, as one read. Owning thread, in {@link SimIoHandler#run}. */
    private void readNow() {
        if (!readPending || reading || state == State.CLOSED || inbound.isEmpty()) {
            return;
        }
        reading = true;
        boolean end = false;
        try {
            readPending = false;
            Object m;
            while ((m = inbound.poll()) != null) {
                if (m == SimNetwork.EOF) {
                    end = true;
                    break;
                }
                pipeline().fireChannelRead(m);
                if (state == State.CLOSED) {
                    break;
                }
            }
            pipeline().fireChannelReadComplete();
        } finally {
            reading = false;
        }
        if (end && state != State.CLOSED) {
            inputShutdown = true;
            releaseInbound();
            if (Boolean.TRUE.equals(config.getOption(ChannelOption.ALLOW_HALF_CLOSURE))) {
                pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
                pipeline().fireUserEventTriggered(ChannelInputShutdownReadComplete.INSTANCE);
            } else {
                unsafe().close(unsafe().voidPromise());
            }
        } else if (readPending && !inbound.isEmpty()) {
            network.readyToRead(this::readNow); // asked again (auto-read) while more had arrived
        }
    }

    /** {@return this end as a trace shows it: the client's port (which names the connection) and the direction} */
    String describe() {
        boolean client = parent() == null;
        InetSocketAddress clientEnd = client ? local : remote;
        return (clientEnd == null ? "?" : clientEnd.getPort()) + (client ? " c>s" : " s>c");
    }

    private void releaseInbound() {
        Object m;
        while ((m = inbound.poll()) != null) {
            if (m instanceof ByteBuf b) {
                b.release();
            }
        }
    }

    // ------------------------------------------------------------------ DuplexChannel

    @Override
    public boolean isInputShutdown() {
        return inputShutdown || !isOpen();
    }

    @Override
    public ChannelFuture shutdownInput() {
        return shutdownInput(newPromise());
    }

    @Override
    public ChannelFuture shutdownInput(ChannelPromise promise) {
        return onLoop(promise, () -> {
            inputShutdown = true;
            releaseInbound();
        });
    }

    @Override
    public boolean isOutputShutdown() {
        return outputShutdown || !isOpen();
    }

    @Override
    public ChannelFuture shutdownOutput() {
        return shutdownOutput(newPromise());
    }

    @Override
    public ChannelFuture shutdownOutput(ChannelPromise promise) {
        AbstractUnsafe u = (AbstractUnsafe) unsafe();
        if (eventLoop().inEventLoop()) {
            u.shutdownOutput(promise);
        } else {
            eventLoop().execute(() -> u.shutdownOutput(promise));
        }
        return promise;
    }

    @Override
    public boolean isShutdown() {
        return isInputShutdown() && isOutputShutdown();
    }

    @Override
    public ChannelFuture shutdown() {
        return shutdown(newPromise());
    }

    @Override
    public ChannelFuture shutdown(ChannelPromise promise) {
        shutdownInput();
        return shutdownOutput(promise);
    }

    private ChannelFuture onLoop(ChannelPromise promise, Runnable action) {
        Runnable r = () -> {
            action.run();
            promise.trySuccess();
        };
        if (eventLoop().inEventLoop()) {
            r.run();
        } else {
            eventLoop().execute(r);
        }
        return promise;
    }

    private final class SimUnsafe extends AbstractUnsafe {
        @Override
        public void connect(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
            if (!promise.setUncancellable() || !ensureOpen(promise)) {
                return;
            }
            if (state == State.CONNECTED) {
                promise.setFailure(new AlreadyConnectedException());
                return;
            }
            if (connectPromise != null) {
                promise.setFailure(new ConnectionPendingException());
                return;
            }
            if (!(remoteAddress instanceof InetSocketAddress to)) {
                promise.setFailure(new IllegalArgumentException("the simulated network connects to an InetSocketAddress, not "
                        + remoteAddress));
                return;
            }
            connectPromise = promise;
            state = State.CONNECTING;
            local = network.clientAddress();
            network.connect(SimChannel.this, to);
            int millis = config.getConnectTimeoutMillis();
            if (millis > 0 && connectPromise == promise) {
                Runnable cancel = network.later(TimeUnit.MILLISECONDS.toNanos(millis), () -> {
                    if (connectPromise == promise) {
                        refused(new ConnectTimeoutException("connection timed out after " + millis + " ms: " + to
                                + " on the simulated network"));
                    }
                });
                promise.addListener(f -> cancel.run());
            }
        }
    }

    /** Netty's options, and the socket options code for real sockets sets (kept, without effect). */
    private static final class Config extends DefaultChannelConfig {
        private final Map<ChannelOption<?>, Object> socketOptions = new HashMap<>();

        Config(SimChannel channel) {
            super(channel);
        }

        @Override
        public <T> boolean setOption(ChannelOption<T> option, T value) {
            if (super.setOption(option, value)) {
                return true;
            }
            validate(option, value);
            socketOptions.put(option, value);
            return true;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T getOption(ChannelOption<T> option) {
            if (socketOptions.containsKey(option)) {
                return (T) socketOptions.get(option);
            }
            return super.getOption(option);
        }
    }
}
