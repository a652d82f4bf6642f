package io.fiberloop.fiber.channel;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.loop.TimerHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Waits on several channel operations at once and performs exactly one of them, as Go's
 * {@code select}: receive from any of several channels, send to some, with an optional timeout and
 * an optional default case that makes it non-blocking.
 *
 * {@snippet :
 * String what = Select.<String>create()
 *         .onReceive(orders, o -> "order " + o)
 *         .onReceive(cancels, c -> "cancel " + c)
 *         .onSend(audit, "heartbeat", () -> "sent heartbeat")
 *         .onTimeout(Duration.ofSeconds(1), () -> "idle")
 *         .run();
 * }
 *
 * <h2>Semantics</h2>
 * <ul>
 *   <li>{@link #run()} first looks at the cases <em>in the order they were added</em> and performs
 *       the first that can complete at once (an element to receive, a receiver or room to send, a
 *       receive case whose channel has ended). Unlike Go, which picks a ready case at random, the
 *       order is deterministic: put the case that must not starve first, or rotate.</li>
 *   <li>If none is ready: with an {@link #onDefault} case, that runs; otherwise the caller waits
 *       (a fiber suspends, a plain thread blocks) until one operation completes, or the
 *       {@link #onTimeout timeout} expires.</li>
 *   <li>Exactly one operation happens: one element received from one channel, or one element
 *       sent; the other channels are untouched. Then its action runs, on the caller, and its
 *       result is returned.</li>
 *   <li>A receive case on a channel that is closed and drained is ready: {@link #onReceive}
 *       makes {@code run} throw {@link ChannelClosedException}, {@link #onReceiveOrNull} runs its
 *       action with {@code null}. A send case on a closed channel makes {@code run} throw
 *       {@link ChannelClosedException}, also if the channel closes while the select waits (Go
 *       panics).</li>
 *   <li>A timeout is measured on the calling fiber's loop clock (virtual clocks included), or
 *       the system clock on a plain thread. A zero or negative timeout behaves as a default
 *       case.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * Channels are thread-safe, and so is a select over them: the channels may be shared with fibers
 * of other loops and with plain threads. A {@code Select} object itself is built and run by one
 * fiber or thread; it may be {@code run()} again and again (for instance in a loop), each run
 * performing one operation. A loop callback may run a select only with a default case (it must not
 * wait).
 *
 * <h2>Cancellation</h2>
 * {@code run()} is a cancellation point. A fiber cancelled while waiting gets
 * {@link CancelledException} and no operation happened; if an operation completed at the same
 * moment, the operation wins: its action runs and its result is returned (nothing lost or
 * duplicated), and the cancellation is raised at the next suspension point.
 *
 * <h2>How it works</h2>
 * {@code run()} locks every channel involved (in a global order, so selects never deadlock),
 * checks the cases, and if none is ready registers one waiter node per case, all sharing one claim.
 * Whoever completes one of those nodes (a sender, a receiver, {@code close()}) claims the group
 * with a single compare-and-set; the other nodes are then skipped and unlinked.
 *
 * @param <R> what the selected case's action returns
 */
public final class Select<R> {
    private static final Comparator<Channel<?>> LOCK_ORDER = Comparator.comparingLong(c -> c.id);

    private final List<Case> cases = new ArrayList<>();
    private Channel<?>[] lockOrder;
    private Supplier<? extends R> onDefault;
    private Duration timeout;
    private Supplier<? extends R> onTimeout;

    private static final class Case {
        final Channel<?> channel;
        final boolean send;
        final Object value;
        final Function<Object, ?> onReceive;
        final Supplier<?> onSent;
        final boolean orNull;

        Case(Channel<?> channel, boolean send, Object value, Function<Object, ?> onReceive, Supplier<?> onSent, boolean orNull) {
            this.channel = channel;
            this.send = send;
            this.value = value;
            this.onReceive = onReceive;
            this.onSent = onSent;
            this.orNull = orNull;
        }
    }

    private Select() {
    }

    /**
     * An empty select; add cases, then {@link #run()}.
     *
     * {@snippet :
     * Integer n = Select.<Integer>create().onReceive(a, x -> x).onReceive(b, x -> -x).run();
     * }
     *
     * @param <R> what the actions return
     * @return a new select
     */
    public static <R> Select<R> create() {
        return new Select<>();
    }

    /**
     * Adds a case that receives an element from {@code channel} and passes it to {@code action}.
     * If the channel is closed and drained, selecting this case makes {@link #run()} throw
     * {@link ChannelClosedException}.
     *
     * {@snippet :
     * select.onReceive(replies, reply -> "got " + reply);
     * }
     *
     * @param channel where to receive
     * @param action runs with the element, on the caller of {@code run()}, after it was received
     * @param <T> the element type
     * @return this select
     */
    @SuppressWarnings("unchecked")
    public <T> Select<R> onReceive(Channel<T> channel, Function<? super T, ? extends R> action) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(action, "action");
        add(new Case(channel, false, null, (Function<Object, ?>) action, null, false));
        return this;
    }

    /**
     * Adds a case that receives an element from {@code channel}, or {@code null} once the channel
     * is closed and drained (Go's {@code case v, ok := <-ch}).
     *
     * {@snippet :
     * select.onReceiveOrNull(updates, u -> u == null ? Step.DONE : apply(u));
     * }
     *
     * @param channel where to receive
     * @param action runs with the element, or with {@code null} at the end of the channel; if the
     *     channel was closed with a cause, {@code run()} throws {@link ChannelClosedException}
     *     instead
     * @param <T> the element type
     * @return this select
     */
    @SuppressWarnings("unchecked")
    public <T> Select<R> onReceiveOrNull(Channel<T> channel, Function<? super T, ? extends R> action) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(action, "action");
        add(new Case(channel, false, null, (Function<Object, ?>) action, null, true));
        return this;
    }

    /**
     * Adds a case that sends {@code value} to {@code channel}, then runs {@code action}.
     *
     * {@snippet :
     * select.onSend(out, result, () -> "delivered");
     * }
     *
     * @param channel where to send
     * @param value the element, not null
     * @param action runs once the element was sent
     * @param <T> the element type
     * @return this select
     */
    public <T> Select<R> onSend(Channel<T> channel, T value, Supplier<? extends R> action) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(action, "action");
        add(new Case(channel, true, value, null, action, false));
        return this;
    }

    /**
     * Gives up waiting after {@code timeout}, running {@code action} instead of any operation.
     * Replaces an earlier timeout.
     *
     * {@snippet :
     * select.onTimeout(Duration.ofMillis(500), () -> null);
     * }
     *
     * @param timeout how long to wait, on the calling fiber's loop clock (the system clock on a
     *     plain thread); zero or negative: do not wait
     * @param action runs if no operation completed in time
     * @return this select
     */
    public Select<R> onTimeout(Duration timeout, Supplier<? extends R> action) {
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.onTimeout = Objects.requireNonNull(action, "action");
        return this;
    }

    /**
     * Makes the select non-blocking: if no case is ready at once, {@code action} runs instead
     * (Go's {@code default}).
     *
     * {@snippet :
     * boolean sent = Select.<Boolean>create().onSend(ch, x, () -> true).onDefault(() -> false).run();
     * }
     *
     * @param action runs when nothing is ready
     * @return this select
     */
    public Select<R> onDefault(Supplier<? extends R> action) {
        this.onDefault = Objects.requireNonNull(action, "action");
        return this;
    }

    private void add(Case c) {
        cases.add(c);
        lockOrder = null;
    }

    private Channel<?>[] lockOrder() {
        Channel<?>[] order = lockOrder;
        if (order == null) {
            order = cases.stream().map(c -> c.channel).distinct().sorted(LOCK_ORDER).toArray(Channel<?>[]::new);
            lockOrder = order;
        }
        return order;
    }

    /**
     * Performs exactly one of the operations (or the default or timeout action) and returns what
     * its action returned.
     *
     * {@snippet :
     * while (running) {
     *     select.run();   // the same select may run again and again
     * }
     * }
     *
     * <p>Threading: any thread; a fiber suspends, a plain thread blocks, a loop callback may only
     * run a select that has a default case (or throws {@link IllegalStateException}).
     *
     * @return the selected action's result
     * @throws ChannelClosedException if the selected case receives from a channel closed and
     *     drained ({@link #onReceive}), or a send case's channel is closed
     * @throws CancelledException if the calling fiber is cancelled before an operation completes
     *     (then none happened)
     * @throws IllegalStateException if there is nothing to select (no case, no default, no
     *     timeout), or a loop callback would have to wait
     */
    @SuppressWarnings("unchecked")
    public R run() {
        Channel.checkCancelledHere();
        int n = cases.size();
        if (n == 0) {
            if (onDefault != null) {
                return onDefault.get();
            }
            if (onTimeout == null) {
                throw new IllegalStateException("select has no case, no default and no timeout: it would wait forever");
            }
        }
        boolean noWait = onDefault != null || (onTimeout != null && !timeout.isPositive());
        Channel<?>[] order = lockOrder();
        ChannelWaiter[] wake = new ChannelWaiter[1];
        int selected = -1;
        Object got = null;
        ChannelWaiter group = null;
        Strand me = null;
        ChannelWaiter[] nodes = null;
        int locked = 0;
        try {
            for (Channel<?> c : order) {
                c.lock.lock();
                locked++;
            }
            for (int i = 0; i < n; i++) {
                Case c = cases.get(i);
                if (c.send) {
                    Object r = c.channel.sendLocked(c.value);
                    if (r != null) {
                        selected = i;
                        if (r != Channel.BUFFERED) {
                            wake[0] = (ChannelWaiter) r;
                        }
                        break;
                    }
                } else {
                    Object r = c.channel.receiveLocked(wake);
                    if (r != Channel.NONE) {
                        selected = i;
                        got = r;
                        break;
                    }
                }
            }
            if (selected < 0 && !noWait) {
                me = Strand.suspendable("Select.run()");
                group = new ChannelWaiter(Thread.currentThread(), false);
                nodes = new ChannelWaiter[n];
                for (int i = 0; i < n; i++) {
                    Case c = cases.get(i);
                    ChannelWaiter node = new ChannelWaiter(group, c.send, i);
                    if (c.send) {
                        node.item = c.value;
                    }
                    nodes[i] = node;
                    c.channel.enqueueLocked(node);
                }
            }
        } finally {
            for (int i = locked - 1; i >= 0; i--) {
                order[i].lock.unlock();
            }
        }
        if (wake[0] != null) {
            wake[0].wake();
        }
        if (selected >= 0) {
            return complete(cases.get(selected), got);
        }
        if (group == null) {
            return onDefault != null ? onDefault.get() : onTimeout.get();
        }
        ChannelWaiter winner = await(group, nodes, me);
        if (winner == ChannelWaiter.TIMED_OUT) {
            return onTimeout.get();
        }
        Case c = cases.get(winner.caseIndex);
        if (winner.closed) {
            if (c.send) {
                throw new ChannelClosedException("send on a closed channel (it closed while select waited)", c.channel.closeCause());
            }
            return complete(c, Channel.END);
        }
        return complete(c, c.send ? null : winner.item);
    }

    /** Waits until a node of {@code group} is completed, the timeout fires, or the fiber is cancelled. */
    private ChannelWaiter await(ChannelWaiter group, ChannelWaiter[] nodes, Strand me) {
        CancelledException cancelled = null;
        try {
            if (me != null) {
                TimerHandle timer = null;
                try {
                    if (onTimeout != null) {
                        timer = me.scheduleWake(() -> {
                            group.timedOut = true;
                            LockSupport.unpark(group.thread);
                        }, timeout);
                    }
                    me.awaitUntil(group);
                } catch (CancelledException e) {
                    cancelled = e;
                } finally {
                    if (timer != null) {
                        timer.cancel();
                    }
                }
            } else {
                long deadline = onTimeout != null ? System.nanoTime() + timeout.toNanos() : 0;
                while (group.winner == null) {
                    if (onTimeout != null) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            group.timedOut = true;
                            break;
                        }
                        LockSupport.parkNanos(group, left);
                    } else {
                        LockSupport.park(group);
                    }
                    if (Thread.interrupted()) {
                        cancelled = new CancelledException("Select.run() was interrupted");
                        break;
                    }
                }
            }
        } finally {
            ChannelWaiter winner = group.winner;
            if (winner == null) {
                group.giveUp(cancelled != null ? ChannelWaiter.CANCELLED : ChannelWaiter.TIMED_OUT);
            }
            for (ChannelWaiter node : nodes) {
                if (node != group.winner) {
                    node.channel.unlink(node);
                }
            }
        }
        ChannelWaiter winner = group.winner;
        if (me == null && cancelled != null) {
            Thread.currentThread().interrupt(); // keep the interrupt status, whether or not an operation won
        }
        if (winner == ChannelWaiter.CANCELLED) {
            throw cancelled;
        }
        // an operation that completed wins over a simultaneous cancellation (raised at the next
        // suspension point), and over a timeout that fired at the same moment
        return winner;
    }

    @SuppressWarnings("unchecked")
    private R complete(Case c, Object got) {
        if (c.send) {
            return (R) c.onSent.get();
        }
        if (got == Channel.END) {
            if (!c.orNull || c.channel.closeCause() != null) {
                throw c.channel.endOfChannel();
            }
            got = null;
        }
        return (R) c.onReceive.apply(got);
    }

    @Override
    public String toString() {
        return "Select[" + cases.size() + " cases" + (onDefault != null ? ", default" : "")
                + (onTimeout != null ? ", timeout " + timeout : "") + "]";
    }
}
