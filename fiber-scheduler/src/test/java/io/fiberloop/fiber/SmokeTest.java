package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class SmokeTest {
    @Test
    void switchingBackAndForth() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<Object> seen = loop.run(() -> {
                List<Object> out = new ArrayList<>();
                Fiber main = Fiber.current();
                Fiber child = new Fiber(() -> {
                    out.add("child start");
                    Object got = main.switchTo("ping");
                    out.add("child got " + got);
                    return "child result";
                });
                out.add(child.switchTo());
                out.add(child.switchTo("pong"));
                out.add(child.isAlive());
                return out;
            });
            assertEquals(List.of("child start", "ping", "child got pong", "child result", false), seen);
        }
    }

    @Test
    void tasksSleepAndJoin() throws Exception {
        try (EventLoop loop = FiberLoops.builder().clock(LoopClock.autoAdvancing()).build()) {
            int sum = loop.run(() -> {
                Task<Integer> a = Fibers.spawn(() -> { Fibers.sleep(Duration.ofHours(1)); return 1; });
                Task<Integer> b = Fibers.spawn(() -> { Fibers.sleep(Duration.ofMinutes(1)); return 2; });
                return a.join() + b.join();
            });
            assertEquals(3, sum);
            assertTrue(loop.now() >= Duration.ofHours(1).toNanos());
        }
    }

    @Test
    void timeoutAndCancel() throws Exception {
        try (EventLoop loop = FiberLoops.builder().clock(LoopClock.autoAdvancing()).build()) {
            String r = loop.run(() -> {
                assertThrows(FiberTimeoutException.class, () -> Fibers.withTimeout(Duration.ofSeconds(1), () -> {
                    Fibers.sleep(Duration.ofHours(1));
                    return "no";
                }));
                Task<String> t = Fibers.spawn(() -> { Fibers.sleep(Duration.ofHours(5)); return "no"; });
                Fibers.sleep(Duration.ofSeconds(1));
                t.cancel();
                assertThrows(CancelledException.class, t::join);
                assertTrue(t.isCancelled());
                return "ok";
            });
            assertEquals("ok", r);
        }
    }

    @Test
    void plainJdkBlockingIsCooperative() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> order = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<Void> sleeper = Fibers.spawn(() -> { Thread.sleep(50); out.add("sleeper done"); return null; });
                Task<Void> other = Fibers.spawn(() -> { out.add("other ran"); return null; });
                sleeper.join();
                other.join();
                return out;
            });
            assertEquals(List.of("other ran", "sleeper done"), order);
        }
    }

    @Test
    void endingFiberWhoseParentAwaitsRaisesInTheSwitcherInsteadOfHanging() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            String outcome = loop.run(() -> {
                Fiber child = new Fiber(() -> "x");          // parent: main
                Task<String> switcher = Fibers.spawn(() -> {
                    try {
                        child.switchTo();
                        return "no error";
                    } catch (FiberError e) {
                        return e.getMessage();
                    }
                });
                return switcher.join();                       // main waits in join, not in switchTo
            });
            assertTrue(outcome.contains("is not suspended in switchTo()"), outcome);
        }
    }
}
