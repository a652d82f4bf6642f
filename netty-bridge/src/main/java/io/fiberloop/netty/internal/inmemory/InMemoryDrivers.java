package io.fiberloop.netty.internal.inmemory;

import io.fiberloop.loop.spi.IoDriverFactory;
import java.util.Objects;
import java.util.function.Function;

/**
 * Makes Netty I/O drivers over an {@link InMemoryNetwork}. The Netty driver (package
 * {@code io.fiberloop.netty}) installs the implementation when its class initialises.
 *
 * <p>Threading: any thread. Internal to fiberloop: not an API.
 */
public final class InMemoryDrivers {
    private static volatile Function<InMemoryNetwork, IoDriverFactory> factory;

    private InMemoryDrivers() {
    }

    /**
     * Installs the implementation; only the first call counts. For the Netty driver only.
     *
     * @param impl makes a driver factory for a network
     */
    public static synchronized void install(Function<InMemoryNetwork, IoDriverFactory> impl) {
        if (factory == null) {
            factory = impl;
        }
    }

    /**
     * A factory of Netty drivers whose TCP channels are {@code network}'s.
     *
     * @param network the network
     * @return the driver factory, for {@code EventLoop.Builder.ioDriver}
     */
    public static IoDriverFactory driverFactory(InMemoryNetwork network) {
        Objects.requireNonNull(network, "network");
        if (factory == null) {
            try {
                Class.forName("io.fiberloop.netty.NettyIoDriver", true, InMemoryDrivers.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("the Netty driver is missing from fiberloop's netty-bridge", e);
            }
        }
        return factory.apply(network);
    }
}
