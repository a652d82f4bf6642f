package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A pipeline handler that closes the channel in the middle of a read request's loop (the second
 * read request is a full 32 KiB read, so {@link BoundedReadAllocator} goes on reading after the
 * handler's close): the fiber sees what was delivered and then the end of stream, not a failure.
 * (NIO's loop does not check that the channel is open; Netty's buffers turn the closed channel's
 * {@code ClosedChannelException} into an end of stream.)
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HandlerCloseTest {

    /** Passes buffers on; closes the channel while handling the second one. */
    static final class CloseOnSecondBuffer extends ChannelInboundHandlerAdapter {
        private int buffers;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.fireChannelRead(msg);
            if (++buffers == 2) {
                ctx.close();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void aHandlerClosingMidReadEndsTheStreamWithoutAFailure(NettyTransport transport) throws Exception {
        CompletableFuture<Void> queued = new CompletableFuture<>();
        CompletableFuture<String> outcome = new CompletableFuture<>();
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            TcpServer server = TcpServer.<ByteBuf, ByteBuf>bind(loop, "127.0.0.1", 0, p -> p.addLast(new CloseOnSecondBuffer()), conn -> {
                // first read only once 64 KiB wait in the socket: the second read request (32 KiB,
                // full) then reads on, past the handler's close
                Fibers.await(queued);
                long n = 0;
                try {
                    ByteBuf b;
                    while ((b = conn.read()) != null) {
                        n += b.readableBytes();
                        b.release();
                    }
                    outcome.complete("end of stream after " + n + " bytes");
                } catch (IOException e) {
                    outcome.complete("failed after " + n + " bytes: " + e);
                }
            });
            Thread client = Thread.ofVirtual().start(() -> {
                try (Socket s = new Socket("127.0.0.1", server.port())) {
                    OutputStream out = s.getOutputStream();
                    out.write(Echo.random(64 * 1024, 7));
                    out.flush();
                    queued.complete(null);
                    out.write(Echo.random(64 * 1024, 8)); // may block until the server reads, or fail once it closed
                    s.getInputStream().read();
                } catch (IOException e) {
                    // the server closed: expected
                }
            });
            String result = outcome.get(30, TimeUnit.SECONDS);
            assertTrue(result.startsWith("end of stream"), result + " on " + transport);
            client.join(10_000);
            server.close();
        }
    }
}
