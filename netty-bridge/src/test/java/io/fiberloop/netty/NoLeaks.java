package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class if Netty's leak detector (PARANOID in the test configuration) reported a
 * leaked buffer while it ran. Leaks are reported when the detector next tracks a buffer after the
 * leaked one was collected, so this collects garbage and allocates a few buffers first.
 */
public final class NoLeaks implements BeforeAllCallback, AfterAllCallback {

    @Override
    public void beforeAll(ExtensionContext context) {
        provokeReports();
        LeakAppender.clear();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        provokeReports();
        List<String> leaks = LeakAppender.leaks();
        LeakAppender.clear();
        if (!leaks.isEmpty()) {
            fail(leaks.size() + " ByteBuf leak(s) reported by Netty during " + context.getDisplayName() + ":\n" + leaks.get(0));
        }
    }

    static void provokeReports() {
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
            throw new IllegalStateException("tests expect -Dio.netty.leakDetection.level=PARANOID (set by the parent pom)");
        }
        for (int i = 0; i < 5; i++) {
            System.gc();
            System.runFinalization();
            for (ByteBufAllocator a : new ByteBufAllocator[] {ByteBufAllocator.DEFAULT, PooledByteBufAllocator.DEFAULT, UnpooledByteBufAllocator.DEFAULT}) {
                a.directBuffer(16).release();
                a.heapBuffer(16).release();
            }
        }
    }
}
