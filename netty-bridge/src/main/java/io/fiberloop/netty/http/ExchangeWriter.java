package io.fiberloop.netty.http;

/**
 * The server's {@link BodyWriter}s: they know the request they answer (for what a body needs of
 * it, such as an event stream's {@code Last-Event-ID}).
 *
 * <p>Threading: the request's fiber.
 */
interface ExchangeWriter extends BodyWriter {
    /** @return the request this body answers */
    HttpRequest request();
}
