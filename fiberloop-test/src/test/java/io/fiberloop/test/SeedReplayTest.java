package io.fiberloop.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.test.simnet.FaultyHttpTraffic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One seed, one run, end to end: an {@link Explore} run of HTTP traffic over a network with
 * resets and stalls, replayed from its seed, does the same things in the same order at the same
 * virtual times, up to the loop's close (what the network sent and delivered, the outcome of every
 * request, the virtual time at the end).
 */
@Timeout(120)
class SeedReplayTest {

    @Test
    void aSeedReplaysTheWholeRun() throws Throwable {
        for (long seed : new long[] {0xefd5add4f3534a78L, 0xf947df5aad0f5c39L}) {
            List<String> first = run(seed);
            List<String> again = run(seed);
            assertTrue(first.size() > 50, "a run of traffic traces more than " + first.size() + " events");
            assertEquals(first.size(), again.size(), () -> "seed " + ExploreSeeds.format(seed) + ": " + firstDifference(first, again));
            assertEquals(first, again, () -> "seed " + ExploreSeeds.format(seed) + ": " + firstDifference(first, again));
        }
    }

    /** The trace of one run of the traffic under {@code seed}, as a {@link FiberLoopTest} test runs it. */
    private static List<String> run(long seed) throws Throwable {
        SimNetwork net = SimNetwork.create(seed);
        List<String> trace = new ArrayList<>();
        TestSession session = new TestSession("replay", seed, Duration.ofHours(2), Duration.ofSeconds(60), net, false);
        session.run(() -> {
            net.trace(trace);
            List<String> outcome = FaultyHttpTraffic.withResetsAndStalls(session.loop, net);
            trace.add("outcome " + outcome + " at " + session.kit.now());
            return null;
        });
        return trace;
    }

    private static String firstDifference(List<String> a, List<String> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            if (!a.get(i).equals(b.get(i))) {
                return "the runs part at event " + i + " of " + a.size() + "/" + b.size() + ": " + a.get(i) + " | " + b.get(i);
            }
        }
        return "one run is a prefix of the other: " + a.size() + " and " + b.size() + " events";
    }
}
