package io.fiberloop.netty;

import io.netty.channel.ChannelPipeline;

/**
 * Adds Netty handlers, typically codecs, to the pipeline of each new connection, so that its
 * fiber reads and writes decoded messages ({@link MessageConnection}) instead of bytes.
 * {@snippet :
 * PipelineInitializer lines = p -> p.addLast(
 *         new LineBasedFrameDecoder(8192),
 *         new StringDecoder(StandardCharsets.UTF_8),
 *         new StringEncoder(StandardCharsets.UTF_8));
 * }
 * The handlers go after the TLS handler (if the connection uses TLS) and before the connection's
 * own handler, which is always last: what the last decoder emits is what
 * {@link MessageConnection#read()} returns, and what {@link MessageConnection#write} is given
 * travels down through the encoders.
 *
 * <p>Threading: called on Netty's thread of the connection's loop (the loop's work fiber) while
 * the channel is being set up; it must not block. Called once per connection, so create new
 * instances of handlers that are not {@code @Sharable}.
 */
@FunctionalInterface
public interface PipelineInitializer {
    /**
     * Adds handlers to a new connection's pipeline.
     *
     * @param pipeline the pipeline (already holding the TLS handler, if any)
     * @throws Exception anything; the connection is then closed
     */
    void initialize(ChannelPipeline pipeline) throws Exception;
}
