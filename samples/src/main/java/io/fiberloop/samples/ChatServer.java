package io.fiberloop.samples;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.channel.Channel;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.Connection;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.fiberloop.netty.TcpServer;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A line-based chat room on 127.0.0.1: every line a client sends is broadcast to all the other
 * clients. Each connection has two fibers: the handler reads lines and broadcasts them, and a
 * writer fiber takes the lines meant for this client from its {@link Channel} and writes them,
 * draining (so a slow client holds back only its own writer). A client whose channel is full
 * (more than 256 lines behind) misses lines rather than stalling the room. Try it with
 * {@code nc 127.0.0.1 7008} in two terminals. Stop it with Ctrl-C.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Line-based TCP chat room on 127.0.0.1: each line a client sends is broadcast to all others "
                + "through fiber channels (try: nc 127.0.0.1 7008). Stop with Ctrl-C.")
final class ChatServer implements Callable<Integer>, Cli.Listening {
    /** Lines that may wait for one slow client before it starts missing some. */
    static final int BACKLOG = 256;

    @Option(names = "--port", defaultValue = "7008", converter = Cli.PortConverter.class, description = "TCP port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
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
        EventLoop loop = NettyLoops.builder(t).name("chat-loop").build();
        Room room = new Room();
        TcpServer server = Cli.closingOnFailure(loop, () -> TcpServer.bind(loop, "127.0.0.1", port, room::serve));
        System.out.println("chat server listening on 127.0.0.1:" + server.port() + " (" + t.id() + "); Ctrl-C stops it");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            loop.close();
            stopped.countDown();
        }, "chat-shutdown"));
        stopped.await();
        return 0;
    }

    /** The members of the room: each one's outgoing channel, by name. */
    static final class Room {
        private final Map<String, Channel<String>> members = new ConcurrentHashMap<>();
        private final AtomicInteger ids = new AtomicInteger();

        /** Serves one client: its writer fiber, then its lines until it leaves. */
        void serve(Connection conn) throws IOException {
            String name = "guest" + ids.incrementAndGet();
            Channel<String> outbox = Channel.buffered(BACKLOG);
            Task<Void> writer = Fibers.spawn(name + "-writer", () -> {
                for (String line : outbox) {
                    conn.write(line);
                    conn.drain();
                }
                return null;
            });
            outbox.trySend("welcome, you are " + name + "; " + members.size() + " other(s) here\n");
            members.put(name, outbox);
            broadcast(name, "* " + name + " joined\n");
            try {
                String line;
                while ((line = conn.readLine(4096)) != null) {
                    if (!line.isBlank()) {
                        broadcast(name, name + ": " + line + "\n");
                    }
                }
            } finally {
                members.remove(name);
                outbox.close();
                broadcast(name, "* " + name + " left\n");
                try {
                    writer.join(); // writes what is left for this client
                } catch (CancelledException e) {
                    writer.cancel();
                    throw e;
                } catch (RuntimeException e) {
                    // the client went away while its writer wrote: nothing more to do
                }
            }
        }

        /** Sends {@code line} to everyone but {@code from}; never waits. */
        void broadcast(String from, String line) {
            members.forEach((name, outbox) -> {
                if (!name.equals(from)) {
                    outbox.trySend(line); // full: that client is too slow and misses this line
                }
            });
        }
    }
}
