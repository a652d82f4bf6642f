package io.fiberloop.test;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;

/**
 * A simulated channel's part in its event loop, the same for {@link SimChannel} and
 * {@link SimServerChannel}: its I/O handle (which closes the channel at once as the loop closes)
 * and its registration with {@link SimIoHandler}.
 *
 * <p>Threading: the channel's owning thread.
 */
final class SimRegistration implements SimChannel.Handle {
    private final Channel channel;
    private final SimNetwork network;
    private IoRegistration registration;

    SimRegistration(Channel channel, SimNetwork network) {
        this.channel = channel;
        this.network = network;
    }

    /** {@return whether a simulated channel can be registered with {@code loop}} */
    static boolean compatible(EventLoop loop) {
        return loop instanceof IoEventLoop io && io.isCompatible(SimChannel.Handle.class);
    }

    /**
     * Registers the channel with its event loop and attaches the network to it.
     *
     * @param promise completed when the registration is done (or failed)
     */
    void register(ChannelPromise promise) {
        ((IoEventLoop) channel.eventLoop()).register(this).addListener(f -> {
            if (f.isSuccess()) {
                registration = (IoRegistration) f.getNow();
                network.attach(channel.eventLoop());
                promise.setSuccess();
            } else {
                promise.setFailure(f.cause());
            }
        });
    }

    /** Cancels the registration, if any. */
    void cancel() {
        IoRegistration r = registration;
        registration = null;
        if (r != null) {
            r.cancel();
        }
    }

    @Override
    public void handle(IoRegistration registration, IoEvent ioEvent) {
    }

    @Override
    public void close() {
        closeNow();
    }

    @Override
    public void closeNow() {
        if (channel.isOpen()) {
            channel.unsafe().close(channel.unsafe().voidPromise());
        }
    }
}
