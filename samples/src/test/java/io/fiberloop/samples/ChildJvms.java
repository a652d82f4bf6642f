package io.fiberloop.samples;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** How the samples' tests start a child JVM like their own, and read what it prints. */
final class ChildJvms {
    private ChildJvms() {
    }

    /**
     * {@code java <flags> -cp <classPath> <mainClass> <args>}: this JVM's {@code java} and those of
     * its flags (surefire's argLine, the argument file expanded) that {@code keepFlag} accepts;
     * agents are never passed on.
     */
    static List<String> command(Predicate<String> keepFlag, String classPath, String mainClass, List<String> args) {
        return command(keepFlag, List.of(), classPath, mainClass, args);
    }

    /** As {@link #command(Predicate, String, String, List)}, with {@code extraFlags} after this JVM's kept flags. */
    static List<String> command(Predicate<String> keepFlag, List<String> extraFlags, String classPath, String mainClass,
            List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String flag : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!flag.startsWith("-javaagent") && !flag.startsWith("-agentlib") && !flag.startsWith("-agentpath")
                    && keepFlag.test(flag)) {
                cmd.add(flag);
            }
        }
        cmd.addAll(extraFlags);
        cmd.addAll(List.of("-cp", classPath, mainClass));
        cmd.addAll(args);
        return cmd;
    }

    /** Everything {@code in} delivers until its end, as UTF-8; closes it. */
    static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
