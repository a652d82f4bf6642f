package com.example.hello;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.test.FiberLoopTest;
import io.fiberloop.test.TestLoop;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** fiberloop-test from a user's build: an hour of virtual time in milliseconds of real time. */
@FiberLoopTest
class VirtualTimeTest {
    @Test
    void sleepsAnHour(TestLoop t) {
        Fibers.sleep(Duration.ofHours(1));
        assertEquals(Duration.ofHours(1), t.now());
    }
}
