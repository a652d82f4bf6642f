package io.fiberloop.fiber.channel;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A pipeline across loops and a thread: loop A produces, loop B transforms, a plain thread consumes. */
@Timeout(30)
class ChannelPipelineTest {

    @Test
    void loopAProducesLoopBTransformsAPlainThreadConsumes() throws Exception {
        int n = 50_000;
        Channel<Long> numbers = Channel.buffered(64);
        Channel<Long> squares = Channel.buffered(64);
        try (EventLoop a = FiberLoops.newLoop(); EventLoop b = FiberLoops.newLoop()) {
            Task<Void> producer = Fibers.spawn(a, () -> {
                try {
                    for (long i = 1; i <= n; i++) {
                        numbers.send(i);
                    }
                } finally {
                    numbers.close();
                }
                return null;
            });
            Task<Long> transformer = Fibers.spawn(b, () -> {
                long count = 0;
                try {
                    for (long x : numbers) {
                        squares.send(x * x);
                        count++;
                    }
                } finally {
                    squares.close();
                }
                return count;
            });
            List<Long> got = new ArrayList<>(n);
            for (long sq : squares) { // the test thread blocks while the pipeline works
                got.add(sq);
            }
            producer.get(10, TimeUnit.SECONDS);
            assertEquals(n, transformer.get(10, TimeUnit.SECONDS));
            assertEquals(LongStream.rangeClosed(1, n).map(i -> i * i).boxed().toList(), got);
        }
    }

    @Test
    void aFailureUpstreamReachesTheConsumerThroughCloseWithACause() throws Exception {
        Channel<Integer> numbers = Channel.buffered(4);
        Channel<Integer> doubled = Channel.buffered(4);
        try (EventLoop a = FiberLoops.newLoop(); EventLoop b = FiberLoops.newLoop()) {
            Fibers.spawn(a, () -> {
                try {
                    for (int i = 1; i <= 10; i++) {
                        numbers.send(i);
                    }
                    throw new IOException("source broke after 10");
                } catch (IOException e) {
                    numbers.close(e);
                }
                return null;
            });
            Fibers.spawn(b, () -> {
                try {
                    for (int x : numbers) {
                        doubled.send(2 * x);
                    }
                    doubled.close();
                } catch (ChannelClosedException e) {
                    doubled.close(e.getCause());
                }
                return null;
            });
            List<Integer> got = new ArrayList<>();
            ChannelClosedException end = assertThrows(ChannelClosedException.class, () -> {
                for (int x : doubled) {
                    got.add(x);
                }
            });
            assertEquals(List.of(2, 4, 6, 8, 10, 12, 14, 16, 18, 20), got, "everything sent before the failure arrives");
            assertInstanceOf(IOException.class, end.getCause());
            assertEquals("source broke after 10", end.getCause().getMessage());
        }
    }
}
