package io.fiberloop.loop;

import io.fiberloop.loop.internal.Exploration;
import io.fiberloop.loop.internal.LoopInternals;
import io.fiberloop.loop.internal.VirtualTimeLimit;

/** {@link LoopInternals} for this package's loops. Installed by {@link EventLoop.Builder}'s initialisation. */
final class Internals extends LoopInternals {

    @Override
    public EventLoop.Builder explore(EventLoop.Builder builder, Exploration exploration) {
        builder.exploration = exploration;
        return builder;
    }

    @Override
    public EventLoop.Builder limitVirtualTime(EventLoop.Builder builder, VirtualTimeLimit limit) {
        builder.virtualTimeLimit = limit;
        return builder;
    }

    @Override
    public Exploration exploration(EventLoop loop) {
        return loop instanceof DefaultEventLoop d ? d.exploration : null;
    }

    @Override
    public boolean workPending(EventLoop loop) {
        return onLoop(loop).workPending();
    }

    @Override
    public long nextDeadline(EventLoop loop) {
        return onLoop(loop).nextDeadline();
    }

    private static DefaultEventLoop onLoop(EventLoop loop) {
        if (!(loop instanceof DefaultEventLoop d)) {
            throw new IllegalArgumentException("not a fiberloop loop: " + loop);
        }
        if (!d.inLoop()) {
            throw new IllegalStateException("loop '" + d.name() + "' can be inspected only on its own thread; call this from a fiber of that loop");
        }
        return d;
    }
}
