package io.fiberloop.netty;

import io.fiberloop.fiber.Task;
import io.fiberloop.netty.internal.Listeners;
import java.util.List;
import java.util.function.Consumer;

/**
 * How a read-handler server ({@code TcpServer.bindReads}) closes on each loop: idle connections end
 * at once, busy ones get the grace for their call, then what is left is closed.
 *
 * <p>Threading: a fiber of the listener's loop, as {@link Listeners.Drain}'s methods.
 */
final class ReadsDrain implements Listeners.Drain {
    @Override
    public void beforeWait(Listeners.Listener l) {
        ifServed(l, ReadHandlerConnection.Served::closing);
    }

    @Override
    public List<Task<?>> running(Listeners.Listener l) {
        ReadHandlerConnection.Served s = l.peekAttachment();
        return s == null ? List.of() : s.calls();
    }

    @Override
    public void afterWait(Listeners.Listener l) {
        ifServed(l, ReadHandlerConnection.Served::closeAll);
    }

    @Override
    public String draining(Listeners.Listener l, List<Task<?>> running) {
        return Listeners.count(running.size(), "connection") + " in a read handler's call";
    }

    /** Runs {@code action} on the read handler's state of {@code l}'s loop, if a connection ever came there. */
    private static void ifServed(Listeners.Listener l, Consumer<ReadHandlerConnection.Served> action) {
        ReadHandlerConnection.Served s = l.peekAttachment();
        if (s != null) {
            action.accept(s);
        }
    }
}
