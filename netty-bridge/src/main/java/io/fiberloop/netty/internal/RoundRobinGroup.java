package io.fiberloop.netty.internal;

import io.netty.channel.EventLoopGroup;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The child group of a single acceptor on a transport without {@code SO_REUSEPORT}: each
 * accepted channel registers with the next loop's Netty loop, round-robin. Used by both packages'
 * servers (TCP and HTTP). Not exported: the module's own plumbing.
 */
public final class RoundRobinGroup {
    private RoundRobinGroup() {
    }

    /**
     * @param loops the Netty loops, in order (the first also takes every call other than
     *        {@code register(Channel)} and {@code next()})
     * @return a group that hands registrations out round-robin
     */
    public static EventLoopGroup of(List<? extends EventLoopGroup> loops) {
        EventLoopGroup[] ls = loops.toArray(new EventLoopGroup[0]);
        AtomicInteger next = new AtomicInteger();
        return (EventLoopGroup) Proxy.newProxyInstance(EventLoopGroup.class.getClassLoader(), new Class<?>[] {EventLoopGroup.class},
                (proxy, method, args) -> {
                    String name = method.getName();
                    int argc = args == null ? 0 : args.length;
                    if ((name.equals("register") && argc == 1) || (name.equals("next") && argc == 0)) {
                        return invoke(method, ls[Math.floorMod(next.getAndIncrement(), ls.length)], args);
                    }
                    if (name.equals("toString") && argc == 0) {
                        return "RoundRobin" + Arrays.toString(ls);
                    }
                    if (name.equals("hashCode") && argc == 0) {
                        return System.identityHashCode(proxy);
                    }
                    if (name.equals("equals") && argc == 1) {
                        return proxy == args[0];
                    }
                    return invoke(method, ls[0], args);
                });
    }

    private static Object invoke(Method m, Object target, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
