package org.jmbuf.net;

import java.util.EnumMap;
import java.util.Map;

/**
 * The counters of one protocol: a {@code long} per constant of an enum of {@link Counter}s, the Java
 * form of {@code struct ipstat}, {@code struct icmpstat} and friends.
 *
 * <p>Not thread-safe: a stack instance runs on one thread. {@link #toString()} prints the non-zero
 * counters as {@code netstat -s} does.
 */
public final class Counters<E extends Enum<E> & Counter> {
    private final String title;
    private final Class<E> type;
    private final long[] values;

    /** Counters for every constant of {@code type}, printed under {@code title} ("ip", "icmp", ...). */
    public Counters(String title, Class<E> type) {
        this.title = title;
        this.type = type;
        this.values = new long[type.getEnumConstants().length];
    }

    /** Adds one. */
    public void increment(E counter) {
        values[counter.ordinal()]++;
    }

    /** Adds {@code n}. */
    public void add(E counter, long n) {
        values[counter.ordinal()] += n;
    }

    /** The current value. */
    public long get(E counter) {
        return values[counter.ordinal()];
    }

    /** A snapshot of every counter, zero or not. */
    public Map<E, Long> snapshot() {
        Map<E, Long> out = new EnumMap<>(type);
        for (E e : type.getEnumConstants()) {
            out.put(e, values[e.ordinal()]);
        }
        return out;
    }

    /** The title this group prints under. */
    public String title() {
        return title;
    }

    /**
     * {@code netstat -s} style: the title, then each non-zero counter as "number description"; the empty
     * string if every counter is zero.
     */
    @Override
    public String toString() {
        boolean any = false;
        for (long v : values) {
            any |= v != 0;
        }
        if (!any) {
            return "";
        }
        StringBuilder out = new StringBuilder(title).append(":\n");
        for (E e : type.getEnumConstants()) {
            long v = values[e.ordinal()];
            if (v != 0) {
                out.append(String.format("%12d %s%n", v, e.description()));
            }
        }
        return out.toString();
    }
}
