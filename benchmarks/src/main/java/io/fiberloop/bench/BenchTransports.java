package io.fiberloop.bench;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
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

    static Class<? extends ServerSocketChannel> serverChannel(String transport) {
        return switch (norm(transport)) {
            case "epoll" -> EpollServerSocketChannel.class;
            case "io_uring" -> IoUringServerSocketChannel.class;
            case "nio" -> NioServerSocketChannel.class;
            default -> throw unknown(transport);
        };
    }

    static Class<? extends SocketChannel> socketChannel(String transport) {
        return switch (norm(transport)) {
            case "epoll" -> EpollSocketChannel.class;
            case "io_uring" -> IoUringSocketChannel.class;
            case "nio" -> NioSocketChannel.class;
            default -> throw unknown(transport);
        };
    }

    private static IllegalArgumentException unknown(String transport) {
        return new IllegalArgumentException("unknown transport " + transport + ": use epoll, io_uring or nio");
    }
}
