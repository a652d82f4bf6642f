/**
 * Testing code on fibers with JUnit 5.
 *
 * {@snippet :
 * @FiberLoopTest
 * class ReminderTest {
 *     @Test
 *     void firesAfterAnHour(TestLoop t) {
 *         Task<String> reminder = Fibers.spawn(() -> { Fibers.sleep(Duration.ofHours(1)); return "tea"; });
 *         assertEquals("tea", reminder.join());             // an hour of virtual time, at once
 *         assertEquals(Duration.ofHours(1), t.now());
 *     }
 * }
 * }
 *
 * <p>{@link io.fiberloop.test.FiberLoopTest} runs each test method as the main fiber of a fresh
 * fiber loop; {@link io.fiberloop.test.TestLoop} moves its virtual clock and waits until every
 * other fiber is blocked; {@link io.fiberloop.test.Sequencer} and {@link io.fiberloop.test.EventOrder}
 * pin down and check the order of events; {@link io.fiberloop.test.Explore} repeats a test under
 * schedules chosen from seeds, to flush out assumptions about the order fibers run in.
 */
package io.fiberloop.test;
