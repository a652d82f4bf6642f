package io.fiberloop.jackson;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.fiberloop.netty.http.JsonCodec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Type;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * fiberloop's {@link JsonCodec} on Jackson's {@link ObjectMapper}. The server finds it through
 * {@link java.util.ServiceLoader} (a mapper with Jackson's defaults, plus: unknown properties are
 * an error, a missing primitive is an error); give another mapper with
 * {@code HttpServer.builder().json(JacksonCodec.of(mapper))}.
 * {@snippet :
 * record User(String name, int age) { }
 *
 * HttpServer.builder()
 *         .post("/users", req -> {
 *             User u = req.body(User.class);          // 400 for malformed JSON or wrong types
 *             return HttpResponse.json(u).withStatus(201);
 *         });
 * }
 * A malformed body is answered {@code 400} with Jackson's short message and the place:
 * {@code bad JSON body: Cannot deserialize value of type `int` from String "x" (at $.age, line 1, column 22)}.
 *
 * <p>Threading: thread-safe (Jackson's mappers are, once configured); its methods run in the
 * request's fiber.
 */
public final class JacksonCodec implements JsonCodec {
    private final ObjectMapper mapper;

    /** The codec the server finds by itself: see the class comment. Public for {@link java.util.ServiceLoader}. */
    public JacksonCodec() {
        this(new ObjectMapper()
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET)
                .disable(JsonParser.Feature.AUTO_CLOSE_SOURCE));
    }

    private JacksonCodec(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /**
     * A codec on {@code mapper} (configure it before: it is shared by every request).
     *
     * @param mapper the mapper
     * @return the codec
     */
    public static JacksonCodec of(ObjectMapper mapper) {
        return new JacksonCodec(Objects.requireNonNull(mapper, "mapper").copy()
                .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET)
                .disable(JsonParser.Feature.AUTO_CLOSE_SOURCE));
    }

    /** {@return the mapper this codec uses (do not reconfigure it)} */
    public ObjectMapper mapper() {
        return mapper;
    }

    @Override
    public <T> T read(InputStream in, Type type) throws IOException {
        JavaType t = mapper.constructType(type);
        try {
            ObjectReader r = mapper.readerFor(t).with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
            return r.readValue(in);
        } catch (JsonProcessingException e) {
            throw bad(e);
        }
    }

    @Override
    public <T> Iterator<T> readArray(InputStream in, Type elementType) throws IOException {
        JavaType t = mapper.constructType(elementType);
        JsonParser p;
        try {
            p = mapper.createParser(in);
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw new IllegalArgumentException("the body is not a JSON array: it starts with "
                        + (p.currentToken() == null ? "nothing" : p.currentToken().asString()));
            }
        } catch (JsonProcessingException e) {
            throw bad(e);
        }
        ObjectReader r = mapper.readerFor(t);
        return new Iterator<>() {
            private boolean ahead;
            private boolean end;

            @Override
            public boolean hasNext() {
                if (!ahead && !end) {
                    try {
                        JsonToken tok = p.nextToken();
                        if (tok == JsonToken.END_ARRAY) {
                            end = true;
                            if (p.nextToken() != null) {
                                throw new IllegalArgumentException("more JSON after the array's end");
                            }
                        } else if (tok == null) {
                            throw new IllegalArgumentException("the JSON array is not closed");
                        } else {
                            ahead = true;
                        }
                    } catch (JsonProcessingException e) {
                        throw bad(e);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
                return ahead;
            }

            @Override
            public T next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("the JSON array has no more elements");
                }
                ahead = false;
                try {
                    return r.readValue(p);
                } catch (JsonProcessingException e) {
                    throw bad(e);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
    }

    @Override
    public void write(Object value, OutputStream out) throws IOException {
        try {
            mapper.writeValue(out, value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** A short message for the client: Jackson's own, without its source dump, with the place. */
    private static IllegalArgumentException bad(JsonProcessingException e) {
        StringBuilder sb = new StringBuilder(e.getOriginalMessage() == null ? "malformed JSON" : firstLine(e.getOriginalMessage()));
        if (e instanceof MismatchedInputException m && !m.getPath().isEmpty()) {
            sb.append(" (at $");
            for (var ref : m.getPath()) {
                sb.append(ref.getFieldName() != null ? "." + ref.getFieldName() : "[" + ref.getIndex() + "]");
            }
            sb.append(location(e)).append(')');
        } else if (e.getLocation() != null) {
            sb.append(" (").append(location(e).substring(2)).append(')');
        }
        return new IllegalArgumentException(sb.toString(), e);
    }

    private static String location(JsonProcessingException e) {
        return e.getLocation() == null ? "" : ", line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
