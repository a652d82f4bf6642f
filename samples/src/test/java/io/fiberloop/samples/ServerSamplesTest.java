package io.fiberloop.samples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The echo, chat, proxy and HTTP samples, each run from the samples' command line in a child JVM
 * (they stop only on a signal) on a free port, and served to plain {@link Socket}s (the HTTP demo
 * to the JDK's {@link HttpClient}).
 */
@Timeout(90)
class ServerSamplesTest {
    /** The bound on every single wait: a line, a reply, a process start or exit. */
    private static final long WAIT_SECONDS = 20;
    /** The size of one write of {@link #exchange}. */
    private static final int CHUNK = 64 * 1024;
    /** How the samples announce their port once they listen (the HTTP demo as a URL). */
    private static final Pattern LISTENING = Pattern.compile("listening on (?:http://)?127\\.0\\.0\\.1:(\\d+) ");

    // ------------------------------------------------------------------ echo

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"reads", "fiber"})
    void echoSendsBackWhatEachClientSendsAndClosesAfterItsEndOfStream(String mode) throws Exception {
        try (Sample echo = Sample.start("echo", "--port", "0", "--mode", mode);
             Socket a = echo.connect();
             Socket b = echo.connect()) {
            assertTrue(echo.banner.contains(mode), echo.banner);
            // two connections at once, interleaved: an idle one holds up nobody
            roundTrip(a, "hello from a");
            roundTrip(b, "hello from b");
            roundTrip(a, "again from a");
            byte[] big = payload(4 << 20, 1);
            assertArrayEquals(big, exchange(b, big), "4 MiB echoed through b");
            roundTrip(a, "a is still served");
            a.shutdownOutput();
            assertEquals(-1, a.getInputStream().read(), "after the client's end of stream the server closes");
            roundTrip(b, "b outlives a");
            // stopped with b still connected: the shutdown hook's TcpServer.close() closes it (reads: at
            // once, it is idle; fiber: after the grace period of 5 s for b's handler, then cancelled)
            echo.stopAndCheck();
        }
    }

    // ------------------------------------------------------------------ http

    @Test
    void httpDemoAnswersItsIndexItsRoutesAndA404WithTheJdkClient() throws Exception {
        try (Sample http = Sample.start("http", "--port", "0");
             HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(WAIT_SECONDS)).build()) {
            String base = "http://127.0.0.1:" + http.port;
            HttpResponse<String> index = get(client, base + "/");
            assertEquals(200, index.statusCode(), index.body());
            assertTrue(index.body().contains("GET /users/{id}"), "the index lists the routes: " + index.body());
            HttpResponse<String> user = get(client, base + "/users/42");
            assertEquals(200, user.statusCode(), user.body());
            assertEquals("{\"id\":\"42\"}", user.body());
            HttpResponse<String> echo = client.send(HttpRequest.newBuilder(URI.create(base + "/echo"))
                    .POST(HttpRequest.BodyPublishers.ofString("hello, fibers")).timeout(Duration.ofSeconds(WAIT_SECONDS)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, echo.statusCode());
            assertEquals("hello, fibers", echo.body(), "the README's POST /echo streams the body back");
            HttpResponse<String> slow = get(client, base + "/slow?ms=abc");
            assertEquals(400, slow.statusCode(), "a malformed parameter is the client's error: " + slow.body());
            HttpResponse<String> missing = get(client, base + "/nowhere");
            assertEquals(404, missing.statusCode(), missing.body());
            assertEquals(200, get(client, base + "/plaintext").statusCode(), "still serving after the errors");
            HttpResponse<String> metrics = get(client, base + "/metrics");
            assertEquals(200, metrics.statusCode(), metrics.body());
            assertTrue(metrics.body().contains("http_server_requests_seconds_count{method=\"GET\",outcome=\"SUCCESS\",port=\""
                    + http.port + "\",status=\"200\",uri=\"/users/{id}\"} 1"), metrics.body());
            assertTrue(metrics.body().contains("fiberloop_loop_tasks_total{loop=\"http-loop\"}"), metrics.body());
            HttpResponse<String> health = get(client, base + "/health");
            assertEquals(200, health.statusCode(), health.body());
            assertTrue(health.body().startsWith("{\"status\":\"UP\""), health.body());
            Matcher management = MANAGEMENT.matcher(http.output());
            assertTrue(management.find(), http.output());
            String mbase = "http://127.0.0.1:" + management.group(1);
            HttpResponse<String> probe = get(client, mbase + "/health");
            assertEquals(200, probe.statusCode(), probe.body());
            assertTrue(probe.body().contains("\"name\":\"http-loop\""), "the management server watches the HTTP loop: " + probe.body());
            assertTrue(get(client, mbase + "/metrics").body().contains("fiberloop_loop_stalled{loop=\"http-loop\"} 0.0"));
            HttpResponse<String> fibers = get(client, mbase + "/debug/fibers");
            assertTrue(fibers.body().contains("loop 'http-loop' ") && fibers.body().contains("loop 'management' "), fibers.body());
            assertTrue(fibers.body().contains("  GET /debug/fibers ["), "the dump's own request, by route: " + fibers.body());
            http.stopAndCheck();
        }
    }

    /** How the HTTP demo announces its management server (before its banner). */
    private static final Pattern MANAGEMENT = Pattern.compile("management server on http://127\\.0\\.0\\.1:(\\d+) ");

    @Test
    void httpDemoServesOnSeveralLoops() throws Exception {
        try (Sample http = Sample.start("http", "--port", "0", "--loops", "2");
             HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(WAIT_SECONDS)).build()) {
            assertTrue(http.banner.contains("2 loops"), http.banner);
            String base = "http://127.0.0.1:" + http.port;
            for (int i = 0; i < 4; i++) {
                HttpResponse<String> user = get(client, base + "/users/" + i);
                assertEquals(200, user.statusCode(), user.body());
                assertEquals("{\"id\":\"" + i + "\"}", user.body());
            }
            http.stopAndCheck();
        }
    }

    private static HttpResponse<String> get(HttpClient client, String uri) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(WAIT_SECONDS)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    // ------------------------------------------------------------------ chat

    /** Matches the chat sample's greeting: {@code welcome, you are guestN; K other(s) here}. */
    private static final Pattern WELCOME = Pattern.compile("welcome, you are (guest\\d+); (\\d+) other\\(s\\) here");

    @Test
    void chatBroadcastsALineToTheOthersButNotBackToItsSender() throws Exception {
        try (Sample chat = Sample.start("chat", "--port", "0");
             LineClient a = new LineClient(chat.connect());
             LineClient b = new LineClient(chat.connect())) {
            Matcher wa = WELCOME.matcher(a.line());
            assertTrue(wa.matches(), "a's greeting: " + a.last);
            assertEquals("0", wa.group(2), "a is alone");
            // a is a member once it is greeted (the server registers it before its writer can write)
            Matcher wb = WELCOME.matcher(b.line());
            assertTrue(wb.matches(), "b's greeting: " + b.last);
            assertEquals("1", wb.group(2), "b finds a there");
            String nameA = wa.group(1);
            String nameB = wb.group(1);
            assertFalse(nameA.equals(nameB), "each client has its own name");
            assertEquals("* " + nameB + " joined", a.line());

            b.send("hello, room");
            assertEquals(nameB + ": hello, room", a.line());
            b.send("   "); // blank lines are not broadcast
            a.send("hi " + nameB);
            // b's next line is a's: b got neither its own line back nor its blank one
            assertEquals(nameA + ": hi " + nameB, b.line());

            b.close();
            // a's next line: b's blank line was not broadcast before b left
            assertEquals("* " + nameB + " left", a.line());
            a.close();
            chat.stopAndCheck();
        }
    }

    // ------------------------------------------------------------------ proxy

    @Test
    void proxyForwardsBothWaysToAnEchoSampleWithBackpressureAndHalfClose() throws Exception {
        try (Sample echo = Sample.start("echo", "--port", "0");
             Sample proxy = Sample.start("proxy", "--port", "0", "--to", "127.0.0.1:" + echo.port)) {
            assertTrue(proxy.banner.contains("-> 127.0.0.1:" + echo.port), proxy.banner);
            try (Socket small = proxy.connect()) {
                roundTrip(small, "through the proxy");
                roundTrip(small, "and once more");
            }
            // a few MiB, read back only once the client's writer is blocked: every hop is then full, the
            // pumps and the echo handler wait in drain() (backpressure), and must resume as it is read
            try (Socket bulk = proxy.connect()) {
                byte[] big = payload(8 << 20, 2);
                assertArrayEquals(big, exchange(bulk, big), "8 MiB through the proxy and the echo server");
                // the client's end of stream reached the echo server through the proxy (a half-close),
                // the echo server closed, and that came back through the proxy as this end of stream
                bulk.shutdownOutput();
                assertEquals(-1, bulk.getInputStream().read());
            }
            proxy.stopAndCheck();
            echo.stopAndCheck();
        }
    }

    /** How much the backpressure test offers the proxy while nobody reads the far end. */
    private static final long OFFERED = 256L << 20;
    /**
     * The most the proxy may have taken from its client before it stops reading: the kernel's
     * buffers on that path (here at most the client's send buffer, 4 MiB, the proxy's receive
     * buffer, which autotuning may grow to 32 MiB, the proxy's send buffer towards the target,
     * 4 MiB, and the target's receive buffer) plus the proxy's bounded read-ahead and one
     * high-water mark. A proxy without backpressure takes all of {@link #OFFERED}.
     */
    private static final long PROXY_BOUND = 64L << 20;

    @Test
    void proxyStopsReadingItsClientWhileItsTargetReadsNothingThenForwardsEverythingInOrder() throws Exception {
        try (ServerSocket target = new ServerSocket()) {
            target.setReceiveBufferSize(64 * 1024); // before bind: the accepted socket inherits it
            target.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            target.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            try (Sample proxy = Sample.start("proxy", "--port", "0", "--to", "127.0.0.1:" + target.getLocalPort());
                 Socket client = proxy.connect();
                 Socket far = target.accept()) {
                far.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                Writer writer = Writer.start(client, OFFERED, (off, chunk) -> {
                    for (int i = 0; i < chunk.length; i++) {
                        chunk[i] = patternAt(off + i);
                    }
                    return chunk.length;
                });
                writer.awaitBlockedOrDone();
                // The writer is blocked. With backpressure it stays blocked for as long as the far end
                // reads nothing, so this bounded wait for its end must run out; a proxy that buffers
                // what it cannot forward would take the rest of OFFERED meanwhile (and on a machine too
                // slow for that, the bound below still catches it).
                assertThrows(TimeoutException.class, () -> writer.done.get(1, TimeUnit.SECONDS),
                        () -> "the proxy took all " + OFFERED + " bytes while its target read none: no backpressure");
                long taken = writer.sent.get();
                assertTrue(taken < PROXY_BOUND, "the proxy took " + taken + " bytes while its target read none (bound "
                        + PROXY_BOUND + "): it buffers instead of applying backpressure");
                // Now the far end reads: everything arrives, in order, and the writer finishes.
                InputStream in = far.getInputStream();
                byte[] buf = new byte[CHUNK];
                long pos = 0;
                for (int n; pos < OFFERED && (n = in.read(buf)) > 0; pos += n) {
                    for (int i = 0; i < n; i++) {
                        if (buf[i] != patternAt(pos + i)) {
                            fail("byte " + (pos + i) + " came through the proxy as " + buf[i] + ", expected " + patternAt(pos + i));
                        }
                    }
                }
                assertEquals(OFFERED, pos, "bytes forwarded once the target read");
                writer.done.get(WAIT_SECONDS, TimeUnit.SECONDS);
                // the client's end of stream is passed on as a half-close
                client.shutdownOutput();
                assertEquals(-1, in.read(), "the client's end of stream reached the target");
                far.close();
                assertEquals(-1, client.getInputStream().read(), "the target's close came back as the client's end of stream");
                proxy.stopAndCheck();
            }
        }
    }

    /** The byte at {@code pos} of the backpressure test's stream: it depends on all of pos's low 32 bits, so a lost, repeated or reordered chunk shows. */
    private static byte patternAt(long pos) {
        return (byte) (pos ^ (pos >>> 8) ^ (pos >>> 16) ^ (pos >>> 24) ^ 0x5a);
    }

    // ------------------------------------------------------------------ helpers

    /** Sends {@code text} and reads exactly as many bytes back, expecting the same. */
    private static void roundTrip(Socket s, String text) throws IOException {
        byte[] sent = text.getBytes(StandardCharsets.UTF_8);
        s.getOutputStream().write(sent);
        s.getOutputStream().flush();
        byte[] back = s.getInputStream().readNBytes(sent.length);
        assertEquals(text, new String(back, StandardCharsets.UTF_8));
    }

    /**
     * Writes {@code data} from another thread and reads the same number of bytes back. Reading
     * starts only once the writer is blocked (or done): by then the buffers between here and the
     * far end are full, so every hop waits in its {@code drain()} and must be woken as the reply
     * flows again. (A client that wrote everything before reading would deadlock with any server
     * that applies backpressure.)
     */
    private static byte[] exchange(Socket s, byte[] data) throws Exception {
        Writer writer = Writer.start(s, data.length, (off, chunk) -> {
            int n = (int) Math.min(chunk.length, data.length - off);
            System.arraycopy(data, (int) off, chunk, 0, n);
            return n;
        });
        writer.awaitBlockedOrDone();
        byte[] back = s.getInputStream().readNBytes(data.length);
        writer.done.get(WAIT_SECONDS, TimeUnit.SECONDS);
        return back;
    }

    /** Fills {@code chunk} with the stream's bytes from {@code offset} on; returns how many it filled. */
    private interface ChunkSource {
        int fill(long offset, byte[] chunk);
    }

    /** A virtual thread writing a stream to a socket, {@link #CHUNK} bytes at a time, counting what it wrote. */
    private record Writer(Thread thread, AtomicLong sent, CompletableFuture<Void> done) {
        static Writer start(Socket s, long total, ChunkSource source) {
            AtomicLong sent = new AtomicLong();
            CompletableFuture<Void> done = new CompletableFuture<>();
            Thread t = Thread.ofVirtual().name("test-writer").start(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    byte[] chunk = new byte[CHUNK];
                    for (long off = 0; off < total; ) {
                        int n = source.fill(off, chunk);
                        out.write(chunk, 0, n);
                        off += n;
                        sent.addAndGet(n);
                    }
                    out.flush();
                    done.complete(null);
                } catch (Throwable e) {
                    done.completeExceptionally(e);
                }
            });
            return new Writer(t, sent, done);
        }

        /**
         * Waits until the writer is blocked in a socket write (a parked virtual thread is
         * WAITING) after writing something, or has ended. The test's {@code @Timeout} bounds the wait.
         */
        void awaitBlockedOrDone() {
            while (!done.isDone() && !(thread.getState() == Thread.State.WAITING && sent.get() > 0)) {
                Thread.yield(); // two cores: leave them to the samples
            }
        }
    }

    private static byte[] payload(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** A chat client: reads lines with a bounded wait. */
    private static final class LineClient implements AutoCloseable {
        private final Socket socket;
        private final BufferedReader in;
        String last;

        LineClient(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        }

        /** The next line (the socket's read timeout bounds the wait). */
        String line() throws IOException {
            last = in.readLine();
            assertNotNull(last, "the chat server closed the connection");
            return last;
        }

        void send(String line) throws IOException {
            socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /**
     * A sample running in a child JVM started as the tests are (the same {@code java}, class path
     * and JVM flags), with its output collected. Stopping it sends SIGTERM, which runs the sample's
     * shutdown hook as Ctrl-C does.
     */
    private static final class Sample implements AutoCloseable {
        private static final String EOF = "\u0000end of output";
        final String name;
        final Process process;
        final int port;
        final String banner;
        private final StringBuffer output;
        private final CompletableFuture<Void> outputEnded;

        private Sample(String name, Process process, StringBuffer output, BlockingQueue<String> lines,
                CompletableFuture<Void> outputEnded) throws InterruptedException {
            this.name = name;
            this.process = process;
            this.output = output;
            this.outputEnded = outputEnded;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            Matcher m;
            String line;
            do {
                line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (line == null || line.equals(EOF)) {
                    fail(name + (line == null ? " did not say that it listens within " + WAIT_SECONDS + " s" : " ended")
                            + "; its output:\n" + output);
                }
                m = LISTENING.matcher(line);
            } while (!m.find());
            this.banner = line;
            this.port = Integer.parseInt(m.group(1));
            assertTrue(port > 0, line);
        }

        /** Starts {@code java ... io.fiberloop.samples.Main args} and waits until it listens. */
        static Sample start(String... args) throws IOException, InterruptedException {
            List<String> cmd = ChildJvms.command(flag -> true, System.getProperty("java.class.path"), Main.class.getName(),
                    List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            StringBuffer output = new StringBuffer();
            CompletableFuture<Void> ended = new CompletableFuture<>();
            Thread.ofPlatform().daemon().name(args[0] + "-output").start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        output.append(l).append('\n');
                        lines.add(l);
                    }
                } catch (IOException e) {
                    output.append("[reading the output failed: ").append(e).append("]\n");
                } finally {
                    lines.add(EOF);
                    ended.complete(null);
                }
            });
            try {
                return new Sample(args[0], p, output, lines, ended);
            } catch (Throwable t) {
                p.destroyForcibly();
                throw t;
            }
        }

        /** @return what the sample printed so far */
        String output() {
            return output.toString();
        }

        Socket connect() throws IOException {
            Socket s = new Socket();
            s.connect(new InetSocketAddress("127.0.0.1", port), (int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            return s;
        }

        /**
         * Stops the sample (SIGTERM) and checks that its shutdown hook ended it promptly, and
         * that it reported no error and no leaked buffer meanwhile.
         */
        void stopAndCheck() throws Exception {
            // SIGTERM through the handle: Process.destroy() would also close our end of the output
            // pipe, and a reader still behind would fail with "Stream closed" and miss the shutdown's output
            process.toHandle().destroy();
            assertTrue(process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS),
                    name + " did not stop within " + WAIT_SECONDS + " s of SIGTERM; its output:\n" + output);
            outputEnded.get(WAIT_SECONDS, TimeUnit.SECONDS);
            String out = output.toString();
            assertFalse(out.contains("LEAK:"), name + " leaked buffers:\n" + out);
            assertFalse(out.contains(" ERROR ") || out.contains("Exception"), name + " reported an error:\n" + out);
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(WAIT_SECONDS, TimeUnit.SECONDS);
                }
            }
        }
    }
}
