package org.jmbuf.net;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jmbuf.buf.Mbuf;

/**
 * A connection's out-of-order queue ({@code tcp_reass}): segments that arrived beyond {@code RCV.NXT},
 * kept as the chains they came in (trimmed with {@link Mbuf#adj}, never copied), sorted and without
 * overlap, up to a limit of segments. Sequence numbers are unwrapped 64-bit values. Also the source of
 * the SACK blocks the receiver reports (RFC 2018 §4): the block holding the latest arrival first.
 */
final class TcpReassembly {
    /** A queued run of bytes starting at {@code seq}; {@code fin} if the peer's FIN follows its last byte. */
    private record Entry(long seq, Mbuf data, int length, boolean fin) {
        long end() {
            return seq + length;
        }
    }

    private final List<Entry> entries = new ArrayList<>();
    private final int limit;
    private long latestArrival = -1;
    private final long[] reported = new long[TcpSegment.MAX_SACK_BLOCKS];
    private int reportedCount;
    private long[] runStarts = new long[8];
    private long[] runEnds = new long[8];
    private long bytes;

    TcpReassembly(int limit) {
        this.limit = limit;
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    int size() {
        return entries.size();
    }

    /** The number of runs of adjacent entries: the SACK blocks there are to report. */
    int runCount() {
        int runs = 0;
        long end = -1;
        for (Entry e : entries) {
            if (e.seq() != end) {
                runs++;
            }
            end = e.end();
        }
        return runs;
    }

    /** Bytes queued. */
    long bytes() {
        return bytes;
    }

    /**
     * Queues {@code data} ({@code length} bytes at {@code seq}, consumed; null if {@code length} is 0),
     * trimming what other entries already hold. Returns false, freeing {@code data}, if the queue is full
     * and the segment brings new bytes.
     */
    boolean insert(long seq, Mbuf data, int length, boolean fin) {
        long end = seq + length;
        long arrival = seq;
        int i = 0;
        while (i < entries.size() && entries.get(i).end() <= seq) {
            i++;
        }
        // trim the front against an entry that starts before us
        if (i < entries.size() && entries.get(i).seq() <= seq) {
            Entry before = entries.get(i);
            if (before.end() >= end) {
                free(data);
                if (fin && before.end() == end && !before.fin()) {
                    entries.set(i, new Entry(before.seq(), before.data(), before.length(), true));
                }
                latestArrival = before.seq();
                return true;
            }
            int overlap = (int) (before.end() - seq);
            data.adj(overlap);
            seq += overlap;
            length -= overlap;
            i++;
        }
        // drop entries we cover entirely, trim our back against the next one
        while (i < entries.size() && entries.get(i).seq() < end) {
            Entry next = entries.get(i);
            if (next.end() <= end) {
                fin |= next.fin() && next.end() == end; // the FIN it carried follows our last byte too
                bytes -= next.length();
                free(next.data());
                entries.remove(i);
                continue;
            }
            int overlap = (int) (end - next.seq());
            data.adj(-overlap);
            length -= overlap;
            end = seq + length;
            fin = false;
            break;
        }
        if (length == 0) {
            free(data); // no new byte: the entries around hold them all
            if (!fin) {
                latestArrival = arrival;
                return true;
            }
            if (i > 0 && entries.get(i - 1).end() == seq) {
                Entry last = entries.get(i - 1);
                entries.set(i - 1, new Entry(last.seq(), last.data(), last.length(), true));
                latestArrival = arrival;
                return true;
            }
            data = null; // a bare FIN beyond a gap: an empty entry keeps it
        }
        if (entries.size() >= limit) {
            free(data);
            return false;
        }
        entries.add(i, new Entry(seq, data, length, fin));
        bytes += length;
        latestArrival = seq;
        return true;
    }

    private static void free(Mbuf data) {
        if (data != null) {
            data.free();
        }
    }

    /** What {@link #take} hands back: the bytes (null if none) and whether the FIN follows them. */
    record Run(Mbuf data, int length, boolean fin) { }

    /**
     * Takes the entry that starts at or before {@code rcvNxt} and reaches beyond it, trimmed to start at
     * {@code rcvNxt}; entries wholly before {@code rcvNxt} are freed on the way. Null if there is none.
     */
    Run take(long rcvNxt) {
        while (!entries.isEmpty()) {
            Entry first = entries.getFirst();
            if (first.seq() > rcvNxt) {
                return null;
            }
            entries.removeFirst();
            bytes -= first.length();
            if (first.end() < rcvNxt || first.end() == rcvNxt && !first.fin()) {
                free(first.data());
                continue;
            }
            int trim = (int) (rcvNxt - first.seq());
            Mbuf data = first.data();
            if (trim > 0) {
                data.adj(trim);
            }
            int length = first.length() - trim;
            if (length == 0 && data != null) {
                data.free();
                data = null;
            }
            return new Run(data, length, first.fin());
        }
        return null;
    }

    /**
     * Writes up to {@code max} SACK blocks as {left, right} pairs into {@code edges} (RFC 2018 §4): the
     * block holding the latest arrival first, then the blocks reported last time, in their order, then the
     * others from the highest down. Remembers what it reported. Returns how many.
     */
    int sackBlocks(long[] edges, int max) {
        int runs = 0;
        for (int i = 0; i < entries.size(); ) {
            long start = entries.get(i).seq();
            long end = entries.get(i).end();
            int j = i + 1;
            while (j < entries.size() && entries.get(j).seq() == end) {
                end = entries.get(j).end();
                j++;
            }
            if (runs == runStarts.length) {
                runStarts = Arrays.copyOf(runStarts, 2 * runs);
                runEnds = Arrays.copyOf(runEnds, 2 * runs);
            }
            runStarts[runs] = start;
            runEnds[runs] = end;
            runs++;
            i = j;
        }
        int n = addRunContaining(edges, 0, max, runs, latestArrival);
        for (int r = 0; r < reportedCount; r++) {
            n = addRunContaining(edges, n, max, runs, reported[r]);
        }
        for (int r = runs - 1; r >= 0; r--) {
            n = addRunContaining(edges, n, max, runs, runStarts[r]);
        }
        reportedCount = n;
        for (int k = 0; k < n; k++) {
            reported[k] = edges[2 * k];
        }
        return n;
    }

    /** Appends the run holding {@code seq} to {@code edges} unless there is no room, none, or it is there. */
    private int addRunContaining(long[] edges, int n, int max, int runs, long seq) {
        if (n >= max) {
            return n;
        }
        for (int r = 0; r < runs; r++) {
            if (runStarts[r] <= seq && seq < runEnds[r]) {
                for (int k = 0; k < n; k++) {
                    if (edges[2 * k] == runStarts[r]) {
                        return n;
                    }
                }
                edges[2 * n] = runStarts[r];
                edges[2 * n + 1] = runEnds[r];
                return n + 1;
            }
        }
        return n;
    }

    /** Frees everything queued. */
    void clear() {
        for (Entry e : entries) {
            free(e.data());
        }
        entries.clear();
        bytes = 0;
        reportedCount = 0;
    }
}
