package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM running a test class's {@code main} with this JVM's flags (surefire's argLine: the
 * jvmopts file, leak detection) and class path, its output read line by line. Closing it kills it.
 */
final class ChildJvm implements AutoCloseable {
    static final long WAIT_SECONDS = 30;

    final Process process;
    final StringBuffer output = new StringBuffer();
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final CountDownLatch ended = new CountDownLatch(1);

    private ChildJvm(Process process) {
        this.process = process;
        Thread.ofPlatform().daemon().name("child-output").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    output.append(l).append('\n');
                    lines.add(l);
                }
            } catch (IOException e) {
                output.append("[reading failed: ").append(e).append("]\n");
            } finally {
                ended.countDown();
            }
        });
    }

    /**
     * Starts {@code main}'s class in a child JVM.
     *
     * @param main the class whose {@code main} runs
     * @param extraFlags JVM flags after this JVM's own (a later {@code -D} wins)
     * @param args the program's arguments
     */
    static ChildJvm start(Class<?> main, List<String> extraFlags, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ProcessHandle.current().info().arguments().orElseThrow()) {
            if (arg.equals("-jar") || arg.equals("-cp") || arg.equals("-classpath") || !(arg.startsWith("-") || arg.startsWith("@"))) {
                break;
            }
            if (!arg.startsWith("-javaagent") && !arg.startsWith("-agent")) {
                cmd.add(arg);
            }
        }
        cmd.addAll(extraFlags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        return new ChildJvm(new ProcessBuilder(cmd).redirectErrorStream(true).start());
    }

    /** Waits for a line that contains {@code what}; returns it. */
    String await(String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        for (;;) {
            String l = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (l == null) {
                fail("the child did not print '" + what + "' within " + WAIT_SECONDS + " s; its output:\n" + output);
            }
            if (l.contains(what)) {
                return l;
            }
        }
    }

    /** Waits for a line {@code "listening on PORT"}; returns the port. */
    int awaitPort() throws InterruptedException {
        String line = await("listening on ");
        return Integer.parseInt(line.substring(line.indexOf("listening on ") + "listening on ".length()).trim());
    }

    /** Waits for the child to exit (after SIGTERM); returns its output. */
    String waitForExit() throws InterruptedException {
        assertTrue(process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS), "the child did not exit; its output:\n" + output);
        assertTrue(ended.await(WAIT_SECONDS, TimeUnit.SECONDS));
        return output.toString();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor(WAIT_SECONDS, TimeUnit.SECONDS);
        }
    }
}
