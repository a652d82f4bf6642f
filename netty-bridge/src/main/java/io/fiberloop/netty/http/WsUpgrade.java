package io.fiberloop.netty.http;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.loop.internal.MustLog;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionData;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionUtil;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtension;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateServerExtensionHandshaker;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A WebSocket route: the server's side of the opening handshake (RFC 6455 §4.2) and the session
 * that follows, in the fiber of the upgrade request. It checks the request ({@code 426} for a
 * request that is not an upgrade or asks another version, {@code 400} for a bad key, {@code 403}
 * for a refused origin), agrees a subprotocol and permessage-deflate, sends the {@code 101}, and has
 * the {@link Http1Connection} hand its channel over to a {@link WsConnection}: Netty's frame
 * decoder and encoder (masked client frames required, frames up to the message limit), the
 * deflate extension if agreed, and Netty's UTF-8 validator. Then it runs the handler, and closes
 * the connection when it ends: {@code 1000} when it returns, {@code 1011} when it throws,
 * {@code 1001} when the server shuts down.
 *
 * <p>Threading: the upgrade request's fiber; {@link #install} on Netty's owning thread.
 */
final class WsUpgrade implements HttpHandler {
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private final WebSocketOptions options;
    private final WebSocketHandler handler;

    WsUpgrade(WebSocketOptions options, WebSocketHandler handler) {
        this.options = options;
        this.handler = handler;
    }

    @Override
    public HttpResponse handle(HttpRequest req) throws Exception {
        HttpHeaders h = req.head.headers();
        if (!h.containsValue(HttpHeaderNames.UPGRADE, "websocket", true) || !h.containsValue(HttpHeaderNames.CONNECTION, "upgrade", true)) {
            return HttpResponse.error(426, "this is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)\n")
                    .header("Upgrade", "websocket").header("Sec-WebSocket-Version", "13");
        }
        if (!"13".equals(h.get(HttpHeaderNames.SEC_WEBSOCKET_VERSION))) {
            return HttpResponse.error(426, "WebSocket version 13 only\n").header("Sec-WebSocket-Version", "13");
        }
        String key = h.get(HttpHeaderNames.SEC_WEBSOCKET_KEY);
        if (!validKey(key)) {
            return HttpResponse.error(400, "bad Sec-WebSocket-Key\n");
        }
        if (!options.originAllowed(h.get(HttpHeaderNames.ORIGIN))) {
            return HttpResponse.error(403, "origin not allowed\n");
        }
        Exchange ex = req.exchange;
        if (!ex.body.ended() || req.contentLength() > 0) {
            return HttpResponse.error(400, "a WebSocket upgrade request has no body\n");
        }
        String protocol = chooseSubprotocol(h.get(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL));
        WebSocketServerExtension deflate = options.compression() ? deflate(h.get(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS)) : null;

        DefaultFullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS,
                Unpooled.EMPTY_BUFFER);
        HttpHeaders rh = res.headers();
        rh.set(HttpHeaderNames.UPGRADE, "websocket");
        rh.set(HttpHeaderNames.CONNECTION, "Upgrade");
        rh.set(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT, accept(key));
        if (protocol != null) {
            rh.set(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, protocol);
        }
        if (deflate != null) {
            rh.set(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS, format(deflate.newReponseData()));
        }
        if (!(ex.conn instanceof Http1Connection conn)) {
            return HttpResponse.error(426, "WebSockets are served over HTTP/1.1 only: connect without HTTP/2\n")
                    .header("Upgrade", "websocket");
        }
        ServerLoop sl = conn.server;
        WsConnection ws = new WsConnection(sl.loop, sl.queue, options, req, false);
        ws.agreed(protocol, deflate != null);
        ex.status = 101;
        conn.upgrade(res, p -> install(p, ws, deflate, options));
        ex.headSent = true;
        conn.flush(); // the hand-over runs with this flush
        if (!ws.installed()) {
            return HttpResponse.switched(); // the client left before the 101 went out
        }
        ws.session = ex.task.task(); // a task from now on: closing the server cancels the session
        sl.webSocketOpened(ws);
        int code = WebSocket.NORMAL_CLOSURE;
        String reason = "";
        try {
            handler.handle(ws);
        } catch (CancelledException e) {
            code = WebSocket.GOING_AWAY;
            reason = "server shutting down";
        } catch (Throwable e) {
            if (e instanceof IOException && !ws.isOpen()) {
                // the peer left while the handler sent: the end of the session, not a failure
                Dispatcher.log.debug("WebSocket {} ended while its handler sent: {}", ws, e.toString());
            } else {
                code = WebSocket.INTERNAL_ERROR;
                reason = "internal server error";
                MustLog.error(Dispatcher.log, "WebSocket handler of {} (route {}) failed", req.uri(), req.route(), e);
            }
        } finally {
            ws.endSession(code, reason);
        }
        return HttpResponse.switched();
    }

    /** Puts the WebSocket's handlers in place of the HTTP connection's. Netty's owning thread, after the 101 was written. */
    static void install(ChannelPipeline p, WsConnection ws, WebSocketServerExtension deflate, WebSocketOptions options) {
        WebSocketDecoderConfig cfg = WebSocketDecoderConfig.newBuilder()
                .expectMaskedFrames(true)
                .allowExtensions(deflate != null)
                .maxFramePayloadLength(options.maxMessageSize())
                .closeOnProtocolViolation(true)
                .build();
        // the WebSocket handlers go in first; the HTTP decoder is removed last, so that bytes it
        // holds (frames sent right behind the upgrade request) pass on to the frame decoder
        // the encoder goes first: the close frames that the decoder and the UTF-8 validator write
        // for a protocol error travel from their place towards the head, and must pass it
        p.addAfter(Http1Connection.DECODER, "fiberloop-ws-encoder", new WebSocket13FrameEncoder(false));
        p.addAfter("fiberloop-ws-encoder", "fiberloop-ws-decoder", new WebSocket13FrameDecoder(cfg));
        String last = "fiberloop-ws-decoder";
        if (deflate != null) {
            p.addAfter(last, "fiberloop-ws-inflate", deflate.newExtensionDecoder());
            p.addAfter("fiberloop-ws-inflate", "fiberloop-ws-deflate", deflate.newExtensionEncoder());
            last = "fiberloop-ws-deflate";
        }
        p.addAfter(last, "fiberloop-ws-utf8", new Utf8FrameValidator(true));
        p.replace(Http1Connection.class, "fiberloop-ws", ws);
        p.remove(Http1Connection.ENCODER);
        p.remove(Http1Connection.DECODER);
    }

    private String chooseSubprotocol(String offered) {
        if (offered == null || options.subprotocols().isEmpty()) {
            return null;
        }
        List<String> theirs = List.of(offered.split(","));
        for (String mine : options.subprotocols()) {
            for (String t : theirs) {
                if (t.trim().equals(mine)) {
                    return mine;
                }
            }
        }
        return null;
    }

    private WebSocketServerExtension deflate(String offered) {
        if (offered == null) {
            return null;
        }
        PerMessageDeflateServerExtensionHandshaker hs = new PerMessageDeflateServerExtensionHandshaker(6, true, 15, false, false,
                options.maxMessageSize());
        for (WebSocketExtensionData d : WebSocketExtensionUtil.extractExtensions(offered)) {
            WebSocketServerExtension e = hs.handshakeExtension(d);
            if (e != null) {
                return e;
            }
        }
        return null;
    }

    private static String format(WebSocketExtensionData d) {
        StringBuilder sb = new StringBuilder(d.name());
        for (Map.Entry<String, String> e : d.parameters().entrySet()) {
            sb.append("; ").append(e.getKey());
            if (e.getValue() != null) {
                sb.append('=').append(e.getValue());
            }
        }
        return sb.toString();
    }

    private static boolean validKey(String key) {
        if (key == null) {
            return false;
        }
        try {
            return Base64.getDecoder().decode(key.trim()).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The {@code Sec-WebSocket-Accept} for {@code key}: base64(SHA-1(key + GUID)). */
    static String accept(String key) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            return Base64.getEncoder().encodeToString(sha1.digest((key.trim() + GUID).getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-1", e);
        }
    }
}
