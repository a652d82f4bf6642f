package io.fiberloop.samples;

import java.lang.reflect.InvocationTargetException;

/**
 * The samples jar's {@code Main-Class}, compiled for Java 8 so that any {@code java} can load it:
 * on a Java older than 25 it prints one line that says what to do and exits with 1, instead of the
 * JVM's {@code UnsupportedClassVersionError} for {@link Main}; on Java 25 or newer it runs
 * {@link Main}. Reflection keeps this class free of references to classes compiled for Java 25.
 */
public final class Launcher {
    /** The oldest Java that fiberloop runs on. */
    static final int REQUIRED = 25;

    private Launcher() {
    }

    /**
     * Checks the Java version, then runs the samples' {@code Main} with {@code args}.
     *
     * @param args the command line
     * @throws Throwable whatever {@code Main} throws
     */
    public static void main(String[] args) throws Throwable {
        int feature = feature(System.getProperty("java.specification.version"));
        if (feature < REQUIRED) {
            System.err.println("fiberloop needs Java " + REQUIRED + "; use ./fiberloop or set JAVA_HOME (this java is "
                    + System.getProperty("java.version") + " at " + System.getProperty("java.home") + ")");
            System.exit(1);
        }
        try {
            Class.forName("io.fiberloop.samples.Main").getMethod("main", String[].class).invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** The feature version in {@code java.specification.version}: "1.8" is 8, "17" is 17. */
    static int feature(String spec) {
        String s = spec.startsWith("1.") ? spec.substring(2) : spec;
        int end = 0;
        while (end < s.length() && Character.isDigit(s.charAt(end))) {
            end++;
        }
        return end == 0 ? 0 : Integer.parseInt(s.substring(0, end));
    }
}
