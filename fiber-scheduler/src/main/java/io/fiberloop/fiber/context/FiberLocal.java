package io.fiberloop.fiber.context;

import io.fiberloop.fiber.FiberCallable;
import io.fiberloop.fiber.Offload;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A value with one copy per fiber, inherited by the tasks a fiber spawns: Python's
 * {@code ContextVar} for fiberloop. A task starts with the values its spawner had when it called
 * {@code spawn}; from then on each has its own, and neither sees the other's changes. Work
 * offloaded with {@link Offload#call} sees its caller's values too.
 *
 * {@snippet :
 * static final FiberLocal<String> REQUEST = FiberLocal.withInitial(() -> "-");
 *
 * loop.run(() -> {
 *     REQUEST.set("r-1");
 *     Task<String> child = Fibers.spawn(() -> {
 *         String seen = REQUEST.get();     // "r-1": inherited at spawn
 *         REQUEST.set("child");            // the parent keeps "r-1"
 *         return seen;
 *     });
 *     REQUEST.set("r-2");                  // the child, already spawned, keeps "r-1"
 *     return child.join();
 * });
 *
 * // a value for the duration of a call, restored afterwards
 * String r = FiberLocal.where(REQUEST, "r-3", () -> handle());
 * }
 *
 * <h2>Where values live</h2>
 * Each fiber runs on its own virtual thread, so a fiber's values are kept in a thread-local of that
 * thread, as one immutable map that a {@code set} replaces (see {@link FiberContext}); spawning
 * hands the child a reference to the spawner's map, which costs nothing to copy. Values are shared
 * by reference: put immutable values in fiber locals.
 *
 * <h2>On plain threads, and in loop callbacks</h2>
 * On a plain thread a fiber local is a thread-local of that thread. Like an
 * {@link InheritableThreadLocal} its values travel to the work the thread hands over, but at the
 * hand-over, not at thread creation: {@code Fibers.spawn(loop, …)} called from the thread starts
 * the task with the thread's values, as do {@link Offload#call} and {@link FiberContext#wrap}.
 * Threads a thread starts do not inherit its values: pool threads, a loop's carrier and its work
 * fibers are started lazily by whoever comes first, and would otherwise keep a stranger's values
 * for life. Loop callbacks (tasks submitted with {@code execute}, timers) all run in the loop's
 * work fiber and so share its values: a callback that sets one should remove it.
 *
 * <h2>Why the scoped form is not a {@link ScopedValue}</h2>
 * {@link #where} would map naturally to {@code ScopedValue.where(...).call(...)}, but a
 * {@code ScopedValue} binding is inherited only by threads forked in a {@code StructuredTaskScope},
 * and the JDK has no API to capture all bindings of a thread; a task's virtual thread is started by
 * its loop, so a task spawned inside the scope would not see the value, breaking the promise that
 * children see what their spawner saw. {@code where} therefore swaps the thread's value map for
 * the duration of the call (one reference in and out, so just as cheap), and tasks spawned inside
 * inherit the scoped value. To carry a {@code ScopedValue} of your own into tasks and offloaded
 * work, register it with {@link FiberContext#inheritScopedValue(ScopedValue)}.
 *
 * <h2>Threading</h2>
 * {@link #get()}, {@link #set(Object)}, {@link #remove()} and {@link #where} act on the calling
 * fiber's (or thread's) own copy; they never suspend and need no locking. A {@code FiberLocal}
 * object itself may be shared by every thread and loop.
 *
 * @param <T> the type of the value
 */
public final class FiberLocal<T> {
    private final Supplier<? extends T> initial;

    private FiberLocal(Supplier<? extends T> initial) {
        this.initial = initial;
    }

    /**
     * A fiber local whose initial value is {@code null}.
     *
     * @param <T> the type of the value
     * @return a new fiber local
     */
    public static <T> FiberLocal<T> create() {
        return new FiberLocal<>(null);
    }

    /**
     * A fiber local whose initial value comes from {@code initial}, called on the first
     * {@link #get()} in a fiber that has no value (neither set nor inherited), as
     * {@link ThreadLocal#withInitial} does; the value it returns is then kept, and inherited.
     *
     * @param initial supplies the initial value
     * @param <T> the type of the value
     * @return a new fiber local
     */
    public static <T> FiberLocal<T> withInitial(Supplier<? extends T> initial) {
        return new FiberLocal<>(Objects.requireNonNull(initial, "initial"));
    }

    /**
     * {@return the calling fiber's (or thread's) value: the one it set, else the one inherited, else the initial value}
     *
     */
    @SuppressWarnings("unchecked")
    public T get() {
        FiberContext.Values values = FiberContext.VALUES.get();
        if (values != null) {
            int i = values.indexOf(this);
            if (i >= 0) {
                return (T) values.valueAt(i);
            }
        }
        if (initial == null) {
            return null;
        }
        T value = initial.get();
        set(value);
        return value;
    }

    /**
     * Sets the calling fiber's (or thread's) value. Tasks already spawned keep the value they
     * inherited; tasks spawned from now on inherit this one.
     *
     * @param value the value, {@code null} allowed
     */
    public void set(T value) {
        FiberContext.VALUES.set(FiberContext.Values.with(FiberContext.VALUES.get(), this, value));
    }

    /**
     * Removes the calling fiber's (or thread's) value: the next {@link #get()} returns the initial
     * value again.
     */
    public void remove() {
        FiberContext.Values values = FiberContext.VALUES.get();
        if (values == null) {
            return;
        }
        FiberContext.Values less = FiberContext.Values.without(values, this);
        if (less == null) {
            FiberContext.VALUES.remove();
        } else if (less != values) {
            FiberContext.VALUES.set(less);
        }
    }

    /** {@return whether the calling fiber (or thread) has a value, set or inherited} */
    public boolean isPresent() {
        FiberContext.Values values = FiberContext.VALUES.get();
        return values != null && values.indexOf(this) >= 0;
    }

    /**
     * Runs {@code body} with {@code local} set to {@code value} in the calling fiber, then restores
     * every fiber local of the fiber to what it was before (whether {@code body} returns or
     * throws, and even if {@code body} changed them). Tasks spawned inside {@code body} inherit
     * {@code value}. Scopes nest.
     *
     * {@snippet :
     * FiberLocal.where(REQUEST, "r-7", () -> {
     *     Task<?> audit = Fibers.spawn(() -> audit(REQUEST.get()));   // sees "r-7"
     *     return handle();
     * });
     * // REQUEST is back to its previous value (or unset) here
     * }
     *
     * @param local the fiber local
     * @param value its value for the duration of {@code body}
     * @param body the work
     * @param <V> the type of the value
     * @param <R> the result type
     * @param <X> what {@code body} may throw
     * @return what {@code body} returned
     * @throws X what {@code body} threw
     */
    public static <V, R, X extends Throwable> R where(FiberLocal<V> local, V value, FiberCallable<R, X> body) throws X {
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(body, "body");
        FiberContext.Values before = FiberContext.VALUES.get();
        FiberContext.VALUES.set(FiberContext.Values.with(before, local, value));
        try {
            return body.call();
        } finally {
            if (before == null) {
                FiberContext.VALUES.remove();
            } else {
                FiberContext.VALUES.set(before);
            }
        }
    }

    @Override
    public String toString() {
        return "FiberLocal@" + Integer.toHexString(System.identityHashCode(this));
    }
}
