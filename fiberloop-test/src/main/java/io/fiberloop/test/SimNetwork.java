package io.fiberloop.test;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClosedException;
import io.fiberloop.loop.TimerHandle;
import io.fiberloop.loop.spi.IoDriverFactory;
import io.fiberloop.netty.internal.inmemory.InMemoryDrivers;
import io.fiberloop.netty.internal.inmemory.InMemoryNetwork;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;

/**
 * A simulated TCP network for one test: servers and clients of the test's loop talk through
 * memory, on the loop's virtual clock, with no sockets. The same {@code TcpServer},
 * {@code HttpServer}, {@code Tcp.connect} and {@code HttpClient} code that runs on real sockets
 * runs on it unchanged: only the loop differs. A {@link FiberLoopTest} method that takes a
 * {@code SimNetwork} parameter runs on a loop whose Netty driver uses it; serve on that loop
 * ({@code HttpServer.builder().loop(loop)}, {@code TcpServer.start(loop, ...)}).
 *
 * {@snippet :
 * @Test
 * void hello(EventLoop loop, SimNetwork net) throws Exception {
 *     net.latency(Duration.ofMillis(40));                       // each way, in virtual time
 *     try (HttpServer server = HttpServer.builder().loop(loop).port(8080)
 *             .get("/hi", req -> HttpResponse.text("hi")).start();
 *          HttpClient client = HttpClient.create()) {
 *         assertEquals("hi", client.get("http://127.0.0.1:8080/hi").bodyText());
 *     }
 * }
 * }
 *
 * <h2>The network</h2>
 * One simulated host: a server listens on a port of the network, whatever address it binds
 * (port 0 picks a free one), and a client reaches it at any address with that port. Nothing
 * listening: the connect fails at once with {@link ConnectException}. Bytes arrive in order, as
 * with TCP; each write is one segment unless split (below). A connect takes one
 * {@linkplain #latency latency} to reach the server, which accepts it, and another for the client
 * to learn it is connected; past the connect's timeout it fails with Netty's
 * {@code ConnectTimeoutException} (a {@link ConnectException}). Only TCP is simulated ({@code UdpEndpoint} refuses such a loop), on
 * one loop: a loop group or a second loop cannot join the same network. The loop's transport
 * reads as NIO's ({@code NettyLoops.transport}), whose options (no {@code SO_REUSEPORT}) apply.
 *
 * <h2>Faults</h2>
 * Faults apply to the bytes written after they are set, on every connection, both ways. The
 * random ones are drawn from the network's seed, which for a test parameter is the test's
 * {@link Explore} seed (a fixed default for a plain {@code @Test}): one seed reproduces the run,
 * schedule and faults alike.
 * <ul>
 *   <li>{@link #latency}: one-way delay of every segment, plus up to {@link #jitter} more (drawn
 *       per segment; order is kept);</li>
 *   <li>{@link #bandwidth}: bytes per second of each direction of a connection; a segment waits
 *       for the ones before it to be sent;</li>
 *   <li>{@link #maxSegment}: writes are cut into pieces of at most that many bytes, each its own
 *       read at the other end (1: a byte per read); {@link #randomSegments} cuts at positions
 *       drawn from the seed instead;</li>
 *   <li>{@link #resetAfter} / {@link #resetChance}: the connection is reset, after that many bytes
 *       (both ways together) or by chance per segment. Both ends' pipelines get a
 *       {@link SocketException} ("Connection reset"), which fiberloop's connections throw from
 *       their next read or write; what was not read yet is lost;</li>
 *   <li>{@link #stallAfter} / {@link #stallChance}: the connection goes silent, after that many
 *       bytes or by chance per segment: nothing more crosses it, either way, including its close,
 *       so only the ends' own timeouts notice.</li>
 * </ul>
 * The writer is not held back by latency, bandwidth or stalls: its writes complete at once, and
 * the network buffers without limit (no flow control is simulated).
 *
 * <p>Threading: the fault setters, from any thread, apply to segments written afterwards (set them
 * from the test's fiber before the traffic they are for); everything else runs on the loop.
 */
public final class SimNetwork {
    /** The end of a direction of a connection, in an inbound queue. */
    static final Object EOF = new Object() {
        @Override
        public String toString() {
            return "EOF";
        }
    };
    /** The seed of a {@code SimNetwork} parameter of a test that explores no schedules. */
    static final long DEFAULT_SEED = 0x5EED_0F_F1BE_12L;
    private static final int FIRST_PORT = 32768;

    private final long seed;
    /** The faults, and how bytes cross each connection. */
    final SimPipes pipes;

    // loop thread only
    private EventLoop loop;
    private io.netty.channel.EventLoop nettyLoop;
    private final Map<Integer, SimServerChannel> listeners = new HashMap<>();
    private final PriorityQueue<Delivery> timeline = new PriorityQueue<>();
    private final ArrayDeque<Runnable> readyReads = new ArrayDeque<>();
    private long sequence;
    /** The loop timer at the next delivery's time, or null. */
    private TimerHandle armed;
    private int nextServerPort = FIRST_PORT;
    private int nextClientPort = 50000;
    /** Where {@link #traced} records what happens, or null. */
    private List<String> trace;

    private SimNetwork(long seed) {
        this.seed = seed;
        this.pipes = new SimPipes(this, seed);
    }

    /**
     * A healthy network (no latency, no faults) whose random faults come from {@code seed}. For a
     * loop of your own: {@code FiberLoops.builder().clock(clock).ioDriver(net.ioDriver())}; a
     * {@link FiberLoopTest} method gets one by declaring a parameter.
     * <p>Threading: any thread.
     *
     * @param seed the seed of the random faults
     * @return a new network
     */
    public static SimNetwork create(long seed) {
        return new SimNetwork(seed);
    }

    /**
     * The I/O driver of the one loop that runs on this network: Netty's, with this network's
     * channels in place of sockets. Build the loop with a virtual clock for deterministic runs.
     * <p>Threading: any thread.
     *
     * @return a driver factory for {@code EventLoop.Builder.ioDriver}
     */
    public IoDriverFactory ioDriver() {
        IoDriverFactory netty = InMemoryDrivers.driverFactory(new Plumbing());
        return l -> {
            synchronized (this) {
                if (loop != null) {
                    throw new IllegalStateException("a SimNetwork carries the connections of one loop, and loop '" + loop.name()
                            + "' has it; give loop '" + l.name() + "' its own SimNetwork, or serve and connect on one loop");
                }
                loop = l;
            }
            return netty.create(l);
        };
    }

    /** {@return the seed the random faults come from} */
    public long seed() {
        return seed;
    }

    /**
     * Delays every segment by {@code oneWay} (virtual time), from now on.
     *
     * @param oneWay the one-way latency; zero for none
     * @return this network
     */
    public SimNetwork latency(Duration oneWay) {
        pipes.latencyNanos = nonNegative(oneWay, "latency");
        return this;
    }

    /**
     * Adds to each segment's latency a delay drawn from the seed between zero and {@code max}
     * (segments still arrive in order).
     *
     * @param max the largest extra delay; zero for none
     * @return this network
     */
    public SimNetwork jitter(Duration max) {
        pipes.jitterNanos = nonNegative(max, "jitter");
        return this;
    }

    /**
     * Limits each direction of every connection to {@code bytesPerSecond}.
     *
     * @param bytesPerSecond the rate; 0 for no limit
     * @return this network
     */
    public SimNetwork bandwidth(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("bandwidth must be bytes per second >= 0 (0: unlimited), was " + bytesPerSecond);
        }
        pipes.bytesPerSecond = bytesPerSecond;
        return this;
    }

    /**
     * Cuts every write into segments of at most {@code bytes}, each a read of its own at the other
     * end: 1 delivers byte by byte. Code that assumes one write arrives as one read fails here.
     *
     * @param bytes the largest segment; {@link Integer#MAX_VALUE} for whole writes
     * @return this network
     */
    public SimNetwork maxSegment(int bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("maxSegment must be >= 1 byte, was " + bytes);
        }
        pipes.maxSegment = bytes;
        return this;
    }

    /**
     * Cuts every write at positions drawn from the seed (into segments of 1 to
     * {@link #maxSegment} bytes, or up to the whole write).
     *
     * @param on whether to cut at random
     * @return this network
     */
    public SimNetwork randomSegments(boolean on) {
        pipes.randomSegments = on;
        return this;
    }

    /**
     * Resets each connection once {@code bytes} have crossed it (both ways together): the bytes
     * up to there arrive, then both ends fail with "Connection reset".
     *
     * @param bytes the bytes a connection carries before its reset; {@link Long#MAX_VALUE} for never
     * @return this network
     */
    public SimNetwork resetAfter(long bytes) {
        pipes.resetAfter = atLeast(bytes, 0, "resetAfter");
        return this;
    }

    /**
     * Resets a connection with this chance at each segment (drawn from the seed).
     *
     * @param chance between 0 and 1
     * @return this network
     */
    public SimNetwork resetChance(double chance) {
        pipes.resetChance = probability(chance, "resetChance");
        return this;
    }

    /**
     * Stalls each connection once {@code bytes} have crossed it: nothing more arrives, either way.
     *
     * @param bytes the bytes a connection carries before it stalls; {@link Long#MAX_VALUE} for never
     * @return this network
     */
    public SimNetwork stallAfter(long bytes) {
        pipes.stallAfter = atLeast(bytes, 0, "stallAfter");
        return this;
    }

    /**
     * Stalls a connection with this chance at each segment (drawn from the seed).
     *
     * @param chance between 0 and 1
     * @return this network
     */
    public SimNetwork stallChance(double chance) {
        pipes.stallChance = probability(chance, "stallChance");
        return this;
    }

    /**
     * Turns every fault off (latency, jitter, bandwidth, segments, resets, stalls); connections
     * already reset or stalled stay so.
     *
     * @return this network
     */
    public SimNetwork healthy() {
        pipes.healthy();
        return this;
    }

    /** {@return how many connections the network has reset so far (loop thread)} */
    public long resets() {
        return pipes.resets;
    }

    /** {@return how many connections the network has stalled so far (loop thread)} */
    public long stalls() {
        return pipes.stalls;
    }

    @Override
    public String toString() {
        return "SimNetwork[seed " + ExploreSeeds.format(seed) + ", " + pipes + "]";
    }

    private static long nonNegative(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative, was " + d);
        }
        return d.toNanos();
    }

    private static long atLeast(long v, long min, String what) {
        if (v < min) {
            throw new IllegalArgumentException(what + " must be >= " + min + ", was " + v);
        }
        return v;
    }

    private static double probability(double p, String what) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(what + " must be a probability between 0 and 1, was " + p);
        }
        return p;
    }

    // ------------------------------------------------------------------ the loop's side

    /** What the Netty driver sees of the network. */
    private final class Plumbing implements InMemoryNetwork {
        @Override
        public IoHandlerFactory ioHandlerFactory() {
            return new IoHandlerFactory() {
                @Override
                public io.netty.channel.IoHandler newHandler(io.netty.util.concurrent.ThreadAwareExecutor executor) {
                    return new SimIoHandler(SimNetwork.this);
                }

                @Override
                public boolean isChangingThreadSupported() {
                    return true; // the handler keeps no thread: any work fiber of the loop may run it
                }
            };
        }

        @Override
        public ChannelFactory<? extends ServerChannel> serverChannels() {
            return () -> new SimServerChannel(SimNetwork.this);
        }

        @Override
        public ChannelFactory<? extends Channel> clientChannels() {
            return () -> new SimChannel(SimNetwork.this);
        }

        @Override
        public boolean hasReadyWork() {
            return SimNetwork.this.hasReadyWork();
        }
    }

    /** A channel registered on {@code netty}: the network serves that one Netty loop. Owning thread. */
    void attach(io.netty.channel.EventLoop netty) {
        if (nettyLoop == null) {
            nettyLoop = netty;
        } else if (nettyLoop != netty) {
            throw new IllegalStateException("a SimNetwork carries the connections of one loop: serve and connect on the test's loop");
        }
    }

    long now() {
        return loop.clock().nanoTime();
    }

    /**
     * Records from now on what the network does (bytes, ends of stream, resets and stalls as they
     * are sent, each delivery as it is made), one line each, into {@code sink}: two runs of one
     * seed must record the same. For fiberloop-test's own tests. Loop thread, before any traffic.
     */
    void trace(List<String> sink) {
        this.trace = sink;
    }

    /** Records that {@code from} sent {@code what} ({@code bytes} of it), if tracing. Loop thread. */
    void traced(String what, SimChannel from, int bytes) {
        if (trace != null) {
            trace.add(now() + " " + from.describe() + " " + what + (bytes > 0 ? " " + bytes : "") + " as #" + sequence);
        }
    }

    /** Whether a delivery or a read is due now. Loop thread. */
    boolean hasReadyWork() {
        if (!readyReads.isEmpty()) {
            return true;
        }
        Delivery d = timeline.peek();
        return d != null && d.time <= now();
    }

    /** Makes the deliveries due now, then the reads asked for. Owning thread, in the I/O handler's run. */
    int deliverDue() {
        int n = 0;
        long now = now();
        Delivery d;
        while ((d = timeline.peek()) != null && d.time <= now) {
            timeline.poll();
            if (trace != null) {
                trace.add(now + " deliver #" + d.seq);
            }
            d.action.run();
            n++;
        }
        for (int reads = readyReads.size(); reads > 0; reads--) {
            readyReads.poll().run();
            n++;
        }
        arm();
        return n;
    }

    /** A channel has something to hand its pipeline: it reads in the next run. Owning thread. */
    void readyToRead(Runnable read) {
        readyReads.add(read);
    }

    /** Releases what is in flight: the loop closes. Owning thread. */
    void dropAll() {
        Delivery d;
        while ((d = timeline.poll()) != null) {
            if (d.payload != null) {
                d.payload.release();
            }
        }
        readyReads.clear();
    }

    /** Keeps a loop timer at the next delivery, so the virtual clock stops there. Loop thread. */
    private void arm() {
        Delivery head = timeline.peek();
        if (armed != null && (head == null || head.time > armed.deadlineNanos())) {
            armed.cancel(); // what it was for is gone (a connect timeout cancelled): no stop there
            armed = null;
        }
        if (head == null || loop == null || armed != null && head.time >= armed.deadlineNanos() || head.time <= now()) {
            return; // nothing to wait for, a timer stops there already, or it is due (hasReadyWork says so)
        }
        if (armed != null) {
            armed.cancel();
            armed = null;
        }
        try {
            armed = loop.scheduleAt(() -> {
                armed = null;
                arm();
            }, head.time);
        } catch (LoopClosedException closing) {
            // The loop began to close (from any thread, at any point of this turn): it takes no
            // timers and polls no more; the driver's close drops what is still in flight.
        }
    }

    /** Puts {@code action} (delivering {@code payload}, or null) on the timeline at {@code time}. Loop thread. */
    Delivery schedule(long time, ByteBuf payload, Runnable action) {
        Delivery d = new Delivery(time, sequence++, payload, action);
        timeline.add(d);
        arm();
        return d;
    }

    /**
     * Runs {@code action} in the I/O handler's run after {@code delayNanos} of virtual time.
     *
     * @return cancels it (before it ran)
     */
    Runnable later(long delayNanos, Runnable action) {
        Delivery d = schedule(now() + delayNanos, null, action);
        return () -> {
            if (timeline.remove(d)) {
                arm();
            }
        };
    }

    /** Binds a server: its address, with the port picked when 0. Owning thread. */
    InetSocketAddress listen(SimServerChannel server, InetSocketAddress at) throws BindException {
        int port = at.getPort();
        if (port == 0) {
            while (listeners.containsKey(nextServerPort)) {
                nextServerPort++;
            }
            port = nextServerPort++;
        } else if (listeners.containsKey(port)) {
            throw new BindException("Address already in use: port " + port + " of the simulated network has a server; "
                    + "close it first, or bind port 0 for a free one");
        }
        listeners.put(port, server);
        InetAddress host = at.getAddress() != null ? at.getAddress() : InetAddress.getLoopbackAddress();
        return new InetSocketAddress(host, port);
    }

    void unlisten(SimServerChannel server, int port) {
        listeners.remove(port, server);
    }

    /** A client's own address. */
    InetSocketAddress clientAddress() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), nextClientPort++);
    }

    /** A client asks to connect: the server accepts after one latency, the client learns of it after another. */
    void connect(SimChannel client, InetSocketAddress to) {
        int port = to.getPort();
        if (!listeners.containsKey(port)) {
            readyToRead(() -> client.refused(new ConnectException("Connection refused: nothing listens on port " + port
                    + " of the simulated network")));
            return;
        }
        long lat = pipes.latencyNanos;
        schedule(now() + lat, null, () -> {
            SimServerChannel server = listeners.get(port);
            if (server == null || !server.isOpen()) {
                client.refused(new ConnectException("Connection refused: the server on port " + port + " of the simulated network closed"));
                return;
            }
            if (!client.isOpen()) {
                return;
            }
            SimChannel child = new SimChannel(server, server.localAddress(), client.localAddress());
            SimPipes.Link link = new SimPipes.Link();
            child.link = link;
            client.link = link;
            child.peer = client;
            child.lastArrival = now();
            client.lastArrival = now();
            server.arrive(child);
            schedule(now() + lat, null, () -> client.connected(child));
        });
    }

    /** Something that happens at a virtual time: bytes, an end of stream, a reset, a connect. */
    record Delivery(long time, long seq, ByteBuf payload, Runnable action) implements Comparable<Delivery> {
        @Override
        public int compareTo(Delivery o) {
            int c = Long.compare(time, o.time);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }
}
