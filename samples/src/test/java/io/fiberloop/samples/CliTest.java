package io.fiberloop.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.netty.NettyTransport;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * Every error of the samples' command line that a user can fix prints one line on standard
 * error, naming the command, the value and what to do, with no stack trace: bad options (in
 * process), a port in use (in process, on every transport), a missing JVM flag (in a child JVM
 * started without it). The packaged jar's errors (an old Java, the manifest's version) are
 * checked by {@code SamplesJarIT}.
 */
@Timeout(60)
class CliTest {
    private static final List<String> SERVERS = List.of("echo", "chat", "proxy", "http");

    /** What one in-process run printed, and its exit code. */
    private record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }
    }

    private static Run run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static String[] withTo(String command, String... args) {
        List<String> all = new ArrayList<>(List.of(command));
        all.addAll(Arrays.asList(args));
        if (command.equals("proxy")) {
            all.addAll(List.of("--to", "127.0.0.1:7"));
        }
        return all.toArray(String[]::new);
    }

    /** Asserts one line on standard error, with no stack trace, that contains every one of {@code parts}. */
    private static void assertOneLine(Run r, int code, String... parts) {
        assertEquals(code, r.code(), "exit code; stderr:\n" + r.err());
        assertEquals(1, r.errLines().size(), "one line on stderr, got:\n" + r.err());
        String line = r.errLines().get(0);
        for (String p : parts) {
            assertTrue(line.contains(p), "the line should contain '" + p + "': " + line);
        }
        assertTrue(!line.contains("Exception") && !line.contains("\tat "), "no stack trace: " + line);
    }

    @Test
    void aPortOutOfRangeIsOneLineNamingTheValue() {
        for (String command : SERVERS) {
            for (String bad : List.of("-1", "70000", "http")) {
                assertOneLine(run(withTo(command, "--port", bad)), 2,
                        "fiberloop-samples " + command + ": ", "'--port'", bad, "0 for any free port", "--help");
            }
        }
    }

    @Test
    void anUnknownTransportIsOneLineListingTheKnownOnes() {
        for (String command : SERVERS) {
            assertOneLine(run(withTo(command, "--transport", "carrier-pigeon")), 2,
                    "fiberloop-samples " + command + ": ", "'carrier-pigeon'", "io_uring, epoll, kqueue, nio");
        }
    }

    @Test
    void aTransportThisMachineLacksIsOneLineWithNettysReason() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty("os.name").startsWith("Linux"), "kqueue is macOS and BSD only");
        for (String command : SERVERS) {
            assertOneLine(run(withTo(command, "--transport", "kqueue")), 2,
                    "fiberloop-samples " + command + ": ", "transport 'kqueue' is not available here (Only supported on OSX/BSD)", "leave --transport out");
        }
    }

    @Test
    void aPortInUseIsOneLineNamingThePortAndTheFixOnEveryTransport() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String port = Integer.toString(taken.getLocalPort());
            for (NettyTransport t : NettyTransport.values()) {
                if (!t.isAvailable()) {
                    continue;
                }
                for (String command : SERVERS) {
                    assertOneLine(run(withTo(command, "--port", port, "--transport", t.id())), Cli.EXIT_ERROR,
                            "fiberloop-samples " + command + ": ", "port " + port + " on 127.0.0.1 is already in use",
                            "--port");
                }
            }
        }
    }

    @Test
    void everySubcommandPrintsTheSamplesVersion() {
        Run top = run("-V");
        assertEquals(0, top.code());
        assertTrue(top.out().startsWith("fiberloop samples "), top.out());
        for (String[] sub : List.of(new String[] {"http", "-V"}, new String[] {"echo", "--version"},
                new String[] {"demo", "-V"}, new String[] {"patterns", "ticker", "-V"})) {
            Run r = run(sub);
            assertEquals(0, r.code(), String.join(" ", sub));
            assertEquals(top.out(), r.out(), String.join(" ", sub) + " prints the same version as -V");
        }
    }

    @Test
    void withoutTheAddOpensFlagTheSamplesPrintTheFlagsMessageAlone() throws Exception {
        List<String> cmd = ChildJvms.command(flag -> !flag.startsWith("--add-opens"), System.getProperty("java.class.path"),
                Main.class.getName(), List.of("demo"));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        List<String> err = ChildJvms.read(p.getErrorStream()).lines().toList();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the child JVM ended");
        assertEquals(Cli.EXIT_ERROR, p.exitValue(), String.join("\n", err));
        assertEquals(1, err.size(), "one line on stderr, got:\n" + String.join("\n", err));
        assertTrue(err.get(0).startsWith("fiberloop-samples demo: fiberloop's fibers need the JVM flag --add-opens"), err.get(0));
    }
}
