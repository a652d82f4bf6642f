package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.http.HttpResponse;
import io.fiberloop.netty.http.HttpServer;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code close()} from another thread while a connection's fiber runs between two suspension
 * points (issue 19 item 10): its next read with a timeout raises
 * {@link io.fiberloop.fiber.CancelledException}, as every suspension point of a closing loop
 * does, not the loop's refusal to schedule the timeout.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CloseRaceIoTest {

    /** Holds the carrier, spinning, until another thread has begun to close the loop. */
    private static void runUntilClosing(EventLoop loop) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (loop.state() != EventLoop.State.CLOSING && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
    }

    @Test
    void aReadWithATimeoutRaisesCancelledExceptionWhenTheLoopCloses() throws Exception {
        CompletableFuture<Void> serving = new CompletableFuture<>();
        CompletableFuture<String> raised = new CompletableFuture<>();
        EventLoop loop = NettyLoops.newLoop();
        TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
            conn.readTimeout(Duration.ofSeconds(5));
            serving.complete(null);
            runUntilClosing(loop);
            try {
                conn.read();
                raised.complete("nothing");
            } catch (Exception e) {
                raised.complete(e.getClass().getSimpleName());
                throw e;
            }
        });
        try (Socket client = new Socket("127.0.0.1", server.port())) {
            serving.get(10, TimeUnit.SECONDS);
            loop.close();
            assertEquals("CancelledException", raised.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void readingARequestBodyRaisesCancelledExceptionWhenTheLoopCloses() throws Exception {
        CompletableFuture<Void> serving = new CompletableFuture<>();
        CompletableFuture<String> raised = new CompletableFuture<>();
        EventLoop loop = NettyLoops.newLoop();
        HttpServer server = HttpServer.builder().loop(loop).host("127.0.0.1").port(0)
                .requestTimeout(Duration.ofSeconds(5))
                .post("/upload", req -> {
                    serving.complete(null);
                    runUntilClosing(loop);
                    try {
                        req.bodyBytes();
                        raised.complete("nothing");
                    } catch (Exception e) {
                        raised.complete(e.getClass().getSimpleName());
                        throw e;
                    }
                    return HttpResponse.text("read");
                })
                .start();
        try (Socket client = new Socket("127.0.0.1", server.port())) {
            OutputStream out = client.getOutputStream();
            out.write("POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            serving.get(10, TimeUnit.SECONDS);
            loop.close();
            assertEquals("CancelledException", raised.get(10, TimeUnit.SECONDS));
        }
    }
}
