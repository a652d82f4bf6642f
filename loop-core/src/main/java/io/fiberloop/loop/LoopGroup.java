package io.fiberloop.loop;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A fixed set of {@link EventLoop}s, one per core by default, handed out round-robin: the way to
 * use every core (like Netty's event-loop groups, or one asyncio loop per process).
 *
 * {@snippet :
 * try (LoopGroup group = LoopGroup.create()) {
 *     for (int i = 0; i < 8; i++) {
 *         group.next().execute(() -> System.out.println(Thread.currentThread().getName()));
 *     }
 * }
 * }
 *
 * <p>Threading: every method is safe from any thread.
 */
public final class LoopGroup implements AutoCloseable, Iterable<EventLoop> {
    private static final AtomicInteger GROUP_IDS = new AtomicInteger();
    private final List<EventLoop> loops;
    private final AtomicInteger next = new AtomicInteger();

    private LoopGroup(List<EventLoop> loops) {
        this.loops = List.copyOf(loops);
    }

    /** {@return a group of one loop per available processor, with default settings} */
    public static LoopGroup create() {
        return create(Runtime.getRuntime().availableProcessors());
    }

    /**
     * {@return a group of {@code size} loops with default settings}
     *
     * @param size the number of loops, at least one
     */
    public static LoopGroup create(int size) {
        return create(size, b -> { });
    }

    /**
     * Creates a group whose loops are built by a builder that {@code configure} adjusts (clock,
     * driver, watchdog...). The loops are named {@code group-G-loop-I} unless the configuration
     * names them.
     *
     * @param size the number of loops, at least one
     * @param configure adjusts each loop's builder; called once per loop
     * @return the group
     */
    public static LoopGroup create(int size, Consumer<EventLoop.Builder> configure) {
        if (size < 1) {
            throw new IllegalArgumentException("a loop group needs at least one loop, was asked for " + size);
        }
        Objects.requireNonNull(configure, "configure");
        int g = GROUP_IDS.incrementAndGet();
        List<EventLoop> list = new ArrayList<>(size);
        try {
            for (int i = 0; i < size; i++) {
                EventLoop.Builder b = EventLoop.builder().name("group-" + g + "-loop-" + i);
                configure.accept(b);
                list.add(b.build());
            }
        } catch (RuntimeException | Error e) {
            list.forEach(EventLoop::close);
            throw e;
        }
        return new LoopGroup(list);
    }

    /** {@return the next loop, round-robin} */
    public EventLoop next() {
        return loops.get(Math.floorMod(next.getAndIncrement(), loops.size()));
    }

    /** {@return the loops, in order; an unmodifiable list} */
    public List<EventLoop> loops() {
        return loops;
    }

    /** {@return the number of loops} */
    public int size() {
        return loops.size();
    }

    @Override
    public Iterator<EventLoop> iterator() {
        return loops.iterator();
    }

    /**
     * Closes every loop, one after the other (each close lets its queued tasks finish). Idempotent.
     * From a loop of this group, that loop only starts closing (it cannot wait for itself).
     */
    @Override
    public void close() {
        for (EventLoop loop : loops) {
            loop.close();
        }
    }

    @Override
    public String toString() {
        return "LoopGroup" + loops;
    }
}
