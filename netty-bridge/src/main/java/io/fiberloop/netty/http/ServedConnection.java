package io.fiberloop.netty.http;

import io.netty.channel.Channel;

/**
 * A connection a {@link ServerLoop} keeps until it closes, whatever its protocol: what the
 * server's graceful close needs of it.
 *
 * <p>Threading: the carrier of the connection's loop.
 */
interface ServedConnection {
    /** Server shutdown: close now if idle, else once the exchanges in flight are done. A fiber of the loop. */
    void shutdown();

    /**
     * Adds the tasks of the exchanges running on this connection (for the server's close).
     *
     * @param tasks where to add them
     */
    void addRunning(java.util.List<io.fiberloop.fiber.Task<?>> tasks);

    /** {@return whether an exchange runs on this connection} */
    boolean busy();

    /** {@return the connection's channel} */
    Channel channel();
}
