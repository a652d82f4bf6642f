package io.fiberloop.fiber;

import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.fiber.internal.Until;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Future;

/**
 * Waiting for several futures at once: {@link Fibers#awaitAll}, {@link Fibers#joinAll},
 * {@link Fibers#awaitAllSettled} and {@link Fibers#awaitAny}.
 *
 * <p>One rule, trio's and {@code StructuredTaskScope}'s: <em>what a combinator cancels, it waits
 * for</em>. A combinator owns the futures it gathers while it runs; when it ends early (a failure,
 * a winner, or its caller's cancellation or deadline) it cancels those still running and returns
 * or throws only once they are done, their {@code finally} blocks run. That wait is shielded from
 * the caller's own cancellation, as a {@link TaskScope}'s is.
 *
 * <p>Each future is watched through its {@link CompletableFuture} ({@link Fibers#completionOf});
 * a task is cancelled with {@link Task#cancel()}, any other future with {@code cancel(true)}.
 */
final class Gather {
    private Gather() {
    }

    /** A future as given, and the completion that tells when it is done. */
    private record Item(Future<?> given, CompletableFuture<?> done) {
        void cancel() {
            if (!done.isDone()) {
                if (given instanceof Task<?> t) {
                    t.cancel();
                } else {
                    given.cancel(true);
                }
            }
        }

        boolean failed() {
            return done.isCompletedExceptionally();
        }

        /** The failure of a done item (its cancellation exception if cancelled), or {@code null}. */
        Throwable failure() {
            if (done.state() == Future.State.FAILED) {
                return given instanceof Task<?> t ? t.exceptionNow() : done.exceptionNow(); // a task's: marked as retrieved
            }
            try {
                done.getNow(null);
                return null;
            } catch (CancellationException e) {
                return e;
            } catch (CompletionException e) {
                return e.getCause() != null ? e.getCause() : e;
            }
        }
    }

    private static List<Item> items(Collection<? extends Future<?>> futures) {
        List<Item> items = new ArrayList<>(futures.size());
        for (Future<?> f : futures) {
            items.add(new Item(f, Fibers.completionOf(f)));
        }
        return items;
    }

    /** awaitAll: every value, in order; at the first failure the others are cancelled and waited for. */
    static <T> List<T> all(Collection<? extends Future<? extends T>> futures) {
        List<Item> list = items(futures);
        Strand me = Strand.suspendable("awaitAll()");
        boolean woken = waitUntil(me, list, () -> allDone(list) || anyFailed(list));
        Item firstFailed = null;
        for (Item i : list) {
            if (i.done.isDone() && i.failed()) {
                firstFailed = i;
                break;
            }
        }
        if (firstFailed != null) {
            cancelAndWait(me, list, woken);
            Throwable first = firstFailed.failure();
            for (Item i : list) {
                Throwable e = i == firstFailed ? null : i.failure();
                if (e != null && e != first && !(e instanceof CancellationException)) {
                    first.addSuppressed(e);
                }
            }
            if (first instanceof CancellationException ce) {
                throw ce;
            }
            throw Fibers.rethrowUnchecked(first);
        }
        List<T> values = new ArrayList<>(list.size());
        for (Item i : list) {
            @SuppressWarnings("unchecked")
            T v = (T) i.given.resultNow();
            values.add(v);
        }
        return values;
    }

    /** awaitAllSettled: waits for every future; cancels them only if the caller is cancelled. */
    static <F extends Future<?>> List<F> allSettled(Collection<F> futures) {
        List<F> given = List.copyOf(futures);
        List<Item> list = items(given);
        Strand me = Strand.suspendable("awaitAllSettled()");
        waitUntil(me, list, () -> allDone(list));
        return given;
    }

    /** awaitAny: the first to finish wins; the others are cancelled and waited for. */
    static <T> T any(Collection<? extends Future<? extends T>> futures) {
        List<Item> list = items(futures);
        if (list.isEmpty()) {
            throw new IllegalArgumentException("awaitAny() needs at least one future");
        }
        Strand me = Strand.suspendable("awaitAny()");
        boolean woken = waitUntil(me, list, () -> firstDone(list) != null);
        Item winner = firstDone(list);
        cancelAndWait(me, list, woken);
        @SuppressWarnings("unchecked")
        Future<T> w = (Future<T>) winner.given;
        return w instanceof Task<T> t ? t.resultOfDone() : Fibers.resultOf(Fibers.completionOf(w));
    }

    /**
     * Waits until {@code until} holds. If the caller is cancelled meanwhile (or its deadline
     * passes), cancels every future still running and waits for them before the cancellation
     * propagates.
     */
    private static boolean waitUntil(Strand me, List<Item> list, Until until) {
        if (until.done()) {
            if (me != null) {
                me.checkCancelled();
            }
            return false;
        }
        if (me == null) {
            blockUntil(list, until);
            return false;
        }
        wakeOnCompletion(me, list);
        try {
            me.awaitUntil(until);
        } catch (CancelledException e) {
            cancelAndWait(me, list, true);
            throw e;
        }
        return true;
    }

    /**
     * Cancels every future still running and waits, shielded, until all are done.
     *
     * @param woken whether {@code me} is already woken by every future's completion
     */
    private static void cancelAndWait(Strand me, List<Item> list, boolean woken) {
        for (Item i : list) {
            i.cancel();
        }
        if (allDone(list)) {
            return;
        }
        if (me == null) {
            blockUntil(list, () -> allDone(list));
            return;
        }
        if (!woken) {
            wakeOnCompletion(me, list);
        }
        Fibers.nonCancellable(() -> {
            me.awaitUntil(() -> allDone(list));
            return null;
        });
    }

    private static void wakeOnCompletion(Strand me, List<Item> list) {
        for (Item i : list) {
            if (!i.done.isDone()) {
                i.done.whenComplete((v, e) -> me.wake());
            }
        }
    }

    /**
     * A plain thread's wait: blocks until {@code until} holds. The condition is checked after the
     * futures to wait on are chosen: one that completes before the choice is seen by the check, and
     * one that completes after it is among those waited on, so no completion is missed.
     */
    private static void blockUntil(List<Item> list, Until until) {
        while (true) {
            CompletableFuture<?>[] pending = list.stream().map(Item::done).filter(f -> !f.isDone()).toArray(CompletableFuture<?>[]::new);
            if (until.done()) {
                return;
            }
            CompletableFuture.anyOf(pending).handle((v, e) -> null).join();
        }
    }

    private static boolean allDone(List<Item> list) {
        for (Item i : list) {
            if (!i.done.isDone()) {
                return false;
            }
        }
        return true;
    }

    private static boolean anyFailed(List<Item> list) {
        for (Item i : list) {
            if (i.failed()) {
                return true;
            }
        }
        return false;
    }

    private static Item firstDone(List<Item> list) {
        for (Item i : list) {
            if (i.done.isDone()) {
                return i;
            }
        }
        return null;
    }
}
