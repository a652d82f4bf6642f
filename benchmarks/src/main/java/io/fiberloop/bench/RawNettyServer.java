package io.fiberloop.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The raw Netty baseline server of the load harnesses' children ({@link EchoServers.RawNetty},
 * {@link HttpServers.RawNetty}): one event loop (one thread) of the given transport, on 127.0.0.1
 * and a free port, with the child protocol of {@link ChildJvm#serveUntilStdinEof}.
 */
final class RawNettyServer {
    private RawNettyServer() {
    }

    /**
     * Serves until stdin ends, then exits the JVM.
     *
     * @param threadName the event-loop thread's name
     * @param transport the transport name ({@link BenchTransports#norm})
     * @param options extra bootstrap options (e.g. backlog, TCP_NODELAY)
     * @param pipeline fills each accepted channel's pipeline
     */
    static void serve(String threadName, String transport, Consumer<ServerBootstrap> options, Consumer<ChannelPipeline> pipeline)
            throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory(threadName), BenchTransports.ioHandlerFactory(transport));
        ServerBootstrap b = new ServerBootstrap()
                .group(group, group)
                .channel(BenchTransports.serverChannel(transport))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        pipeline.accept(ch.pipeline());
                    }
                });
        options.accept(b);
        Channel sc = b.bind("127.0.0.1", 0).sync().channel();
        ChildJvm.serveUntilStdinEof(((InetSocketAddress) sc.localAddress()).getPort(), () -> {
            sc.close().await(1, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(2, TimeUnit.SECONDS);
        });
    }
}
