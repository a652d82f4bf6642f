package io.fiberloop.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.fiberloop.netty.http.HttpResponse;
import io.fiberloop.netty.http.HttpServer;
import java.io.File;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * fiberloop on the module path with the flags of {@code fiberloop-modulepath.jvmopts}, read from
 * fiber-scheduler's jar where users find it: fiberloop's, Netty's, SLF4J's and JCTools' jars are
 * modules, {@link Child} (in the unnamed module) serves and fetches one HTTP request. Fibers start
 * (java.lang is opened to fiberloop's modules), the native transport is found (its module added),
 * and the JDK prints no warning (native access enabled for io.netty.common).
 */
@Timeout(60)
class ModulePathTest {

    @Test
    void theModulePathFlagsServeARequestOnTheNativeTransportWithoutWarnings(@TempDir Path dir) throws Exception {
        Path argFile = dir.resolve("fiberloop-modulepath.jvmopts");
        try (InputStream in = NettyLoops.class.getClassLoader().getResourceAsStream("META-INF/fiberloop/fiberloop-modulepath.jvmopts")) {
            assertTrue(in != null, "fiber-scheduler's jar carries META-INF/fiberloop/fiberloop-modulepath.jvmopts");
            Files.copy(in, argFile);
        }
        List<String> entries = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        String modules = entries.stream()
                .filter(e -> e.contains("/io/netty/") || e.contains("/org/slf4j/") || e.contains("/org/jctools/")
                        || e.contains("loop-core") || e.contains("fiber-scheduler") || e.contains("netty-bridge"))
                .collect(Collectors.joining(File.pathSeparator));
        String testClasses = entries.stream().filter(e -> e.endsWith("test-classes")).findFirst().orElseThrow();
        List<String> cmd = ChildJvms.command(flag -> flag.startsWith("-Dio.netty.leakDetection"),
                List.of("@" + argFile, "-p", modules, "--add-modules", "ALL-MODULE-PATH"), testClasses, Child.class.getName(), List.of());
        Process p = new ProcessBuilder(cmd).start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> ChildJvms.read(p.getInputStream()));
        String err = ChildJvms.read(p.getErrorStream());
        assertTrue(p.waitFor(40, TimeUnit.SECONDS), "the child JVM ended");
        assertEquals(0, p.exitValue(), "stdout:\n" + out.join() + "\nstderr:\n" + err);
        NettyTransport best = NettyTransport.IO_URING.isAvailable() ? NettyTransport.IO_URING
                : NettyTransport.EPOLL.isAvailable() ? NettyTransport.EPOLL : NettyTransport.NIO;
        assertEquals("200 hello from the module path on " + best.id() + ", fiberloop in a named module: true", out.join().strip());
        assertTrue(!err.contains("WARNING"), "no JDK warning:\n" + err);
    }

    /** The child: an HTTP server on a fiberloop loop, asked once. */
    static final class Child {
        private Child() {
        }

        public static void main(String[] args) throws Exception {
            HttpServer server = HttpServer.builder().host("127.0.0.1").port(0)
                    .get("/", req -> HttpResponse.text("hello from the module path"))
                    .start();
            try (HttpClient client = HttpClient.newHttpClient()) {
                var res = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/"))
                        .timeout(Duration.ofSeconds(20)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                System.out.println(res.statusCode() + " " + res.body() + " on " + NettyLoops.transport(server.loop()).id()
                        + ", fiberloop in a named module: " + HttpServer.class.getModule().isNamed());
            } finally {
                server.close();
            }
            System.exit(0);
        }
    }
}
