package io.fiberloop.netty.http;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Routes by method and path. Patterns are split on {@code /}; a segment {@code {name}} matches one
 * non-empty segment and captures it, a last segment {@code *} matches the rest (captured as
 * {@code "*"}). Literal paths are looked up in a hash map; patterns are tried in the order they
 * were added. A {@code HEAD} request falls back to the {@code GET} route. Immutable once built.
 */
final class Router {
    /** A route; {@code name} ({@code GET /users/{id}}) names the tasks that serve it. */
    record Route(String method, String pattern, String[] segments, HttpHandler handler, String name) {
    }

    /** The result of a lookup: a route and its parameters, or the methods allowed on the path (405), or nothing (404). */
    record Match(Route route, Map<String, String> params, Set<String> allowed) {
    }

    /** Literal path → its routes (a literal route's match has no parameters: made once, when it is added). */
    private final Map<String, Literal> literal = new HashMap<>();
    private final List<Route> patterns = new ArrayList<>();
    private final Set<String> methods = new java.util.HashSet<>();

    void add(String method, String pattern, HttpHandler handler) {
        if (!pattern.startsWith("/")) {
            throw new IllegalArgumentException("a route's path must start with '/': " + pattern);
        }
        String[] segs = split(pattern);
        boolean isLiteral = true;
        for (int i = 0; i < segs.length; i++) {
            String s = segs[i];
            if (s.equals("*")) {
                if (i != segs.length - 1) {
                    throw new IllegalArgumentException("'*' may only be the last segment of a route: " + pattern);
                }
                isLiteral = false;
            } else if (s.startsWith("{")) {
                if (!s.endsWith("}") || s.length() < 3) {
                    throw new IllegalArgumentException("bad path parameter '" + s + "' in route " + pattern + ": write {name}");
                }
                isLiteral = false;
            }
        }
        Route r = new Route(method, pattern, segs, handler, method + " " + pattern);
        methods.add(method);
        if (isLiteral) {
            Literal l = literal.computeIfAbsent(pattern, k -> new Literal());
            Match m = new Match(r, Map.of(), null);
            if (l.byMethod.putIfAbsent(method, m) != null) {
                throw new IllegalArgumentException("route " + method + " " + pattern + " is defined twice");
            }
            if (method.equals("GET")) {
                l.get = m;
            }
        } else {
            for (Route p : patterns) {
                if (p.method.equals(method) && p.pattern.equals(pattern)) {
                    throw new IllegalArgumentException("route " + method + " " + pattern + " is defined twice");
                }
            }
            patterns.add(r);
        }
    }

    /** Every method some route answers, with {@code HEAD} when there is a {@code GET} and {@code OPTIONS} (the server answers it), sorted. */
    Set<String> allMethods() {
        Set<String> all = new TreeSet<>(methods);
        if (all.contains("GET")) {
            all.add("HEAD");
        }
        all.add("OPTIONS");
        return all;
    }

    /** Whether any route uses {@code method}. */
    boolean knowsMethod(String method) {
        return methods.contains(method) || (method.equals("HEAD") && methods.contains("GET"));
    }

    /**
     * Finds the route of a request: a literal path's in one hash lookup (and no other for
     * {@code GET}), else the first pattern that matches.
     *
     * @param method the request's method
     * @param path its decoded path
     * @return the route and its parameters, or the methods allowed on the path, or neither
     */
    Match find(String method, String path) {
        Literal lit = literal.get(path);
        if (lit != null) {
            boolean get = method.equals("GET");
            Match m = get ? lit.get : lit.byMethod.get(method);
            if (m == null && !get && method.equals("HEAD")) {
                m = lit.get;
            }
            if (m != null) {
                return m;
            }
        }
        Set<String> allowed = null;
        if (lit != null) {
            allowed = new TreeSet<>(lit.byMethod.keySet());
        }
        if (!patterns.isEmpty()) {
            String[] segs = split(path);
            Match fallbackHead = null;
            for (Route r : patterns) {
                Map<String, String> params = match(r.segments, segs);
                if (params == null) {
                    continue;
                }
                if (r.method.equals(method)) {
                    return new Match(r, params, null);
                }
                if (method.equals("HEAD") && r.method.equals("GET") && fallbackHead == null) {
                    fallbackHead = new Match(r, params, null);
                }
                if (allowed == null) {
                    allowed = new TreeSet<>();
                }
                allowed.add(r.method);
            }
            if (fallbackHead != null) {
                return fallbackHead;
            }
        }
        if (allowed != null && allowed.contains("GET")) {
            allowed.add("HEAD");
        }
        return new Match(null, Map.of(), allowed);
    }

    /** The routes of one literal path: by method, and its {@code GET} route at hand (the usual request, and {@code HEAD}'s fallback). */
    private static final class Literal {
        final Map<String, Match> byMethod = new LinkedHashMap<>();
        Match get;
    }

    private static Map<String, String> match(String[] pattern, String[] path) {
        boolean rest = pattern.length > 0 && pattern[pattern.length - 1].equals("*");
        if (rest ? path.length < pattern.length - 1 : path.length != pattern.length) {
            return null;
        }
        Map<String, String> params = null;
        for (int i = 0; i < pattern.length; i++) {
            String p = pattern[i];
            if (rest && i == pattern.length - 1) {
                StringBuilder sb = new StringBuilder();
                for (int j = i; j < path.length; j++) {
                    if (j > i) {
                        sb.append('/');
                    }
                    sb.append(path[j]);
                }
                if (params == null) {
                    params = new LinkedHashMap<>();
                }
                params.put("*", sb.toString());
                break;
            }
            String s = path[i];
            if (p.startsWith("{")) {
                if (s.isEmpty()) {
                    return null;
                }
                if (params == null) {
                    params = new LinkedHashMap<>();
                }
                params.put(p.substring(1, p.length() - 1), s);
            } else if (!p.equals(s)) {
                return null;
            }
        }
        return params == null ? Map.of() : params;
    }

    /** "/a/b/" → ["a", "b", ""]; "/" → [""]. */
    static String[] split(String path) {
        return path.substring(1).split("/", -1);
    }
}
