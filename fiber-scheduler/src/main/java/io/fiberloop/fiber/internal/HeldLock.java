package io.fiberloop.fiber.internal;

/**
 * A lock's entry in the list of locks its owning fiber holds, for the
 * {@code io.fiberloop.FiberParkedHoldingLock} event: one per lock, created with it and reused on
 * every acquisition, so taking and releasing a lock allocates nothing. A strand's list is empty
 * (its head {@code null}) unless it holds a lock, which is the one check a park makes.
 *
 * <p>Threading: the loop's thread (a lock belongs to one loop).
 */
public final class HeldLock {
    private final String identity;
    private Strand holder;
    HeldLock next;

    /**
     * An entry for one lock.
     *
     * @param kind the lock's type, {@code "Lock"}
     * @param name the name its creator gave it, or {@code null}
     * @param lock the lock, whose identity hash names an unnamed one
     */
    public HeldLock(String kind, String name, Object lock) {
        this.identity = name != null ? kind + " '" + name + "'" : kind + "@" + Integer.toHexString(System.identityHashCode(lock));
    }

    /** {@return how the event names the lock: {@code Lock 'accounts'}, or {@code Lock@1b6d3586} unnamed} */
    public String identity() {
        return identity;
    }

    /**
     * The lock is now held by {@code s}: pushes it on the front of its list (the innermost lock).
     *
     * @param s the new owner
     */
    public void heldBy(Strand s) {
        holder = s;
        next = s.heldLocks;
        s.heldLocks = this;
    }

    /** The lock's holder gave it up (or it was handed on): unlinks it from the holder's list. */
    public void released() {
        Strand s = holder;
        holder = null;
        if (s.heldLocks == this) {
            s.heldLocks = next;
        } else {
            HeldLock p = s.heldLocks;
            while (p.next != this) {
                p = p.next;
            }
            p.next = next;
        }
        next = null;
    }

    /**
     * The identities of the locks in a list, innermost first.
     *
     * @param head the list's head at the moment of interest
     * @return {@code Lock 'a', Lock@1b6d3586}
     */
    static String describe(HeldLock head) {
        StringBuilder sb = new StringBuilder(head.identity);
        for (HeldLock h = head.next; h != null; h = h.next) {
            sb.append(", ").append(h.identity);
        }
        return sb.toString();
    }
}
