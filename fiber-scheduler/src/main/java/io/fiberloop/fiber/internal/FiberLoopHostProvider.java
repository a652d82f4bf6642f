package io.fiberloop.fiber.internal;

import io.fiberloop.loop.internal.MustLog;
import io.fiberloop.loop.spi.LoopCarrier;
import io.fiberloop.loop.spi.LoopHost;
import io.fiberloop.loop.spi.LoopHostProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Service-provider plumbing, not an API: found by {@link java.util.ServiceLoader}, it makes every
 * {@link io.fiberloop.loop.EventLoop} a fiber host when this module is present. Applications never
 * call it.
 */
public final class FiberLoopHostProvider implements LoopHostProvider {
    private static final Logger log = LoggerFactory.getLogger(FiberLoopHostProvider.class);
    private static volatile boolean gcChecked;

    /** Called by {@link java.util.ServiceLoader}. */
    public FiberLoopHostProvider() {
    }

    @Override
    public LoopHost create(LoopCarrier carrier) {
        VirtualThreads.checkAvailable();
        JdkPoller.ensureInitialized();
        checkGarbageCollection();
        return new FiberHost(carrier);
    }

    private static void checkGarbageCollection() {
        if (gcChecked) {
            return;
        }
        gcChecked = true;
        if (!"false".equals(System.getProperty("jdk.trackAllThreads"))) {
            MustLog.warn(log, "-Djdk.trackAllThreads=false is not set: a suspended fiber that becomes unreachable will never be "
                    + "garbage-collected (the JDK keeps every parked virtual thread reachable). "
                    + "Add -Djdk.trackAllThreads=false to the JVM's flags (./fiberloop and fiberloop's tests do).");
        }
    }
}
