package io.fiberloop.fiber.internal;

import java.util.List;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Threshold;

/**
 * JFR event {@code io.fiberloop.FiberParkedHoldingLock}: a fiber that holds one of fiberloop's
 * {@code Lock}s stayed suspended longer than the event's threshold, so every other fiber waiting
 * for that lock waited at least as long. The counterpart of the JDK's
 * {@code jdk.VirtualThreadPinned}, for the lock a fiber holds across a suspension.
 *
 * <p>The duration runs from the suspension to the moment the fiber runs again (so it includes the
 * time it waited in the loop's queue once woken). Covered: fiberloop's waits ({@code Fibers.sleep},
 * {@code Task.join}, channels, locks, I/O: {@link Strand#awaitUntil}) and {@code Fiber.switchTo}.
 * The fiber commits the event itself as it resumes, so the event's stack trace is where it waited.
 * Not covered: a JDK blocking call ({@code Thread.sleep}, a JDK socket), which suspends the virtual
 * thread inside the JDK; committing from the carrier as it remounts the fiber lost events (JFR
 * did not always write a carrier's event committed between two mounts to the recording).
 *
 * <p>Cost: a suspension of a fiber that holds no lock reads one field; with a lock held, an
 * {@code isEnabled} check; the fiber's stack is read only for an event over the threshold.
 */
@Name("io.fiberloop.FiberParkedHoldingLock")
@Label("Fiber Parked Holding Lock")
@Category({"fiberloop", "Tasks"})
@Description("A fiber that holds a fiberloop Lock stayed suspended for longer than the threshold; the fibers waiting for the lock waited too")
@Threshold("20 ms")
public final class ParkedHoldingLockEvent extends Event {
    /** An event to begin, fill in and commit. */
    public ParkedHoldingLockEvent() {
    }

    /** The fiber's (task's) name. */
    @Label("Fiber")
    public String fiber;

    /** The loop's name. */
    @Label("Loop")
    public String loop;

    /** The locks the fiber held while suspended, innermost first. */
    @Label("Locks Held")
    public String locks;

    /** The call the fiber was suspended in ({@code Fibers.sleep}, {@code Connection.read}, ...). */
    @Label("Parked On")
    public String parkedOn;

    /**
     * A started event if a recording wants this event, else {@code null}. The caller holds a lock.
     *
     * @return the event, its clock started; or {@code null}
     */
    static ParkedHoldingLockEvent beginIfEnabled() {
        ParkedHoldingLockEvent e = new ParkedHoldingLockEvent();
        if (!e.isEnabled()) {
            return null;
        }
        e.begin();
        return e;
    }

    /**
     * Ends the park of {@code s}, the current fiber, committing the event if it was long enough.
     *
     * @param s the strand that parked, running again
     * @param held the head of its held-lock list when it parked
     * @param what the wait, when the fiber's stack does not say it better
     */
    void endInFiber(Strand s, HeldLock held, String what) {
        end();
        if (shouldCommit()) {
            String site = WaitSite.of(List.of(Thread.currentThread().getStackTrace()));
            fill(s, held, site != null ? site : what);
            commit();
        }
    }

    private void fill(Strand s, HeldLock held, String what) {
        fiber = s.fiber().name();
        loop = s.loop().name();
        locks = HeldLock.describe(held);
        parkedOn = what;
    }
}
