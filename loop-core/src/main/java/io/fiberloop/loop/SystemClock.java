package io.fiberloop.loop;

/** {@link System#nanoTime()}. */
final class SystemClock implements LoopClock {
    static final SystemClock INSTANCE = new SystemClock();

    private SystemClock() {
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public String toString() {
        return "SystemClock";
    }
}
