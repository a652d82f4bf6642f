package io.fiberloop.fiber;

import io.fiberloop.fiber.internal.FiberHost;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.fiber.internal.WaitSite;
import io.fiberloop.loop.EventLoop;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A snapshot of fiberloop's live tasks, in the style of Python's {@code asyncio ps/pstree} and
 * Go's goroutine dump: every fiber loop, its live tasks as a tree (a task under the task that
 * spawned it, so a {@link TaskScope}'s tasks under its owner), each with its name, state, where
 * it waits, and its stack; as text ({@link #text()}) and JSON ({@link #json()}).
 * {@snippet :
 * System.out.println(FiberDump.ofAllLoops().text());
 * }
 * <pre>
 * loop 'http-loop' ACTIVE, 2 live tasks
 *   GET /slow [SUSPENDED] waiting in Fibers.sleep
 *       at io.fiberloop.fiber.Fibers.sleep(Fibers.java:212)
 *       at io.fiberloop.samples.HttpDemo.lambda$routes$3(HttpDemo.java:152)
 *       ...
 *     task-9 from 'GET /slow' [SUSPENDED] waiting in Channel.receive
 *       ...
 * </pre>
 * It sees tasks (spawned, and a server's request and connection tasks), not plain
 * {@link Fiber}s, and it keeps nothing alive: it reads each loop's list of live tasks, which
 * holds them until they end anyway. The JDK's {@code jcmd Thread.dump_to_file} cannot show them
 * with {@code -Djdk.trackAllThreads=false}; see {@code docs/operations.md}.
 *
 * <p>Threading: any thread. Off the loop, the list of tasks is read on the loop (so it is exact),
 * unless the loop does not answer within half a second (it is stalled: the dump is what you need
 * then), when it is read from the calling thread, racily: a task that starts or ends meanwhile may
 * be missed. Stacks are read from the calling thread.
 */
public final class FiberDump {
    /** The most tasks listed per loop. */
    private static final int MAX_TASKS = 10_000;

    /**
     * One task.
     *
     * @param name its name ({@link Fiber#name()})
     * @param state its state
     * @param waitingIn where it waits, the first frame outside the JDK's and fiberloop's
     *     machinery ({@code Fibers.sleep}, {@code Connection.read}, {@code FiberLock.lock}), or
     *     {@code null} when it is not suspended
     * @param stack its stack, innermost first (empty when it has not started or has ended)
     * @param children the tasks it spawned that are still live
     */
    public record TaskInfo(String name, Fiber.State state, String waitingIn, List<StackTraceElement> stack, List<TaskInfo> children) {
    }

    /**
     * One loop.
     *
     * @param name the loop's name
     * @param state its state
     * @param liveTasks how many live tasks it has
     * @param exact whether the tasks were listed on the loop (else racily, the loop being stalled)
     * @param tasks its tasks that no other live task spawned, each with its children
     */
    public record LoopInfo(String name, EventLoop.State state, int liveTasks, boolean exact, List<TaskInfo> tasks) {
    }

    private final List<LoopInfo> loops;

    private FiberDump(List<LoopInfo> loops) {
        this.loops = List.copyOf(loops);
    }

    /**
     * Dumps every fiber loop of this JVM that is not closed.
     *
     * @return the dump
     */
    public static FiberDump ofAllLoops() {
        List<LoopInfo> l = new ArrayList<>();
        for (FiberHost h : FiberHost.all()) {
            l.add(loop(h));
        }
        l.sort((a, b) -> a.name().compareTo(b.name()));
        return new FiberDump(l);
    }

    /**
     * Dumps the given loops.
     *
     * @param loops fiber loops
     * @return the dump
     * @throws IllegalStateException if a loop hosts no fibers or is closed
     */
    public static FiberDump of(List<EventLoop> loops) {
        List<LoopInfo> l = new ArrayList<>();
        for (EventLoop loop : loops) {
            l.add(loop(FiberHost.of(Objects.requireNonNull(loop, "loop"))));
        }
        return new FiberDump(l);
    }

    /** {@return the loops, each with its task tree} */
    public List<LoopInfo> loops() {
        return loops;
    }

    private static LoopInfo loop(FiberHost h) {
        EventLoop loop = h.loop();
        List<Strand> strands = null;
        boolean exact = true;
        if (loop.inLoop()) {
            strands = h.liveSnapshot(MAX_TASKS);
        } else {
            CompletableFuture<List<Strand>> f = new CompletableFuture<>();
            try {
                loop.execute(() -> f.complete(h.liveSnapshot(MAX_TASKS)));
                strands = f.get(500, TimeUnit.MILLISECONDS);
            } catch (Exception stalledOrClosed) {
                if (stalledOrClosed instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                exact = false;
                strands = h.liveSnapshot(MAX_TASKS);
            }
        }
        // a tree by spawner: oldest first, each task under the live task that spawned it
        Map<Fiber, List<TaskInfo>> children = new IdentityHashMap<>();
        Map<Fiber, Boolean> live = new IdentityHashMap<>();
        for (Strand s : strands) {
            live.put(s.fiber(), Boolean.TRUE);
        }
        List<TaskInfo> roots = new ArrayList<>();
        for (int i = strands.size() - 1; i >= 0; i--) {
            Fiber f = strands.get(i).fiber();
            children.put(f, new ArrayList<>());
        }
        for (int i = strands.size() - 1; i >= 0; i--) {
            Strand s = strands.get(i);
            Fiber f = s.fiber();
            List<StackTraceElement> stack = stackOf(s);
            TaskInfo t = new TaskInfo(f.name(), f.state(), f.state() == Fiber.State.SUSPENDED ? WaitSite.of(stack) : null, stack, children.get(f));
            Fiber parent = f.spawner();
            (parent != null && live.containsKey(parent) ? children.get(parent) : roots).add(t);
        }
        return new LoopInfo(loop.name(), loop.state(), strands.size(), exact, roots);
    }

    private static List<StackTraceElement> stackOf(Strand s) {
        Thread t = s.thread();
        return t == null ? List.of() : List.of(t.getStackTrace());
    }

    /**
     * The dump as text: each loop, then its tasks as an indented tree with their stacks.
     *
     * @return the text
     */
    public String text() {
        StringBuilder sb = new StringBuilder(1024);
        for (LoopInfo l : loops) {
            sb.append("loop '").append(l.name()).append("' ").append(l.state()).append(", ").append(l.liveTasks())
                    .append(l.liveTasks() == 1 ? " live task" : " live tasks").append(l.exact() ? "" : " (the loop did not answer: listed racily)")
                    .append('\n');
            for (TaskInfo t : l.tasks()) {
                text(sb, t, "  ");
            }
        }
        return sb.toString();
    }

    private static void text(StringBuilder sb, TaskInfo t, String indent) {
        sb.append(indent).append(t.name()).append(" [").append(t.state()).append(']');
        if (t.waitingIn() != null) {
            sb.append(" waiting in ").append(t.waitingIn());
        }
        sb.append('\n');
        for (StackTraceElement e : t.stack()) {
            sb.append(indent).append("    at ").append(e).append('\n');
        }
        for (TaskInfo c : t.children()) {
            text(sb, c, indent + "  ");
        }
    }

    /**
     * The dump as JSON: {@code {"loops":[{"name":..,"state":..,"liveTasks":..,"exact":..,
     * "tasks":[{"name":..,"state":..,"waitingIn":..,"stack":[".."],"children":[..]}]}]}}.
     *
     * @return the JSON text
     */
    public String json() {
        StringBuilder sb = new StringBuilder(1024).append("{\"loops\":[");
        for (int i = 0; i < loops.size(); i++) {
            LoopInfo l = loops.get(i);
            sb.append(i == 0 ? "" : ",").append("{\"name\":");
            string(sb, l.name());
            sb.append(",\"state\":\"").append(l.state()).append("\",\"liveTasks\":").append(l.liveTasks())
                    .append(",\"exact\":").append(l.exact()).append(",\"tasks\":");
            json(sb, l.tasks());
            sb.append('}');
        }
        return sb.append("]}").toString();
    }

    private static void json(StringBuilder sb, List<TaskInfo> tasks) {
        sb.append('[');
        for (int i = 0; i < tasks.size(); i++) {
            TaskInfo t = tasks.get(i);
            sb.append(i == 0 ? "" : ",").append("{\"name\":");
            string(sb, t.name());
            sb.append(",\"state\":\"").append(t.state()).append("\",\"waitingIn\":");
            if (t.waitingIn() == null) {
                sb.append("null");
            } else {
                string(sb, t.waitingIn());
            }
            sb.append(",\"stack\":[");
            for (int j = 0; j < t.stack().size(); j++) {
                sb.append(j == 0 ? "" : ",");
                string(sb, t.stack().get(j).toString());
            }
            sb.append("],\"children\":");
            json(sb, t.children());
            sb.append('}');
        }
        sb.append(']');
    }

    /** Appends {@code s} as a JSON string (RFC 8259 escaping). */
    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }

    @Override
    public String toString() {
        return text();
    }

    /** The name of the MBean of {@link #registerMBean()}: {@value}. */
    public static final String MBEAN_NAME = "io.fiberloop:type=FiberDump";

    /**
     * The JMX view of the dump, registered by {@link #registerMBean()}: operations that return
     * {@link FiberDump#text()} and {@link FiberDump#json()} of every loop (JConsole, VisualVM,
     * {@code jmxterm}: {@code run -b io.fiberloop:type=FiberDump text}).
     */
    public interface DumpMXBean {
        /** {@return the dump of every fiber loop, as text} */
        String text();

        /** {@return the dump of every fiber loop, as JSON} */
        String json();
    }

    /**
     * Registers the MBean {@value #MBEAN_NAME} in the platform MBean server, once (later calls
     * do nothing). Opt-in: call it at start-up.
     *
     * @throws IllegalStateException if JMX refuses it
     */
    public static synchronized void registerMBean() {
        try {
            javax.management.MBeanServer server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
            javax.management.ObjectName name = new javax.management.ObjectName(MBEAN_NAME);
            if (!server.isRegistered(name)) {
                server.registerMBean(new javax.management.StandardMBean(new DumpMXBean() {
                    @Override
                    public String text() {
                        return ofAllLoops().text();
                    }

                    @Override
                    public String json() {
                        return ofAllLoops().json();
                    }
                }, DumpMXBean.class, true), name);
            }
        } catch (javax.management.JMException e) {
            throw new IllegalStateException("could not register the MBean " + MBEAN_NAME + ": " + e, e);
        }
    }
}
