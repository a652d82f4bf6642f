package io.fiberloop.samples;

import io.fiberloop.netty.NettyTransport;
import java.io.PrintWriter;
import java.lang.reflect.InaccessibleObjectException;
import java.net.BindException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.TypeConversionException;

/**
 * What every sample command shares on the command line: option converters that reject bad values
 * with one line, the version (from the jar's manifest), and the error handlers that turn the
 * errors a user can fix (a bad option, a port in use, a missing JVM flag) into one line on standard
 * error instead of a stack trace. Unexpected errors keep their stack trace.
 */
final class Cli {
    /** Exit code of an error the user can fix by running the command differently. */
    static final int EXIT_ERROR = 1;

    private Cli() {
    }

    /** A sample that listens on a TCP port of 127.0.0.1, named in its errors. */
    interface Listening {
        /** {@return the port the command line asked for (0: any free one)} */
        int port();
    }

    /** Applies the converters, the version and the error handlers to {@code cli} and its subcommands. */
    static CommandLine configure(CommandLine cli) {
        cli.registerConverter(NettyTransport.class, new TransportConverter());
        cli.setParameterExceptionHandler(new OneLineParameterErrors());
        cli.setExecutionExceptionHandler(new OneLineExecutionErrors());
        useManifestVersion(cli);
        return cli;
    }

    private static void useManifestVersion(CommandLine cli) {
        cli.getCommandSpec().versionProvider(new ManifestVersion());
        cli.getSubcommands().values().forEach(Cli::useManifestVersion);
    }

    /** The samples' version: the jar manifest's {@code Implementation-Version}. */
    static String version() {
        String v = Cli.class.getPackage().getImplementationVersion();
        return "fiberloop samples " + (v != null ? v : "(development build: not run from a jar)");
    }

    /** {@code -V} of every command. */
    static final class ManifestVersion implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {version() + ", Java " + Runtime.version()};
        }
    }

    /** {@code --port}: 0 to 65535. */
    static final class PortConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int port;
            try {
                port = Integer.parseInt(value.trim());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not a port number: use 1 to 65535, or 0 for any free port");
            }
            if (port < 0 || port > 65535) {
                throw new TypeConversionException(port + " is not a port number: use 1 to 65535, or 0 for any free port");
            }
            return port;
        }
    }

    /** {@code --transport}: a transport by name, refused unless this machine has it. */
    static final class TransportConverter implements ITypeConverter<NettyTransport> {
        @Override
        public NettyTransport convert(String value) {
            NettyTransport t;
            try {
                t = NettyTransport.of(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
            if (!t.isAvailable()) {
                throw new TypeConversionException("transport '" + t.id() + "' is not available here ("
                        + t.unavailabilityReason() + "); leave --transport out to use the best available");
            }
            return t;
        }
    }

    /** A bad command line: one line naming the command and the problem, then where help is. */
    static final class OneLineParameterErrors implements IParameterExceptionHandler {
        @Override
        public int handleParseException(ParameterException ex, String[] args) {
            CommandLine cli = ex.getCommandLine();
            PrintWriter err = cli.getErr();
            String name = cli.getCommandSpec().qualifiedName();
            err.println(name + ": " + ex.getMessage() + " (see '" + name + " --help')");
            err.flush();
            return cli.getCommandSpec().exitCodeOnInvalidInput();
        }
    }

    /** A failure while a command ran: one line for what the user can fix, else the stack trace. */
    static final class OneLineExecutionErrors implements IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception ex, CommandLine cli, ParseResult parsed) throws Exception {
            String line = oneLine(ex, cli.getCommand());
            if (line == null) {
                throw ex; // unexpected: picocli prints the stack trace
            }
            PrintWriter err = cli.getErr();
            err.println(cli.getCommandSpec().qualifiedName() + ": " + line);
            err.flush();
            return EXIT_ERROR;
        }
    }

    /** Returns what {@code start} returns; if it throws, closes {@code resource} (the loops it would have used) first. */
    static <T> T closingOnFailure(AutoCloseable resource, Callable<T> start) throws Exception {
        try {
            return start.call();
        } catch (Exception | Error e) {
            try {
                resource.close();
            } catch (Exception c) {
                e.addSuppressed(c);
            }
            throw e;
        }
    }

    /** The one line for {@code error} of {@code command}, or {@code null} if it is unexpected. */
    static String oneLine(Throwable error, Object command) {
        String where = command instanceof Listening l ? "port " + l.port() + " on 127.0.0.1" : "the port";
        for (Throwable t = error; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage());
            boolean bind = t instanceof BindException || m.startsWith("bind(") || m.startsWith("cannot bind");
            if (bind && m.contains("Permission denied")) {
                return "may not listen on " + where + " (ports below 1024 need privileges): pick another with --port";
            }
            if (bind || m.contains("Address already in use")) {
                return where + " is already in use: stop the program listening there, or pick another port with --port "
                        + "(0 picks a free one)";
            }
            if (t instanceof IllegalStateException && t.getCause() instanceof InaccessibleObjectException) {
                return m; // a missing JVM flag: the message says which and how to add it
            }
        }
        return null;
    }
}
