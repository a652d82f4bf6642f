package io.fiberloop.fiber.internal;

/** The condition of a fiberloop wait ({@link Strand#awaitUntil}); checked on the loop after each wake-up. */
@FunctionalInterface
public interface Until {

    /** {@return whether the wait is over} */
    boolean done();
}
