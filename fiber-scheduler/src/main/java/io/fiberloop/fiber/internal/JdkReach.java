package io.fiberloop.fiber.internal;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.InaccessibleObjectException;
import java.util.concurrent.Executor;

/**
 * Every reach of fiber-scheduler into the JDK's internals, in one place (see
 * {@code docs/reflection.md}). When the JDK offers a public virtual-thread scheduler API, only
 * this class changes.
 *
 * <ul>
 *   <li>The package-private constructor {@code java.lang.ThreadBuilders$VirtualThreadBuilder(Executor)},
 *       which gives a virtual thread a scheduler of our choosing (JDK 21 to 25 have it). It needs
 *       {@code --add-opens java.base/java.lang}; there is no fallback: building a fiber loop without
 *       it fails with a message naming the flag ({@link #checkVirtualThreads()}).</li>
 *   <li>{@code sun.nio.ch.Poller}, initialised by name so that the JDK starts its socket pollers on
 *       a platform thread before any fiber needs them ({@link JdkPoller}). No flag (loading a class
 *       needs no access); if the class is missing, {@link JdkPoller} exercises a loopback socket
 *       instead.</li>
 * </ul>
 */
public final class JdkReach {
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

    private JdkReach() {
    }

    /** Throws, with a message that says how to fix it, if fibers cannot run in this JVM. */
    static void checkVirtualThreads() {
        if (UNAVAILABLE != null) {
            throw new IllegalStateException(UNAVAILABLE.getMessage(), UNAVAILABLE.getCause());
        }
    }

    /**
     * {@return a virtual-thread builder whose threads are scheduled by {@code scheduler}}
     *
     * @param scheduler runs the continuations of the threads the builder makes
     */
    static Thread.Builder.OfVirtual virtualThreadBuilder(Executor scheduler) {
        checkVirtualThreads();
        try {
            return (Thread.Builder.OfVirtual) NEW_BUILDER.invokeExact(scheduler);
        } catch (Throwable t) {
            throw new IllegalStateException("could not create a virtual-thread builder", t);
        }
    }

    /**
     * Initialises {@code sun.nio.ch.Poller}, whose static initialiser starts the JDK's socket
     * pollers, on the calling thread.
     *
     * @return false if this JDK has no such class
     */
    static boolean initializePollers() {
        try {
            Class.forName("sun.nio.ch.Poller", true, null);
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
