package io.fiberloop.fiber.channel;


import io.fiberloop.fiber.internal.IntrusiveList;
import io.fiberloop.fiber.internal.Until;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A fiber or thread waiting in a {@link Channel}: one node in a channel's queue of waiting senders
 * or receivers, and the claim that decides which operation completes it.
 *
 * <p>Every waiting operation has a <em>group</em>: for a plain {@code send}/{@code receive} the
 * node itself; for a {@link Select}, one group node shared by the nodes it registered on each of
 * its channels. Whoever completes a waiting node (a sender handing it an element, a receiver taking
 * its element, {@code close()}) first writes the outcome into the node, then claims the group with
 * one compare-and-set of {@link #winner} from {@code null} to the node. Exactly one claim succeeds:
 * that is how a select completes exactly one operation although its channels are locked
 * separately. A completer whose claim fails unlinks the node and moves on to the next waiter; the
 * waiting side cancels (cancellation, timeout) with the same compare-and-set, to a sentinel, so
 * cancelling and completing never both succeed.
 *
 * <p>Queue links and the outcome fields are guarded by the lock of the node's channel; the group's
 * {@code winner} is the only field read without it (after the waiter wakes).
 */
final class ChannelWaiter extends IntrusiveList.Node<ChannelWaiter> implements Until {
    /** Winner sentinel: the waiter gave up (cancelled or interrupted). */
    static final ChannelWaiter CANCELLED = new ChannelWaiter(null, false);
    /** Winner sentinel: the select's timeout fired first. */
    static final ChannelWaiter TIMED_OUT = new ChannelWaiter(null, false);

    private static final VarHandle WINNER;

    static {
        try {
            WINNER = MethodHandles.lookup().findVarHandle(ChannelWaiter.class, "winner", ChannelWaiter.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The waiting thread (a fiber's virtual thread or a plain thread); set on the group. */
    final Thread thread;
    /** The claim holder: this node for a plain operation, the select's group node otherwise. */
    final ChannelWaiter group;
    final boolean sender;
    /** The select case this node stands for; -1 for a plain operation. */
    int caseIndex = -1;
    /** The channel whose queue holds this node. */
    Channel<?> channel;

    /** A sender's element; a receiver's received element (written by the completer before the claim). */
    Object item;
    /** Completed because the channel was closed (written by the completer before the claim). */
    boolean closed;

    // the links in the channel's queue (IntrusiveList.Node) are guarded by its lock

    /** On the group: the node that completed, a sentinel, or {@code null} while waiting. */
    volatile ChannelWaiter winner;
    /** On a select's group: its timeout fired (set on the select's loop, or by the waiting thread). */
    volatile boolean timedOut;

    /** A plain operation's node: its own group. */
    ChannelWaiter(Thread thread, boolean sender) {
        this.thread = thread;
        this.group = this;
        this.sender = sender;
    }

    /** A select case's node, claimed through {@code group}. */
    ChannelWaiter(ChannelWaiter group, boolean sender, int caseIndex) {
        this.thread = group.thread;
        this.group = group;
        this.sender = sender;
        this.caseIndex = caseIndex;
    }

    /** Claims this node's group for this node. Under this node's channel lock. */
    boolean tryClaim() {
        return WINNER.compareAndSet(group, (ChannelWaiter) null, this);
    }

    /**
     * The waiting side gives up ({@link #CANCELLED} or {@link #TIMED_OUT}); call on the group.
     *
     * @return true if it gave up; false if an operation completed it first
     */
    boolean giveUp(ChannelWaiter sentinel) {
        return WINNER.compareAndSet(this, (ChannelWaiter) null, sentinel);
    }

    /** Whether the group is completed or its timeout fired: the fiber's wait condition. */
    @Override
    public boolean done() {
        return winner != null || timedOut;
    }

    /** Wakes the waiting thread (a fiber's unpark goes through its loop). Any thread. */
    void wake() {
        java.util.concurrent.locks.LockSupport.unpark(group.thread);
    }

    /** A channel's queue of waiting senders or receivers, guarded by the channel's lock. */
    static final class Queue extends IntrusiveList<ChannelWaiter> {
    }
}
