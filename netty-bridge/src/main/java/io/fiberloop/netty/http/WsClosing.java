package io.fiberloop.netty.http;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.TimerHandle;
import io.fiberloop.netty.internal.Parking;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * The closing handshake of one {@link WsConnection} (RFC 6455, section 7): whose close frame went
 * and came, the code and reason the connection reports, the answer owed to the peer's close, and
 * the fiber in {@link WebSocket#close()} that waits for the peer's.
 *
 * <h2>The handshake</h2>
 * <ul>
 *   <li><b>This side closes</b> ({@link #start}): its close frame goes out after the messages
 *       queued before it, and {@link #awaitPeer} waits (at most the close timeout) for the peer's
 *       answer; then the connection ends the TCP connection (a server at once, a client after
 *       the server had its chance: {@link #endLater}).</li>
 *   <li><b>The peer closes</b> ({@link #peerClosed}): the answer, echoing its code, is owed
 *       ({@link #replyCode}) and goes out once the writes queued before it are out.</li>
 *   <li><b>The peer breaks the protocol</b> or the connection ends without the handshake
 *       ({@link #ended}, {@code 1006}): the code and reason say so.</li>
 * </ul>
 * Once a close frame went ({@link #sent}), no data goes out and none is delivered.
 *
 * <p>Threading: the carrier of the connection's loop only (Netty's owning thread and the
 * connection's fibers, one at a time), as its connection.
 */
final class WsClosing implements Runnable {
    /** This side's close frame went (or the connection ended): no data goes out or is delivered. */
    boolean sent;
    /** The peer's close frame came. */
    boolean received;
    /** The close code the connection reports, or -1 while open. */
    int code = -1;
    /** The close reason that went with {@link #code}. */
    String reason = "";
    /** The peer's close is to be answered once the queued writes are out: the code to echo, 0 for an empty close, -1 for none. */
    int replyCode = -1;
    /** The connection ended (its channel went inactive). */
    private boolean ended;
    /** The fiber waiting in {@link #awaitPeer}, if any. */
    private Thread closer;
    private boolean waitOver;

    /**
     * Records this side's close, unless a close frame went already.
     *
     * @param code the close code
     * @param reason the close reason
     * @return whether this is the first close (its frame is to be sent)
     */
    boolean start(int code, String reason) {
        if (sent) {
            return false;
        }
        sent = true;
        this.code = code;
        this.reason = reason;
        return true;
    }

    /**
     * The peer's close frame arrived.
     *
     * @param code its status code, negative for none
     * @param reason its reason, or null
     * @return whether it opened the handshake (this side had not closed): then {@link #replyCode}
     *     holds the answer owed
     */
    boolean peerClosed(int code, String reason) {
        received = true;
        if (!start(code < 0 ? WebSocket.NO_STATUS : code, reason == null ? "" : reason)) {
            return false;
        }
        replyCode = code < 0 ? 0 : code;
        return true;
    }

    /**
     * The connection ended: without a close handshake the code is {@code 1006} (abnormal closure).
     * Wakes the fiber waiting for the peer's close.
     *
     * @param why the reason of an abnormal closure
     */
    void ended(String why) {
        if (code < 0) {
            code = WebSocket.ABNORMAL_CLOSURE;
            reason = why;
        }
        sent = true;
        ended = true;
        wakeCloser();
    }

    /** Wakes the fiber waiting for the peer's close, if any (the close came, or the connection ended). */
    void wakeCloser() {
        Parking.wake(closer);
    }

    /**
     * Waits (not cancellable: the caller wraps it; at most {@code timeout}) until the peer's close
     * frame arrived or the connection ended. Returns at once if another fiber waits already. A
     * fiber of the loop.
     *
     * @param loop the connection's loop
     * @param timeout the close timeout
     * @throws InterruptedIOException if the fiber is interrupted
     */
    void awaitPeer(EventLoop loop, Duration timeout) throws InterruptedIOException {
        if (received || ended || closer != null) {
            return;
        }
        closer = Thread.currentThread();
        waitOver = false;
        TimerHandle t = Parking.wakeAfter(loop, this, timeout);
        try {
            while (!received && !ended && !waitOver) {
                Parking.parkChecked("a WebSocket close");
            }
        } finally {
            closer = null;
            t.cancel();
        }
    }

    /** The close timeout of {@link #awaitPeer} passed. Loop task. */
    @Override
    public void run() {
        waitOver = true;
        wakeCloser();
    }

    /**
     * The client's end of the handshake: it waits for the server to end the TCP connection, but
     * not longer than {@code timeout}. Owning thread.
     *
     * @param loop the connection's loop
     * @param ch the connection's channel
     * @param timeout the close timeout
     */
    static void endLater(EventLoop loop, io.netty.channel.Channel ch, Duration timeout) {
        loop.schedule(() -> {
            if (ch.isOpen()) {
                ch.close();
            }
        }, timeout);
    }

    /**
     * Checks a close code and reason a user gives {@link WebSocket#close(int, String)}.
     *
     * @param code the close code
     * @param reason the close reason
     * @throws IllegalArgumentException if the code may not be sent or the reason is too long
     */
    static void validate(int code, String reason) {
        Objects.requireNonNull(reason, "reason");
        boolean ok = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
        if (!ok) {
            throw new IllegalArgumentException("close code " + code + " may not be sent: use 1000..1003, 1007..1014 or 3000..4999");
        }
        if (reason.getBytes(StandardCharsets.UTF_8).length > 123) {
            throw new IllegalArgumentException("a close reason is at most 123 bytes in UTF-8");
        }
    }

    @Override
    public String toString() {
        return code + (reason.isEmpty() ? "" : " " + reason);
    }
}
