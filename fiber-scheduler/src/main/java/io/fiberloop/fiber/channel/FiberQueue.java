package io.fiberloop.fiber.channel;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.internal.IntrusiveList;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.fiber.internal.Until;
import io.fiberloop.loop.EventLoop;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Objects;

/**
 * A queue for the fibers of one loop, with asyncio's semantics ({@code asyncio.Queue},
 * {@code PriorityQueue}, {@code LifoQueue}): {@code put} suspends while the queue is full,
 * {@code get} while it is empty, and {@link #taskDone()} with {@link #join()} let a producer wait
 * until workers have processed everything it put.
 *
 * {@snippet :
 * FiberQueue<Job> jobs = FiberQueue.fifo(100);
 * for (int i = 0; i < 4; i++) {
 *     Fibers.spawn(() -> {                 // a worker
 *         while (true) {
 *             Job job = jobs.get();
 *             try {
 *                 job.run();
 *             } finally {
 *                 jobs.taskDone();
 *             }
 *         }
 *     });
 * }
 * for (Job job : work) {
 *     jobs.put(job);                       // suspends while 100 jobs wait
 * }
 * jobs.join();                             // every job put has been processed
 * }
 *
 * <h2>Kinds</h2>
 * {@link #fifo(int)} (first in, first out), {@link #lifo(int)} (last in, first out) and
 * {@link #priority(int, Comparator)} (smallest first by the comparator; equal items in the order
 * they were put). {@code maxsize} bounds the number of items; 0 means unbounded, as in asyncio.
 *
 * <h2>Fairness</h2>
 * Fibers waiting in {@code get} are served first come, first served, and so are fibers waiting in
 * {@code put}. An item put while fibers wait in {@code get} is promised to the first of them,
 * which takes, when it runs, the item the queue's order gives first (for a priority queue, the
 * smallest at that moment, as asyncio); {@link #getNow()} and {@link #tryGet()} never take an item
 * promised so. When a {@code get} frees room, the first waiting {@code put} completes at once.
 *
 * <h2>Threading</h2>
 * A queue serves the fibers of <em>one</em> loop: it is bound to the loop that first uses it, and
 * costs no locks and no atomics, because a loop runs one fiber at a time. Every method must be
 * called on that loop; use from another loop or a plain thread throws
 * {@link IllegalStateException}: use a {@link Channel}, which is thread-safe, to talk across loops
 * and threads. {@code put}, {@code get} and {@code join} suspend the calling fiber; in a loop
 * callback they throw {@link IllegalStateException} when they would have to wait.
 *
 * <h2>Cancellation</h2>
 * {@code put}, {@code get} and {@code join} are cancellation points. A fiber cancelled while
 * waiting in {@code get} takes nothing: an item already promised to it goes to the next waiting
 * getter (or stays in the queue). A fiber cancelled while waiting in {@code put} has put nothing,
 * unless its item had entered the queue at the same moment: then {@code put} returns normally and
 * the cancellation is raised at the next suspension point. Nothing is lost or duplicated.
 *
 * @param <T> the item type
 */
public final class FiberQueue<T> {
    private enum Kind { FIFO, LIFO, PRIORITY }

    private final Kind kind;
    private final int maxsize;
    private final Comparator<? super T> comparator;
    private final ArrayDeque<T> deque;
    // priority: a binary heap of items, ties broken by put order
    private Object[] heap;
    private long[] seqs;
    private int heapSize;
    private long seq;

    private EventLoop loop;
    private int unfinished;
    /** Items in the queue promised to getters that were woken and have not run yet. */
    private int promised;
    private final IntrusiveList<Waiter> getters = new IntrusiveList<>();
    private final IntrusiveList<Waiter> putters = new IntrusiveList<>();
    private final IntrusiveList<Waiter> joiners = new IntrusiveList<>();

    private FiberQueue(Kind kind, int maxsize, Comparator<? super T> comparator) {
        if (maxsize < 0) {
            throw new IllegalArgumentException("maxsize must be 0 (unbounded) or more, not " + maxsize);
        }
        this.kind = kind;
        this.maxsize = maxsize;
        this.comparator = comparator;
        if (kind == Kind.PRIORITY) {
            this.deque = null;
            this.heap = new Object[16];
            this.seqs = new long[16];
        } else {
            this.deque = new ArrayDeque<>();
        }
    }

    /**
     * A first-in, first-out queue ({@code asyncio.Queue}).
     *
     * {@snippet :
     * FiberQueue<String> q = FiberQueue.fifo(10);
     * }
     *
     * <p>Threading: any thread; the queue binds to the loop that first uses it.
     *
     * @param maxsize the most items it holds; 0 for unbounded
     * @param <T> the item type
     * @return a new queue
     */
    public static <T> FiberQueue<T> fifo(int maxsize) {
        return new FiberQueue<>(Kind.FIFO, maxsize, null);
    }

    /**
     * An unbounded first-in, first-out queue.
     *
     * @param <T> the item type
     * @return a new queue
     */
    public static <T> FiberQueue<T> fifo() {
        return fifo(0);
    }

    /**
     * A last-in, first-out queue: a stack ({@code asyncio.LifoQueue}).
     *
     * {@snippet :
     * FiberQueue<Frame> stack = FiberQueue.lifo(0);
     * }
     *
     * @param maxsize the most items it holds; 0 for unbounded
     * @param <T> the item type
     * @return a new queue
     */
    public static <T> FiberQueue<T> lifo(int maxsize) {
        return new FiberQueue<>(Kind.LIFO, maxsize, null);
    }

    /**
     * A priority queue: {@code get} returns the smallest item by {@code comparator}; equal items
     * come out in the order they were put ({@code asyncio.PriorityQueue}, but stable).
     *
     * {@snippet :
     * FiberQueue<Job> urgentFirst = FiberQueue.priority(0, Comparator.comparingInt(Job::priority));
     * }
     *
     * @param maxsize the most items it holds; 0 for unbounded
     * @param comparator the order; smallest first
     * @param <T> the item type
     * @return a new queue
     */
    public static <T> FiberQueue<T> priority(int maxsize, Comparator<? super T> comparator) {
        return new FiberQueue<>(Kind.PRIORITY, maxsize, Objects.requireNonNull(comparator, "comparator"));
    }

    /**
     * A priority queue in the items' natural order, smallest first.
     *
     * {@snippet :
     * FiberQueue<Integer> q = FiberQueue.priority(0);
     * }
     *
     * @param maxsize the most items it holds; 0 for unbounded
     * @param <T> the item type
     * @return a new queue
     */
    public static <T extends Comparable<? super T>> FiberQueue<T> priority(int maxsize) {
        return new FiberQueue<>(Kind.PRIORITY, maxsize, Comparator.naturalOrder());
    }

    // ------------------------------------------------------------------ putting

    /**
     * Puts {@code item}, suspending while the queue is full.
     *
     * {@snippet :
     * queue.put(job);
     * }
     *
     * <p>Threading: a fiber of the queue's loop; a loop callback may call it only while the queue
     * has room.
     *
     * @param item the item, not null
     * @throws CancelledException if the calling fiber is cancelled before the item entered the queue
     * @throws IllegalStateException if called from another loop or a plain thread
     */
    public void put(T item) {
        Objects.requireNonNull(item, "item");
        checkLoop("put()");
        Channel.checkCancelledHere();
        if (!full()) {
            add(item);
            return;
        }
        Strand me = Strand.suspendable("FiberQueue.put()");
        Waiter w = new Waiter(me);
        w.item = item;
        putters.add(w);
        try {
            me.awaitUntil(w);
        } catch (CancelledException e) {
            if (!w.done) {
                putters.unlink(w);
                throw e;
            }
            // its item entered the queue at the same moment: the put happened; the cancellation is
            // raised at the next suspension point
        }
    }

    /**
     * Puts {@code item} if there is room, without waiting.
     *
     * {@snippet :
     * try {
     *     queue.putNow(event);
     * } catch (QueueFullException e) {
     *     dropped++;
     * }
     * }
     *
     * <p>Threading: the queue's loop (a fiber or a loop callback).
     *
     * @param item the item, not null
     * @throws QueueFullException if the queue is full
     * @throws IllegalStateException if called from another loop or a plain thread
     */
    public void putNow(T item) {
        if (!tryPut(item)) {
            throw new QueueFullException("queue is full (" + maxsize + " items)");
        }
    }

    /**
     * Puts {@code item} if there is room, without waiting.
     *
     * {@snippet :
     * if (!queue.tryPut(event)) {
     *     dropped++;
     * }
     * }
     *
     * <p>Threading: the queue's loop (a fiber or a loop callback).
     *
     * @param item the item, not null
     * @return true if it was put, false if the queue is full
     * @throws IllegalStateException if called from another loop or a plain thread
     */
    public boolean tryPut(T item) {
        Objects.requireNonNull(item, "item");
        checkLoop("tryPut()");
        if (full()) {
            return false;
        }
        add(item);
        return true;
    }

    // ------------------------------------------------------------------ getting

    /**
     * Removes and returns the next item (by the queue's order), suspending while none is
     * available.
     *
     * {@snippet :
     * Job job = queue.get();
     * }
     *
     * <p>Threading: a fiber of the queue's loop; a loop callback may call it only while an item is
     * available.
     *
     * @return the item
     * @throws CancelledException if the calling fiber is cancelled before it got an item (it took
     *     none)
     * @throws IllegalStateException if called from another loop or a plain thread
     */
    public T get() {
        checkLoop("get()");
        Channel.checkCancelledHere();
        if (available() > 0) {
            return take();
        }
        Strand me = Strand.suspendable("FiberQueue.get()");
        Waiter w = new Waiter(me);
        getters.add(w);
        try {
            me.awaitUntil(w);
        } catch (CancelledException e) {
            if (w.done) {
                // an item was promised to this getter: pass the promise on, take nothing
                promised--;
                promiseToGetters();
            } else {
                getters.unlink(w);
            }
            throw e;
        }
        promised--;
        return take();
    }

    /**
     * Removes and returns the next item if one is available, without waiting.
     *
     * {@snippet :
     * Job job = queue.getNow();   // throws QueueEmptyException if none
     * }
     *
     * <p>Threading: the queue's loop (a fiber or a loop callback).
     *
     * @return the item
     * @throws QueueEmptyException if no item is available (items promised to waiting getters are
     *     not)
     * @throws IllegalStateException if called from another loop or a plain thread
     */
    public T getNow() {
        T x = tryGet();
        if (x == null) {
            throw new QueueEmptyException("queue is empty");
        }
        return x;
    }

    /**
     * Removes and returns the next item if one is available, or {@code null}.
     *
     * {@snippet :
     * for (Job j; (j = queue.tryGet()) != null; ) {
     *     run(j);
     * }
     * }
     *
     * <p>Threading: the queue's loop (a fiber or a loop callback).
     *
     * @return the item, or {@code null} if none is available
     * @throws IllegalStateException if called from another loop or a plain thread
     */
    public T tryGet() {
        checkLoop("tryGet()");
        return available() > 0 ? take() : null;
    }

    // ------------------------------------------------------------------ tasks

    /**
     * Marks one item that was got as processed ({@code asyncio.Queue.task_done}); when every item
     * put has been marked so, fibers waiting in {@link #join()} resume.
     *
     * {@snippet :
     * Job job = queue.get();
     * try {
     *     job.run();
     * } finally {
     *     queue.taskDone();
     * }
     * }
     *
     * <p>Threading: the queue's loop.
     *
     * @throws IllegalStateException if called more times than items were put, or from another loop
     *     or a plain thread
     */
    public void taskDone() {
        checkLoop("taskDone()");
        if (unfinished <= 0) {
            throw new IllegalStateException("taskDone() called more times than items were put in the queue: "
                    + "call it once for each item taken with get() or tryGet(), after that item's work is done");
        }
        if (--unfinished == 0) {
            Waiter w;
            while ((w = joiners.poll()) != null) {
                w.done = true;
                w.strand.wake();
            }
        }
    }

    /**
     * Waits until every item ever put has been got and marked with {@link #taskDone()}
     * ({@code asyncio.Queue.join}). Returns at once if there is none.
     *
     * {@snippet :
     * urls.forEach(queue::put);
     * queue.join();        // the workers have processed every url
     * }
     *
     * <p>Threading: a fiber of the queue's loop.
     *
     * @throws CancelledException if the calling fiber is cancelled while waiting
     * @throws IllegalStateException if called from another loop or a plain thread
     */
    public void join() {
        checkLoop("join()");
        Channel.checkCancelledHere();
        if (unfinished == 0) {
            return;
        }
        Strand me = Strand.suspendable("FiberQueue.join()");
        Waiter w = new Waiter(me);
        joiners.add(w);
        try {
            me.awaitUntil(w);
        } catch (CancelledException e) {
            joiners.unlink(w);
            throw e;
        }
    }

    // ------------------------------------------------------------------ state

    /**
     * The number of items in the queue ({@code qsize}).
     *
     * <p>Threading: the queue's loop.
     *
     * @return how many items the queue holds
     */
    public int size() {
        checkLoop("size()");
        return storeSize();
    }

    /**
     * Whether the queue holds no item.
     *
     * <p>Threading: the queue's loop.
     *
     * @return {@code size() == 0}
     */
    public boolean isEmpty() {
        return size() == 0;
    }

    /**
     * Whether the queue holds {@code maxsize} items: {@code put} would wait. Never true for an
     * unbounded queue.
     *
     * <p>Threading: the queue's loop.
     *
     * @return whether the queue is full
     */
    public boolean isFull() {
        checkLoop("isFull()");
        return full();
    }

    private boolean full() {
        return maxsize > 0 && storeSize() >= maxsize;
    }

    /**
     * The bound given at creation.
     *
     * @return the most items the queue holds; 0 for unbounded
     */
    public int maxsize() {
        return maxsize;
    }

    /**
     * The number of items put and not yet marked with {@link #taskDone()}.
     *
     * <p>Threading: the queue's loop.
     *
     * @return the unfinished count {@link #join()} waits on
     */
    public int unfinishedTasks() {
        checkLoop("unfinishedTasks()");
        return unfinished;
    }

    @Override
    public String toString() {
        return "FiberQueue[" + kind.name().toLowerCase() + ", " + storeSize() + " items" + (maxsize > 0 ? " of " + maxsize : "")
                + ", " + unfinished + " unfinished]";
    }

    // ------------------------------------------------------------------ internals

    private void checkLoop(String what) {
        EventLoop here = EventLoop.currentOrNull();
        EventLoop owner = loop;
        if (here == owner && here != null) {
            return;
        }
        if (here == null) {
            throw new IllegalStateException("FiberQueue." + what + " was called from thread '" + Thread.currentThread().getName()
                    + "', which is not on an event loop: a FiberQueue serves the fibers of one loop; "
                    + "use a Channel to pass items between plain threads and fibers");
        }
        if (owner == null) {
            loop = here;
            return;
        }
        throw new IllegalStateException("FiberQueue." + what + " was called on loop '" + here.name() + "', but the queue belongs to loop '"
                + owner.name() + "': a FiberQueue serves the fibers of one loop; use a Channel to pass items between loops");
    }

    private int available() {
        return storeSize() - promised;
    }

    /** An item enters the queue: count it, and promise it to a waiting getter if there is one. */
    private void add(T item) {
        store(item);
        unfinished++;
        promiseToGetters();
    }

    private void promiseToGetters() {
        while (available() > 0) {
            Waiter g = getters.poll();
            if (g == null) {
                return;
            }
            promised++;
            g.done = true;
            g.strand.wake();
        }
    }

    /** Takes the next item, and lets the first waiting putter's item in. */
    private T take() {
        T x = unstore();
        Waiter p = putters.poll();
        if (p != null) {
            @SuppressWarnings("unchecked")
            T item = (T) p.item;
            p.item = null;
            p.done = true;
            add(item);
            p.strand.wake();
        }
        return x;
    }

    private int storeSize() {
        return kind == Kind.PRIORITY ? heapSize : deque.size();
    }

    private void store(T item) {
        if (kind != Kind.PRIORITY) {
            deque.addLast(item);
            return;
        }
        if (heapSize == heap.length) {
            heap = Arrays.copyOf(heap, heapSize * 2);
            seqs = Arrays.copyOf(seqs, heapSize * 2);
        }
        long s = seq++;
        int i = heapSize++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (less(item, s, parent)) {
                heap[i] = heap[parent];
                seqs[i] = seqs[parent];
                i = parent;
            } else {
                break;
            }
        }
        heap[i] = item;
        seqs[i] = s;
    }

    @SuppressWarnings("unchecked")
    private T unstore() {
        switch (kind) {
            case FIFO:
                return deque.pollFirst();
            case LIFO:
                return deque.pollLast();
            default:
                break;
        }
        T top = (T) heap[0];
        int n = --heapSize;
        T last = (T) heap[n];
        long lastSeq = seqs[n];
        heap[n] = null;
        if (n > 0) {
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= n) {
                    break;
                }
                if (child + 1 < n && lessAt(child + 1, child)) {
                    child++;
                }
                if (less(last, lastSeq, child)) {
                    break;
                }
                heap[i] = heap[child];
                seqs[i] = seqs[child];
                i = child;
            }
            heap[i] = last;
            seqs[i] = lastSeq;
        }
        return top;
    }

    /** Whether (item, s) comes before the heap entry at {@code j}. */
    @SuppressWarnings("unchecked")
    private boolean less(T item, long s, int j) {
        int c = comparator.compare(item, (T) heap[j]);
        return c < 0 || c == 0 && s < seqs[j];
    }

    @SuppressWarnings("unchecked")
    private boolean lessAt(int i, int j) {
        return less((T) heap[i], seqs[i], j);
    }

    /** A fiber waiting in put, get or join. */
    private static final class Waiter extends IntrusiveList.Node<Waiter> implements Until {
        final Strand strand;
        Object item;
        boolean done;

        Waiter(Strand strand) {
            this.strand = strand;
        }

        @Override
        public boolean done() {
            return done;
        }
    }
}
