package io.fiberloop.netty.http;

import java.io.IOException;
import java.time.Duration;
import java.util.Objects;

/**
 * An {@link EventSink} over a streamed response's {@link BodyWriter}: formats each event, queues
 * it and drains, so that one event costs one write and a slow client suspends only its handler.
 *
 * <p>Threading: the request's fiber.
 */
final class SseWriter implements EventSink {
    private final BodyWriter out;
    private final String lastEventId;
    private final StringBuilder sb = new StringBuilder(128);

    SseWriter(BodyWriter out, String lastEventId) {
        this.out = out;
        this.lastEventId = lastEventId;
    }

    @Override
    public void data(String data) throws IOException {
        event(null, data, null);
    }

    @Override
    public void event(String name, String data) throws IOException {
        event(name, data, null);
    }

    @Override
    public void event(String name, String data, String id) throws IOException {
        Objects.requireNonNull(data, "data");
        sb.setLength(0);
        if (name != null) {
            field("event", oneLine(name, "an event name"));
        }
        if (id != null) {
            if (id.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("an event id must not hold NUL (browsers ignore such ids)");
            }
            field("id", oneLine(id, "an event id"));
        }
        int start = 0;
        for (int i = 0; i <= data.length(); i++) {
            char c = i < data.length() ? data.charAt(i) : '\n';
            if (c == '\n' || c == '\r') {
                field("data", data.substring(start, i));
                if (c == '\r' && i + 1 < data.length() && data.charAt(i + 1) == '\n') {
                    i++;
                }
                start = i + 1;
            }
        }
        send();
    }

    @Override
    public void retry(Duration delay) throws IOException {
        if (delay.isNegative()) {
            throw new IllegalArgumentException("a retry delay must not be negative, was " + delay);
        }
        sb.setLength(0);
        field("retry", Long.toString(delay.toMillis()));
        send();
    }

    @Override
    public void comment(String text) throws IOException {
        sb.setLength(0);
        sb.append(':');
        if (!text.isEmpty()) {
            sb.append(' ').append(oneLine(text, "a comment"));
        }
        sb.append('\n');
        send();
    }

    @Override
    public String lastEventId() {
        return lastEventId;
    }

    private void field(String name, String value) {
        sb.append(name).append(':');
        if (!value.isEmpty()) {
            sb.append(' ').append(value);
        }
        sb.append('\n');
    }

    private void send() throws IOException {
        if (sb.charAt(0) != ':') {
            sb.append('\n'); // a blank line dispatches the event
        }
        out.write(sb.toString());
        out.drain();
    }

    private static String oneLine(String s, String what) {
        if (s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0) {
            throw new IllegalArgumentException(what + " must be one line, was \"" + s.replace("\n", "\\n").replace("\r", "\\r")
                    + "\": put line breaks in the data instead");
        }
        return s;
    }
}
