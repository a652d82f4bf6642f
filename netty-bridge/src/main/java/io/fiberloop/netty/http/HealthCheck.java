package io.fiberloop.netty.http;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopStats;
import java.util.List;

/**
 * The handler of {@link HttpServerBuilder#health(String)}: {@code 200} with
 * {@code {"status":"UP",...}} while every watched loop runs and none is stalled, else {@code 503}
 * with {@code "DOWN"}; the body lists each loop's state, how long it has been stalled, its
 * stalls so far, queue depth and live tasks.
 * <pre>
 * {"status":"UP","loops":[{"name":"http-loop","state":"RUNNING","stalledMs":0,"stalls":0,"queueDepth":0,"liveTasks":1}]}
 * </pre>
 * A stalled loop cannot answer a request itself, so the loops watched are those of the server
 * (useful on a group, where another loop answers for the stalled one) or, given explicitly, the
 * loops of another server: a management server on a loop of its own answers {@code 503} for the
 * application's stalled loop. A stall is what the loop's watchdog reports
 * ({@link EventLoop.Builder#watchdog}); a loop without a watchdog never counts as stalled.
 *
 * <p>Threading: runs on the serving loop; reads the watched loops' counters racily.
 */
final class HealthCheck implements HttpHandler {
    /** The loops watched, or {@code null} for the serving server's own. */
    private final List<EventLoop> watched;

    HealthCheck(List<EventLoop> watched) {
        this.watched = watched == null ? null : List.copyOf(watched);
    }

    @Override
    public HttpResponse handle(HttpRequest req) {
        List<EventLoop> loops = watched != null ? watched : req.exchange.conn.server.owner.loops();
        StringBuilder sb = new StringBuilder(64 + 128 * loops.size()).append("{\"status\":\"");
        int statusAt = sb.length();
        sb.append("\",\"loops\":[");
        boolean up = true;
        for (int i = 0; i < loops.size(); i++) {
            EventLoop loop = loops.get(i);
            LoopStats stats = loop.stats();
            EventLoop.State state = loop.state();
            boolean running = state == EventLoop.State.ACTIVE || state == EventLoop.State.RUNNING;
            up &= running && !stats.stalled();
            sb.append(i == 0 ? "" : ",").append("{\"name\":\"");
            JsonText.escape(sb, loop.name());
            sb.append("\",\"state\":\"").append(state).append("\",\"stalledMs\":").append(stats.stalledFor().toMillis())
                    .append(",\"stalls\":").append(stats.stalls()).append(",\"queueDepth\":").append(stats.queueDepth())
                    .append(",\"liveTasks\":").append(FiberLoops.liveTasks(loop)).append('}');
        }
        sb.append("]}");
        sb.insert(statusAt, up ? "UP" : "DOWN");
        return HttpResponse.json(sb.toString()).withStatus(up ? 200 : 503).header("Cache-Control", "no-store");
    }
}
