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
 * Waiting for several futures at once: {@link Fibers#awaitAll}, {@link Fibers#awaitAllSettled}
 * and {@link Fibers#awaitAny}. Each future is watched through its {@link CompletableFuture}
 * ({@link Fibers#completionOf}); a task is cancelled with {@link Task#cancel()}, any other future
 * with {@code cancel(true)}.
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

    static <T> List<T> all(Collection<? extends Future<? extends T>> futures) {
        List<Item> list = items(futures);
        Strand me = Strand.suspendable("awaitAll()");
        waitUntil(me, list, true, () -> allDone(list) || anyFailed(list));
        Throwable first = null;
        for (Item i : list) {
            if (i.done.isDone() && i.done.isCompletedExceptionally()) {
                Throwable e = i.failure();
                if (first == null) {
                    first = e;
                } else if (first != e) {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            cancelAll(list);
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

    static <F extends Future<?>> List<F> allSettled(Collection<F> futures) {
        List<F> given = List.copyOf(futures);
        List<Item> list = items(given);
        Strand me = Strand.suspendable("awaitAllSettled()");
        waitUntil(me, list, false, () -> allDone(list));
        return given;
    }

    static <T> T any(Collection<? extends Future<? extends T>> futures) {
        List<Item> list = items(futures);
        if (list.isEmpty()) {
            throw new IllegalArgumentException("awaitAny() needs at least one future");
        }
        Strand me = Strand.suspendable("awaitAny()");
        Item winner;
        try {
            waitUntil(me, list, true, () -> firstDone(list) != null);
            winner = firstDone(list);
        } finally {
            cancelAll(list);
        }
        @SuppressWarnings("unchecked")
        Future<T> w = (Future<T>) winner.given;
        return w instanceof Task<T> t ? t.resultOfDone() : Fibers.resultOf(Fibers.completionOf(w));
    }

    private static void waitUntil(Strand me, List<Item> list, boolean cancelWhenCancelled, Until until) {
        if (until.done()) {
            if (me != null) {
                me.checkCancelled();
            }
            return;
        }
        if (me == null) {
            while (!until.done()) {
                CompletableFuture<?>[] pending = list.stream().map(Item::done).filter(f -> !f.isDone()).toArray(CompletableFuture<?>[]::new);
                CompletableFuture.anyOf(pending).handle((v, e) -> null).join();
            }
            return;
        }
        for (Item i : list) {
            if (!i.done.isDone()) {
                i.done.whenComplete((v, e) -> me.wake());
            }
        }
        try {
            me.awaitUntil(until);
        } catch (CancelledException e) {
            if (cancelWhenCancelled) {
                cancelAll(list);
            }
            throw e;
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
            if (i.done.isCompletedExceptionally()) {
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

    private static void cancelAll(List<Item> list) {
        for (Item i : list) {
            i.cancel();
        }
    }
}
