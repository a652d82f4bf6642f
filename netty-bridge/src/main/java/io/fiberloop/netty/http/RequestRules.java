package io.fiberloop.netty.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Iterator;

/**
 * The request-head rules of RFC 9112 and RFC 9110 that Netty's decoder leaves to the server:
 * the {@code Host} value's syntax, and which transfer codings are implemented. Pure functions, any
 * thread.
 */
final class RequestRules {
    private RequestRules() {
    }

    /**
     * RFC 9112 3.2 and RFC 3986 3.2.2: {@code Host = uri-host [ ":" port ]}, where
     * {@code uri-host} is an IP literal in brackets, an IPv4 address or a registered name
     * (unreserved characters, percent-encodings and sub-delimiters). An empty value is allowed.
     *
     * @param host the header's value
     * @return whether it is a valid {@code Host} value
     */
    static boolean validHost(String host) {
        int n = host.length();
        int i = 0;
        if (n > 0 && host.charAt(0) == '[') {
            int close = host.indexOf(']');
            if (close < 0 || !validIpLiteral(host, 1, close)) {
                return false;
            }
            i = close + 1;
        } else {
            while (i < n && host.charAt(i) != ':') {
                char c = host.charAt(i);
                if (c == '%') {
                    if (i + 2 >= n || !hex(host.charAt(i + 1)) || !hex(host.charAt(i + 2))) {
                        return false;
                    }
                    i += 3;
                    continue;
                }
                if (!unreserved(c) && !subDelim(c)) {
                    return false;
                }
                i++;
            }
        }
        if (i == n) {
            return true;
        }
        if (host.charAt(i) != ':') {
            return false;
        }
        for (int k = i + 1; k < n; k++) {
            char c = host.charAt(k);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** An IPv6 address (hex digits, colons, dots for an embedded IPv4) or an IPvFuture, between [ and ]. */
    private static boolean validIpLiteral(String s, int from, int to) {
        if (from >= to) {
            return false;
        }
        if (s.charAt(from) == 'v' || s.charAt(from) == 'V') {
            int dot = s.indexOf('.', from);
            if (dot < 0 || dot >= to || dot == from + 1) {
                return false;
            }
            for (int k = from + 1; k < dot; k++) {
                if (!hex(s.charAt(k))) {
                    return false;
                }
            }
            if (dot + 1 == to) {
                return false;
            }
            for (int k = dot + 1; k < to; k++) {
                char c = s.charAt(k);
                if (!unreserved(c) && !subDelim(c) && c != ':') {
                    return false;
                }
            }
            return true;
        }
        for (int k = from; k < to; k++) {
            char c = s.charAt(k);
            if (!hex(c) && c != ':' && c != '.') {
                return false;
            }
        }
        return true;
    }

    private static boolean hex(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }

    private static boolean unreserved(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~';
    }

    private static boolean subDelim(char c) {
        return switch (c) {
            case '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=' -> true;
            default -> false;
        };
    }

    /**
     * RFC 9112 6.1: a server that receives a transfer coding it does not understand answers 501.
     * The server implements {@code chunked} only (Netty's decoder has already refused a list whose
     * last coding is not {@code chunked}, and {@code chunked} applied twice).
     *
     * @param h the request's headers
     * @return the first coding other than {@code chunked}, or {@code null}
     */
    static String unsupportedTransferCoding(HttpHeaders h) {
        Iterator<? extends CharSequence> it = h.valueCharSequenceIterator(HttpHeaderNames.TRANSFER_ENCODING);
        while (it.hasNext()) {
            String v = it.next().toString();
            int start = 0;
            while (start <= v.length()) {
                int comma = v.indexOf(',', start);
                int end = comma < 0 ? v.length() : comma;
                String coding = v.substring(start, end).trim();
                int semi = coding.indexOf(';');
                if (semi >= 0) {
                    coding = coding.substring(0, semi).trim();
                }
                if (!coding.isEmpty() && !coding.equalsIgnoreCase("chunked")) {
                    return coding;
                }
                start = end + 1;
            }
        }
        return null;
    }
}
