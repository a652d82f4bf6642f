package io.fiberloop.netty.http;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Turns a path or query parameter's text into the type a handler asks for
 * ({@link HttpRequest#pathParam(String, Class)}): the boxed primitives, {@code String},
 * {@code UUID}, {@code BigInteger}, {@code BigDecimal}, enums (by name, then ignoring case), and
 * any class with a public static {@code valueOf(String)}, {@code of(String)},
 * {@code parse(CharSequence)} or {@code parse(String)} factory ({@code LocalDate}, {@code Instant},
 * {@code Duration}...). A value that does not convert is the client's mistake: an
 * {@link HttpException} {@code 400} that names the parameter, the type and the value.
 *
 * <p>Threading: any thread (the converters are cached in a concurrent map).
 */
final class ParamConverters {
    private static final Map<Class<?>, Function<String, ?>> CONVERTERS = new ConcurrentHashMap<>();

    static {
        CONVERTERS.put(String.class, s -> s);
        CONVERTERS.put(Integer.class, Integer::valueOf);
        CONVERTERS.put(Long.class, Long::valueOf);
        CONVERTERS.put(Short.class, Short::valueOf);
        CONVERTERS.put(Byte.class, Byte::valueOf);
        CONVERTERS.put(Double.class, Double::valueOf);
        CONVERTERS.put(Float.class, Float::valueOf);
        CONVERTERS.put(Boolean.class, ParamConverters::strictBoolean);
        CONVERTERS.put(Character.class, s -> {
            if (s.length() != 1) {
                throw new IllegalArgumentException("not one character");
            }
            return s.charAt(0);
        });
        CONVERTERS.put(UUID.class, UUID::fromString);
        CONVERTERS.put(BigInteger.class, BigInteger::new);
        CONVERTERS.put(BigDecimal.class, BigDecimal::new);
    }

    private ParamConverters() {
    }

    /**
     * Converts {@code value}.
     *
     * @param kind "path parameter" or "query parameter", for the message
     * @param name the parameter's name
     * @param value its text
     * @param type the wanted type (a primitive type means its box)
     * @return the value
     * @throws HttpException 400 if {@code value} is not a {@code type}
     * @throws IllegalArgumentException if {@code type} has no known conversion (a programming error)
     */
    static <T> T convert(String kind, String name, String value, Class<T> type) {
        Class<T> boxed = box(type);
        Function<String, ?> f = CONVERTERS.computeIfAbsent(boxed, ParamConverters::find);
        try {
            return boxed.cast(f.apply(value));
        } catch (RuntimeException e) {
            throw new HttpException(400, kind + " '" + name + "' must be " + article(boxed) + ", was '" + shorten(value) + "'", e);
        }
    }

    @SuppressWarnings("unchecked")
    static <T> Class<T> box(Class<T> type) {
        if (!type.isPrimitive()) {
            return type;
        }
        return (Class<T>) MethodType.methodType(type).wrap().returnType();
    }

    private static Boolean strictBoolean(String s) {
        if (s.equalsIgnoreCase("true")) {
            return Boolean.TRUE;
        }
        if (s.equalsIgnoreCase("false")) {
            return Boolean.FALSE;
        }
        throw new IllegalArgumentException("not true or false");
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Function<String, ?> find(Class<?> type) {
        if (type.isEnum()) {
            Class<? extends Enum> e = (Class<? extends Enum>) type;
            return s -> {
                try {
                    return Enum.valueOf(e, s);
                } catch (IllegalArgumentException exact) {
                    for (Object c : e.getEnumConstants()) {
                        if (((Enum<?>) c).name().equalsIgnoreCase(s)) {
                            return c;
                        }
                    }
                    throw exact;
                }
            };
        }
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        String[] names = {"valueOf", "of", "parse", "parse"};
        Class<?>[] params = {String.class, String.class, CharSequence.class, String.class};
        for (int i = 0; i < names.length; i++) {
            try {
                MethodHandle mh = lookup.findStatic(type, names[i], MethodType.methodType(type, params[i]));
                if (Modifier.isPublic(type.getModifiers())) {
                    return s -> {
                        try {
                            return mh.invoke(s);
                        } catch (RuntimeException ex) {
                            throw ex;
                        } catch (Throwable t) {
                            throw new IllegalArgumentException(t);
                        }
                    };
                }
            } catch (NoSuchMethodException | IllegalAccessException ignored) {
                // try the next factory
            }
        }
        throw new IllegalArgumentException("cannot convert a request parameter to " + type.getName()
                + ": use String, a boxed primitive, UUID, BigInteger, BigDecimal, an enum, or a public class with a public static "
                + "valueOf(String), of(String) or parse(CharSequence) factory");
    }

    private static String article(Class<?> type) {
        String n = type.getSimpleName();
        return ("AEIOU".indexOf(Character.toUpperCase(n.charAt(0))) >= 0 ? "an " : "a ") + n;
    }

    private static String shorten(String value) {
        String v = value.length() > 64 ? value.substring(0, 64) + "..." : value;
        StringBuilder sb = new StringBuilder(v.length());
        for (char c : v.toCharArray()) {
            sb.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return sb.toString();
    }
}
