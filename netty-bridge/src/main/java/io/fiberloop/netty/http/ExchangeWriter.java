package io.fiberloop.netty.http;

/**
 * The server's {@link BodyWriter}s: they know the request they answer (for what a body needs of
 * it, such as an event stream's {@code Last-Event-ID}).
 *
 * <p>Threading: the request's fiber.
 */
interface ExchangeWriter extends BodyWriter {
    /** {@return the request this body answers} */
    HttpRequest request();

    /** {@return whether a file region may go to the socket as it is (plain TCP, no compression)} */
    boolean zeroCopy();

    /**
     * Queues a file region (taking it); the body's {@code Content-Length} must count it.
     *
     * @param region the region
     * @throws java.io.IOException if the connection is closed
     */
    void writeRegion(io.netty.channel.FileRegion region) throws java.io.IOException;
}
