package io.fiberloop.netty;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import io.fiberloop.loop.spi.IoDriver;
import io.fiberloop.loop.spi.PollSupport;
import io.fiberloop.netty.internal.ChannelSource;
import io.fiberloop.netty.internal.NettyReach;
import io.fiberloop.netty.internal.inmemory.InMemoryDrivers;
import io.fiberloop.netty.internal.inmemory.InMemoryNetwork;
import io.fiberloop.netty.internal.QueuedOps;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ManualIoEventLoop;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.ServerChannel;
import io.netty.util.concurrent.Ticker;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loop's I/O driver over a Netty {@link ManualIoEventLoop}.
 *
 * <h2>Who runs Netty</h2>
 * The loop calls {@link #poll} from its work runner: for a fiber host, the <em>work fiber</em>, a
 * virtual thread on the carrier. That thread becomes the Netty loop's owning thread on the first
 * poll, so Netty's handlers run inside the work fiber (the carrier-deadlock rule) and
 * {@code inEventLoop()} is true there. When the loop hands its work to a new work fiber (the old
 * one blocked inside a task), Netty's API cannot change the owner ({@code setOwningThread} works
 * once), so the driver moves it through the {@code owningThread} field by reflection; this is sound
 * because every work fiber runs on the same carrier (the same OS thread, which io_uring's
 * single-issuer mode needs) and a work fiber is only retired while it is inside a loop task, never
 * inside {@code poll}. If the reflection is denied (Netty on the module path without
 * {@code --add-opens io.netty.transport/io.netty.channel=io.fiberloop.netty}), the driver logs an
 * error at the owner change and Netty I/O of that loop stops.
 *
 * <h2>Blocking and wakeups</h2>
 * The loop calls {@code poll(t > 0)} only when nothing of it is ready. A foreign submission that
 * races with that calls {@link #wakeup()}, which sets {@code woken} before it wakes Netty; Netty's
 * handlers publish "about to sleep" and then check {@link FiberIoEventLoop#canBlock()}, which reads
 * {@code woken}, so no wakeup is lost (the trap found by the prototype, see
 * {@code docs/research/netty-driver.md}).
 *
 * <h2>Channel operations from fibers</h2>
 * A connection's fiber is not Netty's owning thread, so a channel call from it would become a Netty
 * task plus a wakeup. Instead connections queue what they need (flush their writes, ask for a read,
 * close...) in {@link #pending}, a carrier-only queue of {@link QueuedOps} that {@link #poll} drains
 * before Netty runs: the writes a fiber makes within one turn of the loop go out in one flush. The
 * HTTP server's connections use the same queue, through {@link FiberIoEventLoop} (a
 * {@link QueuedOps.Queue}).
 *
 * <h2>Slices (io_uring, epoll)</h2>
 * Netty's io_uring handler processes completions for as long as they keep arriving, so one run can
 * read every connection's input before any fiber runs; an epoll poll of 16 ready channels can read
 * 1 MiB, more than the CPU's cache holds. With {@link NettyTransport#sliceBytes()}
 * set, {@link #endOfRead()} ends a slice once that many bytes were delivered within the run
 * (counted by {@link #delivered}: raw bytes off the socket, by the connection itself, by
 * {@link #rawByteCounter()} at the head of a pipeline with codecs, or by the HTTP server): the
 * work fiber yields (the woken fibers run on the carrier), then drains {@link #pending}, and Netty
 * goes on (epoll writes at the flush, io_uring submits the writes in its next round). The work
 * fiber is inside {@code poll}, not inside a loop task, so the loop never hands
 * its work to another work fiber meanwhile. Before it yields, it fires the loop's due wake timers
 * ({@link PollSupport#fireWakeTimers()}: fiber sleeps, timeouts), so that a fiber's sleep or
 * timeout is late by about one slice rather than by the whole run. It also asks for the loop's
 * queued tasks to run meanwhile ({@link PollSupport#runTasks()}): the calls of read handlers and
 * the HTTP exchanges that the run's reads queued run on the loop's <em>side fiber</em>, a second
 * work fiber that is not Netty's owning thread, so their channel operations are queued and
 * carried out by the drain after the yield. A task that blocks keeps the side fiber (the next
 * batch gets a new one), never the work fiber inside Netty. Plain timers wait for the end of the
 * run.
 *
 * <p>Threading: {@link #poll}, {@link #close()} and {@link #enqueue} on the carrier only (the
 * latter two from fibers of the loop); {@link #wakeup()} from any thread.
 */
final class NettyIoDriver implements IoDriver {
    private static final Logger log = LoggerFactory.getLogger(NettyIoDriver.class);

    static {
        InMemoryDrivers.install(network -> loop -> new NettyIoDriver(loop, NettyTransport.NIO, network));
    }

    final EventLoop loop;
    /** The transport; NIO's (for its options) on an in-memory network. */
    final NettyTransport transport;
    /** The in-memory network whose channels replace the transport's, or null. */
    private final InMemoryNetwork network;
    private final ChannelFactory<? extends ServerChannel> serverChannels;
    private final ChannelFactory<? extends Channel> clientChannels;
    final FiberIoEventLoop netty;
    /** Netty's clock: the system ticker, or a {@link LoopTicker} over the loop's virtual clock. */
    private final Ticker ticker;
    private final AtomicReference<Thread> ownerRef;

    /** Set by {@link #wakeup()}, cleared at the end of each poll; read by Netty's canBlock(). */
    private volatile boolean woken;
    /** True while the work fiber is inside Netty's blocking run (for wakeups from fibers of this carrier). */
    private volatile boolean blocking;
    /** Connections with operations to carry out on the owning thread. Carrier only. */
    private final ArrayDeque<QueuedOps> pending = new ArrayDeque<>();
    /** {@link NettyTransport#sliceBytes()}: 0, or bytes delivered in one Netty run after which fibers run. */
    private final int sliceBytes;
    /** {@link #rawByteCounter()}; null when {@link #sliceBytes} is 0. */
    private final RawByteCounter rawByteCounter;
    /** True while Netty's handler runs inside {@link #poll} (and not inside a slice). */
    private boolean inRun;
    /** True while a slice lets fibers run (they can tell they run inside Netty's run). */
    boolean slicing;
    /** Bytes delivered to connections since the run (or its last slice) began. */
    private long deliveredInRun;
    /** The loop's mid-poll support (wake timers fire in slices); set once before the first poll. */
    private PollSupport pollSupport;
    private boolean ownerLost;
    /** Set as the loop closes; read by {@link #of} from any thread. */
    private volatile boolean closed;
    private volatile Thread parkedPoller;

    // statistics, loop thread only
    long polls;
    long blockingPolls;
    long ownerChanges;
    long slices;
    /** Operations the woken fibers queued and a slice carried out (0 would mean the fibers did not run). */
    long sliceOps;
    /** Wake timers (fiber sleeps, timeouts) fired in slices. */
    long sliceTimers;
    /** Slices in which the loop's queued tasks ran (on the side fiber). */
    long sliceBatches;

    NettyIoDriver(EventLoop loop, NettyTransport transport) {
        this(loop, transport, null);
    }

    /** A driver whose TCP channels are {@code network}'s (null: the transport's). */
    NettyIoDriver(EventLoop loop, NettyTransport transport, InMemoryNetwork network) {
        this.loop = loop;
        this.transport = transport;
        this.network = network;
        this.serverChannels = network != null ? network.serverChannels() : new ReflectiveChannelFactory<>(transport.serverChannelClass());
        this.clientChannels = network != null ? network.clientChannels() : new ReflectiveChannelFactory<>(transport.socketChannelClass());
        this.sliceBytes = transport.sliceBytes();
        this.rawByteCounter = sliceBytes > 0 ? new RawByteCounter(this) : null;
        // Netty's allocator and channel classes initialise slowly (>100 ms the first time): do it
        // here, on the thread that builds the loop, not on the loop where the watchdog reports it.
        io.netty.buffer.ByteBufAllocator.DEFAULT.buffer(1).release();
        this.ticker = tickerFor(loop.clock());
        this.netty = new FiberIoEventLoop(this, network != null ? network.ioHandlerFactory() : transport.ioHandlerFactory(), ticker);
        this.ownerRef = NettyReach.owningThread(netty);
    }

    /** The driver of {@code loop}, which the loop keeps ({@link EventLoop#ioDriver()}). Any thread. */
    static NettyIoDriver of(EventLoop loop) {
        if (loop.ioDriver() instanceof NettyIoDriver d && !d.closed) {
            return d;
        }
        throw new IllegalStateException("loop '" + loop.name() + "' has no Netty I/O driver"
                + (loop.state().compareTo(EventLoop.State.CLOSING) >= 0 ? " (it is closed)" : "")
                + ": build it with NettyLoops.newLoop() or NettyLoops.builder()");
    }

    /** The driver of the loop the caller runs on. */
    static NettyIoDriver current(String what) {
        EventLoop loop = EventLoop.currentOrNull();
        if (loop == null) {
            throw new IllegalStateException(what + " must be called on an event loop (in a fiber), and thread '"
                    + Thread.currentThread().getName() + "' is not on one: call it inside loop.run(...) or a task spawned on the loop");
        }
        return of(loop);
    }

    private static Ticker tickerFor(LoopClock clock) {
        if (clock == LoopClock.system()) {
            return Ticker.systemTicker();
        }
        return new LoopTicker(clock);
    }

    /**
     * Netty's clock for a loop with a virtual clock: Netty's timers (connect timeouts,
     * IdleStateHandler) follow the loop's clock. Netty's I/O handlers compute how long to block
     * from {@code System.nanoTime() - initialNanoTime()}; an initial time far in the future makes
     * that wait unbounded, so the handler blocks only as long as the loop says, and the loop wakes
     * the driver whenever the virtual clock moves.
     */
    static final class LoopTicker implements Ticker {
        private final LoopClock clock;
        private final long origin;
        private final long initial;
        /** Real time when the loop began to close, or {@code Long.MIN_VALUE}; see {@link #release()}. */
        private volatile long releasedAt = Long.MIN_VALUE;
        private volatile long releasedTime;

        LoopTicker(LoopClock clock) {
            this.clock = clock;
            this.origin = clock.nanoTime();
            this.initial = System.nanoTime() + (1L << 62);
        }

        @Override
        public long initialNanoTime() {
            return initial;
        }

        @Override
        public long nanoTime() {
            long r = releasedAt;
            if (r != Long.MIN_VALUE) {
                // the larger of two monotonic times stays monotonic, even if the clock moves on meanwhile
                return Math.max(releasedTime + (System.nanoTime() - r), clock.nanoTime() - origin);
            }
            return clock.nanoTime() - origin;
        }

        /**
         * From now on time runs at the real pace from where the loop's clock stands. Netty's
         * graceful shutdown waits for its quiet period and timeout on this ticker, so on a virtual
         * clock that nobody advances any more it would wait forever (100 ms sleeps, over and over).
         * Called as the loop closes; any thread.
         */
        void release() {
            releasedTime = clock.nanoTime() - origin;
            releasedAt = System.nanoTime();
        }

        @Override
        public void sleep(long delay, TimeUnit unit) throws InterruptedException {
            unit.sleep(delay);
        }
    }

    // ------------------------------------------------------------------ IoDriver

    @Override
    public void attach(PollSupport support) {
        this.pollSupport = support;
    }

    /**
     * Runs the work runner as one of Netty's own threads ({@code runWithFastThreadLocal}, which
     * also clears its fast thread-locals when the runner ends). A work fiber is a virtual thread,
     * not a {@code FastThreadLocalThread}, and Netty asks
     * {@code FastThreadLocalThread.currentThreadWillCleanupFastThreadLocals()} before it uses a
     * per-thread cache: without this its adaptive allocator served the work fiber from its shared
     * magazines, and its recyclers (the outbound buffer's entries, for one) allocated a new object
     * every time instead of pooling. Called by the loop on the runner's own thread.
     */
    @Override
    public void runWorker(Runnable body) {
        if (Thread.currentThread() instanceof io.netty.util.concurrent.FastThreadLocalThread) {
            body.run();
        } else {
            io.netty.util.concurrent.FastThreadLocalThread.runWithFastThreadLocal(body);
        }
    }

    @Override
    public int poll(long timeoutNanos) {
        polls++;
        if (!ensureOwner()) {
            return parkWithoutNetty(timeoutNanos);
        }
        int n = runPending();
        deliveredInRun = 0;
        inRun = true;
        try {
            if (timeoutNanos <= 0 || n > 0) {
                n += netty.runNow();
            } else {
                blockingPolls++;
                blocking = true;
                try {
                    n += netty.run(timeoutNanos == Long.MAX_VALUE ? 0 : timeoutNanos);
                } finally {
                    blocking = false;
                }
            }
        } finally {
            inRun = false;
        }
        if (!pending.isEmpty()) {
            n += runPending();
        }
        woken = false;
        return n;
    }

    /** Makes the calling work fiber Netty's owning thread. @return false if it cannot be */
    private boolean ensureOwner() {
        Thread me = Thread.currentThread();
        if (netty.inEventLoop(me)) {
            return true;
        }
        if (ownerLost) {
            return false;
        }
        if (ownerRef != null) {
            Thread old = ownerRef.get();
            if (ownerRef.compareAndSet(old, me)) {
                if (old != null) {
                    ownerChanges++;
                    log.debug("loop '{}': Netty's loop moves from work fiber {} to {}", loop.name(), old, me);
                }
                return true;
            }
        }
        try {
            netty.setOwningThread(me);
            return true;
        } catch (IllegalStateException alreadySet) {
            ownerLost = true;
            log.error("loop '{}': the loop's work moved to a new work fiber ({}), and Netty's loop cannot follow it ({}); "
                    + "Netty I/O on this loop has stopped. Put Netty on the class path, or add "
                    + "--add-opens io.netty.transport/io.netty.channel=io.fiberloop.netty", loop.name(), me, NettyReach.owningThreadProblem());
            return false;
        }
    }

    private int parkWithoutNetty(long timeoutNanos) {
        if (timeoutNanos > 0 && !woken) {
            parkedPoller = Thread.currentThread();
            if (!woken) {
                if (timeoutNanos == Long.MAX_VALUE) {
                    LockSupport.park(this);
                } else {
                    LockSupport.parkNanos(this, timeoutNanos);
                }
            }
            parkedPoller = null;
        }
        woken = false;
        return 0;
    }

    /** Runs the operations that fibers queued. Owning thread only. */
    private int runPending() {
        int n = 0;
        QueuedOps c;
        while ((c = pending.pollFirst()) != null) {
            try {
                c.runQueued();
            } catch (Throwable e) { // one connection's failure must not hold up the others
                log.error("loop '{}': a connection's queued operations failed ({})", loop.name(), c, e);
            }
            n++;
        }
        return n;
    }

    @Override
    public void wakeup() {
        woken = true;
        netty.wakeup();
        Thread p = parkedPoller;
        if (p != null) {
            LockSupport.unpark(p);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!ensureOwner()) {
            return;
        }
        runPending();
        if (ticker instanceof LoopTicker t) {
            t.release();
        }
        netty.shutdownGracefully(0, 0, TimeUnit.NANOSECONDS);
        for (int i = 0; i < 10_000 && !netty.isTerminated(); i++) {
            netty.runNow();
        }
        if (!netty.isTerminated()) {
            log.warn("loop '{}': Netty's loop did not terminate while the loop closed", loop.name());
        }
        QueuedOps c;
        while ((c = pending.pollFirst()) != null) {
            c.dropQueued();
        }
    }

    // ------------------------------------------------------------------ for connections

    /**
     * Queues {@code c}'s pending operations for the next poll; once the driver is closed they are
     * dropped at once. Carrier only (a fiber of this loop); the connection keeps its own flag so
     * that it is queued once.
     */
    void enqueue(QueuedOps c) {
        assert loop.inLoop() : "enqueue off the loop";
        if (closed) {
            c.dropQueued();
            return;
        }
        pending.addLast(c);
        if (blocking) {
            netty.wakeup();
        }
    }

    /** Counts {@code bytes} delivered to a connection. Owning thread, from Netty's handlers. */
    void delivered(int bytes) {
        deliveredInRun += bytes;
    }

    /**
     * The handler that counts a channel's bytes as they come off the socket, for a pipeline whose
     * connection receives decoded messages (codecs count nothing at the connection): put first in
     * the pipeline. {@code null} where the transport does not slice (nothing to count). One
     * sharable instance per driver.
     */
    ChannelHandler rawByteCounter() {
        return rawByteCounter;
    }

    /** Counts the raw bytes of a channel's reads ({@link #rawByteCounter()}). */
    @ChannelHandler.Sharable
    static final class RawByteCounter extends ChannelInboundHandlerAdapter {
        private final NettyIoDriver driver;

        RawByteCounter(NettyIoDriver driver) {
            this.driver = driver;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf b) {
                driver.delivered(b.readableBytes());
            }
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * The end of a channel's read, inside Netty's handlers: once {@link NettyTransport#sliceBytes()}
     * were delivered within this run, the work fiber yields, so the fibers those bytes woke run now,
     * and then carries out what they queued (their writes reach Netty, which submits them in its
     * next round). Between channels' events Netty's state is settled, and the queued operations
     * are the ones a poll would carry out. No slice while one is running, outside a run, or when
     * the loop's work is not a fiber (nothing could run meanwhile). Owning thread.
     */
    void endOfRead() {
        if (inRun && sliceBytes > 0 && deliveredInRun >= sliceBytes && Thread.currentThread().isVirtual()) {
            slice();
        }
    }

    private void slice() {
        slices++;
        deliveredInRun = 0;
        inRun = false;
        boolean wasBlocking = blocking;
        blocking = false;   // fibers queueing work now need not wake Netty: it is not waiting
        slicing = true;
        try {
            PollSupport ps = pollSupport;
            if (ps != null) {
                sliceTimers += ps.fireWakeTimers();   // sleepers and timeouts due by now run in this slice too
                if (ps.runTasks()) { // and the loop tasks the run queued (read handlers' calls, exchanges)
                    sliceBatches++;
                }
            }
            Thread.yield();
            slicing = false;
            sliceOps += runPending();
        } finally {
            slicing = false;
            blocking = wasBlocking;
            inRun = true;
        }
    }

    /** Whether there is queued work for the next poll (Netty must not block). Owning thread. */
    boolean hasPending() {
        return !pending.isEmpty() || network != null && network.hasReadyWork();
    }

    /** Queued operations or due in-memory deliveries: the loop polls before its virtual clock jumps. Work runner. */
    @Override
    public boolean hasPendingWork() {
        return hasPending();
    }

    /** {@return the factory of client connections' channels: the transport's, or the in-memory network's} */
    ChannelFactory<? extends Channel> clientChannels() {
        if (closed) {
            throw new IllegalStateException("loop '" + loop.name() + "' is closed");
        }
        return clientChannels;
    }

    /** {@return whether this driver's TCP channels are an in-memory network's} */
    boolean inMemory() {
        return network != null;
    }

    boolean woken() {
        return woken;
    }

    @Override
    public String toString() {
        return "NettyIoDriver[" + transport + ", loop " + loop.name() + "]";
    }

    /**
     * Netty's manual loop whose {@code canBlock()} knows about fiberloop's wakeups and queued
     * operations, and through which the {@code http} package queues its connections' operations.
     */
    static final class FiberIoEventLoop extends ManualIoEventLoop implements QueuedOps.Queue, ChannelSource {
        private final NettyIoDriver driver;

        FiberIoEventLoop(NettyIoDriver driver, IoHandlerFactory factory, Ticker ticker) {
            super(null, null, factory, ticker);
            this.driver = driver;
        }

        @Override
        protected boolean canBlock() {
            return !driver.woken() && !driver.hasPending();
        }

        @Override
        public void enqueue(QueuedOps ops) {
            driver.enqueue(ops);
        }

        @Override
        public void delivered(int bytes) {
            driver.delivered(bytes);
        }

        @Override
        public void endOfRead() {
            driver.endOfRead();
        }

        @Override
        public ChannelFactory<? extends ServerChannel> serverChannels() {
            return driver.serverChannels;
        }

        /** The fiberloop loop that drives this Netty loop. */
        EventLoop fiberLoop() {
            return driver.loop;
        }
    }
}
