package org.jmbuf.net;

/**
 * The stack's sense of time: a monotonic nanosecond clock, injectable so that tests and simulated links
 * run on {@link ManualClock} and repeat exactly.
 */
@FunctionalInterface
public interface NetClock {
    /** Nanoseconds from an arbitrary origin; never decreases. */
    long nanoTime();

    /** The JVM's monotonic clock ({@link System#nanoTime()}). */
    static NetClock system() {
        return System::nanoTime;
    }
}
