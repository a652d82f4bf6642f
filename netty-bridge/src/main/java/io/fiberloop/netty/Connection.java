package io.fiberloop.netty;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.SocketAddress;
import java.time.Duration;

/**
 * A TCP connection used in blocking style from a fiber: {@code read} suspends the fiber until bytes
 * arrive, {@code drain} suspends it while the peer is not taking data. Created by
 * {@link TcpServer} (one per accepted connection, handed to the handler's fiber) and by
 * {@link Tcp#connect}.
 * {@snippet :
 * TcpServer server = TcpServer.bind(loop, "127.0.0.1", 7000, conn -> {
 *     ByteBuf buf;
 *     while ((buf = conn.read()) != null) {   // null: the peer closed its side
 *         conn.write(buf);                    // takes ownership of buf
 *         conn.drain();                       // backpressure: wait while the peer is slow
 *     }
 * });
 * }
 *
 * <h2>Threading</h2>
 * Every method that reads, writes, closes or sets a timeout must be called from a fiber of the
 * connection's loop (the loop of the server or of the fiber that connected); a call from any other
 * thread throws {@link IllegalStateException} at once, naming the method and the loop, and has no
 * effect (a buffer handed to it is released). The accessors ({@link #isOpen()}, the addresses and
 * the timeouts' getters) are not checked: from the loop they are exact, from another thread they
 * may be stale.
 * One fiber may read while another writes (a proxy's two pumps); two fibers reading at the same
 * time, or two writing, is an error ({@link IllegalStateException}).
 *
 * <h2>Reads are demand-driven</h2>
 * Netty reads at most 64 KiB per request. The connection asks for the first read when a fiber
 * reads and nothing is buffered, and reads ahead by one request while at most 64 KiB sit unread,
 * so what is held unread stays at most 128 KiB while the stream is open (see
 * {@code docs/netty.md}, which also says what happens at the peer's half-close). A fast peer
 * therefore never fills the server's memory: what the fiber has not asked for stays in the
 * kernel's socket buffer, and TCP flow control slows the peer down.
 *
 * <h2>Writes</h2>
 * {@code write} queues the bytes and returns at once; the writes a fiber makes during one turn of
 * the loop are written to the socket and flushed together, at the start of the loop's next turn.
 * {@link #flush()} waits until they have been handed to the socket; {@link #drain()} waits, in
 * addition, until Netty's outbound buffer is below its low-water mark (asyncio's {@code drain}).
 * A fiber that writes a lot must call {@code drain()} regularly, or its queued bytes grow without
 * bound.
 *
 * <h2>Errors and timeouts</h2>
 * I/O failures (connection reset, writing after close) surface as {@link IOException} from the
 * next call that reads or waits. A read timeout ({@link #readTimeout(Duration)}) raises
 * {@link java.net.SocketTimeoutException} and leaves the connection usable; an idle timeout
 * ({@link #idleTimeout(Duration)}) raises it too, and closes the connection. A TLS connection whose
 * handshake failed raises {@link javax.net.ssl.SSLHandshakeException} (or another
 * {@link javax.net.ssl.SSLException}). Cancelling the fiber raises
 * {@link io.fiberloop.fiber.CancelledException} from a suspended read, flush or drain.
 */
public interface Connection extends AutoCloseable {

    /**
     * Reads the next bytes: whatever one socket read returned, never empty.
     * <p>The caller owns the returned buffer and must {@link ByteBuf#release() release} it (or
     * pass it to {@link #write(ByteBuf)}, which takes ownership); a buffer never released is
     * reported by Netty's leak detector.
     * <p>Threading: a fiber of the connection's loop; suspends it until data, end of stream or an error.
     *
     * @return the next bytes, or {@code null} at end of stream (the peer shut down its output or closed)
     * @throws IOException if the connection failed (e.g. reset by peer) or was closed locally
     * @throws java.net.SocketTimeoutException if a read timeout is set and expired
     */
    ByteBuf read() throws IOException;

    /**
     * Reads one line, ending with {@code \n} (a {@code \r} before it is removed too), decoded as
     * UTF-8. At end of stream, returns the unterminated rest if there is one, else {@code null}.
     * <p>Threading: a fiber of the connection's loop.
     *
     * @param maxLength the most bytes a line may have, terminator excluded
     * @return the line without its terminator, or {@code null} at end of stream
     * @throws IOException on failure, or if the line is longer than {@code maxLength} (the connection
     *     is then in an unspecified position: close it)
     */
    String readLine(int maxLength) throws IOException;

    /**
     * Reads exactly {@code n} bytes.
     * <p>Threading: a fiber of the connection's loop.
     *
     * @param n how many bytes
     * @return a new array of length {@code n}
     * @throws java.io.EOFException if the stream ends first
     * @throws IOException on failure
     */
    byte[] readExactly(int n) throws IOException;

    /**
     * Reads up to the next occurrence of {@code delimiter}, which is consumed but not returned
     * (e.g. {@code "\r\n\r\n"} for HTTP headers, a zero byte for C strings). At end of stream,
     * returns the unterminated rest if there is one, else {@code null}.
     * <p>Threading: a fiber of the connection's loop.
     *
     * @param delimiter the bytes that end a message, not empty
     * @param maxLength the most bytes a message may have, delimiter excluded
     * @return the bytes before the delimiter (possibly empty), or {@code null} at end of stream
     * @throws IOException on failure, or if no delimiter comes within {@code maxLength} bytes (the
     *     connection is then in an unspecified position: close it)
     */
    byte[] readUntil(byte[] delimiter, int maxLength) throws IOException;

    /**
     * Queues {@code buf} for writing and takes ownership of it (it is released once written, or
     * when the connection closes). Does not suspend.
     * <p>Threading: a fiber of the connection's loop.
     *
     * @param buf the bytes
     * @throws IOException if the output is shut down or the connection closed or failed ({@code buf}
     *     is released then too)
     */
    void write(ByteBuf buf) throws IOException;

    /**
     * Queues a copy of {@code bytes} for writing. Does not suspend.
     * <p>Threading: a fiber of the connection's loop.
     *
     * @param bytes the bytes; the array may be reused as soon as this returns
     * @throws IOException as {@link #write(ByteBuf)}
     */
    void write(byte[] bytes) throws IOException;

    /**
     * Queues {@code text}, encoded as UTF-8, for writing. Does not suspend.
     * <p>Threading: a fiber of the connection's loop.
     *
     * @param text the text
     * @throws IOException as {@link #write(ByteBuf)}
     */
    void write(String text) throws IOException;

    /**
     * Suspends until everything queued by {@code write} has been handed to the socket (written and
     * flushed by Netty; it may still sit in Netty's outbound buffer if the peer is slow).
     * <p>Threading: a fiber of the connection's loop.
     *
     * @throws IOException if the connection failed or closed before that
     */
    void flush() throws IOException;

    /**
     * asyncio's {@code drain()}, the way to keep a fast writer's memory bounded: returns at once
     * while the bytes waiting to go out (queued by {@code write} plus Netty's outbound buffer) are
     * at most the channel's write-buffer high-water mark, leaving them to the flush at the end of
     * the loop's turn; above it, flushes and suspends until Netty's outbound buffer drops below the
     * low-water mark. Call it after each write of a loop that may outpace the peer.
     * <p>Threading: a fiber of the connection's loop.
     *
     * @throws IOException if the connection failed or closed while waiting
     */
    void drain() throws IOException;

    /**
     * Flushes what was written, then shuts down the output (TCP half-close: the peer reads end of
     * stream but can still send, and this side can still read). Does not suspend. Idempotent.
     * <p>Threading: a fiber of the connection's loop.
     */
    void shutdownOutput();

    /**
     * Flushes what was written, then closes the connection. Bytes still in the inbound buffer are
     * released. Does not suspend; idempotent. Call {@link #drain()} first to be sure a slow peer
     * receives everything.
     * <p>Threading: a fiber of the connection's loop.
     */
    @Override
    void close();

    /**
     * {@return whether the connection is open: not closed locally, and not closed by the peer (a peer that only shut down its output still counts as open). Threading: any thread, exact on the connection's loop, possibly stale elsewhere}
     *
     */
    boolean isOpen();

    /** {@return the peer's address. Threading: any thread.} */
    SocketAddress remoteAddress();

    /** {@return this side's address. Threading: any thread.} */
    SocketAddress localAddress();

    /**
     * Sets how long a read may wait for data before it throws
     * {@link java.net.SocketTimeoutException}. The connection stays usable after a timeout.
     * <p>Threading: a fiber of the connection's loop.
     *
     * @param timeout the limit, or {@code null} / zero for none (the default)
     */
    void readTimeout(Duration timeout);

    /** {@return the read timeout, or {@code null} when none is set. Threading: as {@link #isOpen()}.} */
    Duration readTimeout();

    /**
     * Sets the idle timeout: once nothing was received nor written for {@code timeout}, the
     * connection is closed and the call that reads, flushes or drains (now or next) throws
     * {@link java.net.SocketTimeoutException}. Any read or write restarts the period.
     * <p>Threading: a fiber of the connection's loop.
     *
     * @param timeout the limit, or {@code null} / zero for none (the default)
     */
    void idleTimeout(Duration timeout);

    /** {@return the idle timeout, or {@code null} when none is set. Threading: as {@link #isOpen()}.} */
    Duration idleTimeout();
}
