package io.fiberloop.test;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Test classes that {@link VerdictTest} runs through JUnit's EngineTestKit, each of which must
 * fail (or pass) in one way. Nested, so that Maven's test run does not pick them up by itself.
 */
final class VerdictSamples {
    private VerdictSamples() {
    }

    @FiberLoopTest
    static class Passing {
        @Test
        void joinsWhatItSpawns() {
            Task<Integer> t = Fibers.spawn("helper", () -> {
                Fibers.sleep(Duration.ofMinutes(1));
                return 42;
            });
            assertEquals(42, t.join());
        }
    }

    @FiberLoopTest(checkBufferLeaks = true)
    static class LeaksABuffer {
        @Test
        void dropsWhatItRead() {
            ByteBuf read = ByteBufAllocator.DEFAULT.buffer(16);
            read.writeInt(42);
            assertEquals(42, read.getInt(0));                     // and never released
        }
    }

    @FiberLoopTest(checkBufferLeaks = true)
    static class ReleasesItsBuffer {
        @Test
        void releasesWhatItRead() {
            ByteBuf read = ByteBufAllocator.DEFAULT.buffer(16);
            read.writeInt(42);
            read.release();
        }
    }

    @FiberLoopTest
    static class LeaksAFiber {
        @Test
        void forgetsItsWorker() {
            Fibers.spawn("leaky-worker", () -> {
                parkForever();
                return null;
            });
        }

        private static void parkForever() {
            Fibers.await(new CompletableFuture<Void>());
        }
    }

    @FiberLoopTest
    static class FailsUnobserved {
        @Test
        void spawnsATaskThatFails() {
            Fibers.spawn("doomed", () -> {
                throw new IllegalArgumentException("boom in a task");
            });
            Fibers.yieldNow();
        }
    }

    @FiberLoopTest
    static class FailsInACallback {
        @Test
        void schedulesACallbackThatThrows(EventLoop loop) {
            loop.schedule(() -> {
                throw new IllegalStateException("boom in a callback");
            }, Duration.ofSeconds(1));
            Fibers.sleep(Duration.ofSeconds(2));
        }
    }

    @FiberLoopTest(virtualTimeLimit = "PT1H")
    static class RunsPastItsVirtualTime {
        @Test
        void pollsForever() {
            while (true) {
                Fibers.sleep(Duration.ofMinutes(1));
            }
        }
    }

    @FiberLoopTest(realTimeLimit = "PT0.5S")
    static class RunsPastItsRealTime {
        @Test
        void waitsForAFutureNobodyCompletes() {
            Fibers.await(new CompletableFuture<Void>());
        }
    }

    @FiberLoopTest
    static class LeavesItsEventOrderUnfinished {
        @Test
        void expectsButNeverFinishes(EventOrder order) {
            order.expect(1);
            order.expect(2);
        }
    }

    @FiberLoopTest
    static class StepsOutOfOrderInAnUnjoinedTask {
        @Test
        void aTaskSkipsAStep(EventOrder order) {
            order.expect(1);
            Fibers.spawn(() -> {
                try {
                    order.expect(3);
                } catch (AssertionError swallowed) {
                    // the order remembers it
                }
                return null;
            });
            Fibers.yieldNow();
            order.finish(2);
        }
    }
}
