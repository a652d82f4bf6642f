package io.fiberloop.fiber;

import io.fiberloop.fiber.internal.Strand;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;

/**
 * Structured concurrency for fibers (trio's nursery, kotlinx's {@code coroutineScope}, the JDK's
 * {@code StructuredTaskScope}): tasks forked in a scope never outlive it.
 *
 * {@snippet :
 * try (TaskScope scope = TaskScope.open()) {
 *     Task<String> user = scope.fork(() -> fetchUser(id));
 *     Task<List<Order>> orders = scope.fork(() -> fetchOrders(id));
 *     scope.join();                       // waits for both; throws if either failed
 *     return render(user.resultNow(), orders.resultNow());
 * }
 * }
 *
 * <ul>
 *   <li>When a child fails, its siblings are cancelled at once, and {@link #join()} (or
 *       {@link #close()}) throws the first failure with the others attached as suppressed.</li>
 *   <li>{@link #close()} cancels the children still running and waits for every one of them.</li>
 *   <li>If the owner is cancelled while waiting, the children are cancelled and waited for before
 *       the cancellation propagates.</li>
 * </ul>
 *
 * <p>Threading: owner fiber only: open, fork, join and close it in the same fiber.
 */
public final class TaskScope implements AutoCloseable {
    private final Strand owner;
    private final List<Task<?>> children = new ArrayList<>();
    private final List<Throwable> failures = new ArrayList<>();
    private int running;
    private boolean closed;
    private boolean failed;

    private TaskScope(Strand owner) {
        this.owner = owner;
    }

    /**
     * Opens a scope owned by the current fiber.
     *
     * @return the scope; close it with try-with-resources
     * @throws IllegalStateException if not called from a fiber
     */
    public static TaskScope open() {
        Strand me = Strand.suspendable("TaskScope.open()");
        if (me == null) {
            throw new IllegalStateException("TaskScope.open() must be called from a fiber (inside EventLoop.run(...) or a spawned task)");
        }
        return new TaskScope(me);
    }

    /**
     * Starts {@code body} as a child task of this scope, on the owner's loop.
     *
     * @param body the child's work
     * @param <T> its result type
     * @return the child task
     * @throws IllegalStateException if the scope is closed, or called from another fiber
     */
    public <T> Task<T> fork(Callable<T> body) {
        return fork(null, body);
    }

    /**
     * Starts a named child task.
     *
     * @param name the child's name; {@code null} for a generated one
     * @param body the child's work
     * @param <T> its result type
     * @return the child task
     */
    public <T> Task<T> fork(String name, Callable<T> body) {
        Objects.requireNonNull(body, "body");
        checkOwner("fork");
        if (closed) {
            throw new IllegalStateException("fork() on a closed TaskScope: open a new scope");
        }
        Task<T> child = Task.spawn(owner.host(), name, body);
        children.add(child);
        running++;
        child.onComplete((v, e) -> childDone(e));
        if (failed) {
            child.cancel();
        }
        return child;
    }

    private void childDone(Throwable error) {
        running--;
        if (error != null && !(error instanceof java.util.concurrent.CancellationException)) {
            failures.add(error);
            if (!failed) {
                failed = true;
                for (Task<?> c : children) {
                    c.cancel();
                }
            }
        }
        owner.wake();
    }

    /**
     * Waits for every child; if any failed, throws the first failure (unchecked ones as they are,
     * checked ones wrapped in {@link CompletionException}) with the others as suppressed.
     *
     * @throws CancelledException if the owner is cancelled while waiting (the children are then
     *     cancelled and waited for first)
     */
    public void join() {
        checkOwner("join");
        waitForChildren();
        throwFailures();
    }

    private void waitForChildren() {
        try {
            owner.awaitUntil(() -> running == 0);
        } catch (CancelledException e) {
            cancelChildren();
            Fibers.nonCancellable(() -> {
                owner.awaitUntil(() -> running == 0);
                return null;
            });
            throw e;
        }
    }

    private void cancelChildren() {
        for (Task<?> c : children) {
            c.cancel();
        }
    }

    private void throwFailures() {
        if (failures.isEmpty()) {
            return;
        }
        Throwable first = failures.get(0);
        for (int i = 1; i < failures.size(); i++) {
            if (failures.get(i) != first) {
                first.addSuppressed(failures.get(i));
            }
        }
        failures.clear();
        if (first instanceof RuntimeException r) {
            throw r;
        }
        if (first instanceof Error err) {
            throw err;
        }
        throw new CompletionException(first);
    }

    /**
     * Cancels the children still running, waits for all of them, and throws any failure that
     * {@link #join()} has not thrown yet. Idempotent.
     */
    @Override
    public void close() {
        checkOwner("close");
        if (closed) {
            return;
        }
        closed = true;
        if (running > 0) {
            cancelChildren();
            Fibers.nonCancellable(() -> {
                owner.awaitUntil(() -> running == 0);
                return null;
            });
        }
        throwFailures();
    }

    /** {@return the children forked so far, in order} */
    public List<Task<?>> children() {
        return List.copyOf(children);
    }

    private void checkOwner(String what) {
        if (Strand.currentOrNull() != owner) {
            throw new IllegalStateException(what + "() on a TaskScope from " + Fiber.currentOrNull() + ", but the scope belongs to "
                    + owner + ": only the fiber that opened a scope may use it");
        }
    }

    @Override
    public String toString() {
        return "TaskScope[" + children.size() + " children, " + running + " running" + (closed ? ", closed" : "") + "]";
    }
}
