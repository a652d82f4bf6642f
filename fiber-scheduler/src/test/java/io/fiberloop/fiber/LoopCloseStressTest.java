package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.loop.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The probe of issue 19 item 10, bounded: loops closed from another thread while their tasks keep
 * sleeping and entering timeouts. Every task must end {@code CANCELLED}, never {@code FAILED} with the
 * loop's refusal to schedule a timer (the deterministic cases are in {@link CloseRaceTest}).
 */
@Timeout(60)
class LoopCloseStressTest {

    /** Rounds of the probe; the probe failed 227 of 300 before the fix. */
    private static final int ROUNDS = 300;
    /** The probe stops early past this, so a slow machine keeps well inside the timeout. */
    private static final Duration BUDGET = Duration.ofSeconds(20);

    /**
     * Close right after {@code run(main)} returned while the tasks main spawned keep sleeping and
     * entering timeouts; {@value #ROUNDS} rounds (about two seconds) or {@link #BUDGET}, whichever ends first.
     */
    @Test
    void closingRightAfterRunReturnsCancelsEveryTask() throws Exception {
        long end = System.nanoTime() + BUDGET.toNanos();
        List<String> wrong = new ArrayList<>();
        for (int round = 0; round < ROUNDS && wrong.isEmpty() && System.nanoTime() - end < 0; round++) {
            EventLoop loop = FiberLoops.builder().name("probe-" + round).build();
            List<Task<Void>> tasks = loop.run(() -> {
                List<Task<Void>> spawned = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    spawned.add(Fibers.spawn(() -> {
                        while (true) {
                            Fibers.sleep(Duration.ofNanos(1_000));
                            // a deadline that cannot pass while the test runs: the probe is about the
                            // timer that withTimeout schedules as the loop closes, not about timing out
                            Fibers.withTimeout(Duration.ofHours(1), () -> {
                                Fibers.yieldNow();
                                return null;
                            });
                        }
                    }));
                }
                Fibers.yieldNow();
                return spawned;
            });
            loop.close();
            for (Task<Void> t : tasks) {
                if (t.state() != Future.State.CANCELLED) {
                    wrong.add("round " + round + ": " + t + " ended " + t.state()
                            + (t.state() == Future.State.FAILED ? " with " + t.exceptionNow() : ""));
                } else {
                    assertThrows(CancelledException.class, t::join);
                }
            }
        }
        assertEquals(List.of(), wrong);
    }
}
