package io.fiberloop.netty.internal;

import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.util.concurrent.AbstractEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The child group of a single acceptor on a transport without {@code SO_REUSEPORT} (NIO): each
 * accepted channel registers with the next loop, round-robin. A view over Netty loops that
 * fiberloop's loops own: shutting the group down does nothing (closing the loops closes their
 * Netty loops). Used by {@link Listeners} for both servers, TCP and HTTP.
 *
 * <p>Threading: any thread.
 */
final class RoundRobinGroup extends AbstractEventExecutorGroup implements IoEventLoopGroup {
    private final List<IoEventLoop> loops;
    private final AtomicInteger next = new AtomicInteger();

    RoundRobinGroup(List<IoEventLoop> loops) {
        this.loops = List.copyOf(loops);
    }

    @Override
    public IoEventLoop next() {
        return loops.get(Math.floorMod(next.getAndIncrement(), loops.size()));
    }

    @Override
    @Deprecated
    @SuppressWarnings("deprecation")
    public io.netty.channel.ChannelFuture register(io.netty.channel.Channel channel, io.netty.channel.ChannelPromise promise) {
        return next().register(channel, promise);
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Iterator<EventExecutor> iterator() {
        return (Iterator) loops.iterator();
    }

    @Override
    public boolean isShuttingDown() {
        return loops.stream().allMatch(IoEventLoop::isShuttingDown);
    }

    @Override
    public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
        return terminationFuture(); // the loops belong to fiberloop's loops, which close them
    }

    @Override
    public Future<?> terminationFuture() {
        return ImmediateEventExecutor.INSTANCE.newSucceededFuture(null);
    }

    @Override
    @Deprecated
    public void shutdown() {
        // the loops belong to fiberloop's loops, which close them
    }

    @Override
    public boolean isShutdown() {
        return loops.stream().allMatch(IoEventLoop::isShutdown);
    }

    @Override
    public boolean isTerminated() {
        return loops.stream().allMatch(IoEventLoop::isTerminated);
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return isTerminated();
    }

    @Override
    public String toString() {
        return "RoundRobin" + loops;
    }
}
