package io.fiberloop.fiber;

/**
 * A body of work that returns a value and may throw {@code X}; Java infers {@code X} from the
 * lambda, so a body that throws no checked exception needs no {@code try}.
 *
 * @param <T> the result type
 * @param <X> what it may throw
 */
@FunctionalInterface
public interface FiberCallable<T, X extends Throwable> {

    /**
     * Runs the work.
     *
     * @return its result
     * @throws X its failure
     */
    T call() throws X;
}
