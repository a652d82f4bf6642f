package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.netty.NoLeaks;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Static files from a directory, the class path and a jar: caching, ranges, index files, traversal attempts. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StaticFilesTest {
    @TempDir
    static Path tmp;
    static Path root;
    static byte[] big;
    static Served served;
    static URLClassLoader jarLoader;

    @BeforeAll
    static void start() throws Exception {
        root = Files.createDirectories(tmp.resolve("public"));
        Files.writeString(root.resolve("index.html"), "<h1>home</h1>");
        Files.writeString(root.resolve("app.js"), "console.log('hi');");
        Files.writeString(root.resolve(".secret-dotfile"), "hidden");
        Files.createDirectories(root.resolve("docs"));
        Files.writeString(root.resolve("docs/index.html"), "<h1>docs</h1>");
        big = new byte[1024 * 1024 + 17];
        new Random(7).nextBytes(big);
        Files.write(root.resolve("big.bin"), big);
        Files.writeString(tmp.resolve("secret.txt"), "outside the root");
        Files.createSymbolicLink(root.resolve("escape.txt"), tmp.resolve("secret.txt"));
        Files.createSymbolicLink(root.resolve("inside.js"), root.resolve("app.js"));
        Path jar = tmp.resolve("assets.jar");
        try (JarOutputStream j = new JarOutputStream(Files.newOutputStream(jar))) {
            j.putNextEntry(new JarEntry("web/"));
            j.putNextEntry(new JarEntry("web/style.css"));
            j.write("body { color: red }".getBytes(StandardCharsets.UTF_8));
            j.putNextEntry(new JarEntry("web/index.html"));
            j.write("<h1>jar</h1>".getBytes(StandardCharsets.UTF_8));
        }
        jarLoader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null);
        served = Served.start("static", b -> b
                .get("/static/*", StaticFiles.directory(root).cacheControl("max-age=60"))
                .get("/cp/*", StaticFiles.classpath("static"))
                .get("/jar/*", StaticFiles.classpath("/web/", jarLoader)));
    }

    @AfterAll
    static void stop() throws Exception {
        served.close();
        jarLoader.close();
    }

    static String url(String path) {
        return "http://127.0.0.1:" + served.port() + path;
    }

    @Test
    void filesWithTypesAndIndexes() throws Exception {
        var js = WebClients.get(served.port(), "/static/app.js");
        assertEquals(200, js.statusCode());
        assertEquals("console.log('hi');", js.body());
        assertEquals("text/javascript; charset=UTF-8", js.headers().firstValue("Content-Type").orElse(null));
        assertEquals("max-age=60", js.headers().firstValue("Cache-Control").orElse(null));
        assertEquals("<h1>home</h1>", WebClients.get(served.port(), "/static/").body());
        assertEquals("<h1>docs</h1>", WebClients.get(served.port(), "/static/docs/").body());
        WebClients.Run redirect = WebClients.curl("-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", url("/static/docs?x=1"));
        assertEquals("301 " + url("/static/docs/?x=1"), redirect.out());
        assertEquals("console.log('hi');", WebClients.get(served.port(), "/static/inside.js").body(), "a link inside the root is served");
        var big1 = WebClients.getBytes(served.port(), "/static/big.bin");
        assertArrayEquals(big, big1.body());
        assertEquals("application/octet-stream", big1.headers().firstValue("Content-Type").orElse(null));
        assertEquals(404, WebClients.get(served.port(), "/static/nope.txt").statusCode());
        WebClients.Run head = WebClients.curl("-sI", url("/static/big.bin"));
        assertTrue(head.out().toLowerCase().contains("content-length: " + big.length), head.out());
    }

    @Test
    void classpathAndJar() throws Exception {
        assertEquals("hello from the class path\n", WebClients.get(served.port(), "/cp/hello.txt").body());
        assertEquals("<h1>sub index</h1>\n", WebClients.get(served.port(), "/cp/sub/").body());
        var css = WebClients.get(served.port(), "/jar/style.css");
        assertEquals("body { color: red }", css.body());
        assertEquals("text/css; charset=UTF-8", css.headers().firstValue("Content-Type").orElse(null));
        assertEquals("<h1>jar</h1>", WebClients.get(served.port(), "/jar/").body());
        String etag = css.headers().firstValue("ETag").orElseThrow();
        assertEquals(304, WebClients.get(served.port(), "/jar/style.css", "If-None-Match", etag).statusCode());
        var part = WebClients.get(served.port(), "/jar/style.css", "Range", "bytes=5-9");
        assertEquals(206, part.statusCode());
        assertEquals("{ col", part.body());
        assertEquals(404, WebClients.get(served.port(), "/jar/missing.css").statusCode());
    }

    @Test
    void conditionalRequests() throws Exception {
        var first = WebClients.get(served.port(), "/static/app.js");
        String etag = first.headers().firstValue("ETag").orElseThrow();
        String lastModified = first.headers().firstValue("Last-Modified").orElseThrow();
        var byTag = WebClients.get(served.port(), "/static/app.js", "If-None-Match", "\"other\", " + etag);
        assertEquals(304, byTag.statusCode());
        assertEquals("", byTag.body());
        assertEquals(etag, byTag.headers().firstValue("ETag").orElse(null));
        assertEquals(304, WebClients.get(served.port(), "/static/app.js", "If-Modified-Since", lastModified).statusCode());
        assertEquals(200, WebClients.get(served.port(), "/static/app.js", "If-None-Match", "\"other\"").statusCode());
        assertEquals(200, WebClients.get(served.port(), "/static/app.js", "If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT").statusCode());
        WebClients.Run curl = WebClients.curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "If-None-Match: " + etag, url("/static/app.js"));
        assertEquals("304", curl.out());
    }

    @Test
    void ranges() throws Exception {
        var r = WebClients.getBytes(served.port(), "/static/big.bin", "Range", "bytes=100-199");
        assertEquals(206, r.statusCode());
        assertEquals("bytes 100-199/" + big.length, r.headers().firstValue("Content-Range").orElse(null));
        assertArrayEquals(Arrays.copyOfRange(big, 100, 200), r.body());
        var suffix = WebClients.getBytes(served.port(), "/static/big.bin", "Range", "bytes=-10");
        assertArrayEquals(Arrays.copyOfRange(big, big.length - 10, big.length), suffix.body());
        var open = WebClients.getBytes(served.port(), "/static/big.bin", "Range", "bytes=" + (big.length - 5) + "-");
        assertArrayEquals(Arrays.copyOfRange(big, big.length - 5, big.length), open.body());
        var bad = WebClients.getBytes(served.port(), "/static/big.bin", "Range", "bytes=" + big.length + "-");
        assertEquals(416, bad.statusCode());
        assertEquals("bytes */" + big.length, bad.headers().firstValue("Content-Range").orElse(null));
        var multi = WebClients.getBytes(served.port(), "/static/big.bin", "Range", "bytes=0-1,5-6");
        assertEquals(200, multi.statusCode(), "several ranges: the whole file");
        var stale = WebClients.getBytes(served.port(), "/static/big.bin", "Range", "bytes=0-9", "If-Range", "\"stale\"");
        assertEquals(200, stale.statusCode(), "If-Range that does not match: the whole file");
        Path out = tmp.resolve("curl-range.bin");
        WebClients.Run curl = WebClients.curl("-s", "-r", "1000-1999", "-o", out.toString(), "-w", "%{http_code}", url("/static/big.bin"));
        assertEquals("206", curl.out());
        assertArrayEquals(Arrays.copyOfRange(big, 1000, 2000), Files.readAllBytes(out));
    }

    @Test
    void traversalNeverLeavesTheRoot() throws Exception {
        String[] attempts = {
            "/static/../secret.txt",
            "/static/%2e%2e/secret.txt",
            "/static/%2E%2E/secret.txt",
            "/static/%2e%2e%2fsecret.txt",
            "/static/docs/..%2f..%2fsecret.txt",
            "/static/..%5csecret.txt",
            "/static/.%2e/secret.txt",
            "/static/escape.txt",
            "/static/.secret-dotfile",
            "/static/%00/secret.txt",
            "/cp/../logback-test.xml",
            "/cp/%2e%2e/logback-test.xml",
            "/jar/../web/style.css",
        };
        for (String a : attempts) {
            try (RawHttp c = new RawHttp(served.port())) {
                c.send("GET " + a + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                RawHttp.Resp r = c.read();
                assertTrue(r.status() == 404 || r.status() == 400, a + " -> " + r.status() + " " + r.text());
                assertTrue(!r.text().contains("outside the root") && !r.text().contains("hidden") && !r.text().contains("<configuration>"),
                        a + " leaked: " + r.text());
            }
        }
        WebClients.Run curl = WebClients.curl("-s", "--path-as-is", url("/static/../secret.txt"));
        assertTrue(!curl.out().contains("outside the root"), curl.out());
        assertEquals(null, StaticFiles.clean("a/../b"));
    }

    @Test
    void fileResponse() throws Exception {
        try (Served s = Served.start("file", b -> b.get("/dl", req -> HttpResponse.file(root.resolve("big.bin"))))) {
            try (RawHttp c = new RawHttp(s.port())) {
                c.send(RawHttp.get("/dl"));
                RawHttp.Resp r = c.read();
                assertArrayEquals(big, r.body());
                c.send("HEAD /dl HTTP/1.1\r\nHost: x\r\n\r\n");
                RawHttp.Resp h = c.read(true);
                assertEquals(String.valueOf(big.length), h.header("Content-Length"));
                c.send(RawHttp.get("/dl"));
                assertArrayEquals(big, c.read().body(), "the connection is reused after a file");
            }
        }
    }
}
