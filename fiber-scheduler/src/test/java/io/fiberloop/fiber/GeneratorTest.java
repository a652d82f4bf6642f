package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.loop.EventLoop;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.WeakHashMap;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Generators built on fibers, ported from python-fibers' {@code test_generator.py} and
 * {@code test_generator_nested.py}: each {@code next()} makes the consumer the generator's parent
 * and switches into it; {@code yield} switches to the parent of the nearest enclosing generator with
 * a value; the generator's end returns control to the consumer, and the generator is then no longer
 * alive.
 */
@Timeout(20)
class GeneratorTest {

    /** python-fibers' genlet. Loop thread only. */
    static final class Gen<T> implements Iterator<T>, Iterable<T> {
        /** The fibers that are generators (a fiber's identity is its equality). */
        private static final Map<Fiber, Boolean> GENS = Collections.synchronizedMap(new WeakHashMap<>());
        private static final Object END = new Object();

        final Fiber fiber;
        private Object lookahead;
        private boolean fetched;

        Gen(Consumer<Gen<T>> body) {
            this.fiber = new Fiber(() -> {
                try {
                    body.accept(this);
                } finally {
                    GENS.remove(Fiber.current());
                }
            });
            GENS.put(fiber, Boolean.TRUE);
        }

        /** python's {@code __next__}: the caller becomes the parent, then switch in. */
        private Object step() {
            fiber.parent(Fiber.current());
            Object result = fiber.switchTo();
            return fiber.isAlive() ? result : END;
        }

        @Override
        public boolean hasNext() {
            if (!fetched) {
                lookahead = step();
                fetched = true;
            }
            return lookahead != END;
        }

        @Override
        @SuppressWarnings("unchecked")
        public T next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            fetched = false;
            T v = (T) lookahead;
            lookahead = null;
            return v;
        }

        @Override
        public Iterator<T> iterator() {
            return this;
        }

        /** python's {@code Yield}: switch to the parent of the nearest enclosing generator. */
        static void yield(Object value) {
            Fiber g = Fiber.current();
            while (!GENS.containsKey(g)) {
                g = g.parent();
                if (g == null) {
                    throw new IllegalStateException("yield outside a generator");
                }
            }
            g.parent().switchTo(value);
        }
    }

    private static <T> List<T> drain(Iterable<T> gen) {
        List<T> out = new ArrayList<>();
        for (T v : gen) {
            out.add(v);
        }
        return out;
    }

    /** test_generator: a generator of 0..4, iterated three times; values interleave with the consumer. */
    @Test
    void generatorYieldsZeroToFourInThreeRounds() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<Integer> seen = loop.run(() -> {
                List<Integer> s = new ArrayList<>();
                for (int k = 0; k < 3; k++) {
                    Gen<Integer> g = new Gen<>(gen -> {
                        for (int i = 0; i < 5; i++) {
                            s.add(i);
                            Gen.yield(i);
                        }
                    });
                    for (int j : g) {
                        s.add(j);
                    }
                    assertFalse(g.fiber.isAlive());
                    assertFalse(g.hasNext());
                }
                return s;
            });
            List<Integer> round = List.of(0, 0, 1, 1, 2, 2, 3, 3, 4, 4);
            List<Integer> expected = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                expected.addAll(round);
            }
            assertEquals(expected, seen);
        }
    }

    /** test_genlet_simple, g3: yield from a plain method called by the generator (not its body). */
    @Test
    void yieldFromANestedCall() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<Integer> seen = loop.run(() -> {
                List<Integer> s = new ArrayList<>();
                for (int k = 0; k < 3; k++) {
                    for (int j : new Gen<Integer>(gen -> {
                        for (int i = 0; i < 5; i++) {
                            s.add(i + 1);
                            nestedYield(i);
                        }
                    })) {
                        s.add(j);
                    }
                }
                return s;
            });
            List<Integer> expected = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                expected.addAll(List.of(1, 0, 2, 1, 3, 2, 4, 3, 5, 4));
            }
            assertEquals(expected, seen);
        }
    }

    private static void nestedYield(int i) {
        Gen.yield(i);
    }

    /** test_genlet_bad: yield outside any generator. */
    @Test
    void yieldOutsideAGeneratorFails() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            loop.run(() -> {
                assertThrows(IllegalStateException.class, () -> Gen.yield(10));
                return null;
            });
        }
    }

    /** Two generators consumed in lock step (zip). */
    @Test
    void twoGeneratorsInterleave() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> pairs = loop.run(() -> {
                Gen<String> letters = new Gen<>(g -> "abc".chars().forEach(c -> Gen.yield(String.valueOf((char) c))));
                Gen<Integer> numbers = new Gen<>(g -> IntStream.range(1, 10).forEach(Gen::yield));
                List<String> out = new ArrayList<>();
                while (letters.hasNext() && numbers.hasNext()) {
                    out.add(letters.next() + numbers.next());
                }
                out.add("letters alive " + letters.fiber.isAlive() + ", numbers alive " + numbers.fiber.isAlive());
                return out;
            });
            assertEquals(List.of("a1", "b2", "c3", "letters alive false, numbers alive true"), pairs);
        }
    }

    // ------------------------------------------------------------------ nested (test_generator_nested.py)

    /** perms: for each e, for each permutation p of the rest, yield [e] + p; a nested generator per level. */
    private static Gen<List<Integer>> perms(List<Integer> l) {
        return new Gen<>(g -> {
            if (l.size() > 1) {
                for (Integer e : l) {
                    List<Integer> rest = new ArrayList<>(l);
                    rest.remove(e);
                    for (List<Integer> p : perms(rest)) {
                        List<Integer> r = new ArrayList<>();
                        r.add(e);
                        r.addAll(p);
                        Gen.yield(r);
                    }
                }
            } else {
                Gen.yield(l);
            }
        });
    }

    @Test
    void permutationsOfFourFromRecursiveGenerators() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<List<Integer>> permutations = loop.run(() -> drain(perms(List.of(0, 1, 2, 3))));
            assertEquals(List.of(
                    List.of(0, 1, 2, 3), List.of(0, 1, 3, 2), List.of(0, 2, 1, 3), List.of(0, 2, 3, 1),
                    List.of(0, 3, 1, 2), List.of(0, 3, 2, 1), List.of(1, 0, 2, 3), List.of(1, 0, 3, 2),
                    List.of(1, 2, 0, 3), List.of(1, 2, 3, 0), List.of(1, 3, 0, 2), List.of(1, 3, 2, 0),
                    List.of(2, 0, 1, 3), List.of(2, 0, 3, 1), List.of(2, 1, 0, 3), List.of(2, 1, 3, 0),
                    List.of(2, 3, 0, 1), List.of(2, 3, 1, 0), List.of(3, 0, 1, 2), List.of(3, 0, 2, 1),
                    List.of(3, 1, 0, 2), List.of(3, 1, 2, 0), List.of(3, 2, 0, 1), List.of(3, 2, 1, 0)),
                    permutations);
        }
    }

    /** test_permutations, second half: two nested generators zipped; the shorter stops the zip. */
    @Test
    void zippedPermutationGenerators() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> res = loop.run(() -> {
                Gen<List<Integer>> four = perms(List.of(0, 1, 2, 3));
                Gen<List<Integer>> three = perms(List.of(0, 1, 2));
                List<String> out = new ArrayList<>();
                while (four.hasNext() && three.hasNext()) {
                    out.add(four.next() + " " + three.next());
                }
                return out;
            });
            assertEquals(List.of(
                    "[0, 1, 2, 3] [0, 1, 2]", "[0, 1, 3, 2] [0, 2, 1]",
                    "[0, 2, 1, 3] [1, 0, 2]", "[0, 2, 3, 1] [1, 2, 0]",
                    "[0, 3, 1, 2] [2, 0, 1]", "[0, 3, 2, 1] [2, 1, 0]"), res);
        }
    }

    /** test_nested_genlets: ax(n) yields what ax(n-1) yields, then n. */
    @Test
    void nestedGeneratorsYieldThroughEachLevel() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<Integer> seen = loop.run(() -> drain(ax(5)));
            assertEquals(List.of(1, 2, 3, 4, 5), seen);
        }
    }

    private static Gen<Integer> ax(int n) {
        return new Gen<>(g -> {
            if (n == 0) {
                return;
            }
            for (int ii : ax(n - 1)) {
                Gen.yield(ii);
            }
            Gen.yield(n);
        });
    }
}
