package io.fiberloop.netty.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Type;
import java.util.Iterator;
import java.util.ServiceLoader;

/**
 * The server's side of JSON binding over a {@link JsonCodec}: reading request bodies (malformed or
 * mistyped JSON becomes a {@code 400}, never a {@code 500}) and writing values and streamed
 * arrays.
 *
 * <p>Threading: the request's fiber.
 */
final class JsonBodies {
    private JsonBodies() {
    }

    /** The codec on the class or module path, or {@code null}. Any thread, once per server. */
    static JsonCodec discover() {
        for (JsonCodec c : ServiceLoader.load(JsonCodec.class, JsonCodec.class.getClassLoader())) {
            return c;
        }
        for (JsonCodec c : ServiceLoader.load(JsonCodec.class)) {
            return c;
        }
        return null;
    }

    static JsonCodec codec(ServerConfig config) {
        JsonCodec c = config.json;
        if (c == null) {
            throw new IllegalStateException("no JSON codec: add the io.fiberloop:fiberloop-jackson artifact to the class path, "
                    + "or give one with HttpServer.builder().json(codec)");
        }
        return c;
    }

    static <T> T read(ServerConfig config, InputStream body, Type type) throws IOException {
        JsonCodec c = codec(config);
        try {
            return c.read(body, type);
        } catch (IllegalArgumentException e) {
            throw badJson(e);
        }
    }

    static <T> Iterator<T> readArray(ServerConfig config, InputStream body, Type type) throws IOException {
        JsonCodec c = codec(config);
        Iterator<T> it;
        try {
            it = c.readArray(body, type);
        } catch (IllegalArgumentException e) {
            throw badJson(e);
        }
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                try {
                    return it.hasNext();
                } catch (IllegalArgumentException e) {
                    throw badJson(e);
                }
            }

            @Override
            public T next() {
                try {
                    return it.next();
                } catch (IllegalArgumentException e) {
                    throw badJson(e);
                }
            }
        };
    }

    private static HttpException badJson(IllegalArgumentException e) {
        String m = e.getMessage() == null ? "malformed JSON" : e.getMessage();
        return new HttpException(400, "bad JSON body: " + (m.length() > 300 ? m.substring(0, 300) + "..." : m), e);
    }

    static byte[] bytes(ServerConfig config, Object value) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        codec(config).write(value, out);
        return out.toByteArray();
    }

    /** Writes {@code elements} as one JSON array, element by element, draining between them. */
    static void writeArray(ExchangeWriter w, Iterator<?> elements) throws IOException {
        JsonCodec c = codec(w.request().exchange.conn.config);
        ByteArrayOutputStream buf = new ByteArrayOutputStream(256);
        OutputStream sink = buf;
        buf.write('[');
        boolean first = true;
        while (elements.hasNext()) {
            if (!first) {
                buf.write(',');
            }
            first = false;
            c.write(elements.next(), sink);
            if (buf.size() >= 8 * 1024) {
                w.write(buf.toByteArray());
                buf.reset();
                w.drain();
            }
        }
        buf.write(']');
        w.write(buf.toByteArray());
    }
}
