package org.jmbuf.buf;

import java.util.Arrays;

/**
 * The guaranteed contiguous regions of one chain: disjoint, sorted, non-empty ranges of packet offsets
 * {@code [start, end)}, each lying inside a single segment.
 *
 * <p>Two regions never overlap: when a new range overlaps existing ones they merge (their union is
 * contiguous, because overlapping contiguous ranges share a segment). Regions that only touch stay
 * separate, since they may lie in different segments.
 */
final class Regions {
    /**
     * The empty set that every chain without regions shares, so that a chain allocates no region storage
     * until its first region: never written (the methods that change a set leave an empty one alone, and
     * {@link #add} is only called on a set of the chain's own).
     */
    static final Regions NONE = new Regions();
    private static final int[] EMPTY = new int[0];

    private int[] starts = EMPTY;
    private int[] ends = EMPTY;
    private int count;
    /**
     * The first region, {@code starts[0]} and {@code ends[0]}, copied into fields by {@link #firstChanged()}
     * after every change, so that {@link #covers}'s usual case reads two fields and no array; an empty range
     * (it contains nothing) when there is no region.
     */
    private int firstStart;
    private int firstEnd = Integer.MIN_VALUE;

    int count() {
        return count;
    }

    int start(int i) {
        return starts[i];
    }

    int end(int i) {
        return ends[i];
    }

    boolean isEmpty() {
        return count == 0;
    }

    /** Removes every region, keeping the arrays for the next chain that reuses this set. */
    void clear() {
        count = 0;
        firstChanged();
    }

    /** Copies the first region into {@link #firstStart} and {@link #firstEnd}; every change ends with it. */
    private void firstChanged() {
        firstStart = count > 0 ? starts[0] : 0;
        firstEnd = count > 0 ? ends[0] : Integer.MIN_VALUE;
    }

    /** Index of the first region that ends after {@code position}. */
    private int firstEndingAfter(int position) {
        int lo = 0;
        int hi = count;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ends[mid] <= position) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** True if one region contains all of {@code [from, to)} (so the range is contiguous already). */
    boolean covers(int from, int to) {
        if (firstCovers(from, to)) {
            return true; // the first region: a packet's outermost header, the usual case
        }
        int i = firstEndingAfter(from);
        return i < count && starts[i] <= from && to <= ends[i];
    }

    /** True if the first region contains all of {@code [from, to)}. */
    boolean firstCovers(int from, int to) {
        return firstStart <= from && to <= firstEnd;
    }

    /** The first region's start; 0 when there is no region. */
    int firstStart() {
        return firstStart;
    }

    /** The first region's end; {@link Integer#MIN_VALUE} when there is no region. */
    int firstEnd() {
        return firstEnd;
    }

    /** The start of the smallest range containing {@code [from, to)} that cuts no region. */
    int closureStart(int from, int to) {
        int i = firstEndingAfter(from);
        return i < count && starts[i] < to ? Math.min(from, starts[i]) : from;
    }

    /** The end of the smallest range containing {@code [from, to)} that cuts no region. */
    int closureEnd(int from, int to) {
        int i = firstEndingAfter(to - 1);
        return i < count && starts[i] < to ? Math.max(to, ends[i]) : to;
    }

    /** True if a region has {@code start < position < end}, so a boundary at {@code position} would cut it. */
    boolean cuts(int position) {
        int i = firstEndingAfter(position);
        return i < count && starts[i] < position;
    }

    /** The region that {@code position} cuts; only valid when {@link #cuts(int)} is true. */
    int cutRegion(int position) {
        return firstEndingAfter(position);
    }

    /** Adds {@code [from, to)}, merging it with every region it overlaps. */
    void add(int from, int to) {
        if (from >= to) {
            return;
        }
        if (count == 0) { // a chain's first region: nothing to merge with
            grow();
            starts[0] = from;
            ends[0] = to;
            count = 1;
            firstChanged();
            return;
        }
        int first = firstEndingAfter(from);
        int last = first;
        while (last < count && starts[last] < to) {
            from = Math.min(from, starts[last]);
            to = Math.max(to, ends[last]);
            last++;
        }
        int removed = last - first;
        if (removed == 0) {
            grow();
            System.arraycopy(starts, first, starts, first + 1, count - first);
            System.arraycopy(ends, first, ends, first + 1, count - first);
            count++;
        } else if (removed > 1) {
            System.arraycopy(starts, last, starts, first + 1, count - last);
            System.arraycopy(ends, last, ends, first + 1, count - last);
            count -= removed - 1;
        }
        starts[first] = from;
        ends[first] = to;
        firstChanged();
    }

    /** Moves every region by {@code delta} (prepend). */
    void shift(int delta) {
        if (count == 0) {
            return;
        }
        for (int i = 0; i < count; i++) {
            starts[i] += delta;
            ends[i] += delta;
        }
        firstChanged();
    }

    /** Removes the first {@code n} bytes: regions move down by n, are clipped at 0, or vanish. */
    void trimFront(int n) {
        if (count == 0) {
            return;
        }
        int out = 0;
        for (int i = 0; i < count; i++) {
            int s = Math.max(0, starts[i] - n);
            int e = ends[i] - n;
            if (e > s) {
                starts[out] = s;
                ends[out] = e;
                out++;
            }
        }
        count = out;
        firstChanged();
    }

    /** Keeps only bytes below {@code newLength}: regions are clipped there or vanish. */
    void truncate(int newLength) {
        if (count == 0) {
            return;
        }
        int out = 0;
        for (int i = 0; i < count; i++) {
            int e = Math.min(ends[i], newLength);
            if (e > starts[i]) {
                ends[out] = e;
                starts[out] = starts[i];
                out++;
            }
        }
        count = out;
        firstChanged();
    }

    /**
     * Moves the parts of regions at or after {@code at} into a new set, offsets rebased to 0 (split); returns
     * {@link #NONE} if no region reaches past {@code at}.
     */
    Regions splitOff(int at) {
        if (count == 0 || ends[count - 1] <= at) {
            return NONE;
        }
        Regions tail = new Regions();
        for (int i = 0; i < count; i++) {
            if (ends[i] > at) {
                tail.add(Math.max(starts[i], at) - at, ends[i] - at);
            }
        }
        truncate(at);
        return tail;
    }

    /** Appends every region of {@code other} moved up by {@code delta} (cat). */
    void appendShifted(Regions other, int delta) {
        for (int i = 0; i < other.count; i++) {
            add(other.starts[i] + delta, other.ends[i] + delta);
        }
    }

    private void grow() {
        if (count == starts.length) {
            int size = Math.max(4, count * 2);
            starts = Arrays.copyOf(starts, size);
            ends = Arrays.copyOf(ends, size);
        }
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < count; i++) {
            out.append(i == 0 ? "" : ", ").append(starts[i]).append("..").append(ends[i]);
        }
        return out.append(']').toString();
    }
}
