package io.fiberloop.netty;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fibers;
import io.netty.util.concurrent.Future;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Awaiting Netty futures ({@link Future}, {@code ChannelFuture}, {@code Promise}) from a fiber.
 * {@snippet :
 * ChannelFuture connected = bootstrap.connect("127.0.0.1", 8080);
 * NettyFutures.await(connected);                 // suspends this fiber only
 * NettyFutures.await(connected.channel().close());
 * }
 *
 * <h2>Threading</h2>
 * Call {@link #await} from a fiber (it suspends only that fiber) or from a plain thread (it
 * blocks). Not from a loop callback or a Netty handler: those run in the loop's work fiber, which
 * must not wait ({@link IllegalStateException}); add a listener to the future there instead.
 *
 * <h2>Cancellation</h2>
 * Cancelling the awaiting fiber (its task's {@code cancel()} or an expired
 * {@code Fibers.withTimeout}) makes {@code await} throw {@link CancelledException} at once, but
 * does <b>not</b> cancel the Netty future: the I/O it stands for (a connect, a write, a close)
 * continues and completes on its own. Cancel or close it yourself when that matters, e.g.
 * {@code future.cancel(false)} or {@code channel.close()} in a {@code catch} or {@code finally}.
 */
public final class NettyFutures {
    private NettyFutures() {
    }

    /**
     * Waits for {@code future} and returns its value, or throws its failure: an unchecked cause as
     * it is, a checked one wrapped in {@link CompletionException}, a cancelled future as
     * {@link CancelledException}. Does not suspend when the future is already done.
     * <p>Threading: a fiber (suspends it) or a plain thread (blocks it); not a loop callback.
     *
     * @param future the Netty future
     * @param <T> its value type ({@code Void} for channel futures)
     * @return its value
     * @throws CancelledException if the future was cancelled, or the calling fiber is cancelled
     *     while it waits (the I/O goes on)
     * @throws CompletionException wrapping a checked failure (e.g. a {@code ConnectException})
     */
    public static <T> T await(Future<T> future) {
        Objects.requireNonNull(future, "future");
        if (future.isDone()) {
            return resultOf(future);
        }
        CompletableFuture<T> bridge = new CompletableFuture<>();
        future.addListener(f -> {
            if (f.isSuccess()) {
                @SuppressWarnings("unchecked")
                T v = (T) f.getNow();
                bridge.complete(v);
            } else if (f.isCancelled()) {
                bridge.cancel(false);
            } else {
                bridge.completeExceptionally(f.cause());
            }
        });
        return Fibers.await(bridge);
    }

    /** The value of a completed Netty future, or its failure rethrown. */
    static <T> T resultOf(Future<T> future) {
        if (future.isSuccess()) {
            return future.getNow();
        }
        if (future.isCancelled()) {
            throw new CancelledException("the awaited Netty future was cancelled");
        }
        Throwable cause = future.cause();
        if (cause instanceof RuntimeException r) {
            throw r;
        }
        if (cause instanceof Error e) {
            throw e;
        }
        throw new CompletionException(cause);
    }
}
