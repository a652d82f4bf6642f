package io.fiberloop.fiber.internal;

import java.util.List;

/**
 * Where a suspended fiber waits, read from its stack: the API call (fiberloop's or the JDK's) that
 * the application's code waits in, such as {@code Fibers.sleep} or {@code Lock.lock}. Used by the
 * fiber dump and the {@code io.fiberloop.FiberParkedHoldingLock} event.
 */
public final class WaitSite {
    private WaitSite() {
    }

    /**
     * Past the JDK's and fiberloop's parking machinery, the last frame of the library calls
     * (fiberloop's or the JDK's) before the first frame of the application's code (or of a
     * lambda), as {@code Class.method}.
     *
     * <p>Threading: any thread.
     *
     * @param stack a suspended fiber's stack, innermost frame first
     * @return the call it waits in, or {@code null} if the stack has no library frame
     */
    public static String of(List<StackTraceElement> stack) {
        String last = null;
        for (StackTraceElement e : stack) {
            String c = e.getClassName();
            if (isMachinery(c)) {
                continue;
            }
            if (!c.startsWith("io.fiberloop.") && !c.startsWith("java.") && !c.startsWith("javax.") || e.getMethodName().startsWith("lambda$")) {
                break; // the application's code (or a lambda, a handler's body): it called the last library frame
            }
            last = c.substring(c.lastIndexOf('.') + 1) + "." + e.getMethodName();
        }
        return last;
    }

    private static boolean isMachinery(String c) {
        return c.startsWith("java.lang.VirtualThread") || c.startsWith("jdk.internal.")
                || c.startsWith("java.util.concurrent.locks.LockSupport") || c.startsWith("io.fiberloop.fiber.internal.")
                || c.startsWith("java.lang.invoke.");
    }
}
