package org.jmbuf.net;

/**
 * The sender's SACK scoreboard (RFC 6675 §2-4; {@code tcp_sack.c}): the ranges the peer reports holding
 * above {@code SND.UNA}, merged and sorted, as unwrapped 64-bit sequence numbers; and the RFC's
 * {@code IsLost}, {@code SetPipe} and {@code NextSeg} over them.
 */
final class TcpScoreboard {
    /** Ranges kept at most; more (a pathological peer) are ignored until the lowest are acknowledged. */
    static final int MAX_RANGES = 128;
    /** {@code DupThresh} (RFC 6675 §2). */
    static final int DUP_THRESH = 3;

    private final long[] starts = new long[MAX_RANGES];
    private final long[] ends = new long[MAX_RANGES];
    private int count;

    boolean isEmpty() {
        return count == 0;
    }

    void clear() {
        count = 0;
    }

    /** Forgets everything below {@code una} (acknowledged cumulatively). */
    void advance(long una) {
        int drop = 0;
        while (drop < count && ends[drop] <= una) {
            drop++;
        }
        if (drop > 0) {
            System.arraycopy(starts, drop, starts, 0, count - drop);
            System.arraycopy(ends, drop, ends, 0, count - drop);
            count -= drop;
        }
        if (count > 0 && starts[0] < una) {
            starts[0] = una;
        }
    }

    /**
     * Records a reported block {@code [start, end)}, clipped to what lies above {@code una}; ignored unless
     * {@code una < end <= max} and {@code start < end} (RFC 2018 §8 and RFC 6675 §4: only blocks above the
     * cumulative ACK, for data we sent). Returns whether it added bytes not already recorded.
     */
    boolean add(long start, long end, long una, long max) {
        if (end <= una || end <= start || end > max) {
            return false;
        }
        start = Math.max(start, una);
        int i = 0;
        while (i < count && ends[i] < start) {
            i++;
        }
        if (i < count && starts[i] <= start && ends[i] >= end) {
            return false;
        }
        // merge every range touching [start, end)
        int j = i;
        while (j < count && starts[j] <= end) {
            start = Math.min(start, starts[j]);
            end = Math.max(end, ends[j]);
            j++;
        }
        int removed = j - i;
        if (removed == 0 && count == MAX_RANGES) {
            return false;
        }
        int shift = 1 - removed;
        if (shift != 0) {
            System.arraycopy(starts, j, starts, j + shift, count - j);
            System.arraycopy(ends, j, ends, j + shift, count - j);
        }
        starts[i] = start;
        ends[i] = end;
        count += shift;
        return true;
    }

    /** Whether {@code seq} has been SACKed. */
    boolean isSacked(long seq) {
        for (int i = 0; i < count; i++) {
            if (seq < starts[i]) {
                return false;
            }
            if (seq < ends[i]) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code IsLost(seq)}: whether {@code DupThresh} discontiguous SACKed ranges lie above {@code seq}, or
     * more than {@code (DupThresh - 1) * mss} SACKed bytes do.
     */
    boolean isLost(long seq, int mss) {
        int ranges = 0;
        long bytes = 0;
        for (int i = count - 1; i >= 0 && ends[i] > seq; i--) {
            ranges++;
            bytes += ends[i] - Math.max(starts[i], seq + 1);
        }
        return ranges >= DUP_THRESH || bytes > (long) (DUP_THRESH - 1) * mss;
    }

    /** SACKed bytes in total. */
    long sackedBytes() {
        long n = 0;
        for (int i = 0; i < count; i++) {
            n += ends[i] - starts[i];
        }
        return n;
    }

    /**
     * {@code SetPipe}: the bytes presumed in flight between {@code una} and {@code max}: each byte not
     * SACKed counts once unless presumed lost, and once more if retransmitted (at or below
     * {@code highRxt}). Computed hole by hole: within a hole the SACKed bytes above are the same.
     */
    long pipe(long una, long max, long highRxt, int mss) {
        long pipe = 0;
        long holeStart = una;
        for (int i = 0; i <= count; i++) {
            long holeEnd = i < count ? starts[i] : max;
            if (holeEnd > holeStart) {
                if (!isLost(holeStart, mss)) {
                    pipe += holeEnd - holeStart;
                }
                long retransmitted = Math.min(holeEnd, highRxt) - holeStart;
                if (retransmitted > 0) {
                    pipe += retransmitted;
                }
            }
            if (i < count) {
                holeStart = Math.max(holeStart, ends[i]);
            }
        }
        return pipe;
    }

    /**
     * {@code NextSeg} rules 1 and 3 (RFC 6675 §4): the first byte above {@code highRxt} (and at or above
     * {@code una}) that is not SACKed, lies below the highest SACKed byte, and, if {@code lostOnly}, is
     * presumed lost; -1 if there is none. Bytes above the highest SACK are in flight as far as anyone knows,
     * and left to rule 4's rescue retransmission. {@code limit} receives the end of its hole.
     */
    long nextHole(long una, long highRxt, int mss, boolean lostOnly, long[] limit) {
        long from = Math.max(una, highRxt);
        long holeStart = una;
        for (int i = 0; i < count; i++) {
            long holeEnd = starts[i];
            long s = Math.max(holeStart, from);
            if (s < holeEnd) {
                if (!lostOnly || isLost(s, mss)) {
                    limit[0] = holeEnd;
                    return s;
                }
                return -1; // holes further up have fewer SACKed bytes above them: not lost either
            }
            holeStart = Math.max(holeStart, ends[i]);
        }
        return -1;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < count; i++) {
            b.append(i == 0 ? "" : ", ").append(starts[i]).append('-').append(ends[i]);
        }
        return b.append(']').toString();
    }
}
