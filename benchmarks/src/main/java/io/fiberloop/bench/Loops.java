package io.fiberloop.bench;

import io.fiberloop.loop.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/** Opens the loops under test the same way for every benchmark. */
final class Loops {
    static final String FIBERLOOP = "fiberloop";
    static final String NETTY = "netty";
    static final String STPE = "stpe";

    private Loops() {
    }

    /** A fiberloop event loop without fibers ({@link EventLoop#builder()}): tasks run directly on the carrier thread. */
    static EventLoop fiberloop() {
        return EventLoop.builder().name("bench-fiberloop").build();
    }

    /** The baseline: Netty 4.2's single-threaded NIO event loop (a {@code SingleThreadIoEventLoop}). */
    static final class Netty implements AutoCloseable {
        final MultiThreadIoEventLoopGroup group =
                new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("bench-netty"), NioIoHandler.newFactory());
        final IoEventLoop loop = group.next();

        @Override
        public void close() {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Runs {@code task} on {@code loop} and waits for it (setup only). */
    static void runOn(Executor loop, Runnable task) {
        Tally t = new Tally();
        loop.execute(() -> {
            task.run();
            t.signal();
        });
        t.await(1);
    }
}
