package io.fiberloop.samples;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The samples jar's entry point: {@code java -jar samples/target/fiberloop-samples.jar <command>}.
 * Each sample is a subcommand with its own {@code --help}; {@code -V} prints the version from the
 * jar's manifest. Errors a user can fix (a bad option, a port in use, a missing JVM flag) print
 * one line on standard error (see {@link Cli}).
 */
@Command(name = "fiberloop-samples", mixinStandardHelpOptions = true,
        description = "Runnable demos of fiberloop.",
        subcommands = {LoopDemo.class, EchoServer.class, ChatServer.class, ProxyServer.class, HttpDemo.class, Patterns.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    private Main() {
    }

    /**
     * Runs the sample named by the first argument, then exits with its exit code.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        // A jar's manifest cannot carry system properties. This one must be set before the JVM's first
        // virtual thread exists (it is read once, then), so that unreachable suspended fibers are
        // garbage-collected; the -D flag, as ./fiberloop passes it, still wins.
        if (System.getProperty("jdk.trackAllThreads") == null) {
            System.setProperty("jdk.trackAllThreads", "false");
        }
        System.exit(commandLine().execute(args));
    }

    /** The samples' command line, with every subcommand, converter, version and error handler. */
    static CommandLine commandLine() {
        return Cli.configure(new CommandLine(new Main()));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
