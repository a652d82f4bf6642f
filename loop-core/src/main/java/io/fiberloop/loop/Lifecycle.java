package io.fiberloop.loop;

import io.fiberloop.loop.EventLoop.State;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;

/**
 * The lifecycle of one loop: its {@link State}, the caller blocked in {@code run} or
 * {@code runForever}, and the future completed once the loop has terminated.
 *
 * <pre>
 *          first submission, run(), runForever()        run(), runForever()
 *   NEW ────────────────────────────────────► ACTIVE ────────────────────► RUNNING
 *    │                                          │   ◄────────────────────    │
 *    │                                          │   main returned, stop()    │
 *    │ close()                          close() │                            │ close()
 *    │                                          ▼                            │
 *    │                                       CLOSING ◄───────────────────────┘
 *    │                                          │ its work has drained and the carrier has ended
 *    │                                          ▼
 *    └────────────────────────────────────►  CLOSED   (final)
 * </pre>
 *
 * <p>A caller of {@code run} publishes its {@link RunCall} before the state says RUNNING, so that a
 * {@code stop()} or {@code close()} from a thread that sees RUNNING always finds the call to
 * release; leaving, it sets the state back first, so that whoever takes the slot next finds ACTIVE.
 *
 * <p>Threading: every method is safe from any thread (volatile state, compare-and-set transitions).
 */
final class Lifecycle {
    private static final VarHandle STATE;
    private static final VarHandle RUN_CALL;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(Lifecycle.class, "state", State.class);
            RUN_CALL = l.findVarHandle(Lifecycle.class, "runCall", RunCall.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** What {@link #beginClose()} did. */
    enum Closing {
        /** The loop never started: it is CLOSED now, with nothing to drain. */
        CLOSED_UNSTARTED,
        /** The loop was ACTIVE or RUNNING and is CLOSING now: its work will close it. */
        BEGUN,
        /** Another call had begun closing already. */
        ALREADY
    }

    private final String name;
    private volatile State state = State.NEW;
    private volatile RunCall runCall;
    private final CompletableFuture<Void> termination = new CompletableFuture<>();

    Lifecycle(String name) {
        this.name = name;
    }

    State state() {
        return state;
    }

    /** {@return whether the loop is open for work from other threads: ACTIVE or RUNNING} */
    boolean running() {
        State s = state;
        return s == State.ACTIVE || s == State.RUNNING;
    }

    /** {@return whether closing has begun: CLOSING or CLOSED} */
    boolean closing() {
        return state.compareTo(State.CLOSING) >= 0;
    }

    /** NEW to ACTIVE. @return whether this call started the loop (exactly one does) */
    boolean start() {
        return STATE.compareAndSet(this, State.NEW, State.ACTIVE);
    }

    /** The caller blocked in {@code run()} or {@code runForever()}. */
    static final class RunCall {
        final CompletableFuture<Object> outcome = new CompletableFuture<>();
        final boolean forever;

        RunCall(boolean forever) {
            this.forever = forever;
        }

        /** Releases the caller: {@code runForever} returns, {@code run} throws. */
        void abort(String why) {
            if (forever) {
                outcome.complete(null);
            } else {
                outcome.completeExceptionally(new IllegalStateException(why));
            }
        }
    }

    /**
     * ACTIVE to RUNNING with a new call; the loop must have started.
     *
     * @param what {@code "run"} or {@code "runForever"}, for messages
     * @param forever whether the call is {@code runForever}
     * @return the call, to give back to {@link #exitRun}
     * @throws IllegalStateException if another caller is running the loop, or it is closing
     */
    RunCall enterRun(String what, boolean forever) {
        RunCall call = new RunCall(forever);
        if (!RUN_CALL.compareAndSet(this, null, call)) {
            throw alreadyRunning();
        }
        while (true) {
            State s = state;
            if (s == State.ACTIVE) {
                if (STATE.compareAndSet(this, State.ACTIVE, State.RUNNING)) {
                    if (state != State.RUNNING) {
                        call.abort("loop '" + name + "' was closed before main completed");
                    }
                    return call;
                }
            } else {
                RUN_CALL.compareAndSet(this, call, null);
                if (s == State.RUNNING) {
                    throw alreadyRunning();
                }
                throw new IllegalStateException(refused(what).getMessage());
            }
        }
    }

    /** RUNNING to ACTIVE, and frees the slot of {@code call}. */
    void exitRun(RunCall call) {
        STATE.compareAndSet(this, State.RUNNING, State.ACTIVE);
        RUN_CALL.compareAndSet(this, call, null);
    }

    /** Releases the caller of {@code run} or {@code runForever}, if any. */
    void stop() {
        RunCall call = runCall;
        if (call != null) {
            call.abort("loop '" + name + "' was stopped before main completed");
        }
    }

    /** {@return what the caller of {@code close()} must do next} */
    Closing beginClose() {
        while (true) {
            State s = state;
            if (s == State.NEW) {
                if (STATE.compareAndSet(this, State.NEW, State.CLOSED)) {
                    return Closing.CLOSED_UNSTARTED;
                }
            } else if (s == State.ACTIVE || s == State.RUNNING) {
                if (STATE.compareAndSet(this, s, State.CLOSING)) {
                    return Closing.BEGUN;
                }
            } else {
                return Closing.ALREADY;
            }
        }
    }

    /** The carrier has finished (or never started): CLOSED; releases a caller of {@code run}, completes the termination. */
    void terminated() {
        state = State.CLOSED;
        RunCall call = runCall;
        if (call != null) {
            call.abort("loop '" + name + "' was closed before main completed");
        }
        termination.complete(null);
    }

    /** {@return completed once the loop is CLOSED} */
    CompletableFuture<Void> termination() {
        return termination;
    }

    private IllegalStateException alreadyRunning() {
        return new IllegalStateException("loop '" + name + "' is already running (another thread is in run() or runForever()); "
                + "submit work to it with execute() or spawn() instead");
    }

    /** The exception for work refused by a loop that is closing or closed. */
    LoopClosedException refused(String what) {
        return new LoopClosedException("loop '" + name + "' is " + state.name().toLowerCase()
                + ": " + what + "() refused; submit to a loop that is open");
    }
}
