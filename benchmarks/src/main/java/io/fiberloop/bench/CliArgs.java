package io.fiberloop.bench;

import java.util.Set;
import java.util.function.BiConsumer;

/** The command lines of the load harnesses ({@link EchoLoad}, {@link HttpLoad}): options, values, help. */
final class CliArgs {
    private CliArgs() {
    }

    /**
     * Walks {@code args}: {@code -h}/{@code --help} prints {@code usage} and exits; each of
     * {@code flags} goes to {@code onOption} with a {@code null} value; each of {@code valued} with
     * its value, given as {@code --name=value} or {@code --name value}. Anything else is an error.
     *
     * @throws IllegalArgumentException for an unknown option or a missing value
     */
    static void parse(String[] args, Set<String> flags, Set<String> valued, Runnable usage, BiConsumer<String, String> onOption) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                v = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            if (a.equals("-h") || a.equals("--help")) {
                usage.run();
                System.exit(0);
            } else if (flags.contains(a)) {
                onOption.accept(a, null);
            } else if (valued.contains(a)) {
                if (v == null) {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(a + " needs a value");
                    }
                    v = args[++i];
                }
                onOption.accept(a, v);
            } else {
                throw new IllegalArgumentException("unknown option " + a + " (--help)");
            }
        }
    }
}
