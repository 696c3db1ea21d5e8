package org.jmbuf.net;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.jmbuf.buf.MbufPool;

/**
 * A world of hosts and simulated links on one {@link ManualClock}: time moves only from one event to
 * the next, so a run is fast and repeats exactly for a given seed.
 */
public final class Simulation implements AutoCloseable {
    private final ManualClock clock = new ManualClock();
    private final Timers timers = new Timers(clock);
    private final MbufPool pool;
    private final long seed;
    private final List<Host> hosts = new ArrayList<>();
    private int links;

    /** A simulation allocating from {@code pool}, whose links draw their randomness from {@code seed}. */
    public Simulation(MbufPool pool, long seed) {
        this.pool = pool;
        this.seed = seed;
    }

    public ManualClock clock() {
        return clock;
    }

    public Timers timers() {
        return timers;
    }

    public MbufPool pool() {
        return pool;
    }

    /** A new host. */
    public Host host(String name) {
        Host h = new Host(name, pool, timers);
        hosts.add(h);
        return h;
    }

    /** A new link with IP MTU {@code mtu}; each link gets its own seed derived from the simulation's. */
    public SimulatedLink link(int mtu, SimulatedLink.Conditions conditions) {
        return new SimulatedLink(timers, pool, mtu, conditions, seed * 31 + links++);
    }

    /** Runs every host and timer for {@code duration} of simulated time. */
    public void run(Duration duration) {
        long end = clock.nanoTime() + duration.toNanos();
        runUntil(() -> false, end);
    }

    /**
     * Runs until {@code done} is true or {@code limit} of simulated time has passed; returns whether
     * {@code done} became true.
     */
    public boolean runUntil(BooleanSupplier done, Duration limit) {
        return runUntil(done, clock.nanoTime() + limit.toNanos());
    }

    private boolean runUntil(BooleanSupplier done, long end) {
        while (true) {
            settle();
            if (done.getAsBoolean()) {
                return true;
            }
            long next = timers.nextDeadline();
            if (next > end) {
                clock.setNanos(Math.max(clock.nanoTime(), end));
                settle();
                return done.getAsBoolean();
            }
            clock.setNanos(Math.max(clock.nanoTime(), next));
        }
    }

    /** Polls hosts and runs due timers until nothing is left to do at this instant. */
    private void settle() {
        for (int round = 0; round < 1_000_000; round++) {
            int work = timers.runDue();
            for (Host h : hosts) {
                work += h.poll();
            }
            if (work == 0) {
                return;
            }
        }
        throw new IllegalStateException("the simulation does not settle: a packet loop?");
    }

    /** Closes every host, freeing what they hold. */
    @Override
    public void close() {
        for (Host h : hosts) {
            h.close();
        }
    }
}
