package io.fiberloop.loop;

import static io.fiberloop.loop.TestLoops.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop.State;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Loop groups: round-robin, close, sizes. */
@Timeout(10)
class LoopGroupTest {

    @Test
    void nextHandsOutTheLoopsRoundRobin() throws Exception {
        try (LoopGroup group = LoopGroup.create(3, b -> b.watchdog(null))) {
            assertEquals(3, group.size());
            List<EventLoop> loops = group.loops();
            assertEquals(3, loops.size());
            List<EventLoop> handedOut = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                handedOut.add(group.next());
            }
            List<EventLoop> expected = List.of(loops.get(0), loops.get(1), loops.get(2),
                    loops.get(0), loops.get(1), loops.get(2), loops.get(0));
            for (int i = 0; i < expected.size(); i++) {
                assertSame(expected.get(i), handedOut.get(i), "next() call " + i);
            }
            List<EventLoop> iterated = new ArrayList<>();
            group.forEach(iterated::add);
            assertEquals(loops, iterated);
            assertThrows(UnsupportedOperationException.class, () -> group.loops().clear());
        }
    }

    @Test
    void eachLoopHasItsOwnCarrierAndAName() throws Exception {
        try (LoopGroup group = LoopGroup.create(2, b -> b.watchdog(null))) {
            Set<String> names = new HashSet<>();
            Thread first = onLoop(group.loops().get(0), Thread::currentThread);
            Thread second = onLoop(group.loops().get(1), Thread::currentThread);
            assertNotSame(first, second);
            for (EventLoop loop : group) {
                String carrierName = onLoop(loop, () -> Thread.currentThread().getName());
                assertEquals(loop.name(), carrierName);
                assertTrue(loop.name().matches("group-\\d+-loop-\\d"), loop.name());
                names.add(loop.name());
            }
            assertEquals(2, names.size());
        }
    }

    @Test
    void configureAppliesToEveryLoop() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        int[] calls = {0};
        try (LoopGroup group = LoopGroup.create(2, b -> {
            calls[0]++;
            b.clock(clock).watchdog(null);
        })) {
            assertEquals(2, calls[0]);
            for (EventLoop loop : group) {
                assertSame(clock, loop.clock());
            }
        }
    }

    @Test
    void closeClosesEveryLoop() throws Exception {
        LoopGroup group = LoopGroup.create(3, b -> b.watchdog(null));
        // one started loop with queued work, one started and idle, one never started
        List<String> ran = new ArrayList<>();
        EventLoop busy = group.loops().get(0);
        busy.execute(() -> ran.add("queued before close"));
        onLoop(group.loops().get(1), () -> null);
        group.close();
        for (EventLoop loop : group) {
            assertEquals(State.CLOSED, loop.state(), loop.name());
            assertTrue(loop.terminationFuture().isDone());
        }
        assertEquals(List.of("queued before close"), ran);
        assertThrows(LoopClosedException.class, () -> group.next().execute(() -> { }));
        group.close(); // idempotent
    }

    @Test
    void aGroupNeedsAtLeastOneLoop() {
        for (int size : new int[] {0, -1}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoopGroup.create(size));
            assertTrue(e.getMessage().contains("at least one"), e.getMessage());
            assertTrue(e.getMessage().contains(String.valueOf(size)), "the message names the size asked for: " + e.getMessage());
        }
        try (LoopGroup one = LoopGroup.create(1, b -> b.watchdog(null))) {
            assertSame(one.next(), one.next());
        }
    }

    @Test
    void aFailingConfigurationClosesTheLoopsAlreadyBuilt() {
        List<EventLoop.Builder> builders = new ArrayList<>();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> LoopGroup.create(3, b -> {
            builders.add(b);
            if (builders.size() == 3) {
                throw new IllegalStateException("expected: third loop refused");
            }
        }));
        assertEquals("expected: third loop refused", e.getMessage());
    }

    @Test
    void defaultGroupHasOneLoopPerProcessor() {
        try (LoopGroup group = LoopGroup.create()) {
            assertEquals(Runtime.getRuntime().availableProcessors(), group.size());
        }
    }
}
