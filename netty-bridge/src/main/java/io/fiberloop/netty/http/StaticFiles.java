package io.fiberloop.netty.http;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Serves static files from a directory or from the class path, as the handler of a route that
 * ends in {@code *}:
 * {@snippet :
 * HttpServer.builder()
 *         .get("/static/*", StaticFiles.classpath("static"))        // from the jar: static/app.js
 *         .get("/files/*", StaticFiles.directory(Path.of("public"))); // from a directory
 * }
 *
 * <h2>What a browser or curl gets</h2>
 * <ul>
 *   <li>The content type of the file's extension (text types in UTF-8).</li>
 *   <li>{@code ETag} (from size and modification time) and {@code Last-Modified}:
 *       {@code If-None-Match} and {@code If-Modified-Since} answer {@code 304 Not Modified}.</li>
 *   <li>{@code Range: bytes=...} (one range; {@code If-Range} honoured) answers {@code 206} with
 *       {@code Content-Range}, an unsatisfiable one {@code 416}; several ranges get the whole
 *       file.</li>
 *   <li>A directory answers its index file ({@code index.html} by default); a directory path
 *       without its final slash is redirected ({@code 301}) to the path with it, so that the
 *       page's relative links resolve.</li>
 *   <li>From a directory on plain TCP the bytes go from the page cache to the socket without
 *       being copied ({@code FileRegion}).</li>
 * </ul>
 *
 * <h2>Safety</h2>
 * No request reaches outside the root: the path (already percent-decoded, so {@code %2e%2e} is
 * {@code ..}) is refused with {@code 404} when a segment is {@code .} or {@code ..}, or holds a
 * backslash or NUL; a file reached through a symbolic link that leaves the root directory is
 * {@code 404} too. Hidden files (names starting with {@code .}) are not served.
 *
 * <p>Threading: immutable once configured (it keeps the validators of the file it served last, an
 * immutable memo); shared by every loop of the server. File metadata is read in the request's
 * fiber (a short blocking call).
 */
public final class StaticFiles implements HttpHandler {
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
            .withZone(ZoneOffset.UTC);

    private final Path root;          // a directory (real path), or null
    private final String prefix;      // a class path prefix without slashes at its ends, or null
    private final ClassLoader loader;
    private final List<String> indexFiles;
    private final String cacheControl;
    /** The validators of the file served last (most requests are for a few hot files): formatting a date costs more than the checks. */
    private volatile Validators lastValidators = new Validators(-1, -1, "", "");

    private StaticFiles(Path root, String prefix, ClassLoader loader, List<String> indexFiles, String cacheControl) {
        this.root = root;
        this.prefix = prefix;
        this.loader = loader;
        this.indexFiles = indexFiles;
        this.cacheControl = cacheControl;
    }

    /**
     * Files under {@code root}.
     *
     * @param root an existing directory
     * @return the handler
     * @throws IllegalArgumentException if {@code root} is not a directory
     */
    public static StaticFiles directory(Path root) {
        try {
            Path real = root.toRealPath();
            if (!Files.isDirectory(real)) {
                throw new IllegalArgumentException("StaticFiles.directory(" + root + "): not a directory");
            }
            return new StaticFiles(real, null, null, List.of("index.html"), null);
        } catch (IOException e) {
            throw new IllegalArgumentException("StaticFiles.directory(" + root + "): " + e + ": give an existing directory", e);
        }
    }

    /**
     * Resources under {@code prefix} on the class path of this library's class loader (a
     * resource {@code static/app.js} for the prefix {@code static}).
     *
     * @param prefix the resources' folder, e.g. {@code static} or {@code META-INF/resources}
     * @return the handler
     */
    public static StaticFiles classpath(String prefix) {
        return classpath(prefix, Thread.currentThread().getContextClassLoader() != null
                ? Thread.currentThread().getContextClassLoader() : StaticFiles.class.getClassLoader());
    }

    /**
     * Resources under {@code prefix} as {@code loader} finds them.
     *
     * @param prefix the resources' folder
     * @param loader the class loader to ask
     * @return the handler
     */
    public static StaticFiles classpath(String prefix, ClassLoader loader) {
        String p = Objects.requireNonNull(prefix, "prefix");
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return new StaticFiles(null, p, Objects.requireNonNull(loader, "loader"), List.of("index.html"), null);
    }

    /**
     * {@return a changed copy}
     *
     * @param names the files a directory request answers, tried in order (default {@code index.html});
     *        none to answer {@code 404} for directories
     */
    public StaticFiles indexFiles(String... names) {
        return new StaticFiles(root, prefix, loader, List.of(names), cacheControl);
    }

    /**
     * {@return a changed copy}
     *
     * @param value the {@code Cache-Control} of every file, e.g. {@code max-age=3600}, or
     *        {@code null} for none (the default: browsers revalidate with the {@code ETag})
     */
    public StaticFiles cacheControl(String value) {
        return new StaticFiles(root, prefix, loader, indexFiles, value);
    }

    /** A file found: where its bytes are, its length and modification time. */
    private record Found(Path path, URL url, long length, long modifiedMillis, String name) {
    }

    /** A version of a file's {@code ETag} and {@code Last-Modified}, from its length and modification time. */
    private record Validators(long length, long modifiedMillis, String etag, String lastModified) {
    }

    @Override
    public HttpResponse handle(HttpRequest req) throws Exception {
        String rest = req.pathParam("*");
        if (rest == null) {
            rest = req.path();
        }
        String clean = clean(rest);
        if (clean == null) {
            return notFound(req);
        }
        if (root != null) {
            return fromDirectory(req, clean);
        }
        Found f = fromClasspath(clean);
        return f == null ? notFound(req) : respond(req, f);
    }

    private static HttpResponse notFound(HttpRequest req) {
        return HttpResponse.error(404, "not found: " + req.path() + "\n");
    }

    /** The relative path, or {@code null} if it tries to leave the root or names a hidden file. */
    static String clean(String rest) {
        if (rest.indexOf('\\') >= 0 || rest.indexOf('\0') >= 0) {
            return null;
        }
        StringBuilder sb = new StringBuilder(rest.length());
        for (String seg : rest.split("/", -1)) {
            if (seg.isEmpty()) {
                continue;
            }
            if (seg.equals(".") || seg.equals("..") || seg.startsWith(".")) {
                return null;
            }
            if (!sb.isEmpty()) {
                sb.append('/');
            }
            sb.append(seg);
        }
        return sb.toString();
    }

    /**
     * The answer from the directory: the file, a directory's index file, a redirect of a directory
     * path without its final slash, or 404. The path's attributes are read once.
     */
    private HttpResponse fromDirectory(HttpRequest req, String clean) throws IOException {
        Path p = root.resolve(clean).normalize();
        BasicFileAttributes a = p.startsWith(root) ? attributes(p) : null;
        if (a == null) {
            return notFound(req);
        }
        if (!a.isDirectory()) {
            Found f = fileAt(p, a);
            return f == null ? notFound(req) : respond(req, f);
        }
        if (indexFiles.isEmpty()) {
            return notFound(req);
        }
        if (!req.path().endsWith("/")) {
            // a directory without its slash: the page's relative links need it
            String q = req.rawQuery();
            return HttpResponse.status(301).header("Location", req.uri().split("\\?", 2)[0] + "/" + (q == null ? "" : "?" + q));
        }
        for (String index : indexFiles) {
            Path ip = p.resolve(index);
            BasicFileAttributes ia = attributes(ip);
            Found f = ia == null ? null : fileAt(ip, ia);
            if (f != null) {
                return respond(req, f);
            }
        }
        return notFound(req);
    }

    /** {@return the attributes of what {@code p} names, through symbolic links, or {@code null} if nothing is there} */
    private static BasicFileAttributes attributes(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /**
     * A regular file whose real path stays under the root (symbolic links out of it are refused).
     *
     * @param p the file's path under the root
     * @param a its attributes, through symbolic links: those of its real path
     */
    private Found fileAt(Path p, BasicFileAttributes a) throws IOException {
        if (!a.isRegularFile()) {
            return null;
        }
        Path real;
        try {
            real = p.toRealPath();
        } catch (NoSuchFileException e) {
            return null;
        }
        if (!real.startsWith(root) || !Files.isReadable(real)) {
            return null;
        }
        return new Found(real, null, a.size(), a.lastModifiedTime().toMillis(), real.getFileName().toString());
    }

    private Found fromClasspath(String clean) throws IOException {
        String base = prefix.isEmpty() ? clean : clean.isEmpty() ? prefix : prefix + "/" + clean;
        if (!clean.isEmpty()) {
            Found f = resource(base);
            if (f != null) {
                return f;
            }
        }
        for (String index : indexFiles) {
            Found f = resource(base.isEmpty() ? index : base + "/" + index);
            if (f != null) {
                return f;
            }
        }
        return null;
    }

    private Found resource(String name) throws IOException {
        URL url = loader.getResource(name);
        if (url == null) {
            return null;
        }
        if (url.getProtocol().equals("file")) {
            try {
                Path p = Path.of(url.toURI());
                if (!Files.isRegularFile(p)) {
                    return null;
                }
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                return new Found(p, null, a.size(), a.lastModifiedTime().toMillis(), p.getFileName().toString());
            } catch (URISyntaxException e) {
                return null;
            }
        }
        URLConnection c = url.openConnection();
        c.setUseCaches(false);
        if (c instanceof JarURLConnection j && (j.getJarEntry() == null || j.getJarEntry().isDirectory())) {
            return null;
        }
        long length = c.getContentLengthLong();
        long modified = c.getLastModified();
        if (length < 0) {
            return null;
        }
        return new Found(null, url, length, modified, name.substring(name.lastIndexOf('/') + 1));
    }

    private HttpResponse respond(HttpRequest req, Found f) throws IOException {
        Validators v = validators(f);
        String etag = v.etag();
        long modifiedSeconds = f.modifiedMillis() / 1000;
        String lastModified = v.lastModified();
        HttpResponse base = HttpResponse.ok().header("ETag", etag).header("Accept-Ranges", "bytes");
        if (f.modifiedMillis() > 0) {
            base.header("Last-Modified", lastModified);
        }
        if (cacheControl != null) {
            base.header("Cache-Control", cacheControl);
        }
        String inm = req.header("If-None-Match");
        if (inm != null ? matches(inm, etag) : notModifiedSince(req.header("If-Modified-Since"), modifiedSeconds)) {
            return base.withStatus(304);
        }
        base.contentType(ContentTypes.of(f.name()));
        long start = 0;
        long length = f.length();
        String range = req.header("Range");
        if (range != null && ifRangeHolds(req.header("If-Range"), etag, lastModified)) {
            long[] r = Ranges.single(range, f.length());
            if (r == Ranges.UNSATISFIABLE) {
                return HttpResponse.error(416, "range not satisfiable\n").header("Content-Range", "bytes */" + f.length());
            }
            if (r != null) {
                start = r[0];
                length = r[1] - r[0] + 1;
                base.withStatus(206).header("Content-Range", "bytes " + r[0] + "-" + r[1] + "/" + f.length());
            }
        }
        if (f.path() != null) {
            return base.fileBody(f.path(), start, length);
        }
        long skip = start;
        long count = length;
        URL url = f.url();
        return base.setHeader("Content-Length", count).stream(out -> {
            try (InputStream in = url.openStream()) {
                in.skipNBytes(skip);
                byte[] buf = new byte[(int) Math.min(FileBodies.PIECE, Math.max(1, count))];
                for (long left = count; left > 0; ) {
                    int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                    if (n < 0) {
                        throw new IOException(url + " ended early");
                    }
                    out.write(java.util.Arrays.copyOf(buf, n));
                    out.drain();
                    left -= n;
                }
            }
        });
    }

    /** {@return the file's {@code ETag} and {@code Last-Modified}: the last ones if it is the file served last, in the same version} */
    private Validators validators(Found f) {
        Validators v = lastValidators;
        if (v.length() != f.length() || v.modifiedMillis() != f.modifiedMillis()) {
            v = new Validators(f.length(), f.modifiedMillis(),
                    "\"" + Long.toHexString(f.length()) + "-" + Long.toHexString(f.modifiedMillis()) + "\"",
                    HTTP_DATE.format(Instant.ofEpochSecond(f.modifiedMillis() / 1000)));
            lastValidators = v;
        }
        return v;
    }

    private static boolean matches(String ifNoneMatch, String etag) {
        for (String t : ifNoneMatch.split(",")) {
            String tag = t.trim();
            if (tag.equals("*") || tag.equals(etag) || tag.equals("W/" + etag)) {
                return true;
            }
        }
        return false;
    }

    private static boolean notModifiedSince(String ims, long modifiedSeconds) {
        if (ims == null || modifiedSeconds <= 0) {
            return false;
        }
        try {
            return Instant.from(DateTimeFormatter.RFC_1123_DATE_TIME.parse(ims)).getEpochSecond() >= modifiedSeconds;
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    private static boolean ifRangeHolds(String ifRange, String etag, String lastModified) {
        return ifRange == null || ifRange.equals(etag) || ifRange.equals(lastModified);
    }

    @Override
    public String toString() {
        return root != null ? "StaticFiles[" + root + "]" : "StaticFiles[classpath:" + prefix + "]";
    }
}
