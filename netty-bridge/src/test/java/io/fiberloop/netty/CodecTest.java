package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Message connections: Netty codecs in the pipeline, the fiber reads and writes decoded messages. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CodecTest {
    static final PipelineInitializer LINES = p -> p.addLast(new LineBasedFrameDecoder(64), new StringDecoder(StandardCharsets.UTF_8),
            new StringEncoder(StandardCharsets.UTF_8));

    /** Upper-cases each line; "quit" ends the connection. */
    static final TcpServer.MessageHandler<String, String> UPPER = conn -> {
        String line;
        while ((line = conn.read()) != null) {
            if (line.equals("quit")) {
                conn.write("bye\n");
                return;
            }
            conn.write(line.toUpperCase() + "\n");
            conn.drain();
        }
    };

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void aLineCodecServerTalksToAPlainSocket(NettyTransport transport) throws Exception {
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, LINES, UPPER);
            try (Socket s = new Socket("127.0.0.1", server.port());
                 BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
                OutputStream out = s.getOutputStream();
                // lines split across writes and several lines in one write
                out.write("hel".getBytes(StandardCharsets.UTF_8));
                out.flush();
                out.write("lo\r\nwörld\nthird\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                assertEquals("HELLO", in.readLine());
                assertEquals("WÖRLD", in.readLine());
                assertEquals("THIRD", in.readLine());
                StringBuilder many = new StringBuilder();
                for (int i = 0; i < 2000; i++) {
                    many.append("line ").append(i).append('\n');
                }
                out.write(many.toString().getBytes(StandardCharsets.UTF_8));
                out.write("quit\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                for (int i = 0; i < 2000; i++) {
                    assertEquals("LINE " + i, in.readLine());
                }
                assertEquals("bye", in.readLine());
                assertNull(in.readLine(), "the server closes once the handler returns");
            }
            server.close();
        }
    }

    @Test
    void aMessageClientAgainstAMessageServerAndEndOfStream() throws Exception {
        try (EventLoop loop = NettyLoops.newLoop()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, LINES, UPPER);
            AtomicInteger flushes = new AtomicInteger();
            ChannelOutboundHandlerAdapter flushCounter = new ChannelOutboundHandlerAdapter() {
                @Override
                public void flush(ChannelHandlerContext ctx) {
                    flushes.incrementAndGet();
                    ctx.flush();
                }
            };
            int[] flushesBeforeFirstReply = {-1};
            List<String> got = loop.run(() -> {
                MessageConnection<String, String> c = Tcp.connect("127.0.0.1", server.port(), Duration.ofSeconds(5), p -> {
                    LINES.initialize(p);
                    p.addFirst(flushCounter);
                });
                try (c) {
                    List<String> replies = new ArrayList<>();
                    for (int i = 0; i < 100; i++) {
                        c.write("m" + i + "\n"); // all in one turn: one flush
                    }
                    c.write("quit\n");
                    String r;
                    while ((r = c.read()) != null) {
                        if (replies.isEmpty()) {
                            flushesBeforeFirstReply[0] = flushes.get();
                        }
                        replies.add(r);
                    }
                    assertTrue(c.channel().isActive() || !c.isOpen());
                    return replies;
                }
            });
            assertEquals(101, got.size());
            assertEquals("M0", got.get(0));
            assertEquals("M99", got.get(99));
            assertEquals("bye", got.get(100));
            assertEquals(1, flushesBeforeFirstReply[0], "the 101 writes of one turn went out in one flush");
            server.close();
        }
    }

    @Test
    void aDecoderErrorFailsTheReadWithAnIOException() throws Exception {
        try (EventLoop loop = NettyLoops.newLoop()) {
            CompletableFuture<Throwable> failure = new CompletableFuture<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, LINES, (MessageConnection<String, String> conn) -> {
                try {
                    while (conn.read() != null) {
                        // nothing
                    }
                    failure.complete(null);
                } catch (Throwable t) {
                    failure.complete(t);
                }
            });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                s.getOutputStream().write(new byte[200]); // no newline within 64 bytes: TooLongFrameException
                s.getOutputStream().write('\n');
                Throwable t = failure.get(20, TimeUnit.SECONDS);
                assertTrue(t instanceof IOException, "expected an IOException, got " + t);
            }
            server.close();
        }
    }

    @Test
    void referenceCountedMessagesAreReleasedWhenTheConnectionCloses() throws Exception {
        // no codec that turns bytes into objects: the fiber gets ByteBufs as messages and leaves some unread
        try (EventLoop loop = NettyLoops.newLoop()) {
            CompletableFuture<Integer> done = new CompletableFuture<>();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, p -> p.addLast(new LineBasedFrameDecoder(1024)),
                    (MessageConnection<ByteBuf, ByteBuf> conn) -> {
                        ByteBuf first = conn.read();
                        int n = first.readableBytes();
                        conn.write(first); // ownership passes to the write
                        conn.flush();
                        done.complete(n);
                        // return without reading the rest: the connection releases it
                    });
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                s.getOutputStream().write("abc\ndef\nghi\n".getBytes(StandardCharsets.US_ASCII));
                assertEquals(3, done.get(20, TimeUnit.SECONDS));
                byte[] back = s.getInputStream().readNBytes(3);
                assertEquals("abc", new String(back, StandardCharsets.US_ASCII));
            }
            server.close();
        }
    }
}
