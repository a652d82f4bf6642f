package io.fiberloop.bench;

import io.fiberloop.netty.NettyTransport;
import io.netty.channel.ServerChannel;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import java.util.Locale;

/** Raw Netty's pieces for a transport name ({@code epoll}, {@code io_uring}, {@code nio}), for the load harnesses' baselines and clients. */
final class BenchTransports {
    private BenchTransports() {
    }

    /** Lower case, and {@code iouring} spelled {@code io_uring}. */
    static String norm(String transport) {
        String t = transport.trim().toLowerCase(Locale.ROOT);
        return t.equals("iouring") ? "io_uring" : t;
    }

    /** The Netty I/O handler factory of a transport. */
    static IoHandlerFactory ioHandlerFactory(String transport) {
        return switch (norm(transport)) {
            case "epoll" -> EpollIoHandler.newFactory();
            case "io_uring" -> IoUringIoHandler.newFactory();
            case "nio" -> NioIoHandler.newFactory();
            default -> throw unknown(transport);
        };
    }

    /** The Netty server-channel class of a transport (as fiberloop's {@link NettyTransport} knows it). */
    static Class<? extends ServerChannel> serverChannel(String transport) {
        return NettyTransport.of(transport).serverChannelClass();
    }

    /** The Netty socket-channel class of a transport. */
    static Class<? extends SocketChannel> socketChannel(String transport) {
        return NettyTransport.of(transport).socketChannelClass();
    }

    private static IllegalArgumentException unknown(String transport) {
        return new IllegalArgumentException("unknown transport " + transport + ": use epoll, io_uring or nio");
    }
}
