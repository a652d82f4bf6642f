package io.fiberloop.netty.http;

import java.io.IOException;
import java.time.Duration;

/**
 * Sends server-sent events (the {@code text/event-stream} format of the HTML standard, read by a
 * browser's {@code EventSource}) from the handler's fiber: see {@link HttpResponse#events}.
 * {@snippet :
 * .get("/clock", req -> HttpResponse.events(sink -> {
 *     for (long n = 1; ; n++) {
 *         sink.event("tick", Instant.now().toString(), Long.toString(n));   // name, data, id
 *         Fibers.sleep(Duration.ofSeconds(1));
 *     }
 * }))
 * }
 * Each call writes one event and waits while the client reads slowly (backpressure, as
 * {@link BodyWriter#drain()}), so a stalled client holds back only its own handler, and what the
 * server buffers for it stays bounded. When the client goes away the handler's fiber is cancelled
 * (or a call throws {@link IOException}); let either propagate.
 *
 * <p>Threading: the request's fiber.
 * <p>Exceptions: {@link IOException} once the client has gone; {@link IllegalArgumentException}
 * for an event name or id that holds a line break (they are one line each in the format).
 */
public interface EventSink {
    /**
     * Sends an unnamed event (a {@code message} event to {@code EventSource.onmessage}).
     *
     * @param data the data; a multi-line string becomes several {@code data:} lines, which the
     *        browser joins with {@code \n}
     * @throws IOException if the client has gone
     */
    void data(String data) throws IOException;

    /**
     * Sends a named event ({@code addEventListener(name, ...)} in the browser).
     *
     * @param name the event's name, one line
     * @param data the data
     * @throws IOException if the client has gone
     */
    void event(String name, String data) throws IOException;

    /**
     * Sends a named event with an id, which the browser sends back as {@code Last-Event-ID} when
     * it reconnects (see {@link #lastEventId()}).
     *
     * @param name the event's name, or {@code null} for an unnamed event
     * @param data the data
     * @param id the event's id, one line, or {@code null}
     * @throws IOException if the client has gone
     */
    void event(String name, String data, String id) throws IOException;

    /**
     * Tells the browser how long to wait before it reconnects after the stream ends.
     *
     * @param delay the reconnection delay
     * @throws IOException if the client has gone
     */
    void retry(Duration delay) throws IOException;

    /**
     * Sends a comment line, which the browser ignores: a heartbeat that keeps proxies from
     * closing an idle stream and lets the server notice a client that has gone.
     *
     * @param text the comment, one line (may be empty)
     * @throws IOException if the client has gone
     */
    void comment(String text) throws IOException;

    /**
     * {@return the {@code Last-Event-ID} the client sent (the id of the last event it received before it reconnected), or {@code null}}
     *
     */
    String lastEventId();
}
