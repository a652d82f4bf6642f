package io.fiberloop.test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.Extension;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * {@link Explore}'s runs, for {@link FiberLoopExtension}: one invocation of the test template per
 * seed, each of which tells the extension its seed (through the invocation's store) before the
 * test's loop is built.
 *
 * <p>Threading: JUnit's.
 */
final class ExploreSeeds {
    /** Configuration parameter: seeds to replay, comma-separated, in every {@code @Explore} test. */
    static final String SEED = "fiberloop.explore.seed";
    /** Configuration parameter: how many seeds to run, in place of the annotation's count. */
    static final String ITERATIONS = "fiberloop.explore.iterations";
    /** Configuration parameter: the base of the seed series (a number, or {@code random}). */
    static final String BASE = "fiberloop.explore.base";
    /** The default base: the same seeds on every run, so that CI is reproducible. */
    private static final long DEFAULT_BASE = 0x6669_6265_726c_6f6fL; // "fiberloo"

    private ExploreSeeds() {
    }

    /** {@return whether the template is an {@code @Explore} method} */
    static boolean supports(ExtensionContext context) {
        return context.getTestMethod().map(m -> AnnotationSupport.isAnnotated(m, Explore.class)).orElse(false);
    }

    /** {@return one invocation per seed} */
    static Stream<TestTemplateInvocationContext> invocations(ExtensionContext context) {
        Explore explore = AnnotationSupport.findAnnotation(context.getRequiredTestMethod(), Explore.class).orElseThrow();
        return seeds(explore, context).stream().map(Run::new);
    }

    /** The seeds to run: replayed ones (configuration, then annotation), else a series. */
    static List<Long> seeds(Explore explore, ExtensionContext context) {
        List<Long> seeds = new ArrayList<>();
        Optional<String> replay = context.getConfigurationParameter(SEED);
        if (replay.isPresent()) {
            for (String s : replay.get().split(",")) {
                seeds.add(parseSeed(s.trim(), SEED));
            }
            return seeds;
        }
        if (explore.seed().length > 0) {
            for (long s : explore.seed()) {
                seeds.add(s);
            }
            return seeds;
        }
        int n = context.getConfigurationParameter(ITERATIONS).map(s -> {
            try {
                return Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(ITERATIONS + " must be a number of runs, was '" + s + "'", e);
            }
        }).orElse(explore.iterations());
        if (n < 1) {
            throw new IllegalArgumentException("@Explore needs at least one iteration, was " + n
                    + ": give iterations = N with N >= 1, or name seeds with seed = {...}");
        }
        String baseText = context.getConfigurationParameter(BASE).orElse(null);
        long base = baseText == null ? DEFAULT_BASE
                : baseText.trim().equalsIgnoreCase("random") ? new SplittableRandom().nextLong() : parseSeed(baseText.trim(), BASE);
        SplittableRandom series = new SplittableRandom(base);
        for (int i = 0; i < n; i++) {
            seeds.add(series.nextLong());
        }
        return seeds;
    }

    private static long parseSeed(String text, String what) {
        String s = text.endsWith("L") || text.endsWith("l") ? text.substring(0, text.length() - 1) : text;
        try {
            return s.startsWith("0x") || s.startsWith("0X") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be a seed as a decimal or 0x-hex long (as a failure prints it), was '" + text + "'", e);
        }
    }

    /** {@return the seed as a failure prints it and {@code @Explore(seed = ...)} takes it} */
    static String format(long seed) {
        return "0x" + Long.toHexString(seed) + "L";
    }

    /** One run: a seed. */
    private record Run(long seed) implements TestTemplateInvocationContext {
        @Override
        public String getDisplayName(int invocationIndex) {
            return "seed " + format(seed);
        }

        @Override
        public List<Extension> getAdditionalExtensions() {
            return List.of((BeforeEachCallback) c -> FiberLoopExtension.useSeed(c, seed));
        }
    }
}
