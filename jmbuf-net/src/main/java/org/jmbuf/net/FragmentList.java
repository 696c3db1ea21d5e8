package org.jmbuf.net;

import java.util.ArrayList;
import java.util.List;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;

/**
 * The fragments of one datagram being reassembled, kept in offset order: the bookkeeping that IPv4
 * ({@link Ipv4Reassembly}) and IPv6 ({@link Ipv6Reassembly}) reassembly share. Ranges are payload offsets
 * {@code [start, end)}; the first fragment's chain keeps its headers, the others hold payload only.
 */
final class FragmentList {
    /** {@link #place}: exactly this range is already here. */
    static final int DUPLICATE = -1;
    /** {@link #place}: the range overlaps a fragment already here. */
    static final int OVERLAP = -2;

    private record Fragment(int start, int end, Mbuf data) { }

    private final List<Fragment> fragments = new ArrayList<>();
    private int end = -1;
    private int bytes;

    /** What a fragment costs the memory limit: at least a segment's worth, however little it carries. */
    static int charge(Mbuf m) {
        return Math.max(m.length(), MbufPool.MSIZE);
    }

    /**
     * Records where the datagram ends if this fragment is the last, and says whether its end agrees with
     * what is known: a second last fragment with another end, or data past a known end, does not.
     */
    boolean acceptEnd(int fragmentEnd, boolean more) {
        if (!more) {
            if (end >= 0 && end != fragmentEnd || endsAfter(fragmentEnd)) {
                return false;
            }
            end = fragmentEnd;
            return true;
        }
        return end < 0 || fragmentEnd <= end;
    }

    private boolean endsAfter(int position) {
        for (Fragment f : fragments) {
            if (f.end > position) {
                return true;
            }
        }
        return false;
    }

    /** The index at which {@code [start, end)} goes, or {@link #DUPLICATE}, or {@link #OVERLAP}. */
    int place(int start, int fragmentEnd) {
        int index = 0;
        for (Fragment f : fragments) {
            if (f.start == start && f.end == fragmentEnd) {
                return DUPLICATE;
            }
            if (start < f.end && f.start < fragmentEnd) {
                return OVERLAP;
            }
            if (f.start < start) {
                index++;
            }
        }
        return index;
    }

    /** Adds a fragment at the index {@link #place} gave; returns what it is charged. */
    int add(int index, int start, int fragmentEnd, Mbuf data) {
        fragments.add(index, new Fragment(start, fragmentEnd, data));
        int charge = charge(data);
        bytes += charge;
        return charge;
    }

    int size() {
        return fragments.size();
    }

    /** Whether fragment 0 has arrived. */
    boolean hasFirst() {
        return !fragments.isEmpty() && fragments.getFirst().start == 0;
    }

    /** Fragment 0's chain, headers included; only valid when {@link #hasFirst()}. */
    Mbuf first() {
        return fragments.getFirst().data;
    }

    /** The chains of the fragments after the first, in order. */
    List<Mbuf> rest() {
        List<Mbuf> out = new ArrayList<>(fragments.size());
        for (int i = 1; i < fragments.size(); i++) {
            out.add(fragments.get(i).data);
        }
        return out;
    }

    /** Where the datagram's payload ends, or -1 until the last fragment has arrived. */
    int end() {
        return end;
    }

    /** What the fragments are charged in all. */
    int bytes() {
        return bytes;
    }

    /** Whether the fragments cover {@code [0, end)} without a hole. */
    boolean isComplete() {
        if (end < 0 || !hasFirst()) {
            return false;
        }
        int covered = 0;
        for (Fragment f : fragments) {
            if (f.start != covered) {
                return false;
            }
            covered = f.end;
        }
        return covered == end;
    }

    /** Frees every fragment; returns what they were charged. */
    int freeAll() {
        for (Fragment f : fragments) {
            f.data.free();
        }
        fragments.clear();
        int freed = bytes;
        bytes = 0;
        return freed;
    }

    /** Forgets the fragments without freeing them (their chains were joined into the datagram); returns their charge. */
    int release() {
        fragments.clear();
        int released = bytes;
        bytes = 0;
        return released;
    }
}
