package org.jmbuf.net;

import java.time.Duration;
import java.util.PriorityQueue;

/**
 * The stack's callouts ({@code callout(9)}): tasks that run once their deadline on a {@link NetClock}
 * has passed, in deadline order (ties in scheduling order), when {@link #runDue()} is called. Runs on the
 * stack's thread; not thread-safe.
 */
public final class Timers {
    private final NetClock clock;
    private final PriorityQueue<Timer> queue = new PriorityQueue<>();
    private long sequence;

    /** A handle for a scheduled task. */
    public static final class Timer implements Comparable<Timer> {
        private final long deadline;
        private final long order;
        private final Runnable task;
        private boolean cancelled;
        private boolean fired;

        private Timer(long deadline, long order, Runnable task) {
            this.deadline = deadline;
            this.order = order;
            this.task = task;
        }

        /** Stops the task from running; harmless if it already ran or was cancelled. */
        public void cancel() {
            cancelled = true;
        }

        /** Whether the task is still to run. */
        public boolean isPending() {
            return !cancelled && !fired;
        }

        /** The clock value at or after which the task runs. */
        public long deadline() {
            return deadline;
        }

        @Override
        public int compareTo(Timer other) {
            int c = Long.compare(deadline, other.deadline);
            return c != 0 ? c : Long.compare(order, other.order);
        }
    }

    /** Timers on {@code clock}. */
    public Timers(NetClock clock) {
        this.clock = clock;
    }

    /** The clock the deadlines are on. */
    public NetClock clock() {
        return clock;
    }

    /** Runs {@code task} once {@code delay} has passed. */
    public Timer schedule(Duration delay, Runnable task) {
        return scheduleNanos(delay.toNanos(), task);
    }

    /** Runs {@code task} once {@code delayNanos} have passed. */
    public Timer scheduleNanos(long delayNanos, Runnable task) {
        Timer t = new Timer(clock.nanoTime() + Math.max(0, delayNanos), sequence++, task);
        queue.add(t);
        return t;
    }

    /** Runs every task whose deadline has passed (including ones they schedule that are due); returns how many. */
    public int runDue() {
        int ran = 0;
        long now = clock.nanoTime();
        Timer t;
        while ((t = queue.peek()) != null && t.deadline <= now) {
            queue.poll();
            if (!t.cancelled) {
                t.fired = true;
                t.task.run();
                ran++;
            }
        }
        return ran;
    }

    /** The earliest pending deadline, or {@link Long#MAX_VALUE} if none. */
    public long nextDeadline() {
        Timer t;
        while ((t = queue.peek()) != null && t.cancelled) {
            queue.poll();
        }
        return t == null ? Long.MAX_VALUE : t.deadline;
    }
}
