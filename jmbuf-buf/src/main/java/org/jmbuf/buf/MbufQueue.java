package org.jmbuf.buf;

import java.util.ArrayDeque;

/**
 * A bounded first-in first-out queue of packets: the {@code struct ifqueue} of an interface's input or
 * send queue ({@code IF_ENQUEUE}, {@code IF_DEQUEUE}, {@code IF_QFULL}, {@code IF_DROP}), also usable as
 * an unbounded {@code MBUFQ}.
 *
 * <p>The queue owns the packets it holds. A packet offered to a full queue is counted as a drop and
 * freed at once, so the caller never has to remember to free it. Not safe for concurrent use: a queue
 * between two threads needs the caller's lock.
 */
public final class MbufQueue {
    private final ArrayDeque<Mbuf> packets = new ArrayDeque<>();
    private final int limit;
    private long drops;
    private long enqueued;

    /** An unbounded queue ({@code MBUFQ}). */
    public MbufQueue() {
        this(Integer.MAX_VALUE);
    }

    /**
     * A queue of at most {@code limit} packets ({@code ifq_maxlen}).
     *
     * @throws IllegalArgumentException if {@code limit} is not positive
     */
    public MbufQueue(int limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("queue limit must be positive, was " + limit);
        }
        this.limit = limit;
    }

    /**
     * {@code IF_ENQUEUE} after an {@code IF_QFULL} check: appends {@code packet}, or, if the queue is
     * full, counts a drop ({@code IF_DROP}) and frees the packet.
     *
     * @return true if the packet was queued, false if it was dropped (and freed)
     * @throws IllegalStateException if the packet handle is dead
     */
    public boolean enqueue(Mbuf packet) {
        if (!packet.isAlive()) {
            throw new IllegalStateException("cannot queue a freed packet");
        }
        if (packets.size() >= limit) {
            drops++;
            packet.free();
            return false;
        }
        packets.addLast(packet);
        enqueued++;
        return true;
    }

    /**
     * {@code IF_PREPEND}: puts {@code packet} back at the head (a driver that could not send it after
     * all). Ignores the limit, as the C macro does.
     */
    public void prepend(Mbuf packet) {
        if (!packet.isAlive()) {
            throw new IllegalStateException("cannot queue a freed packet");
        }
        packets.addFirst(packet);
    }

    /** {@code IF_DEQUEUE}: removes and returns the oldest packet, or null if the queue is empty. */
    public Mbuf dequeue() {
        return packets.pollFirst();
    }

    /** {@code IF_POLL}: the oldest packet without removing it, or null. */
    public Mbuf peek() {
        return packets.peekFirst();
    }

    /** {@code IF_PURGE}: frees every queued packet; returns how many. */
    public int purge() {
        int n = packets.size();
        Mbuf m;
        while ((m = packets.pollFirst()) != null) {
            m.free();
        }
        return n;
    }

    /** {@code ifq_len}: packets queued now. */
    public int length() {
        return packets.size();
    }

    /** {@code ifq_maxlen}. */
    public int limit() {
        return limit;
    }

    /** {@code IF_QFULL}. */
    public boolean isFull() {
        return packets.size() >= limit;
    }

    /** {@code ifq_drops}: packets refused because the queue was full. */
    public long drops() {
        return drops;
    }

    /** Packets accepted since the queue was made. */
    public long enqueued() {
        return enqueued;
    }

    @Override
    public String toString() {
        return "MbufQueue[" + packets.size() + "/" + (limit == Integer.MAX_VALUE ? "unbounded" : limit)
                + ", drops=" + drops + "]";
    }
}
