package io.fiberloop.test;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * Seeded schedule exploration end to end: the racy sample passes in FIFO order, is caught by
 * {@code @Explore} within its 50 seeds, and the seed a failure prints replays the failure every time.
 */
@Timeout(60)
class ExploreTest {
    private static final Pattern SEED = Pattern.compile("failed under exploration seed (0x[0-9a-f]+L)");

    static Events runMethod(Class<?> c, String method, String... config) {
        var request = EngineTestKit.engine("junit-jupiter").selectors(selectMethod(c, method));
        for (int i = 0; i + 1 < config.length; i += 2) {
            request.configurationParameter(config[i], config[i + 1]);
        }
        return request.execute().testEvents();
    }

    @Test
    void theRacySamplePassesInFifoOrder() {
        runMethod(RacySamples.Racy.class, "withdrawalsInFifoOrder").assertStatistics(s -> s.started(1).succeeded(1));
    }

    @Test
    void explorationCatchesTheRaceAndItsSeedReplaysIt() {
        Events explored = runMethod(RacySamples.Racy.class, "withdrawals");
        explored.assertStatistics(s -> s.started(50));
        List<Throwable> failures = VerdictTest.failures(explored);
        assertFalse(failures.isEmpty(), "no seed of 50 caught the race");
        Matcher m = SEED.matcher(failures.getFirst().getMessage());
        assertTrue(m.find(), failures.getFirst().getMessage());
        assertTrue(VerdictTest.everything(failures.getFirst()).contains("overdrawn"), VerdictTest.everything(failures.getFirst()));
        String seed = m.group(1);
        for (int i = 0; i < 3; i++) {
            Events replay = runMethod(RacySamples.Racy.class, "withdrawals", ExploreSeeds.SEED, seed);
            replay.assertStatistics(s -> s.started(1).failed(1));
            assertTrue(VerdictTest.failures(replay).getFirst().getMessage().contains(seed));
        }
    }

    @Test
    void aSeedWrittenInTheAnnotationReplaysItsFailure() {
        Events replay = runMethod(RacySamples.Racy.class, "withdrawalsReplayed");
        replay.assertStatistics(s -> s.started(1).failed(1));
        assertTrue(VerdictTest.everything(VerdictTest.failures(replay).getFirst()).contains("overdrawn"));
    }

    @Test
    void theIterationCountCanBeRaisedWithoutEditingTheTest() {
        runMethod(RacySamples.Racy.class, "withdrawals", ExploreSeeds.ITERATIONS, "3", ExploreSeeds.BASE, "7")
                .assertStatistics(s -> s.started(3));
    }
}
