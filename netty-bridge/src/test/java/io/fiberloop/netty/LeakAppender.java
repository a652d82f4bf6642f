package io.fiberloop.netty;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Collects Netty's LEAK reports (logged at ERROR by ResourceLeakDetector). */
public final class LeakAppender extends AppenderBase<ILoggingEvent> {
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
        String msg = event.getFormattedMessage();
        if (msg != null && msg.contains("LEAK")) {
            LEAKS.add(msg);
        }
    }

    static List<String> leaks() {
        return List.copyOf(LEAKS);
    }

    static void clear() {
        LEAKS.clear();
    }
}
