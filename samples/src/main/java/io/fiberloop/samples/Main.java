package io.fiberloop.samples;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The samples jar's entry point: {@code java -jar samples/target/fiberloop-samples.jar <command>}.
 * Each sample is a subcommand with its own {@code --help}.
 */
@Command(name = "fiberloop-samples", mixinStandardHelpOptions = true, version = "fiberloop samples 0.1.0",
        description = "Runnable demos of fiberloop.",
        subcommands = {LoopDemo.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    private Main() {
    }

    /**
     * Runs the sample named by the first argument.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        int code = new CommandLine(new Main()).execute(args);
        System.exit(code);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
