package io.fiberloop.netty.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.nio.charset.StandardCharsets;

/**
 * Reassembles one WebSocket connection's data frames into whole {@link WebSocket.Message}s: a
 * final frame that starts a message is converted at once; the fragments of a longer one are
 * gathered (without copying) until its final fragment, up to the message limit. Netty's frame
 * decoder has already refused what RFC 6455 forbids (a new message inside a fragmented one, a
 * continuation without a start, control frames that are too long); the checks here that repeat
 * it are guards.
 *
 * <p>Threading: the connection's owning thread.
 */
final class WsAssembler {
    /** What {@link #add} returns for a message past the limit: the connection closes with {@code 1009}. */
    static final WebSocket.Message TOO_BIG = WebSocket.Message.wrap(new byte[0]);

    private final int maxMessageSize;
    /** The fragments of the message being gathered, or {@code null}. */
    private CompositeByteBuf partial;
    private boolean partialText;

    WsAssembler(int maxMessageSize) {
        this.maxMessageSize = maxMessageSize;
    }

    /**
     * Takes a data frame (text, binary or continuation; released here).
     *
     * @param f the frame
     * @return the message it completes; {@code null} while more fragments are to come (or a guard
     *     dropped the frame); {@link #TOO_BIG} when the message passed the limit (what was
     *     gathered is released)
     */
    WebSocket.Message add(WebSocketFrame f) {
        if (!(f instanceof ContinuationWebSocketFrame)) {
            release(); // a guard: the decoder refuses a new message inside a fragmented one
            partialText = f instanceof TextWebSocketFrame;
            if (f.isFinalFragment()) {
                return toMessage(f.content(), partialText);
            }
            partial = f.content().alloc().compositeBuffer(1024);
        } else if (partial == null) {
            f.release(); // a guard: the decoder refuses a continuation without a start
            return null;
        }
        ByteBuf piece = f.content();
        if ((long) partial.readableBytes() + piece.readableBytes() > maxMessageSize) {
            f.release();
            release();
            return TOO_BIG;
        }
        partial.addComponent(true, piece.retain());
        f.release();
        if (!f.isFinalFragment()) {
            return null;
        }
        CompositeByteBuf whole = partial;
        partial = null;
        return toMessage(whole, partialText);
    }

    /** {@return whether a fragmented message is being gathered (its rest must still be read)} */
    boolean gathering() {
        return partial != null;
    }

    /** Releases the fragments gathered so far, if any. */
    void release() {
        if (partial != null) {
            partial.release();
            partial = null;
        }
    }

    /** Converts and releases {@code content}. */
    private static WebSocket.Message toMessage(ByteBuf content, boolean text) {
        try {
            return text ? WebSocket.Message.text(content.toString(StandardCharsets.UTF_8))
                    : WebSocket.Message.wrap(ByteBufUtil.getBytes(content));
        } finally {
            content.release();
        }
    }
}
