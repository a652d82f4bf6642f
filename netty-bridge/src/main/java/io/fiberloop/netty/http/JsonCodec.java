package io.fiberloop.netty.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Type;
import java.util.Iterator;

/**
 * The server's JSON binding, a service provider interface: {@link HttpRequest#body(Class)},
 * {@link HttpRequest#bodyArray(Class)}, {@link HttpResponse#json(Object)} and
 * {@link HttpResponse#jsonArray(Iterator)} go through it. The {@code fiberloop-jackson} artifact
 * provides one on Jackson; the server finds it with {@link java.util.ServiceLoader} (or takes the
 * one given to {@link HttpServerBuilder#json(JsonCodec)}).
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Malformed JSON, or JSON that does not fit the type asked for (a string where a number is
 *       wanted), raises {@link IllegalArgumentException} with a short message that may be shown to
 *       the client: the server answers it {@code 400}.</li>
 *   <li>An {@link IOException} or another exception from the stream (the client went away, the
 *       body is larger than the limit) propagates as it is.</li>
 *   <li>{@link #readArray} parses one element at a time from the stream, so that a large array is
 *       never held whole.</li>
 * </ul>
 *
 * <p>Threading: one codec serves every loop of a server at the same time: it must be
 * thread-safe. Its methods run in the request's fiber and may block on the stream (which
 * suspends only the fiber).
 */
public interface JsonCodec {
    /**
     * Reads one JSON value of {@code type} from {@code in} (to its end).
     *
     * @param in the body
     * @param type the type wanted (a {@code Class}, or a parameterized type)
     * @param <T> the type wanted
     * @return the value
     * @throws IllegalArgumentException for malformed JSON or a value that does not fit {@code type}
     * @throws IOException if reading the stream fails
     */
    <T> T read(InputStream in, Type type) throws IOException;

    /**
     * Reads a JSON array from {@code in} element by element.
     *
     * @param in the body
     * @param elementType the elements' type
     * @param <T> the elements' type
     * @return the elements, parsed as the iterator advances; its methods throw
     *         {@link IllegalArgumentException} for malformed input and
     *         {@link java.io.UncheckedIOException} for a failing stream
     * @throws IllegalArgumentException if the body does not start a JSON array
     * @throws IOException if reading the stream fails
     */
    <T> Iterator<T> readArray(InputStream in, Type elementType) throws IOException;

    /**
     * Writes {@code value} as JSON to {@code out} (without closing it).
     *
     * @param value the value
     * @param out where the JSON goes
     * @throws IOException if writing fails
     * @throws IllegalArgumentException if {@code value} cannot be written as JSON
     */
    void write(Object value, OutputStream out) throws IOException;
}
