package org.jmbuf.net;

/**
 * A token bucket ({@code ppsratecheck(9)}): up to {@code perSecond} events a second, with a burst of as
 * many, on the stack's clock. Used to pace ICMP error messages.
 */
final class RateLimiter {
    private final NetClock clock;
    private final int perSecond;
    private double tokens;
    private long lastRefill;

    RateLimiter(NetClock clock, int perSecond) {
        this.clock = clock;
        this.perSecond = perSecond;
        this.tokens = perSecond;
        this.lastRefill = clock.nanoTime();
    }

    /** Takes a token if one is left (refilling for the time passed); returns whether the event may happen. */
    boolean tryAcquire() {
        long now = clock.nanoTime();
        tokens = Math.min(perSecond, tokens + (now - lastRefill) * perSecond / 1e9);
        lastRefill = now;
        if (tokens < 1) {
            return false;
        }
        tokens--;
        return true;
    }
}
