package io.fiberloop.netty.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.netty.NoLeaks;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.InflaterInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Response compression negotiated by Accept-Encoding (curl and the JDK client), and gzip request bodies with a zip-bomb limit. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CompressionTest {
    @TempDir
    static Path tmp;
    static Served served;
    static final String TEXT = "All work and no play makes Jack a dull boy.\n".repeat(500);

    @BeforeAll
    static void start() throws Exception {
        Files.writeString(tmp.resolve("app.js"), "let x = 1;\n".repeat(2000));
        Files.write(tmp.resolve("photo.png"), new byte[5000]);
        served = Served.start("compression", b -> b.compression(Compression.defaults()).maxBodySize(1024 * 1024)
                .get("/text", req -> HttpResponse.text(TEXT))
                .get("/small", req -> HttpResponse.text("tiny"))
                .get("/png", req -> HttpResponse.ok().contentType("image/png").body(new byte[5000]))
                .get("/stream", req -> HttpResponse.ok().contentType("text/plain").stream(out -> {
                    for (int i = 0; i < 200; i++) {
                        out.write("line " + i + " of a streamed body\n");
                        if (i % 50 == 0) {
                            out.drain();
                        }
                    }
                }))
                .get("/events", req -> HttpResponse.events(sink -> sink.data(TEXT)))
                .get("/files/*", StaticFiles.directory(tmp))
                .post("/upload", req -> {
                    String body = req.bodyString();
                    return HttpResponse.text(body.length() + " " + body.hashCode());
                }));
    }

    @AfterAll
    static void stop() {
        served.close();
    }

    private static byte[] gunzip(byte[] b) throws Exception {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(b))) {
            return in.readAllBytes();
        }
    }

    @Test
    void curlGetsGzipAndDecodesIt() throws Exception {
        WebClients.Run r = WebClients.curl("--compressed", "-D", "-", "http://127.0.0.1:" + served.port() + "/text");
        String out = r.out().replace("\r\n", "\n");
        String head = out.substring(0, out.indexOf("\n\n")).toLowerCase();
        assertTrue(head.contains("content-encoding: gzip"), head);
        assertTrue(head.contains("vary: accept-encoding"), head);
        assertEquals(TEXT, out.substring(out.indexOf("\n\n") + 2));
    }

    @Test
    void negotiationAndWhatIsSkipped() throws Exception {
        int port = served.port();
        var gz = WebClients.getBytes(port, "/text", "Accept-Encoding", "deflate;q=0.5, gzip");
        assertEquals("gzip", gz.headers().firstValue("Content-Encoding").orElse(null));
        assertTrue(gz.body().length < TEXT.length() / 10, "compressed: " + gz.body().length);
        assertEquals(TEXT, new String(gunzip(gz.body()), StandardCharsets.UTF_8));
        var df = WebClients.getBytes(port, "/text", "Accept-Encoding", "gzip;q=0.1, deflate");
        assertEquals("deflate", df.headers().firstValue("Content-Encoding").orElse(null));
        try (InputStream in = new InflaterInputStream(new ByteArrayInputStream(df.body()))) {
            assertEquals(TEXT, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        assertNull(WebClients.get(port, "/text").headers().firstValue("Content-Encoding").orElse(null), "no Accept-Encoding");
        assertNull(WebClients.get(port, "/text", "Accept-Encoding", "br").headers().firstValue("Content-Encoding").orElse(null));
        assertNull(WebClients.get(port, "/text", "Accept-Encoding", "gzip;q=0").headers().firstValue("Content-Encoding").orElse(null));
        assertNull(WebClients.get(port, "/small", "Accept-Encoding", "gzip").headers().firstValue("Content-Encoding").orElse(null));
        var png = WebClients.getBytes(port, "/png", "Accept-Encoding", "gzip");
        assertNull(png.headers().firstValue("Content-Encoding").orElse(null), "already-compressed media");
        assertEquals(5000, png.body().length);
        assertNull(WebClients.get(port, "/events", "Accept-Encoding", "gzip").headers().firstValue("Content-Encoding").orElse(null));
    }

    @Test
    void streamedAndFileBodiesAreCompressedAsTheyGo() throws Exception {
        int port = served.port();
        var s = WebClients.getBytes(port, "/stream", "Accept-Encoding", "gzip");
        assertEquals("gzip", s.headers().firstValue("Content-Encoding").orElse(null));
        StringBuilder want = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            want.append("line ").append(i).append(" of a streamed body\n");
        }
        assertEquals(want.toString(), new String(gunzip(s.body()), StandardCharsets.UTF_8));
        var js = WebClients.getBytes(port, "/files/app.js", "Accept-Encoding", "gzip");
        assertEquals("gzip", js.headers().firstValue("Content-Encoding").orElse(null));
        assertEquals("let x = 1;\n".repeat(2000), new String(gunzip(js.body()), StandardCharsets.UTF_8));
        var range = WebClients.get(port, "/files/app.js", "Accept-Encoding", "gzip", "Range", "bytes=0-9");
        assertEquals(206, range.statusCode());
        assertNull(range.headers().firstValue("Content-Encoding").orElse(null), "a range is sent as it is");
        assertEquals("let x = 1;", range.body());
    }

    @Test
    void gzipRequestBodiesAreInflatedWithALimit() throws Exception {
        int port = served.port();
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(bo)) {
            z.write(TEXT.getBytes(StandardCharsets.UTF_8));
        }
        var ok = WebClients.send(port, "POST", "/upload", bo.toByteArray(), "Content-Encoding", "gzip");
        assertEquals(TEXT.length() + " " + TEXT.hashCode(), ok.body());
        // a zip bomb: 100 MiB of zeros in about 100 KiB, against a 1 MiB body limit
        ByteArrayOutputStream bomb = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(bomb)) {
            byte[] zeros = new byte[1024 * 1024];
            for (int i = 0; i < 100; i++) {
                z.write(zeros);
            }
        }
        assertTrue(bomb.size() < 1024 * 1024);
        var boom = WebClients.send(port, "POST", "/upload", bomb.toByteArray(), "Content-Encoding", "gzip");
        assertEquals(413, boom.statusCode(), boom.body());
        var corrupt = WebClients.send(port, "POST", "/upload", "not gzip at all".getBytes(StandardCharsets.UTF_8), "Content-Encoding", "gzip");
        assertEquals(400, corrupt.statusCode(), corrupt.body());
        var br = WebClients.send(port, "POST", "/upload", new byte[10], "Content-Encoding", "br");
        assertEquals(415, br.statusCode(), br.body());
    }
}
