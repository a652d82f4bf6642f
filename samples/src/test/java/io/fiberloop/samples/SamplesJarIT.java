package io.fiberloop.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The packaged runnable jar, {@code samples/target/fiberloop-samples.jar}, run as a user runs it
 * ({@code java -jar}, no JVM flags): its version comes from the manifest, it runs on Java 25
 * without flags (the manifest opens {@code java.lang}), and an older Java gets one line that says
 * what to do (the jar's {@code Launcher} is compiled for Java 8). Run by failsafe after
 * {@code package}.
 */
@Timeout(60)
class SamplesJarIT {
    private static final Path JAR = Path.of(System.getProperty("samples.jar", "target/fiberloop-samples.jar"));
    /** A Java older than 25 to try the jar with; the test is skipped where there is none. */
    private static final Path OLD_JAVA = Path.of(System.getProperty("samples.oldJava", "/usr/lib/jvm/java-17-openjdk-amd64"));

    private record Result(int code, List<String> out, List<String> err) {
    }

    private static Result java(Path javaHome, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(javaHome.resolve("bin/java").toString(), "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("JDK_JAVA_OPTIONS");
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        Process p = pb.start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> ChildJvms.read(p.getInputStream()));
        String err = ChildJvms.read(p.getErrorStream());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "java -jar ended");
        return new Result(p.exitValue(), out.join().lines().toList(), err.lines().toList());
    }

    private static Path thisJava() {
        return Path.of(System.getProperty("java.home"));
    }

    @Test
    void theVersionComesFromTheManifestForEveryCommand() throws Exception {
        String expected = "fiberloop samples " + System.getProperty("samples.version");
        for (String[] args : List.of(new String[] {"-V"}, new String[] {"http", "-V"}, new String[] {"patterns", "generator", "--version"})) {
            Result r = java(thisJava(), args);
            assertEquals(0, r.code(), r.err().toString());
            assertEquals(1, r.out().size(), r.out().toString());
            assertTrue(r.out().get(0).startsWith(expected + ", Java "), r.out().get(0));
        }
    }

    @Test
    void runsWithoutJvmFlagsAndWarnsOfNothing() throws Exception {
        Result r = java(thisJava(), "patterns", "generator", "--virtual-clock", "--count", "3");
        assertEquals(0, r.code(), r.err().toString());
        assertEquals(List.of(), r.err(), "nothing on stderr (no JDK warning, no fiberloop warning)");
        assertTrue(r.out().stream().anyMatch(l -> l.contains("generator")), r.out().toString());
    }

    @Test
    void anOlderJavaGetsOneLineThatSaysWhatToDo() throws Exception {
        assumeTrue(Files.isExecutable(OLD_JAVA.resolve("bin/java")), "no older Java at " + OLD_JAVA);
        Result r = java(OLD_JAVA, "http");
        assertEquals(1, r.code());
        assertEquals(List.of(), r.out());
        assertEquals(1, r.err().size(), r.err().toString());
        assertTrue(r.err().get(0).startsWith("fiberloop needs Java 25; use ./fiberloop or set JAVA_HOME (this java is "), r.err().get(0));
    }
}
