package io.fiberloop.samples;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.Connection;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.fiberloop.netty.TcpServer;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A fiber-per-connection echo server on 127.0.0.1: each connection's fiber reads, writes back and
 * drains (backpressure), in plain blocking style. Stop it with Ctrl-C.
 */
@Command(name = "echo", mixinStandardHelpOptions = true,
        description = "Fiber-per-connection TCP echo server on 127.0.0.1 (stop with Ctrl-C).")
final class EchoServer implements Callable<Integer>, Cli.Listening {

    @Option(names = "--port", defaultValue = "7007", converter = Cli.PortConverter.class, description = "TCP port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Override
    public int port() {
        return port;
    }

    @Option(names = "--transport", description = "Netty transport: io_uring, epoll, kqueue or nio (default: the best available, "
            + "or -Dfiberloop.transport).")
    NettyTransport transport;

    @Override
    public Integer call() throws Exception {
        NettyTransport t = transport == null ? NettyTransport.auto() : transport;
        EventLoop loop = NettyLoops.builder(t).name("echo-loop").build();
        TcpServer server = Cli.closingOnFailure(loop, () -> TcpServer.bind(loop, "127.0.0.1", port, EchoServer::echo));
        System.out.println("echo server listening on 127.0.0.1:" + server.port() + " (" + t.id() + "); Ctrl-C stops it");
        server.closeOnShutdown(TcpServer.DEFAULT_CLOSE_GRACE); // Ctrl-C, SIGTERM: drains the connections, and logs it
        new CountDownLatch(1).await();                         // the JVM exits once the hook has closed the server
        return 0;
    }

    /** One connection: echo every buffer back until the client closes its side. */
    static void echo(Connection conn) throws Exception {
        ByteBuf buf;
        while ((buf = conn.read()) != null) {
            conn.write(buf);
            conn.drain();
        }
    }
}
