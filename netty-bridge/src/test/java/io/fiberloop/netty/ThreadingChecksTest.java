package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

/**
 * Run-time threading checks: {@link Connection} and {@link UdpEndpoint} methods called from a
 * platform thread or from a fiber of another loop throw {@link IllegalStateException} at once,
 * naming the method, the owning loop and the fix, take no effect, and release a buffer handed
 * to them.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ThreadingChecksTest {

    private EventLoop loop;
    private EventLoop other;
    private TcpServer server;
    private Connection conn;
    private UdpEndpoint udp;
    private UdpEndpoint peer;
    private final List<ByteBuf> handedOver = new ArrayList<>();

    @BeforeEach
    void open() throws Exception {
        loop = NettyLoops.builder().name("owning-loop").build();
        other = NettyLoops.builder().name("other-loop").build();
        server = TcpServer.bind(loop, "127.0.0.1", 0, Echo.HANDLER);
        conn = loop.run(() -> Tcp.connect("127.0.0.1", server.port(), Duration.ofSeconds(5)));
        udp = UdpEndpoint.bind(loop, "127.0.0.1", 0);
        peer = UdpEndpoint.bind(loop, "127.0.0.1", 0);
    }

    @AfterEach
    void close() throws Exception {
        loop.run(() -> {
            conn.close();
            udp.close();
            peer.close();
            return null;
        });
        server.close();
        other.close();
        loop.close();
    }

    /** A call and the method name its refusal must give. */
    private record Call(String method, Executable body) {
    }

    /** Every Connection method that the checks cover. */
    private List<Call> connectionCalls() {
        return List.of(
                new Call("write()", () -> conn.write(handOver("buffer"))),
                new Call("write()", () -> conn.write("bytes".getBytes(StandardCharsets.US_ASCII))),
                new Call("write()", () -> conn.write("text")),
                new Call("flush()", conn::flush),
                new Call("drain()", conn::drain),
                new Call("close()", conn::close),
                new Call("shutdownOutput()", conn::shutdownOutput),
                new Call("read()", conn::read),
                new Call("readLine()", () -> conn.readLine(100)),
                new Call("readExactly()", () -> conn.readExactly(1)),
                new Call("readUntil()", () -> conn.readUntil(new byte[] {'\n'}, 100)),
                new Call("readTimeout()", () -> conn.readTimeout(Duration.ofMillis(1))),
                new Call("idleTimeout()", () -> conn.idleTimeout(Duration.ofMillis(1))));
    }

    /**
     * Every UdpEndpoint method that is not an accessor, each reported under its own name (not that
     * of the connection method it delegates to).
     */
    private List<Call> udpCalls() {
        InetSocketAddress to = peer.localAddress();
        return List.of(
                new Call("send()", () -> udp.send("bytes".getBytes(StandardCharsets.US_ASCII), to)),
                new Call("send()", () -> udp.send(handOver("datagram"), to)),
                new Call("flush()", udp::flush),
                new Call("drain()", udp::drain),
                new Call("close()", udp::close),
                new Call("receive()", udp::receive),
                new Call("receiveTimeout()", () -> udp.receiveTimeout(Duration.ofMillis(1))));
    }

    /** A buffer given to a refused call: it takes ownership, so it must release it. */
    private ByteBuf handOver(String text) {
        ByteBuf b = Unpooled.directBuffer().writeBytes(text.getBytes(StandardCharsets.US_ASCII));
        handedOver.add(b);
        return b;
    }

    /** Runs each call, expecting its refusal; returns the messages that miss the method, the loop or the fix. */
    private static List<String> refusals(String kind, List<Call> calls) {
        String fix = "use " + (kind.equals("UdpEndpoint") ? "an endpoint" : "a connection") + " only from fibers of its loop";
        List<String> problems = new ArrayList<>();
        for (Call call : calls) {
            String what = kind + "." + call.method();
            String m = assertThrows(IllegalStateException.class, call.body(), what + " on the wrong thread").getMessage();
            if (!m.startsWith(what + " was called from thread '" + Thread.currentThread().getName() + "'")
                    || !m.contains("loop 'owning-loop'") || !m.contains(fix)) {
                problems.add(m);
            }
        }
        return problems;
    }

    /** The connection and the endpoints still work on their loop: the refused calls had no effect. */
    private void assertStillUsable() throws Exception {
        String[] r = loop.run(() -> {
            assertTrue(conn.isOpen(), "a refused close() closed the connection");
            assertNull(conn.readTimeout(), "a refused readTimeout() set it");
            assertNull(conn.idleTimeout(), "a refused idleTimeout() set it");
            conn.write("echo\n");
            conn.flush();
            String line = conn.readLine(100);
            assertTrue(udp.isOpen(), "a refused close() closed the endpoint");
            udp.send("ping".getBytes(StandardCharsets.US_ASCII), peer.localAddress());
            UdpEndpoint.Datagram d = peer.receive();
            return new String[] {line, new String(d.data(), StandardCharsets.US_ASCII)};
        });
        assertArrayEquals(new String[] {"echo", "ping"}, r);
        for (ByteBuf b : handedOver) {
            assertEquals(0, b.refCnt(), "a refused call kept the buffer it was given");
        }
    }

    @Test
    void aPlatformThreadIsRefusedAtOnceWithTheFix() throws Exception {
        assertTrue(!Thread.currentThread().isVirtual() && EventLoop.currentOrNull() == null);
        List<String> problems = refusals("Connection", connectionCalls());
        problems.addAll(refusals("UdpEndpoint", udpCalls()));
        assertEquals(List.of(), problems, "messages that do not name the method, the loop and the fix");
        assertStillUsable();
    }

    @Test
    void aFiberOfAnotherLoopIsRefusedAtOnceWithTheFix() throws Exception {
        List<String> problems = other.run(() -> {
            assertSame(other, EventLoop.currentOrNull());
            assertNotSame(loop, EventLoop.currentOrNull());
            List<String> p = refusals("Connection", connectionCalls());
            p.addAll(refusals("UdpEndpoint", udpCalls()));
            return p;
        });
        assertEquals(List.of(), problems, "messages that do not name the method, the loop and the fix");
        assertStillUsable();
    }
}
