package io.fiberloop.netty.internal;

import io.netty.channel.ChannelFactory;
import io.netty.channel.ServerChannel;

/**
 * Where a fiberloop Netty loop's server channels come from: its transport's class, or an
 * in-memory network's factory. Implemented by the driver's Netty loop. Owning thread.
 */
public interface ChannelSource {

    /** {@return the factory of the listening channels of servers on this loop} */
    ChannelFactory<? extends ServerChannel> serverChannels();
}
