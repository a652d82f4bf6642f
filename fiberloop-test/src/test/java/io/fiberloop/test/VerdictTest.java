package io.fiberloop.test;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/**
 * The extension's verdicts: each sample of {@link VerdictSamples} runs through JUnit's
 * EngineTestKit, and this test asserts that it failed for the right reason (or passed).
 */
@Timeout(60)
class VerdictTest {

    /** Runs the tests of {@code sample}; returns the failure messages (stack traces included) of the failed ones. */
    static Events run(Class<?> sample, String... config) {
        var request = EngineTestKit.engine("junit-jupiter").selectors(selectClass(sample));
        for (int i = 0; i + 1 < config.length; i += 2) {
            request.configurationParameter(config[i], config[i + 1]);
        }
        return request.execute().testEvents();
    }

    static Throwable onlyFailure(Class<?> sample) {
        Events events = run(sample);
        events.assertStatistics(s -> s.started(1).failed(1));
        return failures(events).getFirst();
    }

    static List<Throwable> failures(Events events) {
        return events.failed().stream()
                .map(e -> e.getPayload(org.junit.platform.engine.TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow())
                .toList();
    }

    static String everything(Throwable t) {
        StringBuilder sb = new StringBuilder(String.valueOf(t));
        for (Throwable s : t.getSuppressed()) {
            sb.append("\nsuppressed: ").append(everything(s));
        }
        if (t.getCause() != null && t.getCause() != t) {
            sb.append("\ncause: ").append(everything(t.getCause()));
        }
        return sb.toString();
    }

    @Test
    void aTestThatJoinsWhatItSpawnsPasses() {
        run(VerdictSamples.Passing.class).assertStatistics(s -> s.started(1).succeeded(1));
    }

    @Test
    void aTestThatLeaksABufferFailsWithNettysRecordOfIt() {
        assumeTrue(LeakWatch.enabled(), "buffer leaks are checked at -Dio.netty.leakDetection.level=PARANOID, as the build runs tests");
        Throwable t = onlyFailure(VerdictSamples.LeaksABuffer.class);
        String m = t.getMessage();
        assertTrue(m.startsWith("1 ByteBuf was never released"), m);
        assertTrue(m.contains("VerdictSamples$LeaksABuffer.dropsWhatItRead"), "where it was allocated: " + m);
        run(VerdictSamples.ReleasesItsBuffer.class).assertStatistics(s -> s.started(1).succeeded(1));
    }

    @Test
    void aTestThatLeaksAFiberFailsAndNamesItWithItsStack() {
        Throwable t = onlyFailure(VerdictSamples.LeaksAFiber.class);
        String m = t.getMessage();
        assertTrue(m.contains("1 task is still alive"), m);
        assertTrue(m.contains("task 'leaky-worker'"), m);
        assertTrue(m.contains("VerdictSamples$LeaksAFiber.parkForever"), "the leaked fiber's stack: " + m);
    }

    @Test
    void aTaskFailureNobodyJoinedFailsTheTest() {
        Throwable t = onlyFailure(VerdictSamples.FailsUnobserved.class);
        assertTrue(t.getMessage().contains("task 'doomed' failed and nobody joined it"), everything(t));
        assertTrue(everything(t).contains("boom in a task"), everything(t));
    }

    @Test
    void anExceptionEscapingALoopCallbackFailsTheTest() {
        Throwable t = onlyFailure(VerdictSamples.FailsInACallback.class);
        assertTrue(everything(t).contains("boom in a callback"), everything(t));
    }

    @Test
    void aTestPastItsVirtualTimeLimitIsCancelledAndFails() {
        Throwable t = onlyFailure(VerdictSamples.RunsPastItsVirtualTime.class);
        assertTrue(t.getMessage().contains("virtual-time limit of PT1H"), everything(t));
    }

    @Test
    void aTestPastItsRealTimeLimitFailsWithADumpOfItsFibers() {
        Throwable t = onlyFailure(VerdictSamples.RunsPastItsRealTime.class);
        String m = t.getMessage();
        assertTrue(m.contains("real-time limit of PT0.5S"), everything(t));
        assertTrue(m.contains("test-waitsForAFutureNobodyCompletes-main") && m.contains("waitsForAFutureNobodyCompletes"),
                "the dump names the main fiber and shows where it waits: " + m);
    }

    @Test
    void anEventOrderNeverFinishedFailsTheTest() {
        Throwable t = onlyFailure(VerdictSamples.LeavesItsEventOrderUnfinished.class);
        assertTrue(t.getMessage().contains("reached step 2 but finish(n) was never called"), everything(t));
    }

    @Test
    void aStepOutOfOrderFailsTheTestEvenWhenItsExceptionWasSwallowed() {
        Throwable t = onlyFailure(VerdictSamples.StepsOutOfOrderInAnUnjoinedTask.class);
        assertTrue(everything(t).contains("expected step 2 but reached step 3"), everything(t));
    }

    static String failureMessages(Events events) {
        return failures(events).stream().map(VerdictTest::everything).reduce("", (a, b) -> a + "\n" + b);
    }

    static List<Event> failedEvents(Events events) {
        return events.failed().list();
    }
}
