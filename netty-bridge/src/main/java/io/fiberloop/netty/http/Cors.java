package io.fiberloop.netty.http;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Cross-origin resource sharing (the Fetch standard's CORS protocol) for an {@link HttpServer}:
 * answers preflight requests and adds the {@code Access-Control-*} headers that let a browser page
 * from another origin read the responses.
 * {@snippet :
 * HttpServer.builder()
 *         .cors(Cors.builder().allowOrigins("https://app.example.com").allowMethods("GET", "POST", "DELETE")
 *                 .allowHeaders("Content-Type", "Authorization").maxAge(Duration.ofHours(1)).build())
 *         .get("/api/items", req -> HttpResponse.json("[]"));
 * }
 *
 * <h2>What it does</h2>
 * <ul>
 *   <li>A <b>preflight</b> ({@code OPTIONS} with {@code Origin} and
 *       {@code Access-Control-Request-Method}) is answered before any route: {@code 204} with
 *       {@code Access-Control-Allow-Origin}, {@code -Methods}, {@code -Headers} and {@code -Max-Age}
 *       when the origin, the method and every requested header are allowed, else {@code 403}
 *       without CORS headers (the browser then refuses the real request).</li>
 *   <li>Any other request with an allowed {@code Origin} gets {@code Access-Control-Allow-Origin}
 *       (and {@code -Credentials}, {@code -Expose-Headers}) on its response, error responses
 *       included. A request from an origin that is not allowed is served without them, so the
 *       browser does not let the page read the answer.</li>
 *   <li>{@code Vary: Origin} is added whenever the answer depends on the origin.</li>
 * </ul>
 * With {@link Builder#allowCredentials(boolean) credentials} the origin is echoed, never
 * {@code *} (browsers refuse {@code *} with credentials).
 *
 * <p>Threading: immutable; shared by every loop of the server.
 */
public final class Cors {
    private final Predicate<String> origins;
    private final boolean anyOrigin;
    private final Set<String> methods;
    private final Set<String> headers; // lower case; empty with anyHeader
    private final boolean anyHeader;
    private final String exposeHeaders;
    private final boolean credentials;
    private final Duration maxAge;

    private Cors(Builder b) {
        this.origins = b.origins;
        this.anyOrigin = b.anyOrigin;
        this.methods = Collections.unmodifiableSet(new LinkedHashSet<>(b.methods));
        this.headers = Set.copyOf(b.headers);
        this.anyHeader = b.anyHeader;
        this.exposeHeaders = String.join(", ", b.expose);
        this.credentials = b.credentials;
        this.maxAge = b.maxAge;
    }

    /** {@return a builder: no origin allowed until one of its {@code allow*Origin*} methods is called} */
    public static Builder builder() {
        return new Builder();
    }

    /** Answers a preflight request, or returns {@code null} for any other request. The request's fiber. */
    HttpResponse preflight(HttpRequest req) {
        String origin = req.header("Origin");
        String method = req.header("Access-Control-Request-Method");
        if (!req.method().equals("OPTIONS") || origin == null || method == null) {
            return null;
        }
        if (!originAllowed(origin) || !methods.contains(method.trim())) {
            return HttpResponse.error(403, "CORS preflight refused for origin " + origin + " and method " + method + "\n")
                    .header("Vary", "Origin");
        }
        String requested = req.header("Access-Control-Request-Headers");
        if (requested != null && !anyHeader) {
            for (String h : requested.split(",")) {
                String name = h.trim().toLowerCase(Locale.ROOT);
                if (!name.isEmpty() && !headers.contains(name)) {
                    return HttpResponse.error(403, "CORS preflight refused: header " + name + " is not allowed\n").header("Vary", "Origin");
                }
            }
        }
        HttpResponse res = HttpResponse.status(204);
        allowOrigin(res, origin);
        res.header("Access-Control-Allow-Methods", String.join(", ", methods));
        if (requested != null && !requested.isBlank()) {
            res.header("Access-Control-Allow-Headers", requested.trim());
        }
        if (maxAge != null) {
            res.header("Access-Control-Max-Age", maxAge.toSeconds());
        }
        return res;
    }

    /** Adds the headers of a simple or actual request's response. The request's fiber. */
    void decorate(HttpRequest req, HttpResponse res) {
        String origin = req.header("Origin");
        if (origin == null || res.headerOrNull("Access-Control-Allow-Origin") != null
                || (req.method().equals("OPTIONS") && req.header("Access-Control-Request-Method") != null)) {
            return; // a preflight was answered (or refused) by preflight()
        }
        if (!originAllowed(origin)) {
            if (!anyOrigin || credentials) {
                res.header("Vary", "Origin");
            }
            return;
        }
        allowOrigin(res, origin);
        if (!exposeHeaders.isEmpty()) {
            res.header("Access-Control-Expose-Headers", exposeHeaders);
        }
    }

    private void allowOrigin(HttpResponse res, String origin) {
        if (anyOrigin && !credentials) {
            res.header("Access-Control-Allow-Origin", "*");
        } else {
            res.header("Access-Control-Allow-Origin", origin);
            res.header("Vary", "Origin");
        }
        if (credentials) {
            res.header("Access-Control-Allow-Credentials", "true");
        }
    }

    private boolean originAllowed(String origin) {
        return anyOrigin || origins.test(origin);
    }

    /**
     * Configures a {@link Cors}. Defaults: no origin, methods {@code GET, HEAD, POST}, no extra
     * request headers, nothing exposed, no credentials, no max-age.
     * <p>Threading: one thread at a time.
     */
    public static final class Builder {
        private Predicate<String> origins = o -> false;
        private boolean anyOrigin;
        private final Set<String> methods = new LinkedHashSet<>(List.of("GET", "HEAD", "POST"));
        private final Set<String> headers = new LinkedHashSet<>();
        private boolean anyHeader;
        private final Set<String> expose = new LinkedHashSet<>();
        private boolean credentials;
        private Duration maxAge;

        private Builder() {
        }

        /**
         * Allows these exact origins (scheme, host and port, e.g. {@code https://app.example.com}).
         *
         * @param origins the origins
         * @return this
         */
        public Builder allowOrigins(String... origins) {
            Set<String> set = Set.of(origins);
            for (String o : set) {
                if (o.endsWith("/") || !o.contains("://")) {
                    throw new IllegalArgumentException("an origin is scheme://host[:port] with no path, e.g. https://app.example.com; was "
                            + o);
                }
            }
            return allowOrigin(set::contains);
        }

        /**
         * Allows the origins {@code test} accepts (e.g. every subdomain of a site).
         *
         * @param test the origin check, given the request's {@code Origin} header
         * @return this
         */
        public Builder allowOrigin(Predicate<String> test) {
            this.origins = Objects.requireNonNull(test, "test");
            this.anyOrigin = false;
            return this;
        }

        /**
         * Allows every origin ({@code Access-Control-Allow-Origin: *}, or the origin echoed when
         * credentials are allowed).
         *
         * @return this
         */
        public Builder allowAnyOrigin() {
            this.anyOrigin = true;
            return this;
        }

        /**
         * The methods a preflight may ask for (replaces the default {@code GET, HEAD, POST}).
         *
         * @param methods e.g. {@code "GET", "PUT", "DELETE"}
         * @return this
         */
        public Builder allowMethods(String... methods) {
            this.methods.clear();
            for (String m : methods) {
                this.methods.add(m.trim().toUpperCase(Locale.ROOT));
            }
            return this;
        }

        /**
         * The request headers a preflight may ask for, besides the CORS-safelisted ones.
         *
         * @param headers e.g. {@code "Content-Type", "Authorization"}; {@code "*"} allows any
         * @return this
         */
        public Builder allowHeaders(String... headers) {
            for (String h : headers) {
                if (h.equals("*")) {
                    anyHeader = true;
                } else {
                    this.headers.add(h.trim().toLowerCase(Locale.ROOT));
                }
            }
            return this;
        }

        /**
         * Response headers the page may read besides the safelisted ones.
         *
         * @param headers e.g. {@code "Location", "ETag"}
         * @return this
         */
        public Builder exposeHeaders(String... headers) {
            this.expose.addAll(List.of(headers));
            return this;
        }

        /**
         * Whether the page may send cookies and read the answer of a credentialed request.
         *
         * @param allow whether to allow credentials
         * @return this
         */
        public Builder allowCredentials(boolean allow) {
            this.credentials = allow;
            return this;
        }

        /**
         * How long a browser may cache a preflight's answer.
         *
         * @param maxAge the time, or {@code null} for the browser's default
         * @return this
         */
        public Builder maxAge(Duration maxAge) {
            this.maxAge = maxAge;
            return this;
        }

        /** {@return the CORS policy, for {@link HttpServerBuilder#cors(Cors)}} */
        public Cors build() {
            return new Cors(this);
        }
    }
}
