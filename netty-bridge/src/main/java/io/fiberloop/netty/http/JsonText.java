package io.fiberloop.netty.http;

/**
 * JSON string escaping for the server's own small JSON bodies (the health check), written without
 * a JSON library. Threading: any thread.
 */
final class JsonText {
    private JsonText() {
    }

    /** Appends {@code s} escaped for the inside of a JSON string (RFC 8259: quote, backslash, control characters). */
    static void escape(StringBuilder sb, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
    }
}
