package io.fiberloop.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The machine-readable result of one harness invocation, written as one JSON file: the command,
 * the commit, the machine, the options, and per cell every round's figures and the summary
 * (medians, ratios, verdicts). {@link Charts} renders these files. Harness thread only.
 */
final class ResultsFile {
    /** The file format's version, for readers. */
    static final int FORMAT = 1;
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

    /**
     * One cell of the run.
     *
     * @param name e.g. {@code http -c100}
     * @param operation what one operation is: {@code req} or {@code rt}
     * @param params the cell's parameters (connections, size, ...)
     * @param runs every completed run, in the order they ran
     * @param summary the medians, ratios and verdicts
     */
    record Cell(String name, String operation, Map<String, Object> params, List<Sample> runs, CellSummary summary) {
    }

    private final String harness;
    private final List<String> args;
    private final Instant started = Instant.now();
    /** Read when the run starts: the work tree may change while it runs (the jar does not). */
    private final String commit = commit();
    private final Map<String, Object> options;
    private final List<Cell> cells = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private final List<String> discarded = new ArrayList<>();

    /**
     * @param harness the harness's name, {@code HttpLoad} or {@code EchoLoad}
     * @param args its command-line arguments
     * @param options the options in effect (defaults included)
     */
    ResultsFile(String harness, List<String> args, Map<String, Object> options) {
        this.harness = harness;
        this.args = List.copyOf(args);
        this.options = options;
    }

    void add(Cell cell) {
        cells.add(cell);
    }

    /** Records a run that failed (it has no figures). */
    void fail(String what) {
        failures.add(what);
    }

    /** Records a run that was discarded and run again (it was disturbed by other load). */
    void discard(String what) {
        discarded.add(what);
    }

    /** The document, as it is written. */
    Map<String, Object> document(Instant finished) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("format", FORMAT);
        doc.put("harness", harness);
        doc.put("command", "java -cp benchmarks/target/benchmarks.jar io.fiberloop.bench." + harness
                + (args.isEmpty() ? "" : " " + String.join(" ", args)));
        doc.put("commit", commit);
        doc.put("started", started.toString());
        doc.put("finished", finished.toString());
        doc.put("wallSeconds", Duration.between(started, finished).toSeconds());
        doc.put("machine", machine());
        doc.put("options", options);
        doc.put("cells", cells);
        doc.put("failures", failures);
        doc.put("discarded", discarded);
        return doc;
    }

    /** The JSON text of {@link #document}. */
    String json(Instant finished) throws IOException {
        return mapper().writeValueAsString(document(finished));
    }

    /**
     * Writes the file (creating its directory) and returns its path.
     *
     * @param out the path asked for, or null for {@link #defaultPath}
     */
    Path write(Path out) throws IOException {
        Path file = out != null ? out : defaultPath(harness, started);
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        Files.writeString(file, json(Instant.now()), StandardCharsets.UTF_8);
        return file;
    }

    static ObjectMapper mapper() {
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .enable(SerializationFeature.WRITE_ENUMS_USING_TO_STRING);
    }

    /** {@code benchmarks/results/<harness>-<UTC stamp>.json} under the git work tree, or under the current directory. */
    static Path defaultPath(String harness, Instant when) {
        String top = git("rev-parse", "--show-toplevel");
        Path base = top == null ? Path.of("benchmarks", "results") : Path.of(top, "benchmarks", "results");
        return base.resolve(harness + "-" + STAMP.format(when) + ".json");
    }

    /** The checked-out commit, {@code +dirty} when the work tree has changes, or {@code unknown}. */
    static String commit() {
        String head = git("rev-parse", "--short=12", "HEAD");
        if (head == null) {
            return "unknown";
        }
        String status = git("status", "--porcelain", "--untracked-files=no");
        return status == null || status.isEmpty() ? head : head + "+dirty";
    }

    /** The machine's facts: CPUs, CPU model, kernel, Java. */
    static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpus", Runtime.getRuntime().availableProcessors());
        m.put("cpuModel", cpuModel());
        m.put("kernel", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("java", Runtime.version().toString());
        m.put("vm", System.getProperty("java.vm.name") + " (" + System.getProperty("java.vm.vendor") + ")");
        return m;
    }

    private static String cpuModel() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    return l.substring(l.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException ignored) {
            // not Linux
        }
        return "unknown";
    }

    /** The trimmed output of a git command, or null when git is missing or fails. */
    private static String git(String... args) {
        List<String> cmd = new ArrayList<>(List.of("git"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
