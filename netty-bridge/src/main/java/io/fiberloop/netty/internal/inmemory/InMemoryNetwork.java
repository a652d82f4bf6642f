package io.fiberloop.netty.internal.inmemory;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;

/**
 * An in-process network that a loop's Netty driver uses in place of the operating system's
 * sockets (fiberloop-test's simulated network): its own I/O handler and channel classes. A loop
 * built with {@link InMemoryDrivers#driverFactory(InMemoryNetwork)} opens every TCP server and
 * client connection ({@code TcpServer}, {@code Tcp.connect}, {@code HttpServer},
 * {@code HttpClient}) with these factories instead of its transport's classes.
 *
 * <p>Threading: the factories are called on the loop's Netty owning thread (its work fiber);
 * {@link #hasReadyWork()} by the loop's work runner.
 *
 * <p>Internal to fiberloop: not an API.
 */
public interface InMemoryNetwork {

    /** {@return the factory of the Netty I/O handler that moves this network's bytes} */
    IoHandlerFactory ioHandlerFactory();

    /** {@return the factory of the servers' listening channels} */
    ChannelFactory<? extends ServerChannel> serverChannels();

    /** {@return the factory of the client connections' channels} */
    ChannelFactory<? extends Channel> clientChannels();

    /**
     * Whether deliveries are due now, so that the loop must poll before its virtual clock may
     * jump. The loop's work runner only.
     *
     * @return whether a poll now would deliver something
     */
    boolean hasReadyWork();
}
