package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.netty.util.concurrent.DefaultPromise;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.io.IOException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class NettyFuturesTest {

    @Test
    void awaitReturnsValuesAndThrowsCauses() throws Exception {
        try (EventLoop loop = NettyLoops.newLoop()) {
            loop.run(() -> {
                Promise<String> done = ImmediateEventExecutor.INSTANCE.newPromise();
                done.setSuccess("now");
                assertEquals("now", NettyFutures.await(done));

                IllegalArgumentException unchecked = new IllegalArgumentException("bad");
                assertSame(unchecked, assertThrows(IllegalArgumentException.class,
                        () -> NettyFutures.await(ImmediateEventExecutor.INSTANCE.newFailedFuture(unchecked))));

                IOException checked = new IOException("io");
                CompletionException ce = assertThrows(CompletionException.class,
                        () -> NettyFutures.await(ImmediateEventExecutor.INSTANCE.newFailedFuture(checked)));
                assertSame(checked, ce.getCause());

                Promise<String> later = new DefaultPromise<>(GlobalEventExecutor.INSTANCE);
                Thread.ofPlatform().start(() -> later.setSuccess("later"));
                assertEquals("later", NettyFutures.await(later));

                Promise<String> cancelled = new DefaultPromise<>(GlobalEventExecutor.INSTANCE);
                cancelled.cancel(false);
                assertThrows(CancelledException.class, () -> NettyFutures.await(cancelled));
                return null;
            });
        }
    }

    @Test
    void awaitingACompletedFutureDoesNotPark() throws Exception {
        try (EventLoop loop = NettyLoops.newLoop()) {
            loop.run(() -> {
                // completed on another executor: a listener would be notified from that executor's
                // thread, so only the already-done shortcut returns without suspending
                Promise<String> done = new DefaultPromise<String>(GlobalEventExecutor.INSTANCE).setSuccess("ready");
                boolean[] witnessRan = {false};
                Fibers.spawn(() -> {
                    witnessRan[0] = true; // runs only once this fiber suspends
                    return null;
                });
                assertEquals("ready", NettyFutures.await(done));
                assertFalse(witnessRan[0], "await parked on a future that was already complete");
                return null;
            });
        }
    }

    @Test
    void cancellingTheAwaitingFiberLeavesTheNettyFutureAlone() throws Exception {
        try (EventLoop loop = NettyLoops.newLoop()) {
            loop.run(() -> {
                Promise<String> pending = new DefaultPromise<>(GlobalEventExecutor.INSTANCE);
                Task<String> waiter = Fibers.spawn(() -> NettyFutures.await(pending));
                Fibers.yieldNow();
                waiter.cancel();
                assertThrows(CancellationException.class, waiter::join);
                assertFalse(pending.isDone(), "the I/O the future stands for goes on");
                pending.setSuccess("done anyway");
                return null;
            });
        }
    }
}
