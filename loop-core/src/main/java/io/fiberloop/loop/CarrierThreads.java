package io.fiberloop.loop;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Finds the carrier thread of the caller: the platform thread itself, or the platform thread a
 * virtual thread is mounted on. Uses the JDK's package-private, intrinsic
 * {@code Thread.currentCarrierThread()} when {@code java.lang} is open to us (the flag fiberloop's
 * fibers need anyway); without it, falls back to {@link Thread#currentThread()}, which is exact
 * for loops that host no fibers.
 */
final class CarrierThreads {
    private static final MethodHandle CURRENT_CARRIER = findCurrentCarrier();

    private CarrierThreads() {
    }

    private static MethodHandle findCurrentCarrier() {
        try {
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(Thread.class, MethodHandles.lookup());
            return lookup.findStatic(Thread.class, "currentCarrierThread", MethodType.methodType(Thread.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** @return whether carriers of virtual threads can be told apart (java.lang is open) */
    static boolean exact() {
        return CURRENT_CARRIER != null;
    }

    static Thread current() {
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
