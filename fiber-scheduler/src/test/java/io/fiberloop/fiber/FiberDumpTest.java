package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.channel.Channel;
import io.fiberloop.loop.EventLoop;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link FiberDump}: the live tasks of each loop as a tree, with names, states, waits and stacks; text, JSON and JMX. */
@Timeout(30)
class FiberDumpTest {

    @Test
    void theDumpShowsEachLoopsTasksAsATreeWithWhereTheyWait() throws Exception {
        try (EventLoop loop = FiberLoops.builder().name("dumped").build()) {
            CountDownLatch ready = new CountDownLatch(1);
            Channel<String> never = Channel.rendezvous();
            Task<Void> parent = Fibers.spawn(loop, "parent", () -> {
                Fibers.spawn("child", () -> never.receive());
                Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofDays(1));
                    return null;
                });
                Fibers.yieldNow(); // both children start and wait
                ready.countDown();
                Fibers.sleep(Duration.ofDays(1));
                return null;
            });
            assertTrue(ready.await(10, TimeUnit.SECONDS));
            FiberDump dump = FiberDump.of(List.of(loop)); // from this thread: listed on the loop
            assertEquals(1, dump.loops().size());
            FiberDump.LoopInfo l = dump.loops().get(0);
            assertEquals("dumped", l.name());
            assertTrue(l.exact());
            assertEquals(3, l.liveTasks());
            assertEquals(1, l.tasks().size(), "one root: " + dump.text());
            FiberDump.TaskInfo p = l.tasks().get(0);
            assertEquals("parent", p.name());
            assertEquals(Fiber.State.SUSPENDED, p.state());
            assertEquals("Fibers.sleep", p.waitingIn(), dump.text());
            assertTrue(p.stack().stream().anyMatch(e -> e.getClassName().equals(FiberDumpTest.class.getName())), "its stack: " + p.stack());
            assertEquals(2, p.children().size(), dump.text());
            FiberDump.TaskInfo child = p.children().stream().filter(c -> c.name().equals("child")).findFirst().orElseThrow();
            assertEquals("Channel.receive", child.waitingIn(), dump.text());
            FiberDump.TaskInfo unnamed = p.children().stream().filter(c -> !c.name().equals("child")).findFirst().orElseThrow();
            assertTrue(unnamed.name().matches("task-\\d+ from 'parent'"), unnamed.name());

            String text = dump.text();
            assertTrue(text.startsWith("loop 'dumped' ACTIVE, 3 live tasks\n  parent [SUSPENDED] waiting in Fibers.sleep\n      at "), text);
            assertTrue(text.contains("\n    child [SUSPENDED] waiting in Channel.receive\n        at "), "children indented under their parent: " + text);
            String json = dump.json();
            assertTrue(json.startsWith("{\"loops\":[{\"name\":\"dumped\",\"state\":\"ACTIVE\",\"liveTasks\":3,\"exact\":true,\"tasks\":[{\"name\":\"parent\","
                    + "\"state\":\"SUSPENDED\",\"waitingIn\":\"Fibers.sleep\",\"stack\":[\""), json);
            assertTrue(json.contains("{\"name\":\"child\",\"state\":\"SUSPENDED\",\"waitingIn\":\"Channel.receive\""), json);

            assertTrue(FiberDump.ofAllLoops().loops().stream().anyMatch(x -> x.name().equals("dumped")));
            FiberDump.registerMBean();
            FiberDump.registerMBean(); // once
            Object viaJmx = ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName(FiberDump.MBEAN_NAME), "text", null, null);
            assertTrue(viaJmx.toString().contains("  parent [SUSPENDED] waiting in Fibers.sleep"), String.valueOf(viaJmx));
            parent.cancel();
        }
        assertTrue(FiberDump.ofAllLoops().loops().stream().noneMatch(x -> x.name().equals("dumped")), "a closed loop leaves the dumps");
    }

    @Test
    void aStalledLoopIsListedFromTheCallingThread() throws Exception {
        try (EventLoop loop = FiberLoops.builder().name("stuck").watchdog(null).build()) {
            CountDownLatch spinning = new CountDownLatch(1);
            java.util.concurrent.atomic.AtomicBoolean release = new java.util.concurrent.atomic.AtomicBoolean();
            Fibers.spawn(loop, "spinner", () -> {
                spinning.countDown();
                while (!release.get()) {
                    Thread.onSpinWait(); // holds the carrier
                }
                return null;
            });
            assertTrue(spinning.await(10, TimeUnit.SECONDS));
            try {
                FiberDump.LoopInfo l = FiberDump.of(List.of(loop)).loops().get(0);
                assertEquals(false, l.exact());
                assertEquals("spinner", l.tasks().get(0).name());
                assertEquals(Fiber.State.RUNNING, l.tasks().get(0).state());
                assertNull(l.tasks().get(0).waitingIn());
            } finally {
                release.set(true);
            }
        }
    }
}
