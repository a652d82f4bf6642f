package io.fiberloop.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.TestTemplate;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Seeded schedule exploration: runs the annotated test method (in place of {@code @Test}) once per
 * seed, each time on a fresh {@link FiberLoopTest} loop whose scheduling choices come from the
 * seed: which ready fiber runs next, the order of the loop's queued tasks (those from other
 * threads included) and of timers that fall due at the same time. The default order is FIFO;
 * code that is correct only in FIFO order (a check-then-act across a suspension point, say)
 * fails under some seed. Each seed replays exactly one schedule.
 *
 * {@snippet :
 * @Explore(iterations = 50)                 // seeds chosen for you, the same on every run
 * void transfersNeverOverdraw(TestLoop t) { ... }
 *
 * @Explore(seed = 0x5d1b2c6a9e3f4471L)      // replays the schedule a failure printed
 * void transfersNeverOverdraw(TestLoop t) { ... }
 * }
 *
 * <p>A failing run's message starts with its seed ("failed under exploration seed S") and says
 * how to replay it. JUnit configuration parameters (or system properties) change the seeds
 * without editing code: {@code fiberloop.explore.seed=S[,S2...]} replays those seeds in every
 * {@code @Explore} test, {@code fiberloop.explore.iterations=N} runs N seeds instead of the
 * annotation's count (a larger run on demand), and {@code fiberloop.explore.base=B} (a number, or
 * {@code random}) picks another series of seeds.
 *
 * <p>Exploration permutes only what runs on the test's loop; threads outside it keep their own
 * timing. It also breaks orders that fiberloop promises in FIFO mode (an {@code Event} wakes its
 * waiters in order, {@code yieldNow} lets every other ready fiber run first), so explore tests
 * that assert outcomes, not the order of wake-ups.
 */
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@TestTemplate
@ExtendWith(FiberLoopExtension.class)
public @interface Explore {

    /**
     * How many seeds to run when {@link #seed()} names none.
     *
     * @return the number of runs; default 100
     */
    int iterations() default 100;

    /**
     * The seeds to replay (a failing run prints its own); when given, {@link #iterations()} is
     * ignored.
     *
     * @return the seeds; default none
     */
    long[] seed() default {};
}
