package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * Model test of {@link TcpScoreboard}, the sender's SACK scoreboard, against a bit per byte and RFC 6675's
 * definitions read literally, octet by octet: random SACK blocks (overlapping, adjacent, duplicated, below
 * SND.UNA, beyond SND.MAX, empty) and cumulative ACKs, over a sequence space far above 2^32 (unwrapped).
 *
 * <p>After every step, for every octet between SND.UNA and SND.MAX: {@code isSacked} is the model's bit;
 * {@code isLost} is RFC 6675 §4's IsLost (DupThresh discontiguous SACKed runs, or more than
 * (DupThresh - 1) * SMSS SACKed octets, above it); and {@code add} returns whether the block brought octets
 * not already SACKed, ignoring blocks not above SND.UNA or reaching past SND.MAX (RFC 2018 §8). Also
 * {@code sackedBytes}, {@code SetPipe} (§4: each octet not SACKed counts once unless IsLost, once more if
 * retransmitted, i.e. below HighRxt, exclusive here) for every HighRxt, and {@code NextSeg} rules 1 and 3
 * (the first octet at or above HighRxt that is not SACKed and, for rule 1, IsLost; with the end of its
 * hole).
 */
class TcpScoreboardPropertyTest {
    private static final long BASE = (1L << 35) + 777;
    private static final int SPACE = 160;

    /** A SACK block {@code [start, end)} relative to BASE, or (block false) a cumulative ACK to {@code start}. */
    record Op(boolean block, int start, int end) {
        @Override
        public String toString() {
            return block ? "sack(" + start + "-" + end + ")" : "ack(" + start + ")";
        }
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Op> block = Combinators.combine(Arbitraries.integers().between(0, SPACE + 5),
                Arbitraries.integers().between(-2, 40)).as((s, len) -> new Op(true, s, s + len));
        Arbitrary<Op> ack = Arbitraries.integers().between(0, 30).map(d -> new Op(false, d, 0));
        return Arbitraries.frequencyOf(Tuple.of(6, block), Tuple.of(1, ack)).list().ofMinSize(1).ofMaxSize(40);
    }

    @Property(tries = 400)
    void agreesWithBitModel(@ForAll("operations") List<Op> ops, @ForAll @IntRange(min = 1, max = 12) int mss,
            @ForAll @IntRange(min = 20, max = SPACE) int max) {
        TcpScoreboard board = new TcpScoreboard();
        BitSet sacked = new BitSet();
        int una = 0;
        List<String> trace = new ArrayList<>();
        for (Op op : ops) {
            trace.add(op.toString());
            if (op.block()) {
                // blocks are clipped to what lies above SND.UNA
                int start = Math.max(op.start(), una);
                boolean valid = op.end() > una && op.end() > op.start() && op.end() <= max;
                boolean fresh = valid && sacked.get(start, op.end()).cardinality() < op.end() - start;
                boolean got = board.add(BASE + op.start(), BASE + op.end(), BASE + una, BASE + max);
                assertEquals(fresh, got, "add's result after " + trace);
                if (valid) {
                    sacked.set(start, op.end());
                }
            } else {
                una = Math.min(max, una + op.start());
                board.advance(BASE + una);
                sacked.clear(0, una);
            }
            check(board, sacked, una, max, mss, trace);
        }
    }

    private static void check(TcpScoreboard board, BitSet sacked, int una, int max, int mss, List<String> trace) {
        String where = " after " + trace + " una=" + una + " max=" + max + " mss=" + mss + " board " + board;
        assertEquals(sacked.cardinality(), board.sackedBytes(), "sackedBytes" + where);
        for (int s = una; s < max; s++) {
            assertEquals(sacked.get(s), board.isSacked(BASE + s), "isSacked(" + s + ")" + where);
            if (!sacked.get(s)) { // IsLost is asked of octets not SACKed (holes)
                assertEquals(isLost(sacked, s, mss), board.isLost(BASE + s, mss), "isLost(" + s + ")" + where);
            }
        }
        for (int highRxt = una; highRxt <= max; highRxt++) {
            long pipe = 0;
            for (int s = una; s < max; s++) {
                if (sacked.get(s)) {
                    continue;
                }
                if (!isLost(sacked, s, mss)) {
                    pipe++;
                }
                if (s < highRxt) {
                    pipe++;
                }
            }
            assertEquals(pipe, board.pipe(BASE + una, BASE + max, BASE + highRxt, mss),
                    "pipe with HighRxt " + highRxt + where);
            for (boolean lostOnly : new boolean[] {true, false}) {
                long expected = -1;
                long expectedEnd = -1;
                int highestSacked = sacked.length(); // NextSeg looks only below the highest SACKed octet
                for (int s = Math.max(una, highRxt); s < highestSacked; s++) {
                    if (!sacked.get(s) && (!lostOnly || isLost(sacked, s, mss))) {
                        expected = BASE + s;
                        int e = sacked.nextSetBit(s);
                        expectedEnd = BASE + (e < 0 || e > max ? max : e);
                        break;
                    }
                }
                long[] limit = {-1};
                long got = board.nextHole(BASE + una, BASE + highRxt, mss, lostOnly, limit);
                assertEquals(expected, got, "nextHole(lostOnly " + lostOnly + ", HighRxt " + highRxt + ")" + where);
                if (expected >= 0) {
                    assertEquals(expectedEnd, limit[0], "nextHole's end" + where);
                }
            }
        }
    }

    /** RFC 6675 §4 IsLost(seq), octet by octet: SACKed runs and octets above {@code seq}. */
    private static boolean isLost(BitSet sacked, int seq, int mss) {
        int runs = 0;
        int bytes = 0;
        boolean inRun = false;
        for (int s = seq + 1; s < sacked.length(); s++) {
            if (sacked.get(s)) {
                bytes++;
                if (!inRun) {
                    runs++;
                }
                inRun = true;
            } else {
                inRun = false;
            }
        }
        return runs >= TcpScoreboard.DUP_THRESH || bytes > (TcpScoreboard.DUP_THRESH - 1) * mss;
    }
}
