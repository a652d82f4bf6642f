package io.fiberloop.fiber;

import io.fiberloop.fiber.internal.FiberHost;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopGroup;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Builds event loops that host fibers: their carrier thread runs the loop's fibers, and the
 * loop's own work (tasks, timers, I/O) runs inside a work fiber, so that code on the loop may
 * suspend in fiber style. {@code run(main)} runs {@code main} in a root fiber.
 *
 * {@snippet :
 * try (EventLoop loop = FiberLoops.newLoop()) {
 *     String answer = loop.run(() -> {
 *         Task<String> t = Fibers.spawn(() -> { Fibers.sleep(Duration.ofMillis(10)); return "done"; });
 *         return t.join();
 *     });
 * }
 * }
 *
 * <p>A loop from {@link EventLoop#create()} hosts no fibers: asking for fibers is always explicit.
 * {@code io.fiberloop.netty.NettyLoops} builds fiber loops whose I/O is Netty's.
 *
 * <h2>JVM flags</h2>
 * Building a fiber loop needs {@code --add-opens java.base/java.lang=ALL-UNNAMED} (the loop gives
 * virtual threads its own scheduler through the JDK's package-private builder; without the flag,
 * building fails with a message naming it), and wants {@code -Djdk.trackAllThreads=false} (so
 * that a suspended fiber that becomes unreachable is collected; a warning is logged once without
 * it). See {@code docs/reflection.md}.
 *
 * <p>Threading: every method is safe from any thread.
 */
public final class FiberLoops {
    private FiberLoops() {
    }

    /**
     * A fiber loop with the default settings of {@link EventLoop#builder()}.
     *
     * @return a new loop, not started
     * @throws IllegalStateException if fibers cannot run in this JVM (the message names the flag)
     */
    public static EventLoop newLoop() {
        return builder().build();
    }

    /**
     * A loop builder preset to host fibers; set the name, clock, driver, watchdog... as usual.
     *
     * @return a new builder
     */
    public static EventLoop.Builder builder() {
        return EventLoop.builder().host(FiberHost::create);
    }

    /**
     * A group of {@code size} fiber loops with default settings.
     *
     * @param size the number of loops (one per core is usual)
     * @return the group
     */
    public static LoopGroup newGroup(int size) {
        return newGroup(size, b -> { });
    }

    /**
     * A group of {@code size} fiber loops, each built by a builder that {@code configure} adjusts.
     *
     * @param size the number of loops
     * @param configure adjusts each loop's builder (already set to host fibers)
     * @return the group
     */
    public static LoopGroup newGroup(int size, Consumer<EventLoop.Builder> configure) {
        Objects.requireNonNull(configure, "configure");
        return LoopGroup.create(size, b -> configure.accept(b.host(FiberHost::create)));
    }

    /**
     * {@return whether it hosts fibers (and is not closed)}
     *
     * @param loop a loop
     */
    public static boolean hostsFibers(EventLoop loop) {
        return FiberHost.ofOrNull(Objects.requireNonNull(loop, "loop")) != null;
    }

    /**
     * The loop's live tasks: started and not ended, running or suspended (a server's request and
     * connection tasks among them), for metrics. From another thread than the loop's the count
     * may be a moment old.
     *
     * @param loop a loop
     * @return the number of live tasks; 0 if the loop hosts no fibers or is closed
     */
    public static int liveTasks(EventLoop loop) {
        FiberHost h = FiberHost.ofOrNull(Objects.requireNonNull(loop, "loop"));
        return h == null ? 0 : h.liveCount();
    }
}
