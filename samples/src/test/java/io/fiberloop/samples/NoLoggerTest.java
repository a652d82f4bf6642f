package io.fiberloop.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.http.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An application with no SLF4J provider (SLF4J falls back to its no-operation logger) still sees
 * the warnings that must not be lost, on standard error: the missing
 * {@code -Djdk.trackAllThreads=false}, a loop stall, and a request handler's failure answered with
 * a 500. Runs {@link Child} in a JVM whose class path has no Logback and whose flags lack
 * {@code jdk.trackAllThreads}.
 */
@Timeout(60)
class NoLoggerTest {

    @Test
    void withoutAnSlf4jProviderTheWarningsThatMatterReachStandardError() throws Exception {
        String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.contains("logback"))
                .collect(Collectors.joining(File.pathSeparator));
        List<String> cmd = ChildJvms.command(flag -> !flag.startsWith("-Djdk.trackAllThreads"), classPath,
                Child.class.getName(), List.of());
        Process p = new ProcessBuilder(cmd).start();
        var out = java.util.concurrent.CompletableFuture.supplyAsync(() -> ChildJvms.read(p.getInputStream()));
        String err = ChildJvms.read(p.getErrorStream());
        assertTrue(p.waitFor(40, TimeUnit.SECONDS), "the child JVM ended");
        assertEquals(0, p.exitValue(), "stdout:\n" + out.join() + "\nstderr:\n" + err);
        assertTrue(out.join().contains("status 500"), out.join());
        assertTrue(err.contains("No SLF4J providers were found"), "the child runs on SLF4J's NOP logger:\n" + err);
        assertTrue(err.contains("fiberloop WARN: -Djdk.trackAllThreads=false is not set"), err);
        assertTrue(err.contains("fiberloop WARN: loop 'stalling' stalled"), err);
        assertTrue(err.contains("fiberloop ERROR: request 'GET /boom' failed on GET /boom"), err);
        assertTrue(err.contains("java.lang.IllegalStateException: deliberately failing handler"), "with the stack trace:\n" + err);
    }

    /** The child: a failing HTTP handler, then a loop that stalls until the stall was reported. */
    static final class Child {
        private Child() {
        }

        public static void main(String[] args) throws Exception {
            // see what goes to stderr, to end the stall once it was reported (no timing guess)
            ByteArrayOutputStream seen = new ByteArrayOutputStream();
            PrintStream original = System.err;
            System.setErr(new PrintStream(new OutputStream() {
                @Override
                public void write(int b) {
                    original.write(b);
                    synchronized (seen) {
                        seen.write(b);
                    }
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    original.write(b, off, len);
                    synchronized (seen) {
                        seen.write(b, off, len);
                    }
                }
            }, true));

            HttpServer server = HttpServer.builder().host("127.0.0.1").port(0)
                    .get("/boom", req -> {
                        throw new IllegalStateException("deliberately failing handler");
                    })
                    .start();
            try (HttpClient client = HttpClient.newHttpClient()) {
                HttpResponse<String> res = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/boom"))
                        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
                System.out.println("status " + res.statusCode());
            } finally {
                server.close();
            }

            try (EventLoop loop = FiberLoops.builder().name("stalling").watchdog(Duration.ofMillis(20)).build()) {
                loop.run(() -> {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    while (System.nanoTime() < deadline) { // busy on the carrier until the watchdog spoke
                        synchronized (seen) {
                            if (seen.toString(StandardCharsets.UTF_8).contains("loop 'stalling' stalled")) {
                                break;
                            }
                        }
                    }
                    return null;
                });
            }
            System.exit(0);
        }
    }
}
