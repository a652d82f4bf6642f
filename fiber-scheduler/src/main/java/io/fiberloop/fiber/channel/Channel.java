package io.fiberloop.fiber.channel;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.internal.Strand;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A channel, as in Go and kotlinx: a thread-safe FIFO through which fibers of one loop, fibers
 * of different loops and plain threads hand elements to each other, with backpressure.
 *
 * {@snippet :
 * Channel<String> lines = Channel.buffered(64);
 * Task<Void> producer = Fibers.spawn(() -> {
 *     try {
 *         for (String line : source) {
 *             lines.send(line);          // suspends while 64 lines wait unread
 *         }
 *     } finally {
 *         lines.close();                 // the consumer sees the end once it has read everything
 *     }
 *     return null;
 * });
 * for (String line : lines) {            // suspends while empty; ends after close()
 *     handle(line);
 * }
 * }
 *
 * <h2>Kinds</h2>
 * <ul>
 *   <li>{@link #buffered(int) buffered(n)}: up to {@code n} elements wait in the channel;
 *       {@code send} suspends while it is full.</li>
 *   <li>{@link #rendezvous()} (capacity 0): {@code send} completes only when a receiver takes the
 *       element, so the two meet, as Go's unbuffered channels.</li>
 *   <li>{@link #unbounded()}: {@code send} never suspends; the buffer grows (and memory with it
 *       when receivers fall behind: prefer a bound).</li>
 * </ul>
 *
 * <h2>Operations</h2>
 * {@link #send} suspends a fiber (blocks a plain thread) while the channel is full;
 * {@link #receive} while it is empty; {@link #trySend} and {@link #tryReceive} never suspend.
 * Elements are received in the order they were sent (per sender; senders that wait are served
 * first come, first served, and so are waiting receivers). {@code null} elements are refused.
 * {@link Select} waits on several channel operations at once.
 *
 * <h2>Closing</h2>
 * {@link #close()} ends the channel for senders at once: {@code send} and {@code trySend} then
 * throw {@link ChannelClosedException}, and so do senders suspended in {@code send} when it
 * closes (their elements were not sent; Go's rule). Receivers first drain every element that was
 * sent, then see the end: {@link #receive()} throws {@link ChannelClosedException},
 * {@link #receiveOrNull()} returns {@code null}, iteration ends. {@link #close(Throwable)} closes
 * with a failure that receivers get, after draining, as the cause of the exception (and that
 * {@code receiveOrNull} and iteration raise too), which is how a pipeline stage passes its
 * failure downstream.
 *
 * <h2>Threading</h2>
 * Every method is safe from any thread: fibers of any loop and plain threads may share a channel;
 * this is how loops talk to each other and to threads. A waiting fiber suspends (its loop runs
 * other fibers), a waiting plain thread blocks; a loop callback (a task submitted with
 * {@code execute}, a timer) must not wait, so {@code send}/{@code receive} there throw
 * {@link IllegalStateException} when they would have to (use {@code trySend}/{@code tryReceive}).
 * For fibers of a single loop only, {@link FiberQueue} is cheaper (no locks).
 *
 * <h2>Cancellation</h2>
 * {@code send} and {@code receive} are cancellation points: they throw {@link CancelledException}
 * if the calling fiber's task is cancelled (or a deadline expires) before or while they wait, and
 * then nothing was sent or received. If the operation completed at the same moment as the
 * cancellation, the operation wins: {@code send} returns (the element was delivered) and
 * {@code receive} returns the element, so nothing is lost or duplicated; the cancellation is raised
 * at the next suspension point (cancellation is level-triggered). A plain thread interrupted while
 * waiting gets {@link CancelledException} with its interrupt status set, under the same rule.
 *
 * <h2>Performance</h2>
 * A short lock-protected critical section per operation, no allocation on the buffered fast path,
 * and a direct hand-off to a waiting receiver. Waiters never hold the lock while suspended.
 *
 * @param <T> the element type
 */
public final class Channel<T> implements Iterable<T> {
    private static final AtomicLong IDS = new AtomicLong();
    /** {@link #receiveLocked}: nothing to take. */
    static final Object NONE = new Object();
    /** {@link #receiveLocked}: closed and drained. */
    static final Object END = new Object();
    /** {@link #sendLocked}: the element went into the buffer. */
    static final Object BUFFERED = new Object();
    private static final Object[] EMPTY = {};
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    /** Lock order for a select that locks several channels. */
    final long id = IDS.incrementAndGet();
    final ReentrantLock lock = new ReentrantLock();
    private final int capacity;
    // the buffer: a ring, guarded by lock
    private Object[] ring;
    private int head;
    private int count;
    // waiters, guarded by lock
    final ChannelWaiter.Queue senders = new ChannelWaiter.Queue();
    final ChannelWaiter.Queue receivers = new ChannelWaiter.Queue();
    private boolean closed;
    private Throwable closeCause;

    private Channel(int capacity) {
        this.capacity = capacity;
        this.ring = capacity == 0 ? EMPTY : new Object[Math.min(capacity, 16)];
    }

    /**
     * A channel that holds up to {@code capacity} elements that were sent and not yet received.
     *
     * {@snippet :
     * Channel<Job> jobs = Channel.buffered(100);
     * }
     *
     * <p>Threading: any thread.
     *
     * @param capacity how many elements may wait; 0 makes a {@linkplain #rendezvous() rendezvous}
     *     channel
     * @param <T> the element type
     * @return a new, open channel
     * @throws IllegalArgumentException if {@code capacity} is negative
     */
    public static <T> Channel<T> buffered(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must be 0 (rendezvous) or more, not " + capacity
                    + "; use Channel.unbounded() for no limit");
        }
        return new Channel<>(capacity);
    }

    /**
     * A channel without a buffer: {@code send} completes only once a receiver has taken the
     * element (Go's unbuffered channel).
     *
     * {@snippet :
     * Channel<String> ch = Channel.rendezvous();
     * Fibers.spawn(() -> { ch.send("hi"); return null; });  // waits for the receiver
     * String s = ch.receive();                              // "hi"; now the sender continues
     * }
     *
     * <p>Threading: any thread.
     *
     * @param <T> the element type
     * @return a new, open channel of capacity 0
     */
    public static <T> Channel<T> rendezvous() {
        return new Channel<>(0);
    }

    /**
     * A channel whose buffer grows without limit: {@code send} never waits.
     *
     * {@snippet :
     * Channel<Event> events = Channel.unbounded();
     * events.trySend(event);  // always true while open: also fine from a loop callback
     * }
     *
     * <p>Threading: any thread. Pitfall: a producer faster than its consumer fills memory; prefer
     * {@link #buffered(int)} where the producer can wait.
     *
     * @param <T> the element type
     * @return a new, open, unbounded channel
     */
    public static <T> Channel<T> unbounded() {
        return new Channel<>(Integer.MAX_VALUE);
    }

    // ------------------------------------------------------------------ sending

    /**
     * Sends {@code item}, waiting while the channel is full (for a rendezvous channel: until a
     * receiver takes it).
     *
     * {@snippet :
     * ch.send(order);   // suspends this fiber, or blocks this plain thread, while full
     * }
     *
     * <p>Threading: any thread; a fiber suspends, a plain thread blocks, a loop callback throws
     * {@link IllegalStateException} if it would have to wait.
     *
     * @param item the element, not null
     * @throws ChannelClosedException if the channel is closed, or closes while this waits (the
     *     element was then not sent)
     * @throws CancelledException if the calling fiber is cancelled before the element is sent
     *     (then it was not sent); a plain thread interrupted while waiting gets it too
     */
    public void send(T item) {
        Objects.requireNonNull(item, "item");
        checkCancelledHere();
        ChannelWaiter partner = null;
        ChannelWaiter w = null;
        Strand me = null;
        lock.lock();
        try {
            if (closed) {
                throw closedForSend();
            }
            if (receivers.peek() != null) {
                partner = claimReceiver(item);
            }
            if (partner == null) {
                if (count < capacity) {
                    push(item);
                    return;
                }
                me = Strand.suspendable("Channel.send()");
                w = new ChannelWaiter(Thread.currentThread(), true);
                w.item = item;
                w.channel = this;
                senders.add(w);
            }
        } finally {
            lock.unlock();
        }
        if (partner != null) {
            partner.wake();
            return;
        }
        await(w, me, "Channel.send()");
        if (w.closed) {
            throw closedForSend();
        }
    }

    /**
     * Sends {@code item} if that needs no waiting: a receiver is waiting, or the buffer has room.
     *
     * {@snippet :
     * if (!ch.trySend(sample)) {
     *     dropped++;   // full: drop rather than wait
     * }
     * }
     *
     * <p>Threading: any thread, including loop callbacks; never suspends.
     *
     * @param item the element, not null
     * @return true if it was sent, false if the channel is full
     * @throws ChannelClosedException if the channel is closed
     */
    public boolean trySend(T item) {
        Objects.requireNonNull(item, "item");
        ChannelWaiter partner = null;
        lock.lock();
        try {
            if (closed) {
                throw closedForSend();
            }
            if (receivers.peek() != null) {
                partner = claimReceiver(item);
            }
            if (partner == null) {
                if (count < capacity) {
                    push(item);
                    return true;
                }
                return false;
            }
        } finally {
            lock.unlock();
        }
        partner.wake();
        return true;
    }

    // ------------------------------------------------------------------ receiving

    /**
     * Receives the next element, waiting while the channel is empty.
     *
     * {@snippet :
     * Order o = ch.receive();
     * }
     *
     * <p>Threading: any thread; a fiber suspends, a plain thread blocks, a loop callback throws
     * {@link IllegalStateException} if it would have to wait.
     *
     * @return the element
     * @throws ChannelClosedException once the channel is closed and every element sent has been
     *     received (its cause is the one given to {@link #close(Throwable)}, if any)
     * @throws CancelledException if the calling fiber is cancelled before an element is received
     *     (then none was taken)
     */
    public T receive() {
        Object x = receive0("Channel.receive()");
        if (x == END) {
            throw endOfChannel();
        }
        @SuppressWarnings("unchecked")
        T t = (T) x;
        return t;
    }

    /**
     * Receives the next element, waiting while the channel is empty, or returns {@code null} at
     * the end (Go's {@code v, ok := <-ch}).
     *
     * {@snippet :
     * for (String s; (s = ch.receiveOrNull()) != null; ) {
     *     handle(s);
     * }
     * }
     *
     * <p>Threading: as {@link #receive()}.
     *
     * @return the element, or {@code null} once the channel is closed and drained
     * @throws ChannelClosedException at the end if the channel was closed with a cause
     * @throws CancelledException if the calling fiber is cancelled before an element is received
     */
    public T receiveOrNull() {
        Object x = receive0("Channel.receiveOrNull()");
        if (x == END) {
            if (closeCause != null) {
                throw endOfChannel();
            }
            return null;
        }
        @SuppressWarnings("unchecked")
        T t = (T) x;
        return t;
    }

    /**
     * Receives an element if one is ready, without waiting.
     *
     * {@snippet :
     * Msg m;
     * while ((m = ch.tryReceive()) != null) {
     *     handle(m);   // drain what is there, then go on
     * }
     * }
     *
     * <p>Threading: any thread, including loop callbacks; never suspends.
     *
     * @return the element, or {@code null} if none is ready; after a {@code null},
     *     {@link #isClosedForReceive()} tells an empty channel from one that has ended
     */
    public T tryReceive() {
        ChannelWaiter partner = null;
        Object item;
        lock.lock();
        try {
            if (count > 0) {
                item = pop();
                if (senders.peek() != null && (partner = claimSender()) != null) {
                    push(partner.item);
                }
            } else if (senders.peek() != null && (partner = claimSender()) != null) {
                item = partner.item;
            } else {
                return null;
            }
        } finally {
            lock.unlock();
        }
        if (partner != null) {
            partner.wake();
        }
        @SuppressWarnings("unchecked")
        T t = (T) item;
        return t;
    }

    private Object receive0(String what) {
        checkCancelledHere();
        ChannelWaiter partner = null;
        ChannelWaiter w = null;
        Strand me = null;
        Object item = null;
        lock.lock();
        try {
            if (count > 0) {
                item = pop();
                if (senders.peek() != null && (partner = claimSender()) != null) {
                    push(partner.item);
                }
            } else if (senders.peek() != null && (partner = claimSender()) != null) {
                item = partner.item;
            } else if (closed) {
                return END;
            } else {
                me = Strand.suspendable(what);
                w = new ChannelWaiter(Thread.currentThread(), false);
                w.channel = this;
                receivers.add(w);
            }
        } finally {
            lock.unlock();
        }
        if (partner != null) {
            partner.wake();
        }
        if (w == null) {
            return item;
        }
        await(w, me, what);
        if (w.closed) {
            return END;
        }
        return w.item;
    }

    /**
     * Iterates until the channel is closed and drained: {@code hasNext()} waits (suspends a
     * fiber, blocks a plain thread) for the next element.
     *
     * {@snippet :
     * for (Job job : jobs) {
     *     run(job);
     * }
     * // here jobs was closed and every job sent was run
     * }
     *
     * <p>Threading: as {@link #receive()}. Several fibers or threads may iterate one channel at
     * once; each element goes to exactly one of them. An iterator itself belongs to one fiber.
     *
     * @return an iterator that receives from this channel
     * @throws ChannelClosedException from {@code hasNext()} at the end if the channel was closed
     *     with a cause
     */
    @Override
    public Iterator<T> iterator() {
        return new Iterator<>() {
            private T next;

            @Override
            public boolean hasNext() {
                if (next == null) {
                    next = receiveOrNull();
                }
                return next != null;
            }

            @Override
            public T next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("the channel is closed and drained");
                }
                T x = next;
                next = null;
                return x;
            }
        };
    }

    /**
     * Receives every element until the channel is closed and drained, passing each to
     * {@code action}.
     *
     * {@snippet :
     * results.forEach(r -> total += r);   // returns once results is closed and drained
     * }
     *
     * <p>Threading: as {@link #receive()}.
     *
     * @param action what to do with each element
     * @throws ChannelClosedException at the end if the channel was closed with a cause
     */
    @Override
    public void forEach(Consumer<? super T> action) {
        Objects.requireNonNull(action, "action");
        for (T x; (x = receiveOrNull()) != null; ) {
            action.accept(x);
        }
    }

    // ------------------------------------------------------------------ closing and state

    /**
     * Closes the channel: no more elements may be sent, and senders waiting in {@code send} fail
     * with {@link ChannelClosedException}; receivers still get every element sent before, then see
     * the end. Idempotent.
     *
     * {@snippet :
     * try {
     *     produceInto(ch);
     * } finally {
     *     ch.close();
     * }
     * }
     *
     * <p>Threading: any thread; never suspends.
     *
     * @return true if this call closed the channel, false if it was already closed
     */
    public boolean close() {
        return close0(null);
    }

    /**
     * Closes the channel with a failure: as {@link #close()}, but receivers, once they have
     * drained the channel, get {@link ChannelClosedException} with {@code cause} as its cause from
     * {@code receive}, {@code receiveOrNull} and iteration alike.
     *
     * {@snippet :
     * try {
     *     produceInto(ch);
     *     ch.close();
     * } catch (IOException e) {
     *     ch.close(e);   // the consumer's loop throws, with e as the cause
     * }
     * }
     *
     * <p>Threading: any thread; never suspends.
     *
     * @param cause why the channel ended
     * @return true if this call closed the channel, false if it was already closed
     */
    public boolean close(Throwable cause) {
        return close0(Objects.requireNonNull(cause, "cause"));
    }

    private boolean close0(Throwable cause) {
        List<ChannelWaiter> woken = null;
        lock.lock();
        try {
            if (closed) {
                return false;
            }
            closeCause = cause;
            closed = true;
            for (ChannelWaiter.Queue q : new ChannelWaiter.Queue[] {receivers, senders}) {
                ChannelWaiter w;
                while ((w = q.peek()) != null) {
                    q.unlink(w);
                    w.closed = true;
                    if (w.tryClaim()) {
                        if (woken == null) {
                            woken = new ArrayList<>();
                        }
                        woken.add(w);
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        if (woken != null) {
            for (ChannelWaiter w : woken) {
                w.wake();
            }
        }
        return true;
    }

    /**
     * Whether {@link #close()} has been called: {@code send} would throw.
     *
     * <p>Threading: any thread. The answer may be stale by the time it is used.
     *
     * @return whether the channel is closed
     */
    public boolean isClosedForSend() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether the channel is closed and drained: {@code receive} would throw and
     * {@code receiveOrNull} return {@code null}.
     *
     * <p>Threading: any thread. The answer may be stale by the time it is used, except that once
     * true it stays true.
     *
     * @return whether the channel has ended
     */
    public boolean isClosedForReceive() {
        lock.lock();
        try {
            return closed && count == 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The number of elements in the buffer: sent and not yet received (senders still waiting in
     * {@code send} are not counted).
     *
     * <p>Threading: any thread; a snapshot.
     *
     * @return the number of buffered elements
     */
    public int size() {
        lock.lock();
        try {
            return count;
        } finally {
            lock.unlock();
        }
    }

    /**
     * How many elements the buffer holds at most.
     *
     * @return 0 for a rendezvous channel, {@link Integer#MAX_VALUE} for an unbounded one
     */
    public int capacity() {
        return capacity;
    }

    @Override
    public String toString() {
        lock.lock();
        try {
            String kind = capacity == 0 ? "rendezvous" : capacity == Integer.MAX_VALUE ? "unbounded" : "buffered(" + capacity + ")";
            return "Channel[" + kind + ", " + count + " buffered, " + senders.size() + " senders waiting, " + receivers.size()
                    + " receivers waiting" + (closed ? ", closed" : "") + "]";
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ internals

    /** A fiber's pending cancellation; nothing for plain threads and loop callbacks. */
    static void checkCancelledHere() {
        Strand f = Strand.here();
        if (f != null && f.kind() != Strand.Kind.WORK) {
            f.checkCancelled();
        }
    }

    /** Waits until {@code w} is completed, or gives up (cancellation, interrupt) and unlinks it. */
    private static void await(ChannelWaiter w, Strand me, String what) {
        if (me != null) {
            try {
                me.awaitUntil(w);
            } catch (CancelledException e) {
                if (w.giveUp(ChannelWaiter.CANCELLED)) {
                    w.channel.unlink(w);
                    throw e;
                }
                // completed at the same time: the operation happened; the cancellation stays
                // pending (level-triggered) and is raised at the next suspension point
            }
            return;
        }
        boolean interrupted = false;
        while (w.winner == null) {
            LockSupport.park(w);
            if (Thread.interrupted()) {
                if (w.giveUp(ChannelWaiter.CANCELLED)) {
                    w.channel.unlink(w);
                    Thread.currentThread().interrupt();
                    throw new CancelledException(what + " was interrupted");
                }
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Removes {@code w} from this channel's queues if it is still there. Takes the lock. */
    void unlink(ChannelWaiter w) {
        lock.lock();
        try {
            (w.sender ? senders : receivers).unlink(w);
        } finally {
            lock.unlock();
        }
    }

    /** Under lock: hands {@code item} to the first waiting receiver that can be claimed. */
    private ChannelWaiter claimReceiver(Object item) {
        ChannelWaiter w;
        while ((w = receivers.peek()) != null) {
            receivers.unlink(w);
            w.item = item;
            if (w.tryClaim()) {
                return w;
            }
            w.item = null; // its select completed elsewhere, or it gave up: skip it
        }
        return null;
    }

    /** Under lock: claims the first waiting sender that can be claimed; its element is {@code item}. */
    private ChannelWaiter claimSender() {
        ChannelWaiter w;
        while ((w = senders.peek()) != null) {
            senders.unlink(w);
            if (w.tryClaim()) {
                return w;
            }
        }
        return null;
    }

    private void push(Object item) {
        Object[] r = ring;
        if (count == r.length) {
            r = grow();
        }
        int i = head + count;
        if (i >= r.length) {
            i -= r.length;
        }
        r[i] = item;
        count++;
    }

    private Object pop() {
        Object[] r = ring;
        int h = head;
        Object x = r[h];
        r[h] = null;
        head = h + 1 == r.length ? 0 : h + 1;
        count--;
        return x;
    }

    private Object[] grow() {
        int n = ring.length;
        int m = (int) Math.min(Math.min((long) capacity, MAX_ARRAY), Math.max(16L, 2L * n));
        if (m <= n) {
            throw new IllegalStateException("channel buffer cannot grow past " + n + " elements: the receivers do not keep up; "
                    + "use a bounded Channel.buffered(capacity), whose send() waits for room");
        }
        Object[] a = new Object[m];
        int first = Math.min(count, n - head);
        System.arraycopy(ring, head, a, 0, first);
        System.arraycopy(ring, 0, a, first, count - first);
        ring = a;
        head = 0;
        return a;
    }

    private ChannelClosedException closedForSend() {
        return new ChannelClosedException("send on a closed channel", closeCause);
    }

    ChannelClosedException endOfChannel() {
        return new ChannelClosedException(closeCause == null ? "the channel is closed and drained"
                : "the channel was closed with a failure and is drained", closeCause);
    }

    // ------------------------------------------------------------------ for Select (under lock)

    /**
     * Under lock: sends without waiting.
     *
     * @return {@code null} if it must wait, {@link #BUFFERED}, or the receiver it handed the
     *     element to (to wake once unlocked)
     * @throws ChannelClosedException if closed
     */
    Object sendLocked(Object item) {
        if (closed) {
            throw closedForSend();
        }
        if (receivers.peek() != null) {
            ChannelWaiter p = claimReceiver(item);
            if (p != null) {
                return p;
            }
        }
        if (count < capacity) {
            push(item);
            return BUFFERED;
        }
        return null;
    }

    /**
     * Under lock: receives without waiting.
     *
     * @param wake receives, in slot 0, a sender whose element was taken (to wake once unlocked)
     * @return the element, {@link #NONE}, or {@link #END} if closed and drained
     */
    Object receiveLocked(ChannelWaiter[] wake) {
        if (count > 0) {
            Object x = pop();
            if (senders.peek() != null) {
                ChannelWaiter p = claimSender();
                if (p != null) {
                    push(p.item);
                    wake[0] = p;
                }
            }
            return x;
        }
        if (senders.peek() != null) {
            ChannelWaiter p = claimSender();
            if (p != null) {
                wake[0] = p;
                return p.item;
            }
        }
        return closed ? END : NONE;
    }

    /** Under lock: queues a select's node. */
    void enqueueLocked(ChannelWaiter node) {
        node.channel = this;
        (node.sender ? senders : receivers).add(node);
    }

    /** The cause given to {@link #close(Throwable)}, read after the end was observed. */
    Throwable closeCause() {
        return closeCause;
    }
}
