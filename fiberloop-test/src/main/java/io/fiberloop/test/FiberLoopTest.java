package io.fiberloop.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs each test method (of the annotated class, or the annotated method) as the main fiber of a
 * fresh fiber loop whose clock is an auto-advancing {@link io.fiberloop.loop.VirtualClock}: sleeps
 * and timeouts take no real time and happen at exact virtual times, as with kotlinx-coroutines'
 * {@code runTest} or trio's {@code MockClock(autojump_threshold=0)}.
 *
 * {@snippet :
 * @FiberLoopTest
 * class CacheTest {
 *     @Test
 *     void entriesExpire(TestLoop t, EventLoop loop) {
 *         Cache cache = new Cache(Duration.ofMinutes(5));
 *         cache.put("k", "v");
 *         t.advanceBy(Duration.ofMinutes(6));       // the expiry timer runs on the way
 *         assertNull(cache.get("k"));
 *     }
 * }
 * }
 *
 * <p>Test methods may take these parameters: {@link io.fiberloop.loop.EventLoop} (the test's
 * loop), {@link io.fiberloop.loop.VirtualClock} (its clock), {@link TestLoop} (helpers: advance
 * the clock, wait until every other fiber is blocked), {@link EventOrder} (expect/finish) and
 * {@link SimNetwork} (the loop then runs Netty on a simulated network: servers and clients of the
 * test talk without sockets, in virtual time). Each test gets its own loop, closed after the test.
 *
 * <h2>What fails a test</h2>
 * Besides the test's own exceptions, once the test method has returned and every fiber that could
 * run has run (without moving the clock):
 * <ul>
 *   <li>a task still alive: listed by name, state and stack. Join or cancel what you spawn (a
 *       {@link io.fiberloop.fiber.TaskScope} does both); the leaked tasks are then cancelled.</li>
 *   <li>a task that failed and whose failure nobody retrieved ({@code join}, {@code get},
 *       {@code exceptionNow}, a scope...), and an exception that escaped a loop callback;</li>
 *   <li>an {@link EventOrder} that was started but never {@linkplain EventOrder#finish finished};</li>
 *   <li>virtual time passing {@link #virtualTimeLimit()} (a fiber that sleeps in a loop forever):
 *       the test is cancelled there;</li>
 *   <li>a Netty {@code ByteBuf} never released, for a test on a {@link SimNetwork} or with
 *       {@link #checkBufferLeaks()}, at Netty's PARANOID leak detection;</li>
 *   <li>real time passing {@link #realTimeLimit()} (a fiber spinning on the carrier, a deadlock
 *       through a plain thread): the failure lists the live fibers with their stacks.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * The test method runs in the loop's main fiber, so it may suspend ({@code join}, {@code sleep},
 * {@code await}); {@code @BeforeEach} and {@code @AfterEach} methods run on JUnit's thread, not in
 * the loop.
 */
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(FiberLoopExtension.class)
public @interface FiberLoopTest {

    /**
     * The virtual time a test may take, as an ISO-8601 duration ({@code "PT1H"}, {@code "P7D"}):
     * past it, the test method is cancelled and fails. The method's annotation wins over its
     * class's.
     *
     * @return the limit; default one day
     */
    String virtualTimeLimit() default "P1D";

    /**
     * The real (wall-clock) time a test may take, as an ISO-8601 duration ({@code "PT30S"}): past
     * it, the test fails with a dump of its live fibers. JUnit's {@code @Timeout} applies too.
     *
     * @return the limit; default 30 seconds
     */
    String realTimeLimit() default "PT30S";

    /**
     * Whether the test fails when a Netty {@code ByteBuf} it allocated was never released. The
     * check runs only when Netty's leak detector is at PARANOID
     * ({@code -Dio.netty.leakDetection.level=PARANOID}, where every buffer is tracked), and costs a
     * garbage collection at the end of each test; it is always on for a test on a
     * {@link SimNetwork}. The failure gives Netty's record of where the buffer was last touched.
     *
     * @return whether to check; default {@code false} (a test without a simulated network)
     */
    boolean checkBufferLeaks() default false;
}
