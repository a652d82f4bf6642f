package io.fiberloop.netty.internal;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server's JVM shutdown hook: on SIGTERM (or {@code System.exit}, or the last non-daemon thread
 * ending) it closes the server within a grace period and logs that it did, so an orchestrator's
 * stop drains the requests in flight instead of cutting them. The server's own close
 * ({@link Listeners#close}) logs what drained and what was cut off; the hook logs the start and
 * the end.
 *
 * <p>Threading: {@link #register} and {@link #unregister} from any thread; the hook runs on a
 * platform thread of its own, named {@code fiberloop-shutdown-<port>}.
 */
public final class ShutdownHook {
    private static final Logger log = LoggerFactory.getLogger(ShutdownHook.class);

    private final Thread thread;

    private ShutdownHook(Thread thread) {
        this.thread = thread;
    }

    /**
     * Registers a hook that calls {@code close} with {@code grace}.
     *
     * @param server what to close, for the log ({@code HTTP server on 127.0.0.1:8080})
     * @param port the server's port, for the hook thread's name
     * @param grace how long requests in flight may take to finish on their own
     * @param close the server's graceful close
     * @return the hook, for {@link #unregister()}
     * @throws IllegalArgumentException if {@code grace} is negative
     */
    public static ShutdownHook register(String server, int port, Duration grace, Consumer<Duration> close) {
        Objects.requireNonNull(grace, "grace");
        Objects.requireNonNull(close, "close");
        if (grace.isNegative()) {
            throw new IllegalArgumentException("the shutdown grace period must not be negative: " + grace
                    + "; use Duration.ZERO to cancel the requests in flight at once");
        }
        Thread t = Thread.ofPlatform().name("fiberloop-shutdown-" + port).unstarted(() -> {
            long start = System.nanoTime();
            log.info("JVM shutting down: closing the {} (grace {} ms)", server, grace.toMillis());
            try {
                close.accept(grace);
                log.info("{} closed after {} ms", server, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            } catch (RuntimeException | Error e) {
                log.error("closing the {} on shutdown failed", server, e);
            }
        });
        Runtime.getRuntime().addShutdownHook(t);
        return new ShutdownHook(t);
    }

    /**
     * Removes the hook (the server was closed otherwise). Does nothing while the JVM is shutting
     * down or from the hook itself.
     */
    public void unregister() {
        if (Thread.currentThread() == thread) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(thread);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs (or ran): nothing to remove
        }
    }
}
