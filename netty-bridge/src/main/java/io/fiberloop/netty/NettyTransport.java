package io.fiberloop.netty;

import io.fiberloop.loop.spi.IoDriverFactory;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultSelectStrategyFactory;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.kqueue.KQueue;
import io.netty.channel.kqueue.KQueueDatagramChannel;
import io.netty.channel.kqueue.KQueueIoHandler;
import io.netty.channel.kqueue.KQueueServerSocketChannel;
import io.netty.channel.kqueue.KQueueSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Netty transport a loop's I/O driver uses: io_uring, epoll, kqueue or NIO.
 * {@snippet :
 * EventLoop loop = FiberLoops.builder().ioDriver(NettyTransport.auto().driverFactory()).build();
 * }
 * {@link #auto()} picks io_uring when the kernel offers it, then epoll (both Linux), then kqueue
 * (macOS, BSD), then NIO, unless the system property {@value #PROPERTY} names one
 * ({@code io_uring}, {@code epoll}, {@code kqueue} or {@code nio}).
 *
 * <p>Netty settings: when this class initialises it sets two JVM-wide Netty system properties,
 * each only if the application has not set it: {@code io.netty.iouring.recvMultiShotEnabled=false}
 * (reads stay demand-driven) and {@code io.netty.allocator.chunkReuseQueueCapacity=16} (a loop's
 * turn frees many receive buffers at once; with Netty's default of twice the CPUs, the allocator
 * re-zeroed fresh chunks every turn). Netty reads both once, when its own classes initialise, so
 * they apply only if this class initialises first, as it does when a fiberloop Netty loop is built
 * before anything else in the JVM made a Netty channel or allocator. See {@code docs/netty.md}.
 *
 * <p>Threading: every method is safe from any thread.
 */
public enum NettyTransport {
    /**
     * Linux io_uring ({@code netty-transport-native-io_uring}). Netty's handler processes
     * completions for as long as new ones arrive, so once {@value #IO_URING_SLICE_BYTES} bytes were
     * delivered within one run, the fibers they woke, and the loop tasks the run queued (read
     * handlers' calls, HTTP exchanges), run before the rest is processed
     * (see {@link #IO_URING_SLICE_BYTES}).
     */
    IO_URING("io_uring") {
        @Override
        public boolean isAvailable() {
            return IoUring.isAvailable();
        }

        @Override
        public Throwable unavailabilityCause() {
            return IoUring.unavailabilityCause();
        }

        @Override
        IoHandlerFactory ioHandlerFactory() {
            return IoUringIoHandler.newFactory();
        }

        @Override
        public Class<? extends ServerChannel> serverChannelClass() {
            return IoUringServerSocketChannel.class;
        }

        @Override
        public Class<? extends SocketChannel> socketChannelClass() {
            return IoUringSocketChannel.class;
        }

        @Override
        public Class<? extends DatagramChannel> datagramChannelClass() {
            return IoUringDatagramChannel.class;
        }

        @Override
        public ChannelOption<Boolean> reusePortOption() {
            return IoUringChannelOption.SO_REUSEPORT;
        }

        @Override
        int sliceBytes() {
            return IO_URING_SLICE_BYTES;
        }
    },
    /**
     * Linux epoll ({@code netty-transport-native-epoll}). One poll handles at most
     * {@value #EPOLL_MAX_EVENTS} ready channels, then the fibers they woke run (the rest are
     * reported by the next poll); within a poll, once {@value #EPOLL_SLICE_BYTES} bytes were
     * delivered, the fibers they woke and the loop tasks the reads queued run before the
     * remaining channels are read (see {@link #EPOLL_SLICE_BYTES}).
     */
    EPOLL("epoll") {
        @Override
        public boolean isAvailable() {
            return Epoll.isAvailable();
        }

        @Override
        public Throwable unavailabilityCause() {
            return Epoll.unavailabilityCause();
        }

        @Override
        IoHandlerFactory ioHandlerFactory() {
            return EpollIoHandler.newFactory(EPOLL_MAX_EVENTS, DefaultSelectStrategyFactory.INSTANCE);
        }

        @Override
        public Class<? extends ServerChannel> serverChannelClass() {
            return EpollServerSocketChannel.class;
        }

        @Override
        public Class<? extends SocketChannel> socketChannelClass() {
            return EpollSocketChannel.class;
        }

        @Override
        public Class<? extends DatagramChannel> datagramChannelClass() {
            return EpollDatagramChannel.class;
        }

        @Override
        public ChannelOption<Boolean> reusePortOption() {
            return EpollChannelOption.SO_REUSEPORT;
        }

        @Override
        int sliceBytes() {
            return EPOLL_SLICE_BYTES;
        }
    },
    /**
     * kqueue on macOS and the BSDs ({@code netty-transport-native-kqueue}, classifiers
     * {@code osx-x86_64} and {@code osx-aarch_64}). Connections of a server on several loops are
     * handed out by one accepting loop: macOS's {@code SO_REUSEPORT} lets sockets share a port
     * without spreading connections over them.
     */
    KQUEUE("kqueue") {
        @Override
        public boolean isAvailable() {
            return KQueue.isAvailable();
        }

        @Override
        public Throwable unavailabilityCause() {
            return KQueue.unavailabilityCause();
        }

        @Override
        IoHandlerFactory ioHandlerFactory() {
            return KQueueIoHandler.newFactory();
        }

        @Override
        public Class<? extends ServerChannel> serverChannelClass() {
            return KQueueServerSocketChannel.class;
        }

        @Override
        public Class<? extends SocketChannel> socketChannelClass() {
            return KQueueSocketChannel.class;
        }

        @Override
        public Class<? extends DatagramChannel> datagramChannelClass() {
            return KQueueDatagramChannel.class;
        }

        @Override
        public ChannelOption<Boolean> reusePortOption() {
            return null;
        }
    },
    /** Java NIO: available everywhere. */
    NIO("nio") {
        @Override
        public boolean isAvailable() {
            return true;
        }

        @Override
        public Throwable unavailabilityCause() {
            return null;
        }

        @Override
        IoHandlerFactory ioHandlerFactory() {
            return NioIoHandler.newFactory();
        }

        @Override
        public Class<? extends ServerChannel> serverChannelClass() {
            return NioServerSocketChannel.class;
        }

        @Override
        public Class<? extends SocketChannel> socketChannelClass() {
            return NioSocketChannel.class;
        }

        @Override
        public Class<? extends DatagramChannel> datagramChannelClass() {
            return NioDatagramChannel.class;
        }

        @Override
        public ChannelOption<Boolean> reusePortOption() {
            return null;
        }
    };

    /** The system property that overrides {@link #auto()}'s choice: {@code io_uring}, {@code epoll}, {@code kqueue} or {@code nio}. */
    public static final String PROPERTY = "fiberloop.transport";

    private static final Logger log = LoggerFactory.getLogger(NettyTransport.class);
    private static final AtomicReference<String> LOGGED = new AtomicReference<>();
    /**
     * The most ready channels one epoll poll handles before the loop's tasks and the fibers they
     * woke run. Netty's default grows the batch with the number of ready channels (up to
     * thousands); then every buffer read in the batch is alive until the code it was read for has
     * run and the next poll wrote its answer back, and at 1,000 connections of 64 KiB messages the
     * allocator spent much of its time allocating and zeroing fresh chunks. Slices
     * ({@link #EPOLL_SLICE_BYTES}) bound what is read before the woken fibers and the queued loop
     * tasks answer; this bound keeps the batch small for messages too small to reach a slice. 16
     * channels of 64 KiB are 1 MiB, about the L2 cache; 64 (the bound before) held 4 MiB, and a
     * read-handler echo of 64 KiB at 1,000 connections, whose calls then ran only after the poll,
     * made 10% fewer round trips at 5-10% more CPU per round trip. A smaller bound costs an {@code epoll_wait} and a
     * turn of the loop per batch: 16 cost about 5% of HTTP's requests/s at 100 connections (8 cost
     * 8%), and measured level with 64 at 1 KiB echoes and at 1,000 HTTP connections (measured in
     * {@code docs/benchmarks.md} and {@code benchmarks/results/history.md}).
     */
    static final int EPOLL_MAX_EVENTS = 16;
    /**
     * io_uring's counterpart of {@link #EPOLL_MAX_EVENTS}. Netty's io_uring handler has no bound:
     * one {@code run()} goes on (up to 128 rounds of the completion queue) while reads keep
     * completing, and at 1,000 connections of 64 KiB messages one run read the whole population,
     * 64 MiB, before any fiber wrote a byte back; the kernel's copy out of each buffer then missed
     * the cache, and the allocator re-zeroed fresh chunks every turn. So once this many bytes were
     * delivered within one run, the driver lets the woken fibers run and flushes their writes, which
     * Netty submits in its next round, as a hand-written handler's would be. Half a MiB stays within
     * the allocator's chunk-reuse queue (4 chunks of 512 KiB on 2 CPUs) and near the L2 cache; small
     * messages reach it only in bulk (1,000 connections of 1 KiB in one run make one or two
     * slices). Measured in {@code docs/benchmarks.md}.
     */
    static final int IO_URING_SLICE_BYTES = 512 * 1024;
    /**
     * Epoll's slice: within one poll of up to {@link #EPOLL_MAX_EVENTS} ready channels, once this
     * many bytes were delivered, the fibers they woke and the loop tasks the reads queued (read
     * handlers' calls, HTTP exchanges) run and their writes go out (epoll writes at the flush)
     * before the remaining channels are read. Without it a poll of 16 channels with
     * 64 KiB each receives 1 MiB (and one of 64 channels, the bound before, received 4 MiB), more
     * than the L2 cache, before the first byte goes back
     * (raw Netty sends each buffer straight after receiving it), and the due wake timers waited
     * for the whole poll. A quarter MiB keeps a slice's buffers in the cache; 1 KiB messages never
     * reach it within one poll (16 &times; 1 KiB). Measured in {@code docs/benchmarks.md} ("Epoll
     * slices, again"): level at 64 KiB &times; 50 connections, +16% round trips/s by the medians at
     * 64 KiB &times; 1,000, a 1 ms sleep late by 0.05 instead of 0.5 ms at the median. The loop
     * tasks joined the slices later: a read-handler echo of 64 KiB then made 14-17% more round
     * trips at 13-15% less CPU each, at 50 and at 1,000 connections.
     */
    static final int EPOLL_SLICE_BYTES = 256 * 1024;
    /** Netty's switch for io_uring's multishot receive, read once when Netty's {@code IoUring} class initialises. */
    static final String RECV_MULTISHOT_PROPERTY = "io.netty.iouring.recvMultiShotEnabled";

    /** Netty's bound on the adaptive allocator's cache of emptied chunks, read once when the allocator's class initialises. */
    static final String CHUNK_REUSE_PROPERTY = "io.netty.allocator.chunkReuseQueueCapacity";
    /**
     * The chunk-reuse bound fiberloop asks for when the application set none. Netty's default is
     * twice the CPUs the JVM may use (2 on one CPU, 4 on two), sized for handlers that write a
     * buffer back in the callback that read it, so that few buffers are alive at once. A fiber
     * loop's turn reads every ready channel before the woken fibers write: up to
     * {@link #EPOLL_MAX_EVENTS} buffers of up to 64 KiB (with the bound of 64 then, 4 MiB, 8 of the
     * allocator's 512 KiB chunks), all freed at once after the flush. With room for only 2 the allocator returned the other 6
     * chunks to the system and allocated (and zeroed) fresh ones in the next turn: about one 64 KiB
     * memset per 64 KiB round trip, 7-9% of the server's CPU (measured in {@code docs/benchmarks.md}).
     * 16 covers one turn twice over; it is Netty's own default on an 8-CPU machine, and the cache
     * holds emptied chunks only. Since epoll slices its polls ({@link #EPOLL_SLICE_BYTES}), as
     * io_uring already did, a slice frees its buffers after a quarter MiB, and 2 and 16 measure
     * level on both transports; the setting stays for NIO, which reads a whole turn before the
     * fibers write, and for applications whose fibers hold buffers across turns.
     */
    static final int CHUNK_REUSE_CHUNKS = 16;

    static {
        // Before any allocator is made: see CHUNK_REUSE_CHUNKS.
        defaultProperty(CHUNK_REUSE_PROPERTY, Integer.toString(CHUNK_REUSE_CHUNKS));
        // fiberloop's reads are demand-driven: at most 64 KiB per read request, so that a connection
        // never buffers more than a bounded amount its fiber has not asked for. io_uring's multishot receive
        // (on by default in Netty 4.2) keeps delivering buffers after a single read request, which
        // breaks that bound (seen: 7 buffers, 424 KiB, for one request). Turn it off unless the
        // application chose otherwise; this runs before any IoUring method is called.
        defaultProperty(RECV_MULTISHOT_PROPERTY, "false");
    }

    /** Sets the system property {@code name} to {@code value} unless the application set it already. */
    private static void defaultProperty(String name, String value) {
        if (System.getProperty(name) == null) {
            System.setProperty(name, value);
        }
    }

    private final String id;

    NettyTransport(String id) {
        this.id = id;
    }

    /**
     * The transport to use here: the one the system property {@value #PROPERTY} names, else the
     * best available (io_uring, then epoll, then kqueue, then NIO). The choice is logged at INFO the first time
     * it is made (and again only if a later call chooses differently).
     * <p>Threading: any thread.
     *
     * @return the chosen transport
     * @throws IllegalArgumentException if the property names no transport
     * @throws IllegalStateException if the property names a transport this machine lacks (the
     *     message gives Netty's reason)
     */
    public static NettyTransport auto() {
        String property = System.getProperty(PROPERTY);
        NettyTransport t = select(property);
        String why = property != null && !property.isBlank() ? "set by -D" + PROPERTY + "=" + property
                : whyBest(t, NettyTransport::unavailabilityCause);
        String line = t.id + " (" + why + ")";
        String previous = LOGGED.getAndSet(line);
        if (!line.equals(previous)) {
            log.info("fiberloop Netty transport: {}", line);
        }
        return t;
    }

    /**
     * Why {@link #auto()} chose {@code chosen} without the property, for its log line: "the best
     * available", and why each better transport is not, with what to add where a native library is
     * missing. Package-private for tests.
     */
    static String whyBest(NettyTransport chosen, java.util.function.Function<NettyTransport, Throwable> unavailable) {
        StringBuilder why = new StringBuilder("the best available");
        for (NettyTransport t : values()) {
            if (t == chosen) {
                break;
            }
            why.append("; ").append(t.id).append(" is not: ");
            Throwable cause = unavailable.apply(t);
            String os = System.getProperty("os.name", "");
            boolean linuxOnly = t != KQUEUE;
            if (linuxOnly ? !os.startsWith("Linux") : !(os.startsWith("Mac") || os.contains("BSD"))) {
                why.append(linuxOnly ? "Linux only" : "macOS and BSD only");
            } else if (hasCause(cause, UnsatisfiedLinkError.class)) {
                why.append("no native library for ").append(System.getProperty("os.arch")).append(" (add io.netty:netty-transport-native-")
                        .append(t.id).append(" with the classifier for this machine, e.g. ").append(linuxOnly ? "linux-aarch_64" : "osx-aarch_64")
                        .append(")");
            } else {
                String m = cause == null ? "unknown" : String.valueOf(cause.getMessage() != null ? cause.getMessage() : cause);
                why.append(m.lines().findFirst().orElse(m));
            }
        }
        return why.toString();
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The transport a value of {@value #PROPERTY} selects ({@code null} or blank: the best
     * available). Package-private for tests.
     */
    static NettyTransport select(String property) {
        if (property == null || property.isBlank()) {
            for (NettyTransport t : values()) {
                if (t.isAvailable()) {
                    return t;
                }
            }
            return NIO;
        }
        NettyTransport t = of(property);
        if (!t.isAvailable()) {
            throw new IllegalStateException("transport '" + t.id + "' was asked for by -D" + PROPERTY + "=" + property
                    + " but is not available here: " + t.unavailabilityReason()
                    + "; remove the property to choose automatically, or pick another transport", t.unavailabilityCause());
        }
        return t;
    }

    /**
     * The transport with the given name.
     * <p>Threading: any thread.
     *
     * @param name {@code io_uring} (or {@code iouring}), {@code epoll}, {@code kqueue} or {@code nio}, any case
     * @return the transport, available or not
     * @throws IllegalArgumentException for any other name
     */
    public static NettyTransport of(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (NettyTransport t : values()) {
            if (t.id.equals(n) || t.name().toLowerCase(Locale.ROOT).equals(n) || t.id.replace("_", "").equals(n)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown Netty transport '" + name + "': use one of "
                + Arrays.stream(values()).map(v -> v.id).toList());
    }

    /** {@return the transport's short name: {@code io_uring}, {@code epoll}, {@code kqueue} or {@code nio}} */
    public String id() {
        return id;
    }

    /**
     * Whether this transport works on this machine (native library loaded, kernel support).
     * <p>Threading: any thread.
     *
     * @return {@code true} if usable
     */
    public abstract boolean isAvailable();

    /**
     * Why this transport is unavailable.
     * <p>Threading: any thread.
     *
     * @return the cause, or {@code null} when it is available
     */
    public abstract Throwable unavailabilityCause();

    /**
     * Why this transport is unavailable, in one line: the message of the innermost cause Netty
     * gives ({@link #unavailabilityCause()} is often an {@code ExceptionInInitializerError} that
     * wraps the error saying what is missing).
     * <p>Threading: any thread.
     *
     * @return e.g. {@code "Only supported on OSX/BSD"} (kqueue on Linux) or
     *     {@code "could not load a native library: netty_transport_native_epoll_aarch_64"}; or
     *     {@code null} when it is available
     */
    public String unavailabilityReason() {
        Throwable c = unavailabilityCause();
        if (c == null) {
            return null;
        }
        Throwable described = c;
        for (Throwable t = c; t != null && t.getCause() != t; t = t.getCause()) {
            if (t.getMessage() != null) {
                described = t; // the innermost cause that says something
            }
        }
        String m = described.getMessage();
        return m == null ? described.getClass().getSimpleName() : m.lines().findFirst().orElse("");
    }

    /**
     * The I/O-driver factory of this transport, for {@link io.fiberloop.loop.EventLoop.Builder#ioDriver}:
     * each loop built with it runs Netty's I/O for its channels on its own carrier.
     * <p>Threading: any thread.
     *
     * @return a factory of Netty drivers on this transport
     * @throws IllegalStateException if the transport is not available here
     */
    public IoDriverFactory driverFactory() {
        if (!isAvailable()) {
            throw new IllegalStateException("Netty transport '" + id + "' is not available here: " + unavailabilityReason(),
                    unavailabilityCause());
        }
        return loop -> new NettyIoDriver(loop, this);
    }

    abstract IoHandlerFactory ioHandlerFactory();

    /**
     * The Netty server-channel class of this transport, for your own {@code ServerBootstrap} on a
     * loop of {@link NettyLoops}' (its Netty loop only accepts channels of its transport).
     * <p>Threading: any thread.
     *
     * @return e.g. {@code EpollServerSocketChannel.class}
     */
    public abstract Class<? extends ServerChannel> serverChannelClass();

    /**
     * The Netty socket-channel class of this transport, for your own client {@code Bootstrap}.
     * <p>Threading: any thread.
     *
     * @return e.g. {@code EpollSocketChannel.class}
     */
    public abstract Class<? extends SocketChannel> socketChannelClass();

    /**
     * The Netty datagram-channel class of this transport.
     * <p>Threading: any thread.
     *
     * @return e.g. {@code EpollDatagramChannel.class}
     */
    public abstract Class<? extends DatagramChannel> datagramChannelClass();

    /**
     * The server-channel option that sets {@code SO_REUSEPORT}, for your own
     * {@code ServerBootstrap} that listens on several loops of a group on one port.
     * <p>Threading: any thread.
     *
     * @return e.g. {@code EpollChannelOption.SO_REUSEPORT}, or {@code null} when the transport has
     *     none that spreads connections (kqueue, NIO)
     */
    public abstract ChannelOption<Boolean> reusePortOption();

    /**
     * Bytes delivered within one run of Netty's I/O handler after which the woken fibers and the
     * queued loop tasks run (0: they run after the handler returns, as on NIO).
     */
    int sliceBytes() {
        return 0;
    }

    /**
     * Whether a server on a {@link io.fiberloop.loop.LoopGroup} can bind one listening socket per
     * loop with {@code SO_REUSEPORT} (the kernel spreads connections over them): epoll and io_uring.
     * Otherwise one loop accepts and hands connections out round-robin.
     * <p>Threading: any thread.
     *
     * @return whether this transport has SO_REUSEPORT
     */
    public boolean supportsReusePort() {
        return reusePortOption() != null;
    }

    @Override
    public String toString() {
        return id;
    }
}
