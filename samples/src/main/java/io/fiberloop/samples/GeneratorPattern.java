package io.fiberloop.samples;

import io.fiberloop.fiber.Fiber;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A generator built on {@link Fiber#switchTo}, as Python's generators and greenlet's: the
 * generator's body runs in its own fiber and hands each value straight to the consumer with a
 * switch, so it keeps its state in plain local variables and runs only when a value is asked for.
 * Control moves directly between the two fibers; nothing else of the loop runs in between.
 */
@Command(name = "generator", mixinStandardHelpOptions = true,
        description = "A lazy generator (Fibonacci numbers) written as a plain loop, on Fiber.switchTo.")
final class GeneratorPattern extends Patterns.PatternCommand {

    @Option(names = "--count", defaultValue = "10", description = "How many Fibonacci numbers to take (default: ${DEFAULT-VALUE}).")
    int count;

    /**
     * A generator: an {@link Iterator} whose values a body produces with {@code emit.accept(v)}.
     * Create and iterate it in the same fiber (the body's end returns to the fiber that created it).
     * An unfinished generator that is dropped is garbage-collected with its suspended fiber.
     *
     * @param <T> the values
     */
    static final class Generator<T> implements Iterator<T> {
        private static final Object DONE = new Object();
        private final Fiber fiber;
        private Fiber consumer;
        private Object next;
        private boolean ready;
        private boolean finished;

        Generator(Consumer<Consumer<T>> body) {
            Consumer<T> emit = value -> consumer.switchTo(value);   // hand the value over, suspend
            this.fiber = new Fiber(() -> {
                body.accept(emit);
                return DONE;                                           // ends: DONE goes to the creator
            });
        }

        @Override
        public boolean hasNext() {
            if (!ready && !finished) {
                consumer = Fiber.current();
                Object v = fiber.switchTo();                           // run the body to its next yield
                if (v == DONE) {
                    finished = true;
                } else {
                    next = v;
                    ready = true;
                }
            }
            return ready;
        }

        @Override
        @SuppressWarnings("unchecked")
        public T next() {
            if (!hasNext()) {
                throw new NoSuchElementException("generator exhausted");
            }
            ready = false;
            return (T) next;
        }
    }

    /**
     * What happened.
     *
     * @param fibonacci the first {@code count} values of an endless generator
     * @param countdown every value of a finite generator
     * @param log every step, in the order it ran
     */
    record Result(List<Long> fibonacci, List<Integer> countdown, List<String> log) {
    }

    @Override
    public Integer call() throws Exception {
        Result r = run(clock(), count);
        r.log().forEach(System.out::println);
        System.out.println("fibonacci " + r.fibonacci() + "; countdown " + r.countdown());
        return 0;
    }

    static Result run(LoopClock clock, int count) throws Exception {
        try (EventLoop loop = Patterns.loop("generator", clock)) {
            return loop.run(() -> {
                List<String> log = new ArrayList<>();

                // an endless generator: the consumer decides how much of it runs
                Generator<Long> fib = new Generator<>(emit -> {
                    long a = 0;
                    long b = 1;
                    while (true) {
                        log.add("generator: yields " + a);
                        emit.accept(a);
                        long c = a + b;
                        a = b;
                        b = c;
                    }
                });
                List<Long> fibonacci = new ArrayList<>();
                for (int i = 0; i < count && fib.hasNext(); i++) {
                    long v = fib.next();
                    log.add("consumer: got " + v);
                    fibonacci.add(v);
                }
                log.add("consumer: took " + count + ", drops the endless generator");

                // a finite one: iteration ends when its body returns
                Generator<Integer> countdown = new Generator<>(emit -> {
                    for (int i = 3; i > 0; i--) {
                        emit.accept(i);
                    }
                    log.add("generator: body returns");
                });
                List<Integer> down = new ArrayList<>();
                countdown.forEachRemaining(down::add);
                log.add("consumer: countdown " + down + ", exhausted: " + !countdown.hasNext());
                return new Result(List.copyOf(fibonacci), List.copyOf(down), List.copyOf(log));
            });
        }
    }
}
