package io.fiberloop.netty.http;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.loop.internal.MustLog;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The exception mappings of a server ({@link HttpServerBuilder#onError}): for a handler's or a
 * filter's exception, the handler registered for its class or its nearest superclass. Immutable
 * once built; the per-class lookups are cached.
 *
 * <p>Threading: built by one thread; {@link #find} from any loop of the server.
 */
final class ErrorMappers {
    static final ErrorMappers NONE = new ErrorMappers(Map.of());

    private final Map<Class<?>, HttpServer.ErrorHandler<?>> byType;
    /** Lookups done: the handler for a thrown class, or {@link #MISS}. */
    private final Map<Class<?>, Object> cache = new ConcurrentHashMap<>();
    private static final Object MISS = new Object();

    private ErrorMappers(Map<Class<?>, HttpServer.ErrorHandler<?>> byType) {
        this.byType = byType;
    }

    /** A mutable list of mappings, in the builder. */
    static final class Builder {
        private final Map<Class<?>, HttpServer.ErrorHandler<?>> byType = new LinkedHashMap<>();

        <E extends Throwable> void add(Class<E> type, HttpServer.ErrorHandler<? super E> handler) {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(handler, "handler");
            if (byType.putIfAbsent(type, handler) != null) {
                throw new IllegalArgumentException("onError(" + type.getName() + ", ...) is given twice: map each exception type once");
            }
        }

        ErrorMappers build() {
            return byType.isEmpty() ? NONE : new ErrorMappers(Map.copyOf(byType));
        }
    }

    /**
     * The mapped response to {@code error}, or {@code null} when no mapping applies. A mapping that
     * fails is logged and answered {@code 500}. Cancellation is never mapped.
     *
     * @param ex the exchange whose handler or filter threw
     * @param error what it threw
     * @return the response, or {@code null}
     */
    HttpResponse respond(Exchange ex, Throwable error) {
        if (error instanceof CancelledException) {
            return null;
        }
        HttpServer.ErrorHandler<Throwable> h = find(error);
        if (h == null) {
            return null;
        }
        if (error instanceof HttpException he && (he.status() == 400 || he.status() == 408 || he.status() == 413)) {
            ex.conn.closeAfter = true; // the body is in an unknown state
        }
        HttpRequest req = ex.request;
        try {
            HttpResponse res = h.handle(req, error);
            return res == null ? HttpResponse.status(204) : res;
        } catch (CancelledException c) {
            throw c;
        } catch (Throwable again) {
            again.addSuppressed(error);
            MustLog.error(Dispatcher.log, "the onError handler for {} of {} {} failed", error.getClass().getName(), req.method(), req.uri(),
                    again);
            return HttpResponse.error(500, "internal server error\n");
        }
    }

    /**
     * {@return the handler mapped to its class or nearest superclass, or {@code null}}
     *
     * @param error what a handler or filter threw
     */
    @SuppressWarnings("unchecked")
    HttpServer.ErrorHandler<Throwable> find(Throwable error) {
        if (byType.isEmpty()) {
            return null;
        }
        Object h = cache.computeIfAbsent(error.getClass(), c -> {
            for (Class<?> k = c; k != null; k = k.getSuperclass()) {
                HttpServer.ErrorHandler<?> found = byType.get(k);
                if (found != null) {
                    return found;
                }
            }
            return MISS;
        });
        return h == MISS ? null : (HttpServer.ErrorHandler<Throwable>) h;
    }
}
