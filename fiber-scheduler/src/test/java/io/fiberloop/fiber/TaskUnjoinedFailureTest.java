package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import java.lang.ref.WeakReference;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/** A failure that nobody retrieves is logged once when its task is collected; a retrieved one never. */
@Timeout(60)
class TaskUnjoinedFailureTest {
    private final Logger taskLogger = (Logger) LoggerFactory.getLogger("io.fiberloop.fiber.Task");
    private final Semaphore appended = new Semaphore(0);
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>() {
        @Override
        protected void append(ILoggingEvent e) {
            super.append(e);
            appended.release();
        }
    };

    @BeforeEach
    void attach() {
        appender.start();
        taskLogger.addAppender(appender);
    }

    @AfterEach
    void detach() {
        taskLogger.detachAppender(appender);
        appender.stop();
    }

    /** Spawns a task that fails, waits (without retrieving the failure) until it is done, and forgets it. */
    private static String spawnFailingAndForget(EventLoop loop, String message, boolean join) throws Exception {
        return loop.run(() -> {
            Task<Object> t = Fibers.spawn(() -> {
                throw new IllegalStateException(message);
            });
            String name = t.name();
            if (join) {
                assertThrows(IllegalStateException.class, t::join);
            } else {
                while (!t.isDone()) {
                    Fibers.yieldNow();
                }
            }
            return name;
        });
    }

    private List<ILoggingEvent> eventsMentioning(String taskName) {
        synchronized (appender) {
            return appender.list.stream().filter(e -> e.getFormattedMessage().contains("'" + taskName + "'")).toList();
        }
    }

    /** Collects garbage until an event for {@code taskName} appears; bounded. */
    private void gcUntilLogged(String taskName) throws InterruptedException {
        for (int i = 0; i < 100 && eventsMentioning(taskName).isEmpty(); i++) {
            System.gc();
            appended.tryAcquire(100, TimeUnit.MILLISECONDS);
        }
    }

    @Test
    void anUnjoinedFailureIsLoggedOnceWhenTheTaskIsCollected() throws Exception {
        String name;
        try (EventLoop loop = FiberLoops.builder().clock(LoopClock.autoAdvancing()).build()) {
            name = spawnFailingAndForget(loop, "nobody looked at me", false);
        }
        gcUntilLogged(name);
        List<ILoggingEvent> mine = eventsMentioning(name);
        assertEquals(1, mine.size(), () -> "events: " + appender.list);
        ILoggingEvent e = mine.get(0);
        assertEquals(Level.ERROR, e.getLevel());
        assertEquals("task '" + name + "' failed and nobody joined it", e.getFormattedMessage());
        assertNotNull(e.getThrowableProxy());
        assertEquals(IllegalStateException.class.getName(), e.getThrowableProxy().getClassName());
        assertEquals("nobody looked at me", e.getThrowableProxy().getMessage());
        // once: more collections do not log it again
        for (int i = 0; i < 3; i++) {
            System.gc();
            appended.tryAcquire(50, TimeUnit.MILLISECONDS);
        }
        assertEquals(1, eventsMentioning(name).size());
    }

    @Test
    void aJoinedFailureIsNotLogged() throws Exception {
        String joined;
        String canary;
        try (EventLoop loop = FiberLoops.builder().clock(LoopClock.autoAdvancing()).build()) {
            joined = spawnFailingAndForget(loop, "joined failure", true);
            // a second failure, not joined, logged when collected: once it shows up, the collector has run
            canary = spawnFailingAndForget(loop, "canary", false);
        }
        gcUntilLogged(canary);
        assertEquals(1, eventsMentioning(canary).size(), "the canary was never collected: the test proves nothing");
        assertEquals(List.of(), eventsMentioning(joined));
    }

    @Test
    void aFailureRetrievedByExceptionNowOrACallbackIsNotLogged() throws Exception {
        String viaExceptionNow;
        String viaCallback;
        String canary;
        try (EventLoop loop = FiberLoops.builder().clock(LoopClock.autoAdvancing()).build()) {
            viaExceptionNow = loop.run(() -> {
                Task<Object> t = Fibers.spawn(() -> {
                    throw new IllegalStateException("seen");
                });
                Fibers.awaitAllSettled(List.of(t));
                assertEquals("seen", t.exceptionNow().getMessage());
                return t.name();
            });
            viaCallback = loop.run(() -> {
                Task<Object> t = Fibers.spawn(() -> {
                    throw new IllegalStateException("seen by callback");
                });
                t.onComplete((v, e) -> { });
                while (!t.isDone()) {
                    Fibers.yieldNow();
                }
                return t.name();
            });
            canary = spawnFailingAndForget(loop, "canary", false);
        }
        gcUntilLogged(canary);
        assertEquals(1, eventsMentioning(canary).size(), "the canary was never collected: the test proves nothing");
        assertEquals(List.of(), eventsMentioning(viaExceptionNow));
        assertEquals(List.of(), eventsMentioning(viaCallback));
    }

    @Test
    void aTaskIsCollectableOnceDone() throws Exception {
        WeakReference<Task<?>> ref;
        try (EventLoop loop = FiberLoops.builder().clock(LoopClock.autoAdvancing()).build()) {
            ref = loop.run(() -> {
                Task<String> t = Fibers.spawn(() -> "x");
                t.join();
                return new WeakReference<>(t);
            });
        }
        for (int i = 0; i < 100 && ref.get() != null; i++) {
            System.gc();
            appended.tryAcquire(10, TimeUnit.MILLISECONDS);
        }
        assertNull(ref.get(), "a finished task stayed reachable");
    }
}
