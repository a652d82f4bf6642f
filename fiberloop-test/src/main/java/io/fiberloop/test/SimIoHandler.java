package io.fiberloop.test;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/**
 * The Netty I/O handler of a loop on a {@link SimNetwork}: each run makes the network's due
 * deliveries (bytes, ends of stream, resets, accepted connections) and the reads the channels
 * asked for. It blocks only when the loop says it may and nothing is due, by parking the polling
 * thread until the loop wakes it, as Netty's {@code LocalIoHandler} does.
 *
 * <p>Threading: Netty's owning thread (the loop's work fiber), except {@link #wakeup()}.
 */
final class SimIoHandler implements IoHandler {
    private final SimNetwork network;
    private final Set<SimChannel.Handle> registered = new LinkedHashSet<>();
    private volatile Thread executionThread;

    SimIoHandler(SimNetwork network) {
        this.network = network;
    }

    @Override
    public int run(IoHandlerContext context) {
        executionThread = Thread.currentThread();
        int n = network.deliverDue();
        if (n == 0 && context.canBlock() && !network.hasReadyWork()) {
            LockSupport.parkNanos(this, Math.max(1, context.delayNanos(System.nanoTime())));
            n = network.deliverDue();
        }
        return n;
    }

    @Override
    public void wakeup() {
        Thread t = executionThread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    @Override
    public void prepareToDestroy() {
        for (SimChannel.Handle h : new ArrayList<>(registered)) {
            h.closeNow();
        }
        registered.clear();
        network.dropAll();
    }

    @Override
    public IoRegistration register(IoHandle handle) {
        if (!(handle instanceof SimChannel.Handle h)) {
            throw new IllegalArgumentException("a loop on the simulated network carries only its own channels, not "
                    + handle.getClass().getName() + ": open connections with Tcp, TcpServer, HttpServer or HttpClient");
        }
        registered.add(h);
        return new IoRegistration() {
            private boolean valid = true;

            @Override
            public <T> T attachment() {
                return null;
            }

            @Override
            public long submit(IoOps ops) {
                return 0;
            }

            @Override
            public boolean isValid() {
                return valid;
            }

            @Override
            public boolean cancel() {
                if (!valid) {
                    return false;
                }
                valid = false;
                registered.remove(h);
                return true;
            }
        };
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return SimChannel.Handle.class.isAssignableFrom(handleType);
    }
}
