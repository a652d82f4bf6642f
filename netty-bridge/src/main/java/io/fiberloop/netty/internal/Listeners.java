package io.fiberloop.netty.internal;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import io.fiberloop.loop.LoopClosedException;
import io.fiberloop.netty.NettyFutures;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.IoEventLoop;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listening side of a server, shared by {@code TcpServer} and {@code HttpServer}: binds on one
 * loop or on every loop of a group, accepts, tracks the tasks that serve the connections, stops
 * accepting, and closes within one grace period.
 *
 * <h2>Binding</h2>
 * One loop: one listening channel. A group on a transport with {@code SO_REUSEPORT} (epoll,
 * io_uring): each loop binds its own listening channel on the same port and the kernel spreads
 * the connections. A group on NIO: the first loop accepts and registers each connection with the
 * next loop of the group ({@link RoundRobinGroup}). Either way a connection, its Netty handlers and
 * its fibers live on one loop, whose {@link Listener} initialises it.
 *
 * <h2>Closing</h2>
 * {@link #close(Duration, Drain)}: every loop stops accepting first; then, on each loop at the
 * same time, the server's {@link Drain} is told to wind down (an HTTP server closes its idle
 * connections), the tracked tasks get up to the grace period to end on their own, those left are
 * cancelled and waited for, and the {@code Drain} finishes (closes what is left).
 *
 * <p>Threading: {@link #bind} and {@link #close} from any thread (a fiber of a loop is suspended,
 * another thread blocks); {@link Listener#track} on the listener's loop; the accessors from any
 * thread.
 */
public final class Listeners {
    private static final Logger log = LoggerFactory.getLogger(Listeners.class);

    /** Sets up the server's side of the bootstrap and each accepted channel. */
    public interface Setup {
        /**
         * Adds the server's options to the bootstrap (child options, listening-socket options).
         * Any thread, before binding.
         *
         * @param b the bootstrap
         */
        void configure(ServerBootstrap b);

        /**
         * Initialises an accepted channel: its pipeline, its connection, its serving task (tracked
         * with {@link Listener#track}). Netty's owning thread of the listener's loop.
         *
         * @param ch the accepted channel
         * @param listener the listener of the loop that serves it
         * @throws Exception anything; the channel is then closed
         */
        void accepted(Channel ch, Listener listener) throws Exception;
    }

    /** A server's part in closing, on each loop. */
    public interface Drain {
        /**
         * The listener stopped accepting: wind down (e.g. close idle connections). A fiber of the
         * listener's loop.
         *
         * @param l the listener
         */
        default void beforeWait(Listener l) {
        }

        /**
         * The tasks closing waits for (then cancels) on this loop: by default those tracked with
         * {@link Listener#track}. A fiber of the listener's loop.
         *
         * @param l the listener
         * @return the running tasks
         */
        default List<Task<?>> running(Listener l) {
            return List.copyOf(l.tasks);
        }

        /**
         * The tasks have ended (or were cancelled and have unwound): close what is left. A fiber of
         * the listener's loop.
         *
         * @param l the listener
         */
        default void afterWait(Listener l) {
        }

        /**
         * What the server is, for the close's log: {@code TCP server} by default.
         *
         * @return the kind of server
         */
        default String kind() {
            return "TCP server";
        }

        /**
         * What is draining on this loop, for the close's log: by default the connection
         * handlers, by name. A fiber of the listener's loop.
         *
         * @param l the listener
         * @param running the tasks closing waits for ({@link #running})
         * @return e.g. {@code 2 connections (tcp 127.0.0.1:50412 on :7000, tcp 127.0.0.1:50414 on :7000)}
         */
        default String draining(Listener l, List<Task<?>> running) {
            return count(running.size(), "connection") + " (" + names(running) + ")";
        }
    }

    /**
     * {@code n} and {@code noun}, plural unless one: {@code 1 request}, {@code 3 requests}.
     *
     * @param n how many
     * @param noun the singular
     * @return the phrase
     */
    public static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    /**
     * The names of {@code tasks} for a log line: the first five, then how many more.
     *
     * @param tasks the tasks
     * @return e.g. {@code GET /slow, GET /users/{id}, and 3 more}
     */
    public static String names(List<Task<?>> tasks) {
        StringBuilder sb = new StringBuilder();
        int shown = Math.min(tasks.size(), 5);
        for (int i = 0; i < shown; i++) {
            sb.append(i == 0 ? "" : ", ").append(tasks.get(i).name());
        }
        if (tasks.size() > shown) {
            sb.append(", and ").append(tasks.size() - shown).append(" more");
        }
        return sb.toString();
    }

    /** The server's part on one loop: its listening channel (if it accepts there) and its tracked tasks. */
    public static final class Listener {
        private final EventLoop loop;
        private final IoEventLoop netty;
        private final Set<Task<?>> tasks = new LinkedHashSet<>();
        private volatile int live;
        /** Connections served without a task of their own (a read handler's), counted in {@link #live}. */
        private int untracked;
        private Channel serverChannel;
        private volatile Object attachment;

        Listener(EventLoop loop) {
            this.loop = loop;
            this.netty = NettyLoops.nettyLoop(loop);
        }

        /**
         * The server's own state for this loop, created on first use. The listener's loop.
         *
         * @param create makes it
         * @param <T> its type
         * @return the state
         */
        @SuppressWarnings("unchecked")
        public <T> T attachment(java.util.function.Supplier<T> create) {
            Object a = attachment;
            if (a == null) {
                a = create.get();
                attachment = a;
            }
            return (T) a;
        }

        /**
         * {@return the server's state for this loop, or {@code null} if none was created yet. Any thread (a racy read from another).}
         *
         * @param <T> its type
         */
        @SuppressWarnings("unchecked")
        public <T> T peekAttachment() {
            return (T) attachment;
        }

        /** {@return the loop this listener serves on} */
        public EventLoop loop() {
            return loop;
        }

        /**
         * Tracks {@code task} until it ends: closing waits for it, then cancels it. The
         * listener's loop.
         *
         * @param task a task of this loop that serves a connection
         */
        public void track(Task<?> task) {
            tasks.add(task);
            live = tasks.size() + untracked;
            task.onComplete((v, e) -> {
                tasks.remove(task);
                live = tasks.size() + untracked;
            });
        }

        /** A connection served without a task of its own opened: counted in {@link #live()}. The listener's loop. */
        public void connectionOpened() {
            untracked++;
            live = tasks.size() + untracked;
        }

        /** A connection counted by {@link #connectionOpened()} closed. The listener's loop. */
        public void connectionClosed() {
            untracked--;
            live = tasks.size() + untracked;
        }

        /** {@return the tracked tasks still running, plus the connections served without one. Any thread (a racy read from another).} */
        public int live() {
            return live;
        }

    }

    private final List<Listener> listeners;
    private final Map<IoEventLoop, Listener> byNettyLoop = new IdentityHashMap<>();
    private final Setup setup;
    private final NettyTransport transport;
    private volatile InetSocketAddress address;
    private volatile boolean closing;
    private volatile boolean reusePort;

    private Listeners(List<EventLoop> loops, NettyTransport transport, Setup setup) {
        List<Listener> ls = new ArrayList<>(loops.size());
        for (EventLoop loop : loops) {
            Listener l = new Listener(loop);
            ls.add(l);
            byNettyLoop.put(l.netty, l);
        }
        this.listeners = List.copyOf(ls);
        this.setup = setup;
        this.transport = transport;
    }

    /**
     * Binds {@code host:port} on every loop of {@code loops} (see "Binding" above) and starts accepting.
     *
     * @param loops loops built with the Netty driver, all on one transport
     * @param transport that transport ({@code NettyLoops.transport(...)}, which checks it is one)
     * @param host the address to bind
     * @param port the port, 0 for any free one (every loop then binds the one picked)
     * @param setup the server's options and connection set-up
     * @return the bound listeners
     * @throws IOException if the address cannot be bound (the listeners bound so far are closed)
     */
    public static Listeners bind(List<EventLoop> loops, NettyTransport transport, String host, int port, Setup setup) throws IOException {
        Listeners ls = new Listeners(loops, transport, setup);
        Listener first = ls.listeners.get(0);
        boolean reuse = loops.size() > 1 && ls.transport.supportsReusePort();
        ls.reusePort = reuse;
        try {
            if (reuse) {
                int p = port;
                for (Listener l : ls.listeners) {
                    int bindPort = p;
                    Loops.onLoop(l.loop, () -> {
                        ls.bindHere(l, host, bindPort, true);
                        return null;
                    });
                    p = ls.address.getPort();
                }
            } else {
                // the other loops only get connections handed to them by Netty: start them now
                // (a loop starts on its first task) so that their drivers poll
                for (Listener l : ls.listeners.subList(1, ls.listeners.size())) {
                    Loops.onLoop(l.loop, () -> null);
                }
                Loops.onLoop(first.loop, () -> {
                    ls.bindHere(first, host, port, false);
                    return null;
                });
            }
        } catch (IOException | RuntimeException e) {
            ls.close(Duration.ZERO, new Drain() { });
            throw e;
        }
        return ls;
    }

    private void bindHere(Listener l, String host, int port, boolean reuse) throws IOException {
        io.netty.channel.EventLoopGroup children = listeners.size() > 1 && !reuse
                ? new RoundRobinGroup(listeners.stream().map(x -> x.netty).toList()) : l.netty;
        ServerBootstrap b = new ServerBootstrap()
                .group(l.netty, children)
                .channelFactory(((ChannelSource) l.netty).serverChannels())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) throws Exception {
                        accepted(ch);
                    }
                });
        setup.configure(b);
        if (reuse) {
            b.option(transport.reusePortOption(), true);
        }
        ChannelFuture f = b.bind(host, port);
        try {
            NettyFutures.await(f);
        } catch (CompletionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            String what = "cannot bind " + host + ":" + port;
            throw c instanceof IOException io ? new IOException(what + ": " + io.getMessage(), io) : new IOException(what + ": " + c, c);
        } catch (CancelledException e) {
            f.channel().close();
            throw e;
        }
        l.serverChannel = f.channel();
        address = (InetSocketAddress) l.serverChannel.localAddress();
        log.debug("listening on {} on loop {}", address, l.loop.name());
    }

    /** A child channel was accepted. Owning thread of the loop that will serve it. */
    private void accepted(Channel ch) throws Exception {
        Listener l = byNettyLoop.get((IoEventLoop) ch.eventLoop());
        if (closing || l == null) {
            ch.close();
            return;
        }
        ConnectionOpenedEvent.accepted(ch, l.loop.name());
        setup.accepted(ch, l);
    }

    /** {@return the bound address (every loop's listener binds the same). Any thread.} */
    public InetSocketAddress address() {
        return address;
    }

    /** {@return the listeners, one per loop, in the loops' order. Any thread.} */
    public List<Listener> listeners() {
        return listeners;
    }

    /** {@return the loops, in order. Any thread.} */
    public List<EventLoop> loops() {
        return listeners.stream().map(Listener::loop).toList();
    }

    /** {@return the transport of the loops. Any thread.} */
    public NettyTransport transport() {
        return transport;
    }

    /** {@return whether each loop binds its own listening channel with {@code SO_REUSEPORT}. Any thread.} */
    public boolean usesReusePort() {
        return reusePort;
    }

    /** {@return whether new connections are accepted. Any thread.} */
    public boolean isOpen() {
        return !closing;
    }

    /** {@return the tracked tasks still running, on every loop (a racy sum). Any thread.} */
    public int live() {
        int n = 0;
        for (Listener l : listeners) {
            n += l.live();
        }
        return n;
    }

    /**
     * Closes: every loop stops accepting; then, on every loop at the same time, {@code drain}
     * winds down, the tracked tasks get up to {@code grace} to end, those left are cancelled and
     * waited for, and {@code drain} finishes. A task of the caller's own fiber is not waited for.
     * Loops already closed are skipped. Idempotent in effect (a second call waits the same way).
     * <p>Threading: any thread; suspends a fiber, blocks another thread.
     *
     * @param grace how long the tasks may take to end on their own
     * @param drain the server's part
     */
    public void close(Duration grace, Drain drain) {
        closing = true;
        // on the caller's loop, its clock (a test's virtual clock: the grace must not depend on how
        // fast the machine runs, or one seed would not replay one run); else real time
        EventLoop here = EventLoop.currentOrNull();
        LoopClock clock = here != null ? here.clock() : LoopClock.system();
        long deadline = clock.nanoTime() + grace.toNanos();
        Fiber me = Fiber.currentOrNull();
        forEachLoop(me, l -> closeListener(l));
        forEachLoop(me, l -> drainHere(l, Duration.ofNanos(Math.max(0, deadline - clock.nanoTime())), grace, me, drain));
    }

    /** The server and, on a group, the loop, for the close's log: {@code HTTP server on 127.0.0.1:8080 (loop 'http-2')}. */
    private String describe(Drain drain, Listener l) {
        return drain.kind() + " on " + address.getHostString() + ":" + address.getPort()
                + (listeners.size() > 1 ? " (loop '" + l.loop.name() + "')" : "");
    }

    /** Runs {@code action} on every open loop, at the same time: inline on the caller's own loop, in a task on the others. */
    private void forEachLoop(Fiber me, Consumer<Listener> action) {
        Listener inline = null;
        List<Task<Void>> others = new ArrayList<>();
        for (Listener l : listeners) {
            if (l.loop.state() == EventLoop.State.CLOSED) {
                continue;
            }
            if (me != null && l.loop.inLoop()) {
                inline = l;
                continue;
            }
            try {
                others.add(Fibers.spawn(l.loop, () -> {
                    action.accept(l);
                    return null;
                }));
            } catch (LoopClosedException e) {
                log.debug("closing on loop {}: {}", l.loop.name(), e.toString());
            }
        }
        if (inline != null) {
            action.accept(inline);
        }
        for (Task<Void> t : others) {
            try {
                t.join();
            } catch (RuntimeException e) {
                log.debug("closing: {}", e.toString());
            }
        }
    }

    private void closeListener(Listener l) {
        Channel sc = l.serverChannel;
        if (sc != null && sc.isOpen()) {
            try {
                NettyFutures.await(sc.close());
            } catch (CompletionException e) {
                log.debug("closing the listening channel on loop {}: {}", l.loop.name(), e.toString());
            }
        }
    }

    /**
     * One loop's part of {@link #close}; logs at INFO what it drains and how that ended, at WARN
     * what the grace period cut off.
     */
    private void drainHere(Listener l, Duration grace, Duration fullGrace, Fiber caller, Drain drain) {
        drain.beforeWait(l);
        List<Task<?>> live = others(drain.running(l), caller);
        if (!live.isEmpty()) {
            long start = System.nanoTime();
            String server = describe(drain, l);
            log.info("{}: stopped accepting; draining {} within {} ms", server, drain.draining(l, live), grace.toMillis());
            // waits on views of the tasks: awaitAllSettled would cancel them at the deadline, before they could be logged as cut off
            CompletableFuture<?>[] settled = new CompletableFuture<?>[live.size()];
            for (int i = 0; i < settled.length; i++) {
                settled[i] = live.get(i).toCompletableFuture().exceptionally(e -> null);
            }
            Fibers.withTimeoutOrNull(grace, () -> Fibers.await(CompletableFuture.allOf(settled)));
            List<Task<?>> left = others(drain.running(l), caller);
            if (left.isEmpty()) {
                log.info("{}: drained after {} ms", server, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            } else {
                log.warn("{}: the grace period of {} ms is over; cutting off {}", server, fullGrace.toMillis(), drain.draining(l, left));
            }
            for (Task<?> t : left) {
                t.cancel();
            }
            Fibers.nonCancellable(() -> Fibers.awaitAllSettled(left));
        } else if (log.isDebugEnabled()) {
            log.debug("{}: stopped accepting; nothing to drain", describe(drain, l));
        }
        drain.afterWait(l);
    }

    /** {@code tasks} without the caller's own (a handler that closes its server does not wait for itself). */
    private static List<Task<?>> others(List<Task<?>> tasks, Fiber me) {
        List<Task<?>> l = new ArrayList<>(tasks.size());
        for (Task<?> t : tasks) {
            if (t.fiber() != me && !t.isDone()) {
                l.add(t);
            }
        }
        return l;
    }

    @Override
    public String toString() {
        return "Listeners[" + address + ", " + transport + ", " + (listeners.size() == 1 ? "loop " + listeners.get(0).loop.name()
                : listeners.size() + " loops" + (reusePort ? " (SO_REUSEPORT)" : " (round-robin)")) + "]";
    }
}
