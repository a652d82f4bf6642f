package io.fiberloop.test;

import java.util.ArrayList;
import java.util.List;
import org.opentest4j.AssertionFailedError;

/**
 * Asserts the order of events across fibers, in the style of kotlinx-coroutines' own tests: each
 * step calls {@code expect(n)} with its place in the expected order, the last one calls
 * {@code finish(n)}, and code that must never run calls {@link #expectUnreached()}.
 *
 * {@snippet :
 * @Test
 * void cancellationRunsFinally(EventOrder order) {
 *     order.expect(1);
 *     Task<Void> t = Fibers.spawn(() -> {
 *         order.expect(2);
 *         try {
 *             Fibers.sleep(Duration.ofHours(1));
 *             order.expectUnreached();
 *         } finally {
 *             order.expect(4);
 *         }
 *         return null;
 *     });
 *     Fibers.yieldNow();
 *     order.expect(3);
 *     t.cancel();
 *     assertThrows(CancelledException.class, t::join);
 *     order.finish(5);
 * }
 * }
 *
 * <p>A step out of order throws {@link AssertionFailedError} where it happens and is remembered:
 * under {@link FiberLoopTest} the test fails even when the step ran in a task whose failure nobody
 * joined, and it fails if {@code expect} was called but {@code finish} never was.
 *
 * <p>Threading: the fibers and callbacks of one loop, the first caller's (an event order is not
 * synchronized); another thread gets {@link IllegalStateException}. Use one per test.
 */
public final class EventOrder {
    private int last;
    private boolean finished;
    private AssertionFailedError firstError;
    private final List<Integer> seen = new ArrayList<>();
    private final LoopAffinity affinity = new LoopAffinity("event order");

    /** Creates an event order at step 0: the next expected step is 1. */
    public EventOrder() {
    }

    /**
     * Records step {@code n}, which must be the next one.
     *
     * @param n the step's place in the expected order, from 1
     * @throws AssertionFailedError if another step was expected, or after {@link #finish}
     * @throws IllegalStateException off the event order's loop
     */
    public void expect(int n) {
        affinity.check();
        if (finished) {
            throw fail("expect(" + n + ") after finish(" + last + "): finish marks the last step");
        }
        seen.add(n);
        if (n != last + 1) {
            throw fail("expected step " + (last + 1) + " but reached step " + n + " (steps so far: " + seen + ")");
        }
        last = n;
    }

    /**
     * Records the last step, {@code n}.
     *
     * @param n the last step's place in the expected order
     * @throws AssertionFailedError as {@link #expect}
     */
    public void finish(int n) {
        expect(n);
        finished = true;
    }

    /**
     * Marks code that must never run.
     *
     * @throws AssertionFailedError always
     */
    public void expectUnreached() {
        throw fail("reached code that must not be reached, after step " + last + " (steps so far: " + seen + ")");
    }

    /** {@return the last step recorded, 0 before the first} */
    public int lastStep() {
        return last;
    }

    /** {@return whether {@link #finish} was reached} */
    public boolean isFinished() {
        return finished;
    }

    private AssertionFailedError fail(String message) {
        AssertionFailedError e = new AssertionFailedError(message);
        if (firstError == null) {
            firstError = e;
        }
        return e;
    }

    /** At the end of a test: the first step out of order, or a missing finish; null if all went well. */
    AssertionFailedError verdict() {
        if (firstError != null) {
            return firstError;
        }
        if (last > 0 && !finished) {
            return new AssertionFailedError("the event order reached step " + last + " but finish(n) was never called: "
                    + "call finish(n) at the last step, or a step after " + last + " never ran");
        }
        return null;
    }
}
