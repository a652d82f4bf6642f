package io.fiberloop.test.simnet;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Splits a stream of HTTP/1.1 responses (as text) into their bodies: Content-Length or chunked. */
final class HttpText {
    private HttpText() {
    }

    static List<String> bodies(String text) {
        List<String> bodies = new ArrayList<>();
        int at = 0;
        while (at < text.length()) {
            int headEnd = text.indexOf("\r\n\r\n", at);
            if (headEnd < 0) {
                throw new IllegalArgumentException("a response head is cut off at " + at + ": " + text.substring(at));
            }
            String head = text.substring(at, headEnd).toLowerCase(Locale.ROOT);
            at = headEnd + 4;
            int cl = head.indexOf("\r\ncontent-length:");
            if (cl >= 0) {
                int eol = head.indexOf("\r\n", cl + 2);
                int n = Integer.parseInt(head.substring(cl + 17, eol < 0 ? head.length() : eol).trim());
                bodies.add(text.substring(at, at + n));
                at += n;
            } else if (head.contains("\r\ntransfer-encoding: chunked")) {
                StringBuilder body = new StringBuilder();
                while (true) {
                    int eol = text.indexOf("\r\n", at);
                    int size = Integer.parseInt(text.substring(at, eol).trim(), 16);
                    at = eol + 2;
                    if (size == 0) {
                        at = text.indexOf("\r\n\r\n", at - 2) + 4; // no trailers expected: the empty line
                        break;
                    }
                    body.append(text, at, at + size);
                    at += size + 2;
                }
                bodies.add(body.toString());
            } else {
                bodies.add(text.substring(at));
                at = text.length();
            }
        }
        return bodies;
    }
}
