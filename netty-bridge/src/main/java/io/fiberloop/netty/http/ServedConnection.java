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

    /** @return whether an exchange runs on this connection */
    boolean busy();

    /** @return the connection's channel */
    Channel channel();
}
