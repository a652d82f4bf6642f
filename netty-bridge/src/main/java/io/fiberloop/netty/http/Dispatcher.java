package io.fiberloop.netty.http;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.internal.InlineCall;
import io.fiberloop.loop.internal.MustLog;
import java.io.IOException;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one exchange in its fiber: finds the route, runs the filters and the handler, turns
 * failures into error responses, writes the response ({@link ResponseWriter}) and ends the
 * exchange. Shared by every connection of a server on every loop; holds no state of its own.
 *
 * <p>Threading: the exchange's fiber.
 */
final class Dispatcher {
    static final Logger log = LoggerFactory.getLogger(HttpServer.class);
    private static final Set<String> STANDARD_METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "QUERY");

    private final ServerConfig config;

    Dispatcher(ServerConfig config) {
        this.config = config;
    }

    /** The exchange's fiber: route, filters, handler, response. Never throws. */
    void serve(Exchange ex, ResponseWriter writer) {
        HttpConnection conn = ex.conn;
        HttpRequest req = ex.request;
        try {
            HttpResponse res;
            try {
                res = respond(ex);
            } catch (CancelledException e) {
                if (!conn.channel().isActive()) {
                    return; // the client is gone
                }
                conn.closeAfter = true;
                res = HttpResponse.error(503, "the server is shutting down");
            }
            writer.write(ex, res);
        } catch (Throwable e) {
            if (e instanceof Error err && !(e instanceof StackOverflowError) && !(e instanceof OutOfMemoryError)) {
                log.error("request '{}' failed on {} {}", taskName(ex), req.method(), req.uri(), err);
            }
            if (ex.headSent) {
                if (!(e instanceof IOException) && !(e instanceof CancelledException)) {
                    log.error("request '{}' failed streaming its response to {} {}; the connection is dropped",
                            taskName(ex), req.method(), req.uri(), e);
                } else {
                    log.debug("response to {} {} broke off: {}", req.method(), req.uri(), e.toString());
                }
                conn.abort();
            } else if (conn.channel().isActive()) {
                try {
                    writer.write(ex, errorResponse(ex, e));
                } catch (Throwable again) {
                    conn.abort();
                }
            }
        } finally {
            ex.body.release();
            conn.exchangeDone(ex);
        }
    }

    private HttpResponse respond(Exchange ex) {
        HttpRequest req = ex.request;
        String method = req.method();
        if (req.path().equals("*")) {
            // OPTIONS * (the only method the head check lets through with this target) names the
            // server itself: RFC 9110 9.3.7
            return HttpResponse.status(200).header("Allow", String.join(", ", config.router.allMethods()));
        }
        Router.Match m = config.router.find(method, req.path());
        nameTask(ex, m.route());
        HttpHandler h;
        if (m.route() != null) {
            req.route = m.route().pattern();
            req.pathParams = m.params();
            h = m.route().handler();
        } else if (m.allowed() != null && method.equals("OPTIONS")) {
            String allow = String.join(", ", m.allowed()) + ", OPTIONS";
            h = r -> HttpResponse.status(204).header("Allow", allow);
        } else if (m.allowed() != null) {
            String allow = String.join(", ", m.allowed());
            h = r -> HttpResponse.error(405, "method " + method + " not allowed here\n").header("Allow", allow);
        } else if (!STANDARD_METHODS.contains(method) && !config.router.knowsMethod(method)) {
            h = r -> HttpResponse.error(501, "method " + method + " not implemented\n");
        } else {
            h = config.notFound;
        }
        HttpResponse res = null;
        try {
            for (HttpServer.BeforeFilter f : config.before) {
                res = f.before(req);
                if (res != null) {
                    break;
                }
            }
            if (res == null) {
                res = h.handle(req);
                if (res == null) {
                    res = HttpResponse.status(204);
                }
            }
        } catch (CancelledException e) {
            throw e;
        } catch (Throwable e) {
            res = errorResponse(ex, e);
        }
        try {
            for (HttpServer.AfterFilter f : config.after) {
                f.after(req, res);
            }
        } catch (CancelledException e) {
            throw e;
        } catch (Throwable e) {
            res = errorResponse(ex, e);
        }
        return res;
    }

    /**
     * Names the exchange's task after its route, {@code GET /users/{id}} (the template, not the
     * path: one name per route, made once), or {@code GET (no route)}: what thread dumps, fiber
     * dumps, stall reports and failure logs show.
     */
    private static void nameTask(Exchange ex, Router.Route route) {
        InlineCall<Void> t = ex.task;
        if (t != null) {
            t.name(route != null ? route.name() : ex.request.method() + " (no route)");
        }
    }

    /** The name of the exchange's task, {@code GET /users/{id}}, for the failure log. */
    private static String taskName(Exchange ex) {
        InlineCall<Void> t = ex.task;
        return t != null ? t.name() : ex.request.method() + " (no route)";
    }

    private static HttpResponse errorResponse(Exchange ex, Throwable e) {
        HttpRequest req = ex.request;
        HttpResponse mapped = ex.conn.config.errors.respond(ex, e);
        if (mapped != null) {
            return mapped;
        }
        if (e instanceof HttpException he) {
            if (he.status() == 400 || he.status() == 408 || he.status() == 413) {
                ex.conn.closeAfter = true;
            }
            return HttpResponse.error(he.status(), he.getMessage() + "\n");
        }
        if (e instanceof CancelledException ce) {
            throw ce;
        }
        MustLog.error(log, "request '{}' failed on {} {}", taskName(ex), req.method(), req.uri(), e);
        return HttpResponse.error(500, "internal server error\n");
    }
}
