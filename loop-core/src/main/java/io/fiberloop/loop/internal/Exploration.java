package io.fiberloop.loop.internal;

import java.util.SplittableRandom;

/**
 * Seeded schedule exploration, for tests (trio shuffles each batch of runnable tasks; this does
 * the same from a seed, so that one seed replays one schedule). A loop built with an exploration
 * takes its choices from it wherever FIFO order would otherwise decide: which ready fiber the
 * carrier runs next, the order of the tasks of one turn (foreign submissions included, once
 * drained), and the order of timers that fall due with equal deadlines. A loop without one (every
 * loop but a test's) keeps its FIFO order and pays one predictable branch per batch for it.
 *
 * <p>Internal to fiberloop (fiberloop-test turns it on): not an API.
 *
 * <p>Threading: the loop's carrier only (the choices of one loop are made there, in order, which
 * is what makes a seed replay its schedule).
 */
public final class Exploration {
    private final long seed;
    private final SplittableRandom random;

    private Exploration(long seed) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    /**
     * {@return a new exploration that makes its choices from {@code seed}}
     *
     * @param seed the seed of the schedule
     */
    public static Exploration seeded(long seed) {
        return new Exploration(seed);
    }

    /** {@return the seed this exploration was made from} */
    public long seed() {
        return seed;
    }

    /**
     * Picks one of {@code n} ready items.
     *
     * @param n how many are ready; at least 1
     * @return an index in {@code [0, n)}
     */
    public int pick(int n) {
        return n <= 1 ? 0 : random.nextInt(n);
    }

    /**
     * Permutes the first {@code n} items of {@code items} (Fisher-Yates).
     *
     * @param items the items
     * @param n how many of them to permute
     */
    public void shuffle(Object[] items, int n) {
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            Object t = items[i];
            items[i] = items[j];
            items[j] = t;
        }
    }

    @Override
    public String toString() {
        return "Exploration[seed=" + seed + "]";
    }
}
