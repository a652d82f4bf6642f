package io.fiberloop.netty.http;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real clients for the web-feature tests: the JDK's {@code java.net.http.HttpClient}, and
 * programs no one here wrote (curl, node, python3, chromium) run as child processes with a time
 * limit.
 */
final class WebClients {
    static final java.net.http.HttpClient JDK = java.net.http.HttpClient.newBuilder()
            .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    private WebClients() {
    }

    static java.net.http.HttpResponse<String> get(int port, String path, String... headers) throws IOException, InterruptedException {
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return JDK.send(b.build(), BodyHandlers.ofString());
    }

    static java.net.http.HttpResponse<byte[]> getBytes(int port, String path, String... headers) throws IOException, InterruptedException {
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return JDK.send(b.build(), BodyHandlers.ofByteArray());
    }

    static java.net.http.HttpResponse<String> send(int port, String method, String path, byte[] body, String... headers)
            throws IOException, InterruptedException {
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20)).method(method, BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return JDK.send(b.build(), BodyHandlers.ofString());
    }

    /** What a child process printed, and how it ended. */
    record Run(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
        }
    }

    /** Runs {@code command} with a time limit (killed past it), its input empty. */
    static Run run(Duration limit, Path dir, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("web-client", ".out");
        Path err = Files.createTempFile("web-client", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            if (dir != null) {
                pb.directory(dir.toFile());
            }
            Process p = pb.start();
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor();
                return new Run(-1, Files.readString(out), Files.readString(err) + "\n(killed after " + limit + ")");
            }
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Whether {@code program} is on the PATH. */
    static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    /** curl with the given arguments (fails the run if curl is missing: it is on every machine of the project). */
    static Run curl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("curl");
        cmd.add("-sS");
        cmd.add("--max-time");
        cmd.add("20");
        cmd.addAll(List.of(args));
        return run(Duration.ofSeconds(30), null, cmd.toArray(String[]::new));
    }
}
