package io.fiberloop.samples;

import io.fiberloop.fiber.TaskScope;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.Connection;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.fiberloop.netty.Tcp;
import io.fiberloop.netty.TcpServer;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * A TCP proxy on 127.0.0.1: for each client it connects to the target and runs two pumps, client
 * to target and target to client, each a fiber that reads, writes and drains, so a slow side
 * slows the other down instead of filling memory (backpressure both ways). End of stream on one
 * side is passed on as a half-close; a failure on either side ends both pumps. Stop it with Ctrl-C.
 */
@Command(name = "proxy", mixinStandardHelpOptions = true,
        description = "TCP proxy on 127.0.0.1 to --to host:port: two fiber pumps per connection with drain backpressure. "
                + "Stop with Ctrl-C.")
final class ProxyServer implements Callable<Integer>, Cli.Listening {

    @Spec
    CommandSpec spec;

    @Option(names = "--port", defaultValue = "7009", converter = Cli.PortConverter.class, description = "TCP port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Override
    public int port() {
        return port;
    }

    @Option(names = "--to", required = true, paramLabel = "HOST:PORT", description = "Where to forward connections, e.g. 127.0.0.1:7007.")
    String to;

    @Option(names = "--transport", description = "Netty transport: io_uring, epoll, kqueue or nio (default: the best available, "
            + "or -Dfiberloop.transport).")
    NettyTransport transport;

    @Override
    public Integer call() throws Exception {
        int colon = to.lastIndexOf(':');
        int targetPort;
        try {
            targetPort = colon > 0 ? Integer.parseInt(to.substring(colon + 1)) : -1;
        } catch (NumberFormatException e) {
            targetPort = -1;
        }
        if (targetPort < 1 || targetPort > 65535) {
            throw new ParameterException(spec.commandLine(), "--to must be HOST:PORT, was '" + to + "'");
        }
        String targetHost = to.substring(0, colon);
        int tp = targetPort;
        NettyTransport t = transport == null ? NettyTransport.auto() : transport;
        EventLoop loop = NettyLoops.builder(t).name("proxy-loop").build();
        TcpServer server = Cli.closingOnFailure(loop, () -> TcpServer.bind(loop, "127.0.0.1", port, client -> proxy(client, targetHost, tp)));
        System.out.println("proxy listening on 127.0.0.1:" + server.port() + " -> " + targetHost + ":" + tp + " (" + t.id() + "); Ctrl-C stops it");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            loop.close();
            stopped.countDown();
        }, "proxy-shutdown"));
        stopped.await();
        return 0;
    }

    /** One client: connect to the target, then pump both ways until both directions ended. */
    static void proxy(Connection client, String host, int port) throws IOException {
        try (Connection target = Tcp.connect(host, port, Duration.ofSeconds(10));
             TaskScope pumps = TaskScope.open()) {
            pumps.fork("client->target", () -> pump(client, target));
            pumps.fork("target->client", () -> pump(target, client));
            pumps.join(); // a failure in one pump cancels the other
        }
    }

    /** Copies {@code from} to {@code to} until end of stream, then half-closes {@code to}. @return bytes copied */
    static long pump(Connection from, Connection to) throws IOException {
        long n = 0;
        ByteBuf buf;
        while ((buf = from.read()) != null) {
            n += buf.readableBytes();
            to.write(buf);  // takes ownership
            to.drain();     // backpressure: wait while the receiving side is slow
        }
        to.shutdownOutput();
        return n;
    }
}
