package io.fiberloop.fiber.internal;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.Method;
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
 *   <li>The package-private static {@code java.lang.ThreadBuilders.newVirtualThread(Executor, String,
 *       int, Runnable)}, which the builder's {@code unstarted} calls: a fiber's thread is made with
 *       it directly, without a builder per fiber (same flag). If this JDK lacks it, the builder
 *       above makes the thread instead; the thread is the same.</li>
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
    /** {@code ThreadBuilders.newVirtualThread(Executor, String, int, Runnable)}, or {@code null} (use the builder). */
    private static final MethodHandle NEW_THREAD;
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
        NEW_THREAD = error == null ? findNewVirtualThread() : null;
    }

    /** The static factory behind the builder, or {@code null} if this JDK has none of that shape. */
    private static MethodHandle findNewVirtualThread() {
        try {
            Method m = Class.forName("java.lang.ThreadBuilders")
                    .getDeclaredMethod("newVirtualThread", Executor.class, String.class, int.class, Runnable.class);
            m.setAccessible(true);
            return MethodHandles.lookup().unreflect(m);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
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
     * An unstarted virtual thread scheduled by {@code scheduler}: as
     * {@code virtualThreadBuilder(scheduler).name(name).unstarted(task)}, without the builder.
     * It inherits the caller's inheritable thread locals and context class loader, as a thread
     * from a builder does.
     *
     * @param scheduler runs the thread's continuation
     * @param name the thread's name, or {@code null} for none
     * @param task what the thread runs
     * @return the thread, not started
     */
    static Thread newVirtualThread(Executor scheduler, String name, Runnable task) {
        MethodHandle mh = NEW_THREAD;
        if (mh == null) {
            Thread.Builder.OfVirtual b = virtualThreadBuilder(scheduler);
            return (name != null ? b.name(name) : b).unstarted(task);
        }
        try {
            return (Thread) mh.invokeExact(scheduler, name, 0, task);
        } catch (Throwable t) {
            throw new IllegalStateException("could not create a virtual thread", t);
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
