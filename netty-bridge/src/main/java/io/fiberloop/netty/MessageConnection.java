package io.fiberloop.netty;

import io.netty.channel.Channel;
import java.io.IOException;
import java.net.SocketAddress;
import java.time.Duration;

/**
 * A TCP connection whose pipeline holds codecs ({@link PipelineInitializer}): its fiber reads the
 * decoded messages and writes messages the encoders turn into bytes, in blocking style.
 * {@snippet :
 * TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0,
 *         p -> p.addLast(new LineBasedFrameDecoder(1024), new StringDecoder(UTF_8), new StringEncoder(UTF_8)),
 *         (MessageConnection<String, String> conn) -> {
 *             String line;
 *             while ((line = conn.read()) != null) {
 *                 conn.write(line.toUpperCase() + "\n");
 *                 conn.drain();
 *             }
 *         });
 * }
 * Created by {@link TcpServer#bind(io.fiberloop.loop.EventLoop, String, int, PipelineInitializer, TcpServer.MessageHandler)}
 * and its variants, and by {@link Tcp#connect(String, int, Duration, PipelineInitializer)}.
 *
 * <h2>Ownership of reference-counted messages</h2>
 * A message {@link #read()} returns belongs to the caller: if it is reference-counted (a
 * {@code ByteBuf}, an HTTP content, any {@link io.netty.util.ReferenceCounted}), the caller must
 * release it ({@link io.netty.util.ReferenceCountUtil#release(Object)}) or pass it to
 * {@link #write}, which takes ownership: a written message is released by Netty once encoded, or
 * by the connection if it closes first or the write is refused. Messages still buffered when the
 * connection closes are released by the connection.
 *
 * <h2>Reads, writes, threading, errors</h2>
 * As {@link Connection}: reads are demand-driven (a socket read is asked for only when the fiber
 * wants a message and none is decoded yet; a decoder that needs more bytes asks for the next read
 * itself); writes made within one turn of the loop are flushed together; {@link #drain()} waits
 * while the peer is slow; the methods that read, write, flush, drain, close or set timeouts must be
 * called from a fiber of the connection's loop (they throw {@link IllegalStateException}
 * elsewhere), while {@link #isOpen()}, the addresses and {@link #channel()} may be called from any
 * thread; one fiber may read while another writes. A decoder's exception fails the connection: the next call
 * throws it as an {@link IOException} (its cause is the decoder's exception).
 *
 * @param <I> the type of the messages read (what the last decoder emits)
 * @param <O> the type of the messages written (what the first encoder accepts)
 */
public interface MessageConnection<I, O> extends AutoCloseable {

    /**
     * Reads the next decoded message, suspending the fiber until one arrives.
     *
     * @return the message (the caller owns it, see the class comment), or {@code null} at end of stream
     * @throws IOException if the connection failed (reset, decoder error, TLS failure) or was closed locally
     * @throws java.net.SocketTimeoutException if a read timeout is set and expired, or the idle timeout closed it
     * @throws ClassCastException never here, but where the result is assigned if {@code I} does not
     *     match what the pipeline emits
     */
    I read() throws IOException;

    /**
     * Queues {@code message} for writing and takes ownership of it. Does not suspend.
     *
     * @param message the message, of a type the pipeline's encoders accept (a {@code ByteBuf} passes
     *     through untouched)
     * @throws IOException if the output is shut down or the connection closed or failed (the
     *     message is released then)
     */
    void write(O message) throws IOException;

    /**
     * Suspends until the queued writes are handed to the pipeline and flushed.
     *
     * @throws IOException if the connection failed or closed before that
     */
    void flush() throws IOException;

    /**
     * Backpressure, as {@link Connection#drain()}: returns at once while little is waiting to go
     * out (fewer than 64 queued messages, their bytes and Netty's outbound buffer at most the
     * high-water mark), else flushes and suspends until the channel is writable again.
     *
     * @throws IOException if the connection failed or closed while waiting
     */
    void drain() throws IOException;

    /** Flushes, then shuts down the output (TCP half-close). Does not suspend; idempotent. */
    void shutdownOutput();

    /** Flushes what was written, then closes; releases buffered messages. Does not suspend; idempotent. */
    @Override
    void close();

    /** {@return whether the connection is open (not closed either side, not failed)} Threading: any thread. */
    boolean isOpen();

    /** {@return the peer's address} Threading: any thread. */
    SocketAddress remoteAddress();

    /** {@return this side's address} Threading: any thread. */
    SocketAddress localAddress();

    /**
     * Sets how long a read may wait before it throws {@link java.net.SocketTimeoutException}; the
     * connection stays usable.
     *
     * @param timeout the limit, or {@code null} / zero for none
     */
    void readTimeout(Duration timeout);

    /**
     * Sets the idle timeout: after {@code timeout} without traffic either way, the connection is
     * closed and reads, flushes and drains throw {@link java.net.SocketTimeoutException}.
     *
     * @param timeout the limit, or {@code null} / zero for none
     */
    void idleTimeout(Duration timeout);

    /**
     * The Netty channel, to inspect it or to allocate buffers ({@code channel().alloc()}). Do not
     * read or write through it from a fiber (use this interface): the connection's own handler
     * runs on the loop's work fiber, and a channel call from another fiber becomes a Netty task
     * that bypasses the connection's queue, its flushes and its backpressure.
     * <p>Threading: any thread.
     *
     * @return the channel
     */
    Channel channel();
}
