package io.fiberloop.fiber.context;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Offload;
import io.fiberloop.fiber.TaskScope;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import org.slf4j.MDC;
import org.slf4j.helpers.NOPMDCAdapter;

/**
 * The context that travels with work from one fiber or thread to another: the values of every
 * {@link FiberLocal}, SLF4J's {@link MDC} map, and the bindings of the {@link ScopedValue}s
 * registered with {@link #inheritScopedValue(ScopedValue)}. Python's {@code contextvars} play the
 * same part for asyncio: a task starts with a copy of its creator's context, and
 * {@code asyncio.to_thread} runs its function in a copy of the caller's.
 *
 * <p>fiberloop carries the context for you at the points where work is handed over:
 * <ul>
 *   <li>a task spawned with {@link Fibers#spawn}, {@link TaskScope#fork} or
 *       {@code Fibers.spawn(loop, …)} (from any thread) starts with a {@linkplain #capture()
 *       snapshot} of its spawner's context, taken at the call;</li>
 *   <li>work offloaded with {@link Offload#call} runs with a snapshot of its caller's context,
 *       installed in the worker thread for the duration of the work and removed afterwards.</li>
 * </ul>
 * Anywhere else, such as work you submit to an executor of your own, carry it with
 * {@link #wrap(Callable)} or {@link #capture()}:
 *
 * {@snippet :
 * MDC.put("request", id);
 * requestId.set(id);                                   // a FiberLocal
 * executor.submit(FiberContext.wrap(() -> {
 *     log.info("handling");                            // logged with request=id
 *     return requestId.get();                          // id
 * }));
 * }
 *
 * <h2>Semantics</h2>
 * A snapshot is immutable: after it is taken, changes made by the spawner are not seen by the
 * child, and changes made by the child are not seen by the spawner. Values themselves are shared
 * by reference, so put immutable values in fiber locals and in the MDC.
 *
 * <h2>Cost</h2>
 * Fiber-local values are kept per thread in an immutable map that is replaced on every
 * {@code set}, so a snapshot of them is one reference. The MDC map is copied (that is SLF4J's
 * API); an empty context costs no allocation at spawn.
 *
 * <h2>Threading</h2>
 * Every method may be called from any thread: {@link #capture()} reads the calling thread's
 * context, and {@link Snapshot#call(Callable)} installs a snapshot in the calling thread and
 * restores that thread's previous context when the work returns or throws. A snapshot may be
 * installed in any number of threads, at the same time too.
 */
public final class FiberContext {
    /** The fiber-local values of each thread (each fiber runs on its own virtual thread). */
    static final ThreadLocal<Values> VALUES = new ThreadLocal<>();
    /**
     * Set once any fiber local anywhere has been given a value. Until then captures skip
     * {@link #VALUES}, whose {@code get()} would give every spawning fiber's thread a
     * {@code ThreadLocalMap}.
     */
    private static volatile boolean localsUsed;
    /** Whether SLF4J has a real MDC (not the no-op one used when no logging backend is present). */
    private static final boolean MDC_ACTIVE = !(MDC.getMDCAdapter() instanceof NOPMDCAdapter);

    private static final Object[] EMPTY_SCOPED = new Object[0];
    private static final Snapshot EMPTY = new Snapshot(null, null, EMPTY_SCOPED);
    private static volatile ScopedValue<?>[] inheritedScopedValues = new ScopedValue<?>[0];

    private FiberContext() {
    }

    // ------------------------------------------------------------------ public API

    /**
     * Takes a snapshot of the calling thread's context: its fiber-local values, its MDC map, and
     * the current bindings of the registered scoped values.
     *
     * <p>Threading: any thread; reads only the caller's own context.
     *
     * @return the snapshot; install it with {@link Snapshot#call(Callable)} or {@link Snapshot#run(Runnable)}
     */
    public static Snapshot capture() {
        Values values = localsUsed ? VALUES.get() : null;
        Map<String, String> mdc = currentMdc();
        Object[] scoped = captureScoped();
        if (values == null && mdc == null && scoped.length == 0) {
            return EMPTY;
        }
        return new Snapshot(values, mdc, scoped);
    }

    /**
     * Wraps {@code body} so that it runs with the context of the caller of {@code wrap}, captured
     * now; the thread that runs it gets its own context back afterwards.
     *
     * <p>Threading: any thread.
     *
     * @param body the work
     * @param <T> its result type
     * @return a callable that installs the captured context around {@code body}
     */
    public static <T> Callable<T> wrap(Callable<T> body) {
        Objects.requireNonNull(body, "body");
        Snapshot s = capture();
        return () -> s.call(body);
    }

    /**
     * Wraps {@code body} so that it runs with the context of the caller of {@code wrap}, captured
     * now; the thread that runs it gets its own context back afterwards.
     *
     * <p>Threading: any thread.
     *
     * @param body the work
     * @return a runnable that installs the captured context around {@code body}
     */
    public static Runnable wrap(Runnable body) {
        Objects.requireNonNull(body, "body");
        Snapshot s = capture();
        return () -> s.run(body);
    }

    /**
     * Makes the bindings of {@code value} travel with the context: a task spawned (or work
     * offloaded, or a body {@linkplain #wrap wrapped}) where {@code value} is bound runs with the
     * same binding.
     *
     * <p>Why this is needed: the JDK passes {@link ScopedValue} bindings only to threads forked by
     * a {@code StructuredTaskScope}, and offers no way to capture "all current bindings"; a task's
     * virtual thread is started by its loop, so without this it would see {@code value} unbound.
     * Registering costs every capture one {@code isBound()} check per registered value, so
     * register only the few values that must cross tasks.
     *
     * {@snippet :
     * static final ScopedValue<User> USER = ScopedValue.newInstance();
     * static { FiberContext.inheritScopedValue(USER); }
     *
     * ScopedValue.where(USER, alice).run(() -> {
     *     Task<String> t = Fibers.spawn(() -> USER.get().name());  // "alice"
     * });
     * }
     *
     * <p>Threading: any thread; takes effect for captures that start afterwards. Registering the
     * same value twice has no further effect.
     *
     * @param value the scoped value to carry
     */
    public static synchronized void inheritScopedValue(ScopedValue<?> value) {
        Objects.requireNonNull(value, "value");
        ScopedValue<?>[] old = inheritedScopedValues;
        for (ScopedValue<?> v : old) {
            if (v == value) {
                return;
            }
        }
        ScopedValue<?>[] grown = Arrays.copyOf(old, old.length + 1);
        grown[old.length] = value;
        inheritedScopedValues = grown;
    }

    private static Map<String, String> currentMdc() {
        if (!MDC_ACTIVE) {
            return null;
        }
        Map<String, String> mdc = MDC.getCopyOfContextMap();
        return mdc == null || mdc.isEmpty() ? null : mdc;
    }

    private static Object[] captureScoped() {
        ScopedValue<?>[] registered = inheritedScopedValues;
        if (registered.length == 0) {
            return EMPTY_SCOPED;
        }
        Object[] pairs = null;
        int n = 0;
        for (ScopedValue<?> sv : registered) {
            if (sv.isBound()) {
                if (pairs == null) {
                    pairs = new Object[registered.length * 2];
                }
                pairs[n++] = sv;
                pairs[n++] = sv.get();
            }
        }
        return pairs == null ? EMPTY_SCOPED : (n == pairs.length ? pairs : Arrays.copyOf(pairs, n));
    }

    // ------------------------------------------------------------------ snapshot

    /**
     * An immutable snapshot of a context, taken by {@link FiberContext#capture()}.
     *
     * <p>Threading: immutable; install it in any thread, in several at once if you like.
     */
    public static final class Snapshot {
        private final Values values;
        private final Map<String, String> mdc;
        /** ScopedValue, value, ScopedValue, value, … */
        private final Object[] scoped;

        Snapshot(Values values, Map<String, String> mdc, Object[] scoped) {
            this.values = values;
            this.mdc = mdc;
            this.scoped = scoped;
        }

        /** {@return whether this snapshot carries nothing (no fiber locals, empty MDC, no bound scoped values)} */
        public boolean isEmpty() {
            return values == null && mdc == null && scoped.length == 0;
        }

        /**
         * Runs {@code body} on the calling thread with this snapshot installed as its context, then
         * restores the thread's previous fiber-local values and MDC map, whether {@code body}
         * returns or throws. Changes {@code body} makes to the context are discarded with it.
         *
         * @param body the work
         * @param <T> its result type
         * @return what {@code body} returned
         * @throws Exception what {@code body} threw
         */
        public <T> T call(Callable<T> body) throws Exception {
            Objects.requireNonNull(body, "body");
            Values previousValues = localsUsed ? VALUES.get() : null;
            Map<String, String> previousMdc = currentMdc();
            setValues(values);
            setMdc(mdc);
            try {
                if (scoped.length == 0) {
                    return body.call();
                }
                ScopedValue.Carrier carrier = carrier();
                return carrier.call(body::call);
            } finally {
                setValues(previousValues);
                setMdc(previousMdc);
            }
        }

        /**
         * As {@link #call(Callable)}, for a body that returns nothing.
         *
         * @param body the work
         */
        public void run(Runnable body) {
            Objects.requireNonNull(body, "body");
            try {
                call(() -> {
                    body.run();
                    return null;
                });
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Exception impossible) {
                throw new AssertionError(impossible);
            }
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        private ScopedValue.Carrier carrier() {
            ScopedValue.Carrier c = ScopedValue.where((ScopedValue) scoped[0], scoped[1]);
            for (int i = 2; i < scoped.length; i += 2) {
                c = c.where((ScopedValue) scoped[i], scoped[i + 1]);
            }
            return c;
        }

        @Override
        public String toString() {
            return "FiberContext.Snapshot[locals=" + (values == null ? 0 : values.size()) + ", mdc=" + (mdc == null ? "{}" : mdc)
                    + ", scoped=" + scoped.length / 2 + "]";
        }
    }

    private static void setValues(Values v) {
        if (v == null) {
            if (localsUsed && VALUES.get() != null) {
                VALUES.remove();
            }
        } else {
            VALUES.set(v);
        }
    }

    private static void setMdc(Map<String, String> map) {
        if (!MDC_ACTIVE) {
            return;
        }
        if (map == null) {
            MDC.clear();
        } else {
            MDC.setContextMap(map);
        }
    }

    // ------------------------------------------------------------------ values

    /**
     * The fiber-local values of one thread: an immutable association list, replaced on every
     * change, so that a snapshot is one reference. Linear lookup: programs have few fiber locals.
     */
    static final class Values {
        private final FiberLocal<?>[] keys;
        private final Object[] vals;

        private Values(FiberLocal<?>[] keys, Object[] vals) {
            this.keys = keys;
            this.vals = vals;
        }

        int size() {
            return keys.length;
        }

        /** {@return the index of {@code key}, or -1} */
        int indexOf(FiberLocal<?> key) {
            FiberLocal<?>[] k = keys;
            for (int i = 0; i < k.length; i++) {
                if (k[i] == key) {
                    return i;
                }
            }
            return -1;
        }

        Object valueAt(int i) {
            return vals[i];
        }

        /** {@return {@code values} (may be null) with {@code key} set to {@code value}} */
        static Values with(Values values, FiberLocal<?> key, Object value) {
            if (!localsUsed) {
                localsUsed = true;
            }
            if (values == null) {
                return new Values(new FiberLocal<?>[] {key}, new Object[] {value});
            }
            int i = values.indexOf(key);
            if (i >= 0) {
                if (values.vals[i] == value) {
                    return values;
                }
                Object[] v = values.vals.clone();
                v[i] = value;
                return new Values(values.keys, v);
            }
            int n = values.keys.length;
            FiberLocal<?>[] k = Arrays.copyOf(values.keys, n + 1);
            Object[] v = Arrays.copyOf(values.vals, n + 1);
            k[n] = key;
            v[n] = value;
            return new Values(k, v);
        }

        /** {@return {@code values} (may be null) without {@code key}; null when nothing is left} */
        static Values without(Values values, FiberLocal<?> key) {
            if (values == null) {
                return null;
            }
            int i = values.indexOf(key);
            if (i < 0) {
                return values;
            }
            int n = values.keys.length;
            if (n == 1) {
                return null;
            }
            FiberLocal<?>[] k = new FiberLocal<?>[n - 1];
            Object[] v = new Object[n - 1];
            System.arraycopy(values.keys, 0, k, 0, i);
            System.arraycopy(values.vals, 0, v, 0, i);
            System.arraycopy(values.keys, i + 1, k, i, n - 1 - i);
            System.arraycopy(values.vals, i + 1, v, i, n - 1 - i);
            return new Values(k, v);
        }
    }
}
