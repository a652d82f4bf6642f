package io.fiberloop.test;

import io.netty.buffer.ByteBuf;
import java.net.SocketException;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * How bytes cross the connections of a {@link SimNetwork}: the faults it is set to (latency,
 * jitter, bandwidth, cuts, resets, stalls), the random draws for them from the network's seed, and
 * each connection's {@link Link}. What it decides becomes deliveries on the network's timeline.
 *
 * <p>Threading: the fault settings are written from any thread ({@link SimNetwork}'s setters) and
 * read by the loop; everything else runs on the loop.
 */
final class SimPipes {
    private final SimNetwork network;
    private final SplittableRandom random;

    volatile long latencyNanos;
    volatile long jitterNanos;
    volatile long bytesPerSecond;
    volatile int maxSegment = Integer.MAX_VALUE;
    volatile boolean randomSegments;
    volatile long resetAfter = Long.MAX_VALUE;
    volatile long stallAfter = Long.MAX_VALUE;
    volatile double resetChance;
    volatile double stallChance;

    // loop thread only
    long resets;
    long stalls;

    SimPipes(SimNetwork network, long seed) {
        this.network = network;
        this.random = new SplittableRandom(seed);
    }

    /** Turns every fault off. */
    void healthy() {
        latencyNanos = 0;
        jitterNanos = 0;
        bytesPerSecond = 0;
        maxSegment = Integer.MAX_VALUE;
        randomSegments = false;
        resetAfter = Long.MAX_VALUE;
        stallAfter = Long.MAX_VALUE;
        resetChance = 0;
        stallChance = 0;
    }

    /** {@return the faults, as {@link SimNetwork#toString()} shows them} */
    @Override
    public String toString() {
        return "latency " + Duration.ofNanos(latencyNanos)
                + (jitterNanos > 0 ? " + up to " + Duration.ofNanos(jitterNanos) : "")
                + (bytesPerSecond > 0 ? ", " + bytesPerSecond + " B/s" : "")
                + (maxSegment < Integer.MAX_VALUE ? ", segments <= " + maxSegment + " B" : "")
                + (randomSegments ? ", random segments" : "")
                + (resetAfter < Long.MAX_VALUE ? ", reset after " + resetAfter + " B" : "")
                + (resetChance > 0 ? ", reset chance " + resetChance : "")
                + (stallAfter < Long.MAX_VALUE ? ", stall after " + stallAfter + " B" : "")
                + (stallChance > 0 ? ", stall chance " + stallChance : "");
    }

    /** Sends {@code data} (the caller keeps and releases it) from {@code from} to its peer. Loop thread. */
    void send(SimChannel from, ByteBuf data) {
        Link link = from.link;
        SimChannel to = from.peer;
        if (link == null || to == null || link.reset || link.stalled) {
            return; // nothing crosses a stalled or reset connection
        }
        int index = data.readerIndex();
        int end = data.writerIndex();
        while (index < end) {
            int n = segmentLength(end - index);
            if (resetAfter - link.bytes < n || resetChance > 0 && random.nextDouble() < resetChance) {
                int before = (int) Math.max(0, Math.min(n, resetAfter - link.bytes));
                if (before > 0 && resetChance == 0) {
                    carry(from, to, data, index, before);
                }
                reset(from, to, link);
                return;
            }
            if (stallAfter - link.bytes < n || stallChance > 0 && random.nextDouble() < stallChance) {
                int before = (int) Math.max(0, Math.min(n, stallAfter - link.bytes));
                if (before > 0 && stallChance == 0) {
                    carry(from, to, data, index, before);
                }
                link.stalled = true;
                stalls++;
                network.traced("stall", from, 0);
                return;
            }
            carry(from, to, data, index, n);
            index += n;
        }
    }

    private int segmentLength(int remaining) {
        int max = Math.min(remaining, maxSegment);
        if (randomSegments && max > 1) {
            return 1 + random.nextInt(max);
        }
        return max;
    }

    /** Puts {@code n} bytes of {@code data} from {@code index} on the way from {@code from} to {@code to}. */
    private void carry(SimChannel from, SimChannel to, ByteBuf data, int index, int n) {
        from.link.bytes += n;
        ByteBuf copy = to.alloc().buffer(n);
        copy.writeBytes(data, index, n);
        long arrival = arrival(from, n);
        network.traced("bytes", from, n);
        network.schedule(arrival, copy, () -> {
            if (!to.arrive(copy)) {
                copy.release();
            }
        });
    }

    /** When {@code n} bytes sent now from {@code from} arrive: after bandwidth, latency and jitter, in order. */
    private long arrival(SimChannel from, int n) {
        long now = network.now();
        long sent = now;
        long bps = bytesPerSecond;
        if (bps > 0) {
            long start = Math.max(now, from.linkFree);
            sent = start + (long) Math.ceil(n * 1e9 / bps);
            from.linkFree = sent;
        }
        long t = sent + latencyNanos;
        long j = jitterNanos;
        if (j > 0) {
            t += random.nextLong(j + 1);
        }
        t = Math.max(t, from.lastArrival);
        from.lastArrival = t;
        return t;
    }

    /** {@code from} shut its output or closed: the peer reads the end after the bytes before it. Loop thread. */
    void sendEnd(SimChannel from) {
        Link link = from.link;
        SimChannel to = from.peer;
        if (link == null || to == null || link.reset || link.stalled) {
            return;
        }
        network.traced("end", from, 0);
        network.schedule(arrival(from, 0), null, () -> to.arrive(SimNetwork.EOF));
    }

    private void reset(SimChannel from, SimChannel to, Link link) {
        link.reset = true;
        resets++;
        network.traced("reset", from, 0);
        long at = arrival(from, 0);
        network.schedule(network.now() + latencyNanos, null, () -> from.reset(new SocketException("Connection reset (by the simulated network)")));
        network.schedule(at, null, () -> to.reset(new SocketException("Connection reset (by the simulated network)")));
    }

    /** What both ends of a connection share. Loop thread. */
    static final class Link {
        long bytes;
        boolean stalled;
        boolean reset;
    }
}
