package io.fiberloop.netty;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopGroup;
import io.fiberloop.loop.spi.IoDriverFactory;
import io.netty.channel.IoEventLoop;
import java.util.Objects;

/**
 * Builds fiber loops ({@link FiberLoops}) whose I/O is Netty's: the loop's carrier runs Netty's I/O
 * for the channels registered on it, in the same thread as the loop's fibers.
 * {@snippet :
 * try (EventLoop loop = NettyLoops.newLoop()) {
 *     loop.run(() -> {
 *         try (Connection c = Tcp.connect("127.0.0.1", 7000, Duration.ofSeconds(5))) {
 *             c.write("ping\n");
 *             return c.readLine(100);
 *         }
 *     });
 * }
 * }
 * <p>Threading: every method is safe from any thread.
 */
public final class NettyLoops {
    private NettyLoops() {
    }

    /**
     * A loop with default settings and the Netty driver on {@link NettyTransport#auto()}'s transport.
     * <p>Threading: any thread.
     *
     * @return a new loop, not started
     */
    public static EventLoop newLoop() {
        return builder().build();
    }

    /**
     * A fiber loop builder ({@link FiberLoops#builder()}) preset with the Netty driver on
     * {@link NettyTransport#auto()}'s transport; set the name, clock, watchdog... as usual.
     * <p>Threading: any thread.
     *
     * @return a new builder
     */
    public static EventLoop.Builder builder() {
        return builder(NettyTransport.auto());
    }

    /**
     * A loop builder preset with the Netty driver on {@code transport}.
     * <p>Threading: any thread.
     *
     * @param transport the transport
     * @return a new builder
     * @throws IllegalStateException if the transport is not available here
     */
    public static EventLoop.Builder builder(NettyTransport transport) {
        return FiberLoops.builder().ioDriver(transport.driverFactory());
    }

    /**
     * A group of {@code size} loops, each with its own Netty driver on {@link NettyTransport#auto()}'s transport.
     * <p>Threading: any thread.
     *
     * @param size the number of loops (one per core is usual)
     * @return the group
     */
    public static LoopGroup newGroup(int size) {
        return newGroup(size, NettyTransport.auto());
    }

    /**
     * A group of {@code size} loops, each with its own Netty driver on {@code transport}.
     * <p>Threading: any thread.
     *
     * @param size the number of loops
     * @param transport the transport
     * @return the group
     */
    public static LoopGroup newGroup(int size, NettyTransport transport) {
        IoDriverFactory factory = transport.driverFactory();
        return FiberLoops.newGroup(size, b -> b.ioDriver(factory));
    }

    /**
     * The Netty event loop that {@code loop}'s driver runs, for plain Netty code: register channels
     * with it ({@code new Bootstrap().group(NettyLoops.nettyLoop(loop))}) and their handlers run on
     * {@code loop}'s carrier, inside its work fiber. Netty's {@code inEventLoop()} is true only in
     * that work fiber (Netty handlers and loop callbacks), not in other fibers of the loop: a
     * channel call from a fiber becomes a Netty task that runs at the loop's next poll.
     * <p>Threading: any thread.
     *
     * @param loop a loop built with the Netty driver
     * @return its Netty loop (also its own {@code EventLoopGroup})
     * @throws IllegalStateException if the loop has no Netty driver or is closed
     */
    public static IoEventLoop nettyLoop(EventLoop loop) {
        return NettyIoDriver.of(Objects.requireNonNull(loop, "loop")).netty;
    }

    /**
     * The transport of {@code loop}'s Netty driver.
     * <p>Threading: any thread.
     *
     * @param loop a loop built with the Netty driver
     * @return its transport
     * @throws IllegalStateException if the loop has no Netty driver or is closed
     */
    public static NettyTransport transport(EventLoop loop) {
        return NettyIoDriver.of(Objects.requireNonNull(loop, "loop")).transport;
    }

    /**
     * The one transport of {@code group}'s loops, as a server on the group needs.
     * <p>Threading: any thread.
     *
     * @param group loops built with the Netty driver
     * @return their transport
     * @throws IllegalArgumentException if the loops use different transports
     * @throws IllegalStateException if a loop has no Netty driver or is closed
     */
    public static NettyTransport transport(LoopGroup group) {
        NettyTransport t = null;
        for (EventLoop l : Objects.requireNonNull(group, "group")) {
            NettyTransport lt = transport(l);
            if (t != null && lt != t) {
                throw new IllegalArgumentException("the loops of " + group + " use different Netty transports (" + t + ", " + lt
                        + "): a server needs one");
            }
            t = lt;
        }
        return t;
    }
}
