package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;

/**
 * Model test of {@link TcpReassembly}, the out-of-order queue: random sequences of segments arriving
 * above {@code RCV.NXT} (overlapping, duplicated, covering several queued ones, the last carrying the
 * FIN) and of in-order arrivals that move {@code RCV.NXT} (after which the queue is drained with
 * {@code take}, as the connection does), checked against a plain model: a byte array of the stream, a
 * bit per byte held above {@code RCV.NXT}, and whether the FIN is held.
 *
 * <p>After every step: the bytes taken out in order are the stream's bytes, {@code RCV.NXT} reaches the
 * model's first missing byte, the FIN comes out exactly when the model has it in order, {@code bytes()}
 * is the model's count, no more than {@code limit} entries are held, an insert refused for lack of
 * room changes nothing, and the SACK blocks (RFC 2018 §4) are the model's maximal runs: the one holding
 * the latest arrival first, then the ones reported last time that are still held, then the others from
 * the highest down, as many as fit. At the end the queue
 * is cleared and the pool has nothing in use: every chain inserted was freed or handed out exactly once.
 */
class TcpReassemblyPropertyTest {
    private static final int STREAM = 300;
    /** Unwrapped sequence number of the stream's first byte: high, to catch int arithmetic. */
    private static final long BASE = (1L << 33) + 12345;
    private static final byte[] BYTES = new byte[STREAM];

    static {
        new Random(9).nextBytes(BYTES);
    }

    private static final MbufPool POOL = MbufPool.builder().build();

    /** An operation: an out-of-order segment at {@code offset} above RCV.NXT, or in-order bytes. */
    record Op(boolean inOrder, int offset, int length, boolean fin) {
        @Override
        public String toString() {
            return inOrder ? "inOrder(" + length + ")" : "insert(+" + offset + ", " + length + (fin ? ", FIN" : "") + ")";
        }
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Op> insert = Combinators.combine(Arbitraries.integers().between(1, 120),
                Arbitraries.integers().between(0, 60), Arbitraries.integers().between(0, 9))
                .as((off, len, f) -> new Op(false, off, len, f == 0));
        Arbitrary<Op> inOrder = Arbitraries.integers().between(1, 40).map(len -> new Op(true, 0, len, false));
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(5, insert), net.jqwik.api.Tuple.of(1, inOrder))
                .list().ofMinSize(1).ofMaxSize(60);
    }

    @Property(tries = 1000)
    void agreesWithByteModel(@ForAll("operations") List<Op> ops, @ForAll @IntRange(min = 1, max = 12) int limit,
            @ForAll @IntRange(min = 1, max = 4) int maxBlocks) {
        TcpReassembly q = new TcpReassembly(limit);
        boolean[] held = new boolean[STREAM];
        boolean finHeld = false;
        long latestStart = -1;
        List<Long> reported = new ArrayList<>();
        long rcvNxt = BASE;
        boolean finTaken = false;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<String> trace = new ArrayList<>();
        try {
            for (Op op : ops) {
                if (finTaken) {
                    break;
                }
                trace.add(op.toString());
                int next = (int) (rcvNxt - BASE);
                if (op.inOrder()) {
                    int len = Math.min(op.length(), STREAM - next);
                    out.write(BYTES, next, len);
                    rcvNxt += len;
                } else {
                    int start = next + op.offset();
                    int end = Math.min(start + op.length(), STREAM);
                    if (start > STREAM || start == STREAM && !op.fin()) {
                        continue;
                    }
                    boolean fin = op.fin() && end == STREAM;
                    if (op.fin() && !fin) {
                        end = start + Math.min(op.length(), STREAM - start); // no FIN before the stream's end
                    }
                    int len = end - start;
                    if (len == 0 && !fin) {
                        continue; // the connection never queues an empty segment without FIN
                    }
                    Mbuf m = len == 0 ? null : POOL.devget(MemorySegment.ofArray(Arrays.copyOfRange(BYTES, start, end)));
                    long bytesBefore = q.bytes();
                    long[] blocksBefore = new long[8];
                    int nBefore = q.sackBlocks(blocksBefore, 4);
                    remember(reported, blocksBefore, nBefore);
                    boolean newBytes = fin && !finHeld;
                    for (int i = start; i < end; i++) {
                        newBytes |= !held[i];
                    }
                    boolean accepted = q.insert(BASE + start, m, len, fin);
                    if (accepted) {
                        for (int i = start; i < end; i++) {
                            held[i] = true;
                        }
                        finHeld |= fin;
                        latestStart = start;
                    } else {
                        // refusing a segment that brings nothing new is wrong too, but harmless here:
                        // refusedWithoutNewBytes shows it on its own
                        assertEquals(bytesBefore, q.bytes(), "a refused insert changed the queue: " + trace);
                        long[] blocksAfter = new long[8];
                        int nAfter = q.sackBlocks(blocksAfter, 4);
                        remember(reported, blocksAfter, nAfter);
                        assertEquals(nBefore, nAfter, trace.toString());
                        assertArrayEquals(blocksBefore, blocksAfter, "a refused insert changed the blocks: " + trace);
                    }
                    assertTrue(q.size() <= limit, "over the limit: " + q.size() + " " + trace);
                }
                // drain as the connection does
                TcpReassembly.Run run;
                while ((run = q.take(rcvNxt)) != null) {
                    if (run.data() != null) {
                        assertEquals(run.length(), run.data().length(), trace.toString());
                        out.write(run.data().toByteArray(), 0, run.length());
                        run.data().free();
                    }
                    rcvNxt += run.length();
                    if (run.fin()) {
                        finTaken = true;
                        q.clear();
                        break;
                    }
                }
                // the model
                int modelNext = (int) (rcvNxt - BASE);
                if (!finTaken) {
                    assertTrue(modelNext >= STREAM || !held[modelNext], "a held byte at RCV.NXT was not taken: " + trace);
                }
                for (int i = 0; i < modelNext && i < STREAM; i++) {
                    held[i] = false;
                }
                assertEquals(finHeld && modelNext == STREAM, finTaken, "FIN delivery: " + trace);
                byte[] got = out.toByteArray();
                assertEquals(modelNext, got.length, trace.toString());
                assertArrayEquals(Arrays.copyOfRange(BYTES, 0, got.length), got, "bytes out of order: " + trace);
                if (finTaken) {
                    break;
                }
                long heldCount = 0;
                for (boolean h : held) {
                    heldCount += h ? 1 : 0;
                }
                assertEquals(heldCount, q.bytes(), "bytes(): " + trace);
                if (heldCount > 0) {
                    assertFalse(q.isEmpty(), trace.toString());
                }
                checkSackBlocks(q, held, latestStart, reported, maxBlocks, trace);
            }
        } finally {
            q.clear();
        }
        assertTrue(POOL.stats().isQuiescent(), () -> "leak after " + trace + "\n" + POOL.stats() + POOL.leakReport());
    }

    /**
     * {@code insert} refuses only segments that bring new bytes when the queue is full (its contract); a
     * segment whose bytes two adjacent entries already hold brings nothing and must not be refused (nor,
     * with room, be kept as an empty entry taking one of the {@code limit} places).
     */
    @net.jqwik.api.Example
    void refusedWithoutNewBytes() {
        TcpReassembly q = new TcpReassembly(2);
        try {
            assertTrue(q.insert(BASE + 1, mbuf(1, 4), 3, false));
            assertTrue(q.insert(BASE + 1, mbuf(1, 6), 5, false)); // kept as [4, 6)
            assertEquals(2, q.size());
            assertEquals(5, q.bytes());
            assertTrue(q.insert(BASE + 3, mbuf(3, 5), 2, false), "a duplicate of held bytes refused as overflow");
        } finally {
            q.clear();
        }
        TcpReassembly roomy = new TcpReassembly(3);
        try {
            roomy.insert(BASE + 1, mbuf(1, 4), 3, false);
            roomy.insert(BASE + 4, mbuf(4, 6), 2, false);
            roomy.insert(BASE + 3, mbuf(3, 5), 2, false);
            assertEquals(2, roomy.size(), "a duplicate kept as an empty entry, taking a place");
        } finally {
            roomy.clear();
        }
        assertTrue(POOL.stats().isQuiescent());
    }

    /**
     * A queued segment that carries the FIN, covered entirely by a later segment without it (the same
     * bytes sent first without the FIN and reordered, or repacketized): the FIN must stay queued, and
     * come out when the bytes before it arrive.
     */
    @net.jqwik.api.Example
    void finSurvivesACoveringSegment() {
        TcpReassembly q = new TcpReassembly(8);
        try {
            assertTrue(q.insert(BASE + 290, mbuf(290, 300), 10, true));
            assertTrue(q.insert(BASE + 285, mbuf(285, 300), 15, false));
            TcpReassembly.Run run = q.take(BASE + 285);
            assertTrue(run != null && run.length() == 15, "the bytes");
            if (run.data() != null) {
                run.data().free();
            }
            assertTrue(run.fin(), "the FIN queued with [290, 300) was lost when [285, 300) covered it");
        } finally {
            q.clear();
        }
        assertTrue(POOL.stats().isQuiescent());
    }

    private static Mbuf mbuf(int from, int to) {
        return POOL.devget(MemorySegment.ofArray(Arrays.copyOfRange(BYTES, from, to)));
    }

    private static void remember(List<Long> reported, long[] edges, int n) {
        reported.clear();
        for (int i = 0; i < n; i++) {
            reported.add(edges[2 * i]);
        }
    }

    /**
     * RFC 2018 §4: the first block holds the segment that triggered the ACK; then the most recently
     * reported blocks again (those still held, in the order reported); then the others, from the highest
     * down (the implementation's choice for the rest); as many as fit.
     */
    private static void checkSackBlocks(TcpReassembly q, boolean[] held, long latestStart, List<Long> reported,
            int max, List<String> trace) {
        List<long[]> runs = new ArrayList<>();
        for (int i = 0; i < STREAM; ) {
            if (!held[i]) {
                i++;
                continue;
            }
            int j = i;
            while (j < STREAM && held[j]) {
                j++;
            }
            runs.add(new long[] {BASE + i, BASE + j});
            i = j;
        }
        List<long[]> expected = new ArrayList<>();
        List<Long> wanted = new ArrayList<>();
        if (latestStart >= 0) {
            wanted.add(BASE + latestStart);
        }
        wanted.addAll(reported);
        for (int k = runs.size() - 1; k >= 0; k--) {
            wanted.add(runs.get(k)[0]);
        }
        for (long seq : wanted) {
            for (long[] r : runs) {
                if (seq >= r[0] && seq < r[1] && !expected.contains(r)) {
                    expected.add(r);
                }
            }
        }
        expected = expected.subList(0, Math.min(max, expected.size()));
        long[] edges = new long[2 * 4];
        int n = q.sackBlocks(edges, max);
        remember(reported, edges, n);
        List<String> got = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            got.add((edges[2 * i] - BASE) + "-" + (edges[2 * i + 1] - BASE));
        }
        List<String> want = expected.stream().map(r -> (r[0] - BASE) + "-" + (r[1] - BASE)).toList();
        assertEquals(want, got, "SACK blocks after " + trace + " (previously reported " + reported + ")");
        assertFalse(n > max);
    }
}
