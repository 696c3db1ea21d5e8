package org.jmbuf.net;

import java.time.Duration;

/** A clock that moves only when told to: for simulations and tests that must repeat exactly. */
public final class ManualClock implements NetClock {
    private long now;

    @Override
    public long nanoTime() {
        return now;
    }

    /**
     * Moves the clock forward.
     *
     * @throws IllegalArgumentException if {@code step} is negative
     */
    public void advance(Duration step) {
        advanceNanos(step.toNanos());
    }

    /** Moves the clock forward by {@code nanos}. */
    public void advanceNanos(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("a clock cannot go back: " + nanos + " ns");
        }
        now += nanos;
    }

    /** Sets the clock to {@code nanos}, which must not be before now. */
    public void setNanos(long nanos) {
        advanceNanos(nanos - now);
    }

    @Override
    public String toString() {
        return "ManualClock[" + Duration.ofNanos(now) + "]";
    }
}
