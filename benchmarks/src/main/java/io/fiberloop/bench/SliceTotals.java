package io.fiberloop.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One server's figures summed over the measured slices of one round ({@link Harness}): its
 * operations, the seconds the load generator measured, its user and system CPU ticks, and what the
 * rest of the machine did meanwhile. It turns them into the round's {@link Sample}: the rate is
 * the operations over the summed seconds, the CPU per operation the summed ticks over the summed
 * operations, and p50/p99 the <em>median of the slices'</em> p50 and p99 (latency percentiles do not
 * add up). A sequential run is a single slice, so its sample is that slice's figures. Harness thread only.
 */
final class SliceTotals {
    private final String server;
    private final long ticksPerSecond;
    private int slices;
    private long operations;
    private double seconds;
    private double wallSeconds;
    private long userTicks;
    private long sysTicks;
    private long idleServerTicks;
    private long loadTicks;
    private long machineTicks;
    private final List<Double> p50s = new ArrayList<>();
    private final List<Double> p99s = new ArrayList<>();
    private final List<Double> sliceRates = new ArrayList<>();
    private final List<Double> sliceUserUs = new ArrayList<>();
    private final Map<String, List<Object>> extras = new LinkedHashMap<>();

    /**
     * @param server the server's name
     * @param ticksPerSecond the kernel's clock ticks a second ({@code CLK_TCK}, 100 on Linux)
     */
    SliceTotals(String server, long ticksPerSecond) {
        this.server = server;
        this.ticksPerSecond = ticksPerSecond;
    }

    /**
     * The servers in the order they run in slice pass {@code pass} (0-based) of a round: {@code order}
     * rotated left by {@code pass}, so {@code A B C}, {@code B C A}, {@code C A B}, {@code A B C}, ...:
     * over a multiple of {@code order.size()} passes each server runs first, second, ... equally often.
     */
    static List<String> rotation(List<String> order, int pass) {
        if (order.isEmpty()) {
            return order;
        }
        int k = Math.floorMod(pass, order.size());
        List<String> out = new ArrayList<>(order.subList(k, order.size()));
        out.addAll(order.subList(0, k));
        return out;
    }

    /**
     * Adds one measured slice of this server.
     *
     * @param slice what the load generator saw
     * @param user the server's user-mode ticks over the slice
     * @param sys its system-mode ticks
     * @param idleServers the ticks of the other (idle) servers of the round over the slice
     * @param load the load generator's ticks (the harness JVM's own and any external generator's)
     * @param machine the whole machine's busy ticks
     * @param wall the slice's wall-clock seconds, as the harness timed it around the ticks
     */
    void add(Harness.Slice slice, long user, long sys, long idleServers, long load, long machine, double wall) {
        slices++;
        operations += slice.operations();
        seconds += slice.seconds();
        wallSeconds += wall;
        userTicks += user;
        sysTicks += sys;
        idleServerTicks += idleServers;
        loadTicks += load;
        machineTicks += machine;
        p50s.add(slice.p50Us());
        p99s.add(slice.p99Us());
        sliceRates.add(slice.seconds() > 0 ? slice.operations() / slice.seconds() : Double.NaN);
        sliceUserUs.add(slice.operations() > 0 ? user * 1e6 / ticksPerSecond / slice.operations() : Double.NaN);
        slice.extra().forEach((k, v) -> extras.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
    }

    int slices() {
        return slices;
    }

    /**
     * This server's sample of {@code round}. Its {@code extra} holds the load generator's own
     * figures merged over the slices (whole numbers summed, a name starting {@code min} or
     * {@code max} the least or greatest, other fractions the median, text the first non-null),
     * then {@code operations}, {@code slices}, {@code measuredSec}, each slice's rate and user CPU
     * per operation ({@code sliceRates}, {@code sliceUserUs}: whether a round's difference between
     * two servers holds in every slice or comes from a few), and the shares of a core that
     * the server, the load generator, the idle servers and the rest of the machine took over the
     * slices ({@code serverCorePct}, {@code loadCorePct}, {@code idleServersCorePct},
     * {@code othersCorePct}).
     */
    Sample sample(int round) {
        double[] cpu = Sample.cpuPerOp(userTicks, sysTicks, ticksPerSecond, operations);
        Map<String, Object> extra = new LinkedHashMap<>();
        extras.forEach((k, v) -> extra.put(k, merge(k, v)));
        extra.put("operations", operations);
        extra.put("slices", slices);
        extra.put("measuredSec", seconds);
        extra.put("sliceRates", List.copyOf(sliceRates));
        extra.put("sliceUserUs", List.copyOf(sliceUserUs));
        extra.put("serverCorePct", corePct(userTicks + sysTicks));
        extra.put("loadCorePct", corePct(loadTicks));
        extra.put("idleServersCorePct", corePct(idleServerTicks));
        extra.put("othersCorePct", corePct(Math.max(0, machineTicks - userTicks - sysTicks - idleServerTicks - loadTicks)));
        double rate = seconds > 0 ? operations / seconds : Double.NaN;
        return new Sample(server, round, rate, median(p50s), median(p99s), cpu[0], cpu[1], cpu[2], extra);
    }

    private double corePct(long ticks) {
        return wallSeconds > 0 ? 100.0 * ticks / ticksPerSecond / wallSeconds : Double.NaN;
    }

    private static double median(List<Double> v) {
        return Stats.median(v.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Merges one extra figure's values over the slices: see {@link #sample}. */
    static Object merge(String key, List<Object> values) {
        if (values.stream().allMatch(v -> v instanceof Long)) {
            return values.stream().mapToLong(v -> (Long) v).sum();
        }
        if (values.stream().allMatch(v -> v instanceof Number)) {
            double[] d = values.stream().mapToDouble(v -> ((Number) v).doubleValue()).toArray();
            return key.startsWith("min") ? Stats.min(d) : key.startsWith("max") ? Stats.max(d) : Stats.median(d);
        }
        return values.stream().filter(v -> v != null).findFirst().orElse(null);
    }
}
