package io.fiberloop.loop.internal;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Every reach of loop-core into the JDK's internals, in one place (see {@code docs/reflection.md}):
 *
 * <ul>
 *   <li>{@code Thread.currentCarrierThread()}, package-private and intrinsic: the carrier thread of
 *       the caller, the platform thread itself or the one a virtual thread is mounted on, which is
 *       how a fiber finds its loop. It needs {@code --add-opens java.base/java.lang} (the flag
 *       fiberloop's fibers need anyway). Without it {@link #currentCarrier()} falls back to
 *       {@link Thread#currentThread()}, which is exact for loops that host no fibers.</li>
 * </ul>
 *
 * <p>Threading: any thread.
 */
public final class JdkReach {
    private static final MethodHandle CURRENT_CARRIER = findCurrentCarrier();

    private JdkReach() {
    }

    private static MethodHandle findCurrentCarrier() {
        try {
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(Thread.class, MethodHandles.lookup());
            return lookup.findStatic(Thread.class, "currentCarrierThread", MethodType.methodType(Thread.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** {@return whether carriers of virtual threads can be told apart (java.lang is open to loop-core)} */
    public static boolean carrierExact() {
        return CURRENT_CARRIER != null;
    }

    /** {@return the caller's carrier thread: itself if it is a platform thread, else the thread it is mounted on} */
    public static Thread currentCarrier() {
        if (CURRENT_CARRIER == null) {
            return Thread.currentThread();
        }
        try {
            return (Thread) CURRENT_CARRIER.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
