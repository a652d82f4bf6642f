package io.fiberloop.netty.http;

import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.ssl.SslContext;

/**
 * What an {@link HttpServer} was built with, shared by its connections on every loop: the routes
 * and filters, the limits and timeouts. Immutable; any thread.
 */
final class ServerConfig {
    final Router router;
    final HttpHandler notFound;
    final HttpServer.BeforeFilter[] before;
    final HttpServer.AfterFilter[] after;
    final HttpDecoderConfig decoderConfig;
    final long maxBodySize;
    final long requestTimeoutNanos;
    final long idleTimeoutNanos;
    final boolean accessLog;
    final SslContext tls;
    /** The HTTP/2 limits, or {@code null} when HTTP/2 is off. */
    final Http2Options http2;
    final ErrorMappers errors;
    final JsonCodec json;
    final Compression compression;

    ServerConfig(Router router, HttpHandler notFound, HttpServer.BeforeFilter[] before, HttpServer.AfterFilter[] after,
            int maxInitialLineLength, int maxHeaderSize, long maxBodySize, long requestTimeoutNanos, long idleTimeoutNanos,
            boolean accessLog, SslContext tls, Http2Options http2, ErrorMappers errors, JsonCodec json, Compression compression) {
        this.router = router;
        this.notFound = notFound;
        this.before = before;
        this.after = after;
        this.maxBodySize = maxBodySize;
        this.requestTimeoutNanos = requestTimeoutNanos;
        this.idleTimeoutNanos = idleTimeoutNanos;
        this.accessLog = accessLog;
        this.tls = tls;
        this.http2 = http2;
        this.errors = errors;
        this.json = json;
        this.compression = compression;
        this.decoderConfig = new HttpDecoderConfig()
                .setMaxInitialLineLength(maxInitialLineLength)
                .setMaxHeaderSize(maxHeaderSize)
                .setMaxChunkSize(16 * 1024)
                .setStrictLineParsing(true)
                .setAllowDuplicateContentLengths(false);
    }

    /** A request decoder for one connection (Netty's decoders hold per-connection state). */
    Http1Decoder newDecoder(Http1Connection conn) {
        return new Http1Decoder(decoderConfig.clone(), conn);
    }
}
