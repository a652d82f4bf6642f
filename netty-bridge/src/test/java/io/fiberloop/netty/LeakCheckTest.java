package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The leak check itself works: a planted leak is reported (and then forgotten, so nothing else fails). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LeakCheckTest {

    @Test
    void aPlantedLeakIsReported() {
        NoLeaks.provokeReports();
        LeakAppender.clear();
        for (int round = 0; round < 20 && LeakAppender.leaks().isEmpty(); round++) {
            plant();
            NoLeaks.provokeReports();
        }
        assertFalse(LeakAppender.leaks().isEmpty(), "Netty did not report a planted leak: the leak check is blind");
        LeakAppender.clear();
    }

    private static void plant() {
        ByteBuf leaked = ByteBufAllocator.DEFAULT.directBuffer(64);
        leaked.writeLong(42);
    }
}
