package io.fiberloop.fiber.internal;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.InaccessibleObjectException;
import java.util.concurrent.Executor;

/**
 * The one place that reaches the JDK's package-private
 * {@code java.lang.ThreadBuilders$VirtualThreadBuilder(Executor)}, the constructor that gives a
 * virtual thread a scheduler of our choosing (JDK 21 to 25 have it; no public API does this yet).
 * When a public scheduler API arrives, only this class changes.
 */
final class VirtualThreads {
    /** The flag the JVM needs; the launcher, the surefire configuration and the jars' manifests set it. */
    static final String FLAG = "--add-opens java.base/java.lang=ALL-UNNAMED";
    private static final MethodHandle NEW_BUILDER;
    private static final IllegalStateException UNAVAILABLE;

    static {
        MethodHandle mh = null;
        IllegalStateException error = null;
        try {
            Class<?> c = Class.forName("java.lang.ThreadBuilders$VirtualThreadBuilder");
            Constructor<?> ctor = c.getDeclaredConstructor(Executor.class);
            ctor.setAccessible(true);
            mh = MethodHandles.lookup().unreflectConstructor(ctor)
                    .asType(MethodType.methodType(Thread.Builder.OfVirtual.class, Executor.class));
        } catch (InaccessibleObjectException e) {
            error = new IllegalStateException("fiberloop's fibers need the JVM flag " + FLAG
                    + " (on the module path: --add-opens java.base/java.lang=io.fiberloop.fiber,io.fiberloop.loop). "
                    + "Start the JVM with it, use ./fiberloop, or put 'Add-Opens: java.base/java.lang' in your jar's manifest. "
                    + "A loop without fibers (EventLoop.create()) needs no flag", e);
        } catch (ReflectiveOperationException | RuntimeException e) {
            error = new IllegalStateException("this JDK (" + Runtime.version() + ") has no "
                    + "java.lang.ThreadBuilders$VirtualThreadBuilder(Executor); fiberloop's fibers need JDK 21 to 25", e);
        }
        NEW_BUILDER = mh;
        UNAVAILABLE = error;
    }

    private VirtualThreads() {
    }

    /** Throws, with a message that says how to fix it, if fibers cannot run in this JVM. */
    static void checkAvailable() {
        if (UNAVAILABLE != null) {
            throw new IllegalStateException(UNAVAILABLE.getMessage(), UNAVAILABLE.getCause());
        }
    }

    /**
     * @param scheduler runs the continuations of the threads the builder makes
     * @return a virtual-thread builder whose threads are scheduled by {@code scheduler}
     */
    static Thread.Builder.OfVirtual builder(Executor scheduler) {
        checkAvailable();
        try {
            return (Thread.Builder.OfVirtual) NEW_BUILDER.invokeExact(scheduler);
        } catch (Throwable t) {
            throw new IllegalStateException("could not create a virtual-thread builder", t);
        }
    }
}
