package io.fiberloop.netty.internal;

import io.netty.channel.ManualIoEventLoop;
import java.lang.reflect.Field;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Every reach of netty-bridge into Netty's internals, in one place (see {@code docs/reflection.md}):
 *
 * <ul>
 *   <li>{@code ManualIoEventLoop.owningThread}, a private {@code AtomicReference<Thread>}: when a
 *       loop hands its work to a new work fiber, the Netty driver moves Netty's loop ownership to
 *       it, which Netty's API cannot do ({@code setOwningThread} works once). On the class path
 *       Netty's packages are open; on the module path it needs
 *       {@code --add-opens io.netty.transport/io.netty.channel=io.fiberloop.netty}. Without it,
 *       {@link #owningThread} returns {@code null}: the driver still works until the first
 *       hand-over, and then logs an error naming the flag and stops that loop's Netty I/O.</li>
 * </ul>
 *
 * <p>Threading: any thread.
 */
public final class NettyReach {
    private static final Field OWNER_FIELD;
    private static final String OWNER_FIELD_PROBLEM;

    static {
        Field f = null;
        String problem = null;
        try {
            f = ManualIoEventLoop.class.getDeclaredField("owningThread");
            f.setAccessible(true);
        } catch (NoSuchFieldException | RuntimeException e) {
            f = null;
            problem = e.toString();
        }
        OWNER_FIELD = f;
        OWNER_FIELD_PROBLEM = problem;
    }

    private NettyReach() {
    }

    /**
     * {@return its owning-thread reference, or {@code null} if it cannot be reached (see {@link #owningThreadProblem()})}
     *
     * @param loop a Netty loop
     */
    @SuppressWarnings("unchecked")
    public static AtomicReference<Thread> owningThread(ManualIoEventLoop loop) {
        if (OWNER_FIELD == null) {
            return null;
        }
        try {
            return (AtomicReference<Thread>) OWNER_FIELD.get(loop);
        } catch (IllegalAccessException | RuntimeException e) {
            return null;
        }
    }

    /** {@return why {@link #owningThread} cannot reach the field, or {@code null} if it can} */
    public static String owningThreadProblem() {
        return OWNER_FIELD_PROBLEM;
    }
}
