package io.fiberloop.netty.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOutboundBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What a channel holds on its way out, for the connections of netty-bridge: the bytes a message
 * counts for buffer accounting, the bytes waiting in Netty's outbound buffer, and the wait for the
 * flushed writes before a close.
 *
 * <p>Threading: {@link #sizeOf} any thread; the others the channel's owning thread.
 */
public final class Outbound {
    /** How long a close waits for flushed writes to complete before it forces the channel shut. */
    public static final Duration CLOSE_LINGER = Duration.ofSeconds(10);

    private Outbound() {
    }

    /**
     * The bytes {@code msg} holds, for buffer accounting.
     *
     * @param msg a message on its way through a pipeline
     * @return its readable bytes ({@link ByteBuf}, {@link ByteBufHolder}), 0 for other objects
     */
    public static int sizeOf(Object msg) {
        if (msg instanceof ByteBuf b) {
            return b.readableBytes();
        }
        if (msg instanceof ByteBufHolder h) {
            return h.content().readableBytes();
        }
        return 0;
    }

    /**
     * The bytes written to {@code c} and not yet taken by its socket.
     *
     * @param c the channel
     * @return those bytes (0 before it is registered or after it is closed)
     */
    public static long pendingBytes(Channel c) {
        ChannelOutboundBuffer ob = c.unsafe().outboundBuffer();
        return ob == null ? 0 : ob.totalPendingWriteBytes();
    }

    /**
     * Runs {@code action} once the writes already flushed have completed: with io_uring a flushed
     * write may still be in flight, and closing or shutting down the output would fail it. A peer
     * that never reads could hold the close back forever, so it is forced after
     * {@link #CLOSE_LINGER}.
     *
     * @param c the channel
     * @param action what to do then
     */
    public static void afterFlushed(Channel c, Runnable action) {
        ChannelOutboundBuffer ob = c.unsafe().outboundBuffer();
        if (ob == null || ob.isEmpty()) {
            action.run();
            return;
        }
        ChannelFuture written = c.writeAndFlush(Unpooled.EMPTY_BUFFER);
        if (written.isDone()) {
            action.run();
            return;
        }
        written.addListener(f -> action.run());
        c.eventLoop().schedule(() -> {
            if (c.isOpen()) {
                c.close();
            }
        }, CLOSE_LINGER.toNanos(), TimeUnit.NANOSECONDS);
    }
}
