package io.fiberloop.netty.http;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;

/**
 * The Netty channel classes of a loop's transport. (NettyTransport knows them but keeps them
 * package-private; this mirrors it by transport id.)
 */
final class Channels {
    private Channels() {
    }

    static Class<? extends ServerChannel> serverChannel(EventLoop loop) {
        NettyTransport t = NettyLoops.transport(loop);
        return switch (t) {
            case IO_URING -> IoUringServerSocketChannel.class;
            case EPOLL -> EpollServerSocketChannel.class;
            case NIO -> NioServerSocketChannel.class;
        };
    }

    static Class<? extends SocketChannel> socketChannel(EventLoop loop) {
        NettyTransport t = NettyLoops.transport(loop);
        return switch (t) {
            case IO_URING -> IoUringSocketChannel.class;
            case EPOLL -> EpollSocketChannel.class;
            case NIO -> NioSocketChannel.class;
        };
    }
}
