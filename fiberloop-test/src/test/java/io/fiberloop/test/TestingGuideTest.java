package io.fiberloop.test;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.fiber.TaskScope;
import io.fiberloop.fiber.channel.Channel;
import io.fiberloop.fiber.sync.Lock;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.Connection;
import io.fiberloop.netty.Tcp;
import io.fiberloop.netty.TcpServer;
import io.fiberloop.netty.http.HttpClient;
import io.fiberloop.netty.http.HttpResponse;
import io.fiberloop.netty.http.HttpServer;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * The snippets of docs/testing.md marked "compiled", verbatim, as nested test classes: this test
 * runs each through EngineTestKit (they must pass), and {@link #everyMarkedSnippetIsHereVerbatim()}
 * fails when the page and this file drift apart.
 */
@Timeout(60)
class TestingGuideTest {

    @FiberLoopTest
    static class ReminderTest {
        @Test
        void remindsAfterAnHour(TestLoop t) {
            Task<String> reminder = Fibers.spawn(() -> {
                Fibers.sleep(Duration.ofHours(1));
                return "tea";
            });
            assertEquals("tea", reminder.join());            // an hour of virtual time, at once
            assertEquals(Duration.ofHours(1), t.now());
        }
    }

    /** A cache whose entries expire: what the guide's time example tests. */
    static final class ExpiringCache {
        private final Map<String, String> entries = new HashMap<>();
        private final Duration ttl;

        ExpiringCache(Duration ttl) {
            this.ttl = ttl;
        }

        void put(String key, String value) {
            entries.put(key, value);
            EventLoop.current().schedule(() -> entries.remove(key, value), ttl);
        }

        String get(String key) {
            return entries.get(key);
        }
    }

    @FiberLoopTest
    static class TimeTest {
        @Test
        void entriesExpire(TestLoop t) {
            ExpiringCache cache = new ExpiringCache(Duration.ofMinutes(5));
            cache.put("k", "v");
            t.advanceBy(Duration.ofMinutes(4));
            assertEquals("v", cache.get("k"));
            t.advanceBy(Duration.ofMinutes(1));               // the expiry timer fires on the way
            assertNull(cache.get("k"));
        }

        @Test
        void everythingPendingRuns(TestLoop t) {
            List<String> log = new ArrayList<>();
            try (TaskScope scope = TaskScope.open()) {
                scope.fork(() -> { Fibers.sleep(Duration.ofSeconds(30)); log.add("retry at " + t.now()); return null; });
                t.advanceUntilIdle();                          // runs timers until nothing is left
                assertEquals(List.of("retry at PT30S"), log);
                scope.join();
            }
        }
    }

    @FiberLoopTest
    static class WorkerTest {
        @Test
        void theWorkerTakesEachJob(TestLoop t) {
            Channel<String> jobs = Channel.buffered(10);
            List<String> done = new ArrayList<>();
            Task<Void> worker = Fibers.spawn("worker", () -> {
                for (String job; (job = jobs.receiveOrNull()) != null; ) {
                    done.add(job);
                }
                return null;
            });
            jobs.send("a");
            jobs.send("b");
            t.waitAllTasksBlocked();                           // the worker has taken both and waits
            assertEquals(List.of("a", "b"), done);
            jobs.close();
            worker.join();
        }
    }

    @FiberLoopTest
    static class OrderTest {
        @Test
        void cancellationRunsTheFinallyBlock(EventOrder order) {
            order.expect(1);
            Task<Void> task = Fibers.spawn(() -> {
                order.expect(2);
                try {
                    Fibers.sleep(Duration.ofHours(1));
                    order.expectUnreached();
                } finally {
                    order.expect(4);
                }
                return null;
            });
            Fibers.yieldNow();                                 // the task runs up to its sleep
            order.expect(3);
            task.cancel();
            assertThrows(CancelledException.class, task::join);
            order.finish(5);
        }

        @Test
        void aLockIsHeldUntilReleased() {
            Lock lock = Lock.create();
            Sequencer seq = Sequencer.create();
            Task<Void> holder = Fibers.spawn(() -> {
                seq.run(0, lock::lock);
                seq.run(2, lock::unlock);
                return null;
            });
            seq.run(1, () -> assertFalse(lock.tryLock()));
            seq.run(3, () -> assertTrue(lock.tryLock()));
            holder.join();
            lock.unlock();
        }
    }

    @FiberLoopTest
    static class AccountTest {
        static final class Account {
            private int balance = 100;

            boolean withdraw(int amount) {
                if (balance < amount) {
                    return false;
                }
                audit(amount);                             // suspends: another fiber may run here
                balance -= amount;
                return true;
            }

            private void audit(int amount) {
                Fibers.yieldNow();                         // stands for a write to an audit log
            }
        }

        static void logIn() {
            Fibers.yieldNow();                             // stands for a call to an identity service
        }

        @Explore(iterations = 50)
        void neverOverdraws() {
            Account account = new Account();
            Task<Boolean> a = Fibers.spawn(() -> account.withdraw(60));
            Task<Boolean> b = Fibers.spawn(() -> {
                logIn();
                return account.withdraw(60);
            });
            Fibers.joinAll(a, b);
            assertTrue(account.balance >= 0, "overdrawn: " + account.balance);
        }
    }

    @FiberLoopTest
    static class GreetingTest {
        @Test
        void greetsAcrossAContinent(EventLoop loop, SimNetwork net, TestLoop t) throws Exception {
            net.latency(Duration.ofMillis(100));                       // each way, in virtual time
            try (HttpServer server = HttpServer.builder().loop(loop).port(8080)
                         .get("/hi", req -> HttpResponse.text("hi")).start();
                 HttpClient client = HttpClient.create(loop)) {
                assertEquals("hi", client.send(HttpClient.Request.get("http://127.0.0.1:8080/hi")).bodyString());
            }
            assertEquals(Duration.ofMillis(400), t.now());             // connect there and back, then the request and its answer
        }
    }

    @FiberLoopTest
    static class FaultyEchoTest {
        @Explore(iterations = 20)
        void echoesWhateverTheNetworkDoes(EventLoop loop, SimNetwork net) throws Exception {
            net.latency(Duration.ofMillis(20)).jitter(Duration.ofMillis(30)).maxSegment(4).randomSegments(true);
            try (TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, c -> {
                     for (ByteBuf b; (b = c.read()) != null; ) {
                         c.write(b);
                     }
                 });
                 Connection c = Tcp.connect("127.0.0.1", server.port(), Duration.ofSeconds(5))) {
                c.write("hello, world\n");
                assertEquals("hello, world", c.readLine(100));            // however the line was cut
            }
        }
    }

    @Test
    void theGuidesNetworkTestsPass() {
        EngineTestKit.engine("junit-jupiter").selectors(selectClass(GreetingTest.class)).execute().testEvents()
                .assertStatistics(s -> s.failed(0).succeeded(1));
        EngineTestKit.engine("junit-jupiter").selectors(selectClass(FaultyEchoTest.class)).execute().testEvents()
                .assertStatistics(s -> s.failed(0).succeeded(20));
    }

    @Test
    void theGuidesTestsPass() {
        for (Class<?> c : List.of(ReminderTest.class, TimeTest.class, WorkerTest.class, OrderTest.class)) {
            EngineTestKit.engine("junit-jupiter").selectors(selectClass(c)).execute().testEvents()
                    .assertStatistics(s -> s.failed(0).succeeded(c == TimeTest.class || c == OrderTest.class ? 2 : 1));
        }
    }

    @Test
    void theGuidesRacyAccountIsCaughtByExploration() {
        var events = EngineTestKit.engine("junit-jupiter").selectors(selectClass(AccountTest.class)).execute().testEvents();
        events.assertStatistics(s -> s.started(50));
        assertFalse(events.failed().list().isEmpty(), "the guide says exploration catches this race");
    }

    @Test
    void everyMarkedSnippetIsHereVerbatim() throws IOException {
        String me = squeeze(Files.readString(Path.of("src/test/java/io/fiberloop/test/TestingGuideTest.java")));
        String[] blocks = Files.readString(Path.of("../docs/testing.md")).split("<!-- compiled: TestingGuideTest -->\n```java\n");
        assertTrue(blocks.length - 1 >= 5, "compiled snippets in docs/testing.md: " + (blocks.length - 1));
        for (int i = 1; i < blocks.length; i++) {
            String snippet = blocks[i].substring(0, blocks[i].indexOf("\n```"));
            assertTrue(me.contains(squeeze(snippet)), "docs/testing.md snippet " + i + " is not in TestingGuideTest verbatim:\n" + snippet);
        }
    }

    /** Each line trimmed, blank lines dropped: indentation may differ between the page and this file, which nests the classes. */
    private static String squeeze(String text) {
        return text.lines().map(String::strip).filter(l -> !l.isEmpty())
                .map(l -> l.startsWith("static class ") ? l.substring("static ".length()) : l)   // the page shows top-level classes
                .reduce("", (a, b) -> a + b + "\n");
    }
}
