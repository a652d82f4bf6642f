package io.fiberloop.fiber.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the JDK's socket poller threads off the loop, before any fiber runs. The JDK creates them lazily, as virtual threads that inherit the scheduler of the
 * thread that first needs them: if that were one of our fibers, the pollers would live on (and
 * block) that loop. A loopback connect and a read that times out exercise both the read and the
 * write pollers.
 */
final class JdkPoller {
    private static final Logger log = LoggerFactory.getLogger(JdkPoller.class);
    private static volatile boolean initialized;

    private JdkPoller() {
    }

    static void ensureInitialized() {
        if (initialized) {
            return;
        }
        synchronized (JdkPoller.class) {
            if (initialized) {
                return;
            }
            try {
                // Cheapest: initialise sun.nio.ch.Poller (its static initialiser starts the pollers)
                // from a platform thread; fall back to a loopback socket from a default-scheduler
                // virtual thread if the class is not there.
                Thread.ofPlatform().daemon().name("fiberloop-poller-init").start(() -> {
                    if (!JdkReach.initializePollers()) {
                        try {
                            Thread.ofVirtual().name("fiberloop-poller-init").start(JdkPoller::exercise).join();
                        } catch (InterruptedException ie) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }).join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            initialized = true;
        }
    }

    private static void exercise() {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket()) {
            client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 5_000);
            try (Socket accepted = server.accept()) {
                accepted.getOutputStream().write(1);
                InputStream in = client.getInputStream();
                in.read();
                client.setSoTimeout(1);
                try {
                    in.read();
                } catch (SocketTimeoutException expected) {
                    // the read parked on the poller: it exists now
                }
            }
        } catch (IOException e) {
            log.debug("could not pre-start the JDK socket poller (loopback unavailable?): {}", e.toString());
        }
    }
}
