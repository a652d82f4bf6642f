package io.fiberloop.loop.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.FormattingTuple;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.helpers.NOPLoggerFactory;

/**
 * For the few warnings and errors that must not be lost (a request handler's failure answered with
 * a 500, a stalled loop, a missing JVM flag): they go to the SLF4J logger as usual, but when the
 * application has no SLF4J provider at all, so that SLF4J discards everything, they are written to
 * standard error instead. An application with a provider decides as usual (levels, appenders).
 * Internal to fiberloop: not an API.
 *
 * <p>Threading: any thread.
 */
public final class MustLog {
    private static volatile Boolean nop;

    private MustLog() {
    }

    /**
     * Logs at WARN, or writes to standard error when no SLF4J provider is bound.
     *
     * @param log the logger
     * @param format an SLF4J format ({@code {}} placeholders)
     * @param args its arguments; a last {@link Throwable} is logged with its stack trace
     */
    public static void warn(Logger log, String format, Object... args) {
        if (noProvider()) {
            toStderr("WARN", format, args);
        } else {
            log.warn(format, args);
        }
    }

    /**
     * Logs at ERROR, or writes to standard error when no SLF4J provider is bound.
     *
     * @param log the logger
     * @param format an SLF4J format ({@code {}} placeholders)
     * @param args its arguments; a last {@link Throwable} is logged with its stack trace
     */
    public static void error(Logger log, String format, Object... args) {
        if (noProvider()) {
            toStderr("ERROR", format, args);
        } else {
            log.error(format, args);
        }
    }

    private static boolean noProvider() {
        Boolean n = nop;
        if (n == null) {
            n = LoggerFactory.getILoggerFactory() instanceof NOPLoggerFactory;
            nop = n;
        }
        return n;
    }

    private static void toStderr(String level, String format, Object[] args) {
        FormattingTuple m = MessageFormatter.arrayFormat(format, args);
        synchronized (System.err) {
            System.err.println("fiberloop " + level + ": " + m.getMessage()); // SLF4J's NOP logger has no name
            if (m.getThrowable() != null) {
                m.getThrowable().printStackTrace(System.err);
            }
        }
    }
}
