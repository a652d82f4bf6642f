package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.netty.NoLeaks;
import io.fiberloop.netty.http.RawWebSocket.Frame;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Hostile WebSocket clients, frame by frame over a raw socket: each protocol violation is answered
 * with its close code and the connection ends; the handler sees the end; nothing leaks.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebSocketHostileTest {
    static Served served;
    /** How each session's handler saw its connection end: "code reason". */
    static final BlockingQueue<String> ends = new LinkedBlockingQueue<>();
    static final byte[] BAD_UTF8 = {'a', (byte) 0xc3, (byte) 0x28, 'b'};

    @BeforeAll
    static void start() throws Exception {
        served = Served.start("ws-hostile", b -> b.websocket("/echo",
                WebSocketOptions.defaults().maxMessageSize(1024).compression(false).closeTimeout(java.time.Duration.ofSeconds(2))
                        // io_uring may not report a reset that closely follows data until the next write: the
                        // pings find it (with epoll the read fails at once)
                        .pingInterval(java.time.Duration.ofMillis(200)), ws -> {
                    for (WebSocket.Message m; (m = ws.receive()) != null; ) {
                        ws.send(m);
                    }
                    ends.add(ws.closeCode() + " " + ws.closeReason());
                }));
    }

    @AfterAll
    static void stop() {
        served.close();
    }

    private static RawWebSocket open() throws Exception {
        ends.clear();
        RawWebSocket ws = new RawWebSocket(served.port(), "/echo");
        assertTrue(ws.upgraded(), ws.responseHead);
        return ws;
    }

    /** The server closes with {@code code}, ends the TCP connection, and its handler sees {@code code}. */
    private static void expectClose(RawWebSocket ws, int code) throws Exception {
        Frame close = ws.readUntilClose();
        assertEquals(code, close.closeCode(), "close frame: " + new String(close.payload(), 2, close.payload().length - 2,
                StandardCharsets.UTF_8));
        assertTrue(ws.closedByServer(), "the server ended the connection");
        String end = ends.poll(10, TimeUnit.SECONDS);
        assertTrue(end != null && end.startsWith(code + " "), "the handler saw " + end);
    }

    @Test
    void unmaskedClientFrameIs1002() throws Exception {
        try (RawWebSocket ws = open()) {
            ws.frame(true, RawWebSocket.TEXT, "hi".getBytes(StandardCharsets.UTF_8), false);
            expectClose(ws, 1002);
        }
    }

    @Test
    void invalidUtf8Is1007() throws Exception {
        try (RawWebSocket ws = open()) {
            ws.frame(true, RawWebSocket.TEXT, BAD_UTF8);
            expectClose(ws, 1007);
        }
    }

    @Test
    void invalidUtf8SplitAcrossFragmentsIs1007() throws Exception {
        try (RawWebSocket ws = open()) {
            ws.frame(false, RawWebSocket.TEXT, new byte[] {'o', 'k', (byte) 0xe2});
            ws.frame(true, RawWebSocket.CONT, new byte[] {(byte) 0x28, (byte) 0xa1});
            expectClose(ws, 1007);
        }
    }

    @Test
    void oversizedFrameIs1009() throws Exception {
        try (RawWebSocket ws = open()) {
            ws.frame(true, RawWebSocket.BINARY, new byte[2000]);
            expectClose(ws, 1009);
        }
    }

    @Test
    void oversizedFragmentedMessageIs1009() throws Exception {
        try (RawWebSocket ws = open()) {
            ws.frame(false, RawWebSocket.BINARY, new byte[600]);
            ws.frame(false, RawWebSocket.CONT, new byte[600]);
            expectClose(ws, 1009);
        }
    }

    @Test
    void controlFramesInsideAFragmentedMessage() throws Exception {
        try (RawWebSocket ws = open()) {
            ws.frame(false, RawWebSocket.TEXT, "frag".getBytes(StandardCharsets.UTF_8));
            ws.frame(true, RawWebSocket.PING, "p1".getBytes(StandardCharsets.UTF_8));
            ws.frame(false, RawWebSocket.CONT, "men".getBytes(StandardCharsets.UTF_8));
            ws.frame(true, RawWebSocket.PONG, new byte[0]); // unsolicited pongs are allowed
            ws.frame(true, RawWebSocket.CONT, "ted ✓".getBytes(StandardCharsets.UTF_8));
            Frame pong = ws.read();
            assertEquals(RawWebSocket.PONG, pong.opcode());
            assertEquals("p1", pong.text());
            Frame echo = ws.read();
            assertEquals(RawWebSocket.TEXT, echo.opcode());
            assertEquals("fragmented ✓", echo.text());
            ws.close(1000);
            Frame close = ws.readUntilClose();
            assertEquals(1000, close.closeCode());
            assertTrue(ws.closedByServer());
            assertEquals("1000 ", ends.poll(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void fragmentedControlFrameIs1002() throws Exception {
        try (RawWebSocket ws = open()) {
            ws.frame(false, RawWebSocket.PING, "x".getBytes(StandardCharsets.UTF_8));
            expectClose(ws, 1002);
        }
    }

    @Test
    void continuationWithoutStartIs1002() throws Exception {
        try (RawWebSocket ws = open()) {
            ws.frame(true, RawWebSocket.CONT, "x".getBytes(StandardCharsets.UTF_8));
            expectClose(ws, 1002);
        }
    }

    @Test
    void newMessageInsideAFragmentedOneIs1002() throws Exception {
        try (RawWebSocket ws = open()) {
            ws.frame(false, RawWebSocket.TEXT, "a".getBytes(StandardCharsets.UTF_8));
            ws.frame(true, RawWebSocket.TEXT, "b".getBytes(StandardCharsets.UTF_8));
            expectClose(ws, 1002);
        }
    }

    @Test
    void reservedOpcodeIs1002() throws Exception {
        try (RawWebSocket ws = open()) {
            ws.frame(true, 3, "x".getBytes(StandardCharsets.UTF_8));
            expectClose(ws, 1002);
        }
    }

    @Test
    void closeWithAForbiddenCodeFailsTheConnection() throws Exception {
        try (RawWebSocket ws = open()) {
            ws.close(1005); // reserved: never sent on the wire
            // Netty's decoder fails the connection without a close frame once it has seen the
            // peer's close (RFC 6455 7.1.7 allows either); the handler sees the protocol error
            assertTrue(ws.closedByServer(), "the server ended the connection");
            String end = ends.poll(10, TimeUnit.SECONDS);
            assertTrue(end != null && end.startsWith("1002 "), "the handler saw " + end);
        }
    }

    @Test
    void abruptDisconnectMidMessageIs1006() throws Exception {
        RawWebSocket ws = open();
        ws.frame(false, RawWebSocket.BINARY, new byte[500]);
        ws.socket.setSoLinger(true, 0); // a reset, not a FIN
        ws.close();
        String end = ends.poll(10, TimeUnit.SECONDS);
        assertTrue(end != null && end.startsWith("1006 "), "the handler saw " + end);
    }

    @Test
    void vanishingWithoutACloseFrameIs1006() throws Exception {
        RawWebSocket ws = open();
        ws.text("half");
        assertEquals("half", ws.read().text());
        ws.socket.shutdownOutput(); // a FIN without a close frame
        String end = ends.poll(10, TimeUnit.SECONDS);
        assertTrue(end != null && end.startsWith("1006 "), "the handler saw " + end);
        assertTrue(ws.closedByServer());
        ws.close();
    }

    @Test
    void goodClientAfterTheHostileOnes() throws Exception {
        try (RawWebSocket ws = open()) {
            ws.text("still serving");
            assertEquals("still serving", ws.read().text());
            // a clean close whose end the handler reports before the next test clears the queue
            ws.close(1000);
            assertEquals(1000, ws.readUntilClose().closeCode());
            assertTrue(ws.closedByServer());
            assertEquals("1000 ", ends.poll(10, TimeUnit.SECONDS));
        }
    }
}
