package io.fiberloop.fiber;

import java.util.concurrent.Executor;

/**
 * The scheduler of one fiber's virtual thread. A virtual thread has at most one continuation
 * submission pending at a time, and always submits the same {@code Runnable} (its
 * {@code runContinuation}), so this object can carry it to the loop without allocating, record
 * which fiber is mounted (for the watchdog), and honour a direct switch by asking the loop to run
 * it next. A virtual thread started from inside the fiber inherits this scheduler; its
 * submissions are recognised (a different {@code Runnable}) and go to the loop unchanged.
 */
final class FiberExecutor implements Executor, Runnable {
    private final FiberHost host;
    private final Fiber fiber;
    private Runnable own;
    private Runnable pending;

    FiberExecutor(FiberHost host, Fiber fiber) {
        this.host = host;
        this.fiber = fiber;
    }

    @Override
    public void execute(Runnable continuation) {
        if (own == null) {
            own = continuation;
        } else if (continuation != own) {
            // a virtual thread started from this fiber (an implicit fiber): a switch to it is direct too
            if (host.directNext && host.onThisLoopsFiber()) {
                host.directNext = false;
                host.carrier.runNext(continuation);
            } else {
                host.carrier.continuations().execute(continuation);
            }
            return;
        }
        if (pending != null) {
            host.carrier.continuations().execute(continuation);
            return;
        }
        pending = continuation;
        if (host.directNext && host.onThisLoopsFiber()) {
            host.directNext = false;
            host.carrier.runNext(this);
        } else {
            host.carrier.continuations().execute(this);
        }
    }

    @Override
    public void run() {
        Runnable c = pending;
        if (c == null) {
            // A duplicate submission: the JDK resubmits a queued virtual thread when another thread
            // asks for its stack trace (the watchdog does). The continuation already ran.
            return;
        }
        pending = null;
        host.mounted = fiber;
        try {
            c.run();
        } finally {
            host.mounted = null;
        }
    }

    @Override
    public String toString() {
        return "continuation of " + fiber;
    }
}
