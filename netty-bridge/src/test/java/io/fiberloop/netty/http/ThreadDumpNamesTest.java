package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The JDK's own thread dump, {@code jcmd PID Thread.dump_to_file}, of a child JVM serving a slow
 * request: with {@code -Djdk.trackAllThreads=true} its fibers are listed by name (the request by
 * its route, tasks by the name given or generated); with {@code false} (fiberloop's default,
 * which lets abandoned fibers be collected) they are not listed at all.
 */
@Timeout(120)
class ThreadDumpNamesTest {
    private static final Pattern VIRTUAL_NAME = Pattern.compile("\"virtual\":\\s*true,\\s*\"name\":\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** The child: serves {@code /slow}, with a named and an unnamed task asleep on the server's loop. */
    public static void main(String[] args) throws Exception {
        HttpServer server = HttpServer.builder().host("127.0.0.1").port(0)
                .get("/slow/{ms}", req -> {
                    System.out.println("in flight");
                    System.out.flush();
                    Fibers.sleep(Duration.ofMillis(Long.parseLong(req.pathParam("ms"))));
                    return HttpResponse.text("slept");
                })
                .start();
        EventLoop loop = server.loops().get(0);
        Fibers.spawn(loop, "refresh cache", () -> {
            Fibers.sleep(Duration.ofDays(1));
            return null;
        });
        Fibers.spawn(loop, () -> {
            Fibers.sleep(Duration.ofDays(1));
            return null;
        });
        System.out.println("listening on " + server.port());
        System.out.flush();
        new CountDownLatch(1).await();
    }

    @Test
    void withTrackAllThreadsTheJdksDumpNamesEveryFiber() throws Exception {
        try (ChildJvm child = ChildJvm.start(ThreadDumpNamesTest.class, List.of("-Djdk.trackAllThreads=true"))) {
            inFlight(child);
            List<String> names = virtualThreadNames(jcmd(child, "json"));
            assertTrue(names.contains("GET /slow/{ms}"), "the request, by its route: " + names);
            assertTrue(names.contains("refresh cache"), names.toString());
            assertTrue(names.stream().anyMatch(n -> n.matches("task-\\d+ from ThreadDumpNamesTest")), "the unnamed task: " + names);
            assertFalse(names.contains(""), "no fiber without a name: " + names);

            String text = jcmd(child, "text");
            assertTrue(Pattern.compile("#\\d+ \"GET /slow/\\{ms\\}\" virtual WAITING").matcher(text).find(), text);
            assertTrue(text.contains("\"refresh cache\" virtual"), text);
        }
    }

    @Test
    void withoutTrackAllThreadsTheJdksDumpListsNoFibers() throws Exception {
        try (ChildJvm child = ChildJvm.start(ThreadDumpNamesTest.class, List.of("-Djdk.trackAllThreads=false"))) {
            inFlight(child);
            String json = jcmd(child, "json");
            List<String> names = virtualThreadNames(json);
            assertFalse(names.contains("GET /slow/{ms}") || names.contains("refresh cache") || names.stream().anyMatch(n -> n.startsWith("http-")),
                    "the root container lists platform threads only (the JDK's own pollers are in a container of their own): " + names);
            assertTrue(json.contains("\"name\": \"http-"), "the loop's carrier thread is there: " + json);
        }
    }

    /** Sends a slow request to the child and waits until its handler runs. */
    private static void inFlight(ChildJvm child) throws Exception {
        int port = child.awaitPort();
        RawHttp c = new RawHttp(port); // closed when the child is killed
        c.send(RawHttp.get("/slow/60000"));
        child.await("in flight");
    }

    /** The child's thread dump by {@code jcmd PID Thread.dump_to_file -format=FORMAT}. */
    private static String jcmd(ChildJvm child, String format) throws Exception {
        Path dir = Files.createTempDirectory("fiberloop-dump");
        Path file = dir.resolve("threads." + format);
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), String.valueOf(child.process.pid()),
                "Thread.dump_to_file", "-format=" + format, file.toString()).redirectErrorStream(true).start();
        String out = new String(jcmd.getInputStream().readAllBytes());
        assertTrue(jcmd.waitFor(ChildJvm.WAIT_SECONDS, TimeUnit.SECONDS), "jcmd did not finish: " + out);
        assertEquals(0, jcmd.exitValue(), out);
        String dump = Files.readString(file);
        Files.delete(file);
        Files.delete(dir);
        return dump;
    }

    private static List<String> virtualThreadNames(String json) {
        List<String> names = new ArrayList<>();
        Matcher m = VIRTUAL_NAME.matcher(json);
        while (m.find()) {
            names.add(m.group(1).replaceAll("\\\\(.)", "$1")); // undo JSON escapes: \/ is /
        }
        return names;
    }
}
