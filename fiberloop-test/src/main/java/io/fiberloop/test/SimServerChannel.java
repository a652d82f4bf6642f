package io.fiberloop.test;

import io.netty.channel.AbstractServerChannel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;

/**
 * A listening socket on a {@link SimNetwork}: bound to a port of the network (port 0 picks a free
 * one), it accepts the connections clients of the same network open to that port, when its
 * pipeline asks for a read (as a real server socket does).
 *
 * <p>Threading: Netty's owning thread (the loop's work fiber).
 */
final class SimServerChannel extends AbstractServerChannel {
    final SimNetwork network;
    private final ChannelConfig config = new DefaultChannelConfig(this) {
        @Override
        public <T> boolean setOption(ChannelOption<T> option, T value) {
            if (!super.setOption(option, value)) {
                validate(option, value); // SO_BACKLOG, SO_REUSEADDR...: no effect on the simulated network
            }
            return true;
        }
    };
    private final SimRegistration registration;
    /** Connections established and not yet handed to the pipeline. */
    private final ArrayDeque<SimChannel> accepted = new ArrayDeque<>();
    private InetSocketAddress local;
    private boolean open = true;
    private boolean readPending;

    SimServerChannel(SimNetwork network) {
        this.network = network;
        this.registration = new SimRegistration(this, network);
    }

    @Override
    public ChannelConfig config() {
        return config;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return open && local != null;
    }

    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) super.localAddress();
    }

    @Override
    protected SocketAddress localAddress0() {
        return local;
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
    protected void doBind(SocketAddress localAddress) throws Exception {
        local = network.listen(this, (InetSocketAddress) localAddress);
    }

    @Override
    protected void doClose() {
        if (!open) {
            return;
        }
        open = false;
        if (local != null) {
            network.unlisten(this, local.getPort());
        }
        SimChannel c;
        while ((c = accepted.poll()) != null) {
            c.abandon(); // never handed out: the client hears the close
        }
    }

    @Override
    protected void doBeginRead() {
        if (!open) {
            return;
        }
        readPending = true;
        if (!accepted.isEmpty()) {
            network.readyToRead(this::acceptNow);
        }
    }

    /** A client's connection arrived. Owning thread. */
    void arrive(SimChannel child) {
        accepted.add(child);
        if (readPending) {
            network.readyToRead(this::acceptNow);
        }
    }

    private void acceptNow() {
        if (!readPending || !open || accepted.isEmpty()) {
            return;
        }
        readPending = false;
        SimChannel c;
        while ((c = accepted.poll()) != null) {
            pipeline().fireChannelRead(c);
        }
        pipeline().fireChannelReadComplete();
    }
}
