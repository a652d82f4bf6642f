package io.fiberloop.loop;

import java.util.Arrays;

/**
 * A binary min-heap of timers ordered by (deadline, sequence), with each timer knowing its index
 * so that cancellation removes it in O(log n) at once. The array shrinks when it is three
 * quarters empty, so a million cancelled timers leave no memory behind.
 *
 * <p>Loop thread only; no synchronization.
 */
final class TimerQueue {
    private static final int MIN_CAPACITY = 64;
    private ScheduledTimer[] heap = new ScheduledTimer[MIN_CAPACITY];
    private int size;
    private long nextSeq;

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** {@return the next sequence number that {@link #add} will give} */
    long nextSeq() {
        return nextSeq;
    }

    ScheduledTimer peek() {
        return size == 0 ? null : heap[0];
    }

    /**
     * Schedule exploration: one of the timers that share the head's deadline (and existed before
     * {@code seqLimit}), chosen by {@code e}; the head itself when it has no ties. Scans the heap:
     * for tests only.
     */
    ScheduledTimer peekTied(io.fiberloop.loop.internal.Exploration e, long seqLimit) {
        if (size <= 1) {
            return peek();
        }
        long deadline = heap[0].deadline;
        int ties = 0;
        for (int i = 0; i < size; i++) {
            if (heap[i].deadline == deadline && heap[i].seq < seqLimit) {
                ties++;
            }
        }
        if (ties <= 1) {
            return heap[0];
        }
        int k = e.pick(ties);
        for (int i = 0; i < size; i++) {
            if (heap[i].deadline == deadline && heap[i].seq < seqLimit && k-- == 0) {
                return heap[i];
            }
        }
        throw new AssertionError("unreachable: " + ties + " ties counted");
    }

    long nextDeadline() {
        return size == 0 ? Long.MAX_VALUE : heap[0].deadline;
    }

    void add(ScheduledTimer t) {
        t.seq = nextSeq++;
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        int i = size++;
        siftUp(i, t);
    }

    ScheduledTimer poll() {
        if (size == 0) {
            return null;
        }
        ScheduledTimer top = heap[0];
        removeAt(0);
        return top;
    }

    /** Removes {@code t} if it is in this heap. */
    boolean remove(ScheduledTimer t) {
        int i = t.index;
        if (i < 0 || i >= size || heap[i] != t) {
            return false;
        }
        removeAt(i);
        return true;
    }

    /** Removes every timer, calling {@code each} on it. */
    void clear(java.util.function.Consumer<ScheduledTimer> each) {
        ScheduledTimer[] h = heap;
        int n = size;
        heap = new ScheduledTimer[MIN_CAPACITY];
        size = 0;
        for (int i = 0; i < n; i++) {
            h[i].index = -1;
            each.accept(h[i]);
        }
    }

    private void removeAt(int i) {
        ScheduledTimer removed = heap[i];
        removed.index = -1;
        int last = --size;
        ScheduledTimer moved = heap[last];
        heap[last] = null;
        if (i != last) {
            siftDown(i, moved);
            if (heap[i] == moved) {
                siftUp(i, moved);
            }
        }
        if (heap.length > MIN_CAPACITY && size < heap.length >>> 2) {
            heap = Arrays.copyOf(heap, Math.max(MIN_CAPACITY, heap.length >>> 1));
        }
    }

    private void siftUp(int i, ScheduledTimer t) {
        ScheduledTimer[] h = heap;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            ScheduledTimer p = h[parent];
            if (!t.before(p)) {
                break;
            }
            h[i] = p;
            p.index = i;
            i = parent;
        }
        h[i] = t;
        t.index = i;
    }

    private void siftDown(int i, ScheduledTimer t) {
        ScheduledTimer[] h = heap;
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            ScheduledTimer c = h[child];
            int right = child + 1;
            if (right < size && h[right].before(c)) {
                child = right;
                c = h[right];
            }
            if (!c.before(t)) {
                break;
            }
            h[i] = c;
            c.index = i;
            i = child;
        }
        h[i] = t;
        t.index = i;
    }

    /** {@return the heap array's length (tests of memory release)} */
    int capacity() {
        return heap.length;
    }
}
