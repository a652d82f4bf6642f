package io.fiberloop.loop.spi;

/**
 * One runner of a loop's work ({@link LoopWork#run(WorkRunner)}): for fiberloop's fibers, one work
 * fiber. The loop marks the runner while it runs a task or a timer callback, so that a host that
 * finds its runner suspended inside one (blocked on a monitor that a parked fiber holds, say) can
 * {@linkplain #retire() retire} it and give the loop's work to a new runner; a retired runner leaves
 * {@code run} as soon as its current task returns.
 *
 * <p>Threading: the loop's carrier only.
 */
public final class WorkRunner {
    private final int id;
    private boolean inTask;
    private boolean retired;

    /**
     * A work runner.
     *
     * @param id a number for the runner's name and log lines (the host's count of runners)
     */
    public WorkRunner(int id) {
        this.id = id;
    }

    /** {@return the runner's number} */
    public int id() {
        return id;
    }

    /** {@return whether the runner is inside a task or a timer callback right now} */
    public boolean inTask() {
        return inTask;
    }

    /** {@return whether the runner was retired: it runs no more of the loop's work} */
    public boolean retired() {
        return retired;
    }

    /** Retires the runner: once its current task returns, it leaves {@link LoopWork#run}. */
    public void retire() {
        retired = true;
    }

    /** Called by the loop as a task begins. */
    public void taskStarted() {
        inTask = true;
    }

    /** Called by the loop as a task ends. */
    public void taskEnded() {
        inTask = false;
    }

    @Override
    public String toString() {
        return "WorkRunner[" + id + (inTask ? ", in a task" : "") + (retired ? ", retired" : "") + "]";
    }
}
