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
 * A TCP echo server on 127.0.0.1, in plain blocking style, two ways: a read handler (the default:
 * each read is a call that writes it back and drains, inline on the loop unless the peer is slow)
 * or a fiber per connection that reads, writes back and drains in a loop. Stop it with Ctrl-C.
 */
@Command(name = "echo", mixinStandardHelpOptions = true,
        description = "TCP echo server on 127.0.0.1 (stop with Ctrl-C).")
final class EchoServer implements Callable<Integer>, Cli.Listening {
    /** How connections are served. */
    enum Mode {
        /** {@code TcpServer.bindReads}: a call per read, no fiber per connection. */
        reads,
        /** {@code TcpServer.bind}: a fiber per connection. */
        fiber
    }

    @Option(names = "--mode", defaultValue = "reads",
            description = "reads: a read handler, a call per read with no fiber per connection (the cheapest); fiber: a fiber "
                    + "per connection that reads in a loop (default: ${DEFAULT-VALUE}).")
    Mode mode;

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
        TcpServer server = Cli.closingOnFailure(loop, () -> mode == Mode.reads
                ? TcpServer.bindReads(loop, "127.0.0.1", port, EchoServer::echoRead)
                : TcpServer.bind(loop, "127.0.0.1", port, EchoServer::echo));
        System.out.println("echo server listening on 127.0.0.1:" + server.port() + " (" + t.id() + ", " + mode
                + "); Ctrl-C stops it");
        server.closeOnShutdown(TcpServer.DEFAULT_CLOSE_GRACE); // Ctrl-C, SIGTERM: drains the connections, and logs it
        new CountDownLatch(1).await();                         // the JVM exits once the hook has closed the server
        return 0;
    }

    /** One read of a connection: write it back (while the peer does not read, the next read waits). */
    static void echoRead(Connection conn, ByteBuf data) throws Exception {
        conn.write(data);
    }

    /** One connection, in its own fiber: echo every buffer back until the client closes its side. */
    static void echo(Connection conn) throws Exception {
        ByteBuf buf;
        while ((buf = conn.read()) != null) {
            conn.write(buf);
            conn.drain();
        }
    }
}
