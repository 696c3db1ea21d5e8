package org.jmbuf.buf;

import static org.jmbuf.buf.AcceptanceFixtures.bytesOf;
import static org.jmbuf.buf.AcceptanceFixtures.concat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.jmbuf.buf.AcceptanceFixtures.Built;
import org.jmbuf.buf.Mbuf.Range;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Acceptance: guaranteed contiguous regions survive every rearranging operation (table-driven, with the
 * seed mail's case), and a stale view throws in strict mode.
 *
 * <p>Each case builds a chain of a given segment shape, creates regions with ptr / ptrRw (some of them
 * straddling segment boundaries, so ptr had to copy; some on read-only or shared storage), takes a view
 * of every region, runs one rearranging operation, and checks: the data is what a byte-array model says,
 * the regions are where the documentation says (same offsets, shifted, clipped, split), each of them is
 * still contiguous, verify() passes, read-only storage was never written, and every old view either
 * still shows exactly the bytes of its region or throws IllegalStateException (strict mode); a view whose
 * region was cut or trimmed must throw.
 */
class GuaranteedRegionTest {

    // ================================================================ the table

    /** A region to create on a fresh chain: ptr or ptrRw of [off, off + len). */
    record RegionSpec(boolean writable, int off, int len) {
        Range range() {
            return new Range(off, len);
        }

        @Override
        public String toString() {
            return (writable ? "ptrRw" : "ptr") + "(" + off + "," + len + ")";
        }
    }

    static RegionSpec ptr(int off, int len) {
        return new RegionSpec(false, off, len);
    }

    static RegionSpec ptrRw(int off, int len) {
        return new RegionSpec(true, off, len);
    }

    /** A chain shape (see AcceptanceFixtures) and the regions created on it. */
    record Shape(String name, String pieces, List<RegionSpec> regions) {
        int length() {
            int total = 0;
            for (String p : pieces.trim().split("\\s+")) {
                total += Integer.parseInt(p.substring(1));
            }
            return total;
        }

        Range region(int i) {
            return regions.get(i).range();
        }

        Range last() {
            return regions.getLast().range();
        }
    }

    static final List<Shape> SHAPES = List.of(
            // the seed mail's shape: segments break at 15 and 25; ptr(0,20) must join the first two
            new Shape("seed-inline", "I15 I10 I35", List.of(ptr(0, 20), ptr(40, 10))),
            new Shape("seed-readonly", "X15 X10 X35", List.of(ptr(0, 20), ptr(30, 20))),
            new Shape("seed-roomy", "i15 X10 X35", List.of(ptr(0, 20), ptrRw(45, 10))),
            // shared cluster, inline, read-only external; a region straddling shared/inline
            new Shape("mixed", "S100 i50 X80", List.of(ptr(10, 30), ptrRw(90, 20), ptr(160, 40))),
            // cluster aligned to its end, writable external, read-only external
            new Shape("cluster", "c300 W40 X20", List.of(ptr(290, 20), ptrRw(320, 10), ptr(342, 16))),
            // longer than a cluster, read-only: regions inside and across
            new Shape("long", "X3000 i20", List.of(ptr(100, 50), ptr(2000, 100), ptr(2990, 20))),
            // a region longer than a cluster, made by copying
            new Shape("big-region", "S1500 S1500", List.of(ptr(1000, 1000), ptr(2500, 40))),
            // a read-only region longer than a cluster: copy on write must keep it whole (a large buffer)
            new Shape("huge-region", "X5000 i10", List.of(ptr(1500, 2500), ptr(4500, 100))),
            // a roomy cluster: KAME's first fast path appends into it
            new Shape("roomy-cluster", "C100 X2000", List.of(ptr(50, 30), ptr(90, 20), ptr(1000, 50))),
            // writable external storage and KAME's second fast path (leading space of the next segment)
            new Shape("writable-external", "W100 I50 W30", List.of(ptrRw(10, 20), ptr(95, 10), ptrRw(155, 20))));

    /** The chain appended in the cat cases, with its own regions. */
    static final Shape CAT_TAIL = new Shape("tail", "X30 i20 S60", List.of(ptr(20, 20), ptr(60, 10)));

    static int mid(Range r) {
        return r.offset() + r.length() / 2;
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Shape s : SHAPES) {
            for (Op op : opsFor(s)) {
                out.add(Arguments.of(Named.of(s.name() + ": " + op.label(), new Case(s, op))));
            }
        }
        return out.stream();
    }

    record Case(Shape shape, Op op) { }

    static List<Op> opsFor(Shape s) {
        int len = s.length();
        Range r0 = s.region(0);
        Range r1 = s.regions().size() > 1 ? s.region(1) : r0;
        Range rl = s.last();
        List<Op> ops = new ArrayList<>();
        ops.add(new Pullup(mid(r0)));
        ops.add(new Pullup(mid(rl)));
        ops.add(new Pullup(len));
        ops.add(new Pullup(1));
        int cu = r0.end() + 16 <= MbufPool.MLEN ? mid(r0) : Math.min(8, r0.offset());
        ops.add(new Copyup(cu, 16));
        ops.add(new Copyup(cu, 0));
        ops.add(new Pulldown(mid(r0), Math.max(1, mid(r1) - mid(r0))));
        ops.add(new Pulldown(mid(rl), len - mid(rl)));
        ops.add(new Pulldown(r0.end() - 1, 2)); // from the last byte of a region into what follows
        ops.add(new MakeWritable(mid(r0), 1));
        ops.add(new MakeWritable(mid(rl), 1));
        ops.add(new MakeWritable(0, len));
        ops.add(new CopyBackCow(mid(r0), 10));
        ops.add(new CopyBackCow(mid(rl), len - mid(rl) + 25)); // over the end: extends
        ops.add(new CopyBackCow(len + 7, 30)); // past the end: a zero gap
        ops.add(new CopyBackCow(0, len));
        for (int i = 0; i < s.regions().size(); i++) {
            ops.add(new Split(mid(s.region(i))));
            ops.add(new Split(s.region(i).offset()));
            ops.add(new Split(s.region(i).end()));
        }
        ops.add(new Split(0));
        ops.add(new Split(len));
        ops.add(new Cat(false));
        ops.add(new Cat(true));
        ops.add(new Prepend(4));
        ops.add(new Prepend(100));
        ops.add(new Prepend(300));
        ops.add(new Prepend(3000));
        ops.add(new Adj(mid(r0)));
        if (r0.offset() > 0) {
            ops.add(new Adj(r0.offset()));
        }
        ops.add(new Adj(r0.end()));
        ops.add(new Adj(-(len - mid(rl))));
        if (rl.end() < len) {
            ops.add(new Adj(-(len - rl.end())));
        }
        ops.add(new Adj(-(len - rl.offset())));
        ops.add(new Adj(len));
        ops.add(new Adj(-len));
        return ops;
    }

    // ================================================================ the harness

    /** One input chain of a case: its fixture, data, regions and a view of each region. */
    static final class Input {
        final Built built;
        final List<Range> regions;
        final List<MemorySegment> views = new ArrayList<>();

        Input(Built built) {
            this.built = built;
            this.regions = built.chain.guaranteedRegions();
            for (Range r : regions) {
                long copied = built.chain.pool().stats().bytesCopied();
                views.add(built.chain.ptr(r.offset(), r.length()));
                assertEquals(copied, built.chain.pool().stats().bytesCopied(), "ptr of a region copied");
            }
            assertEquals(regions, built.chain.guaranteedRegions(), "taking views changed the regions");
        }

        byte[] data() {
            return built.data;
        }
    }

    /** Where a region's bytes are after the operation: in output chain {@code chain} at {@code offset}. */
    record Location(int chain, int offset) { }

    /** One rearranging operation and the documented result, as a byte-array and region-list model. */
    interface Op {
        String label();

        /** How many input chains: 1, or 2 for cat. */
        default int inputs() {
            return 1;
        }

        /** Runs the operation; returns the output chains (the first is the first input's handle). */
        List<Mbuf> run(List<Mbuf> in);

        List<byte[]> expectedData(List<byte[]> in);

        List<List<Range>> expectedRegions(List<List<Range>> in, List<byte[]> data);

        /** Where the bytes of region {@code r} of input {@code input} are, or null if cut or trimmed. */
        Location locate(int input, Range r, List<byte[]> in);

        /** Checks particular to the operation, after the common ones. */
        default void check(List<Mbuf> out, List<byte[]> expected) {
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void regionsSurvive(Case c) {
        MbufPool pool = MbufPool.builder().build();
        List<Built> fixtures = new ArrayList<>();
        List<Mbuf> outputs = List.of();
        try {
            List<Input> inputs = new ArrayList<>();
            inputs.add(new Input(setUp(pool, c.shape(), 0, fixtures)));
            if (c.op().inputs() == 2) {
                inputs.add(new Input(setUp(pool, CAT_TAIL, 1, fixtures)));
            }
            List<Mbuf> in = inputs.stream().map(i -> i.built.chain).toList();
            List<byte[]> inData = inputs.stream().map(Input::data).toList();
            List<List<Range>> inRegions = inputs.stream().map(i -> i.regions).toList();
            List<byte[]> expected = c.op().expectedData(inData);
            List<List<Range>> expectedRegions = c.op().expectedRegions(inRegions, inData);

            outputs = c.op().run(in);

            assertEquals(expected.size(), outputs.size());
            for (int k = 0; k < outputs.size(); k++) {
                Mbuf m = outputs.get(k);
                String where = "output " + k + " of " + c.op().label() + " on " + c.shape().pieces() + "\n";
                m.verify();
                assertArrayEquals(expected.get(k), m.toByteArray(), () -> where + m.dump());
                assertEquals(expectedRegions.get(k), m.guaranteedRegions(), () -> where + m.dump());
                for (Range r : m.guaranteedRegions()) {
                    assertTrue(m.isContiguous(r.offset(), r.length()), () -> where + r + " not contiguous\n"
                            + m.dump());
                    // and ptr of it copies nothing
                    long copied = pool.stats().bytesCopied();
                    MemorySegment v = m.ptr(r.offset(), r.length());
                    assertEquals(copied, pool.stats().bytesCopied(), () -> where + "ptr of region " + r + " copied");
                    assertArrayEquals(Arrays.copyOfRange(expected.get(k), r.offset(), r.end()), bytesOf(v));
                }
            }
            c.op().check(outputs, expected);
            // the old views: right bytes, or stale and throwing; never silently wrong
            for (int i = 0; i < inputs.size(); i++) {
                Input input = inputs.get(i);
                for (int j = 0; j < input.regions.size(); j++) {
                    Range r = input.regions.get(j);
                    MemorySegment view = input.views.get(j);
                    Location at = c.op().locate(i, r, inData);
                    if (at == null) {
                        assertThrows(IllegalStateException.class, () -> view.get(ValueLayout.JAVA_BYTE, 0),
                                "a view of region " + r + " whose bytes were cut or trimmed must be stale");
                        continue;
                    }
                    byte[] seen;
                    try {
                        seen = bytesOf(view);
                    } catch (IllegalStateException stale) {
                        continue; // moved: stale, and it says so
                    }
                    byte[] want = Arrays.copyOfRange(expected.get(at.chain()), at.offset(), at.offset() + r.length());
                    assertArrayEquals(want, seen, "view of region " + r + " shows bytes that are not the chain's");
                }
            }
            for (Built b : fixtures) {
                b.assertSharedStorageUntouched();
            }
        } finally {
            for (Mbuf m : outputs) {
                m.close();
            }
            for (Built b : fixtures) {
                b.close();
            }
        }
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    static Built setUp(MbufPool pool, Shape shape, int seed, List<Built> fixtures) {
        Built b = AcceptanceFixtures.build(pool, shape.pieces(), seed);
        fixtures.add(b);
        for (RegionSpec r : shape.regions()) {
            MemorySegment v = r.writable() ? b.chain.ptrRw(r.off(), r.len()) : b.chain.ptr(r.off(), r.len());
            assertEquals(r.len(), v.byteSize());
            assertTrue(b.chain.isContiguous(r.off(), r.len()));
        }
        List<Range> want = shape.regions().stream().map(RegionSpec::range).toList();
        assertEquals(want, b.chain.guaranteedRegions(), "regions as created on " + shape.pieces());
        assertArrayEquals(b.data, b.chain.toByteArray());
        b.chain.verify();
        return b;
    }

    // ================================================================ the seed mail's case

    static Stream<Arguments> seedShapes() {
        return Stream.of(
                // ptr(0,20) joins [0,25) into the second segment, which has no room after it: pulldown must
                // copy, from the region's start, so the region moves whole and its old view goes stale
                Arguments.of("I15 I10 I35", true),
                // ptr(0,20) copied [0,20) into fresh inline storage with room after it: pulldown appends
                // [20,40) there (KAME's first fast path) and the region does not move
                Arguments.of("X15 X10 X35", false),
                Arguments.of("i15 X10 X35", false),
                // the region lies in read-only storage: pulldown's writable view forces a copy of it
                Arguments.of("X25 X35", true));
    }

    @ParameterizedTest(name = "{0}, region moves: {1}")
    @MethodSource("seedShapes")
    void seedMailRegionStraddlingThePulldownOffsetStaysContiguous(String pieces, boolean moves) {
        MbufPool pool = MbufPool.builder().build();
        try (Built b = AcceptanceFixtures.build(pool, pieces)) {
            Mbuf m = b.chain;
            MemorySegment region = m.ptr(0, 20);
            assertEquals(List.of(new Range(0, 20)), m.guaranteedRegions());
            assertArrayEquals(sub(b.data, 0, 20), bytesOf(region));

            MemorySegment pulled = m.pulldown(10, 30);

            m.verify();
            assertEquals(List.of(new Range(0, 20)), m.guaranteedRegions(), "pulldown creates no region");
            assertTrue(m.isContiguous(0, 20), () -> "the region was cut\n" + m.dump());
            assertTrue(m.isContiguous(10, 30), () -> "the pulldown range is not contiguous\n" + m.dump());
            assertArrayEquals(b.data, m.toByteArray(), "bytes before off keep their offsets and values");
            assertArrayEquals(sub(b.data, 10, 40), bytesOf(pulled));
            assertFalse(pulled.isReadOnly());
            if (moves) {
                assertThrows(IllegalStateException.class, () -> region.get(ValueLayout.JAVA_BYTE, 0),
                        "the view of the moved region must be stale");
                assertTrue(m.isContiguous(0, 40), () -> "the copy must start at the region's start\n" + m.dump());
            } else {
                assertArrayEquals(sub(b.data, 0, 20), bytesOf(region), "the region did not move; its view works");
            }
            long copied = pool.stats().bytesCopied();
            assertArrayEquals(sub(b.data, 0, 20), bytesOf(m.ptr(0, 20)));
            assertEquals(copied, pool.stats().bytesCopied(), "a fresh ptr of the region copies nothing");
            b.assertSharedStorageUntouched();
        }
        assertTrue(pool.stats().isQuiescent());
    }

    // ================================================================ stale views

    @Test
    void makeWritableOfSharedStorageMakesTheOldViewStale() {
        MbufPool pool = MbufPool.builder().build();
        try (Built b = AcceptanceFixtures.build(pool, "S100 X50")) {
            Mbuf m = b.chain;
            MemorySegment moved = m.ptr(10, 20);
            MemorySegment other = m.ptr(110, 20); // another segment
            m.makeWritable(10, 20);
            assertThrows(IllegalStateException.class, () -> moved.get(ValueLayout.JAVA_BYTE, 0));
            assertThrows(IllegalStateException.class, () -> bytesOf(moved));
            assertArrayEquals(sub(b.data, 110, 130), bytesOf(other), "a view whose bytes did not move works");
            assertArrayEquals(sub(b.data, 10, 30), bytesOf(m.ptr(10, 20)));
            assertTrue(m.isContiguous(10, 20));
            assertFalse(m.isReadOnly(10, 20));
            m.verify();
            b.assertSharedStorageUntouched();
        }
    }

    @Test
    void pullupThatCopiesMakesTheOldViewStale() {
        MbufPool pool = MbufPool.builder().build();
        try (Built b = AcceptanceFixtures.build(pool, "X15 X10 X35")) {
            Mbuf m = b.chain;
            MemorySegment moved = m.ptr(2, 5);
            MemorySegment kept = m.ptr(40, 10);
            m.pullup(20);
            assertThrows(IllegalStateException.class, () -> moved.get(ValueLayout.JAVA_BYTE, 0));
            assertArrayEquals(sub(b.data, 40, 50), bytesOf(kept), "a view whose bytes did not move works");
            assertEquals(List.of(new Range(2, 5), new Range(40, 10)), m.guaranteedRegions());
            assertArrayEquals(b.data, m.toByteArray());
            m.verify();
        }
    }

    @Test
    void ptrOverlappingTwoRegionsMergesThemAndStalesBothViews() {
        MbufPool pool = MbufPool.builder().build();
        try (Built b = AcceptanceFixtures.build(pool, "X15 X10 X35")) {
            Mbuf m = b.chain;
            MemorySegment first = m.ptr(0, 10);
            MemorySegment second = m.ptr(16, 5);
            MemorySegment third = m.ptr(30, 10);
            MemorySegment joined = m.ptr(5, 15);
            assertEquals(List.of(new Range(0, 21), new Range(30, 10)), m.guaranteedRegions());
            assertTrue(m.isContiguous(0, 21));
            assertThrows(IllegalStateException.class, () -> first.get(ValueLayout.JAVA_BYTE, 0));
            assertThrows(IllegalStateException.class, () -> second.get(ValueLayout.JAVA_BYTE, 0));
            assertArrayEquals(sub(b.data, 30, 40), bytesOf(third));
            assertArrayEquals(sub(b.data, 5, 20), bytesOf(joined));
            assertArrayEquals(b.data, m.toByteArray());
            m.verify();
        }
    }

    @Test
    void splitThroughARegionAndAdjIntoARegionStaleItsViews() {
        MbufPool pool = MbufPool.builder().build();
        try (Built b = AcceptanceFixtures.build(pool, "c500 X100")) {
            Mbuf m = b.chain;
            MemorySegment cut = m.ptr(100, 50);
            MemorySegment trimmed = m.ptr(10, 20);
            MemorySegment kept = m.ptr(520, 30);
            try (Mbuf tail = m.split(120)) {
                assertThrows(IllegalStateException.class, () -> cut.get(ValueLayout.JAVA_BYTE, 0));
                assertEquals(List.of(new Range(10, 20), new Range(100, 20)), m.guaranteedRegions());
                assertEquals(List.of(new Range(0, 30), new Range(400, 30)), tail.guaranteedRegions());
                assertArrayEquals(sub(b.data, 520, 550), bytesOf(kept));
                m.adj(15);
                assertThrows(IllegalStateException.class, () -> trimmed.get(ValueLayout.JAVA_BYTE, 0));
                assertEquals(List.of(new Range(0, 15), new Range(85, 20)), m.guaranteedRegions());
                assertArrayEquals(sub(b.data, 15, 120), m.toByteArray());
                assertArrayEquals(sub(b.data, 120, 600), tail.toByteArray());
                m.verify();
                tail.verify();
            }
        }
    }

    @Test
    void splitInsideSharedStorageKeepsReadOnlyViewsOfTheSplitOffBytes() {
        MbufPool pool = MbufPool.builder().build();
        try (Built b = AcceptanceFixtures.build(pool, "c500 X100")) {
            Mbuf m = b.chain;
            MemorySegment before = m.ptr(20, 30);
            MemorySegment after = m.ptr(300, 30);
            try (Mbuf tail = m.split(120)) {
                assertEquals(List.of(new Range(180, 30)), tail.guaranteedRegions());
                assertEquals(List.of(new Range(20, 30)), m.guaranteedRegions());
                assertArrayEquals(sub(b.data, 20, 50), bytesOf(before), "bytes before the cut did not move");
                assertArrayEquals(sub(b.data, 300, 330), bytesOf(after),
                        "split-off bytes of shared storage did not move: their read-only view stays valid");
                assertArrayEquals(sub(b.data, 300, 330), bytesOf(tail.ptr(180, 30)));
                m.verify();
                tail.verify();
            }
        }
    }

    @Test
    void splitInsideInlineStorageStalesViewsOfTheSplitOffBytes() {
        MbufPool pool = MbufPool.builder().build();
        try (Built b = AcceptanceFixtures.build(pool, "I200 X50")) {
            Mbuf m = b.chain;
            MemorySegment before = m.ptr(20, 30);
            MemorySegment after = m.ptr(150, 20);
            try (Mbuf tail = m.split(100)) {
                assertArrayEquals(sub(b.data, 20, 50), bytesOf(before), "bytes before the cut did not move");
                assertThrows(IllegalStateException.class, () -> after.get(ValueLayout.JAVA_BYTE, 0),
                        "inline bytes after the cut were copied into the tail: the old view is stale");
                assertEquals(List.of(new Range(50, 20)), tail.guaranteedRegions());
                assertArrayEquals(sub(b.data, 150, 170), bytesOf(tail.ptr(50, 20)));
                assertTrue(tail.isContiguous(50, 20));
            }
        }
    }

    @Test
    void aViewOfUntouchedBytesInTheSameSegmentSurvivesCopyOnWriteOfAnotherRange() {
        // Mbuf's javadoc: "A view is valid until an operation moves, trims, splits off or frees the bytes it
        // covers."
        // makeWritable of [10,30) copies those bytes only; [60,80) stays where it was, in the same storage.
        MbufPool pool = MbufPool.builder().build();
        try (Built b = AcceptanceFixtures.build(pool, "X100")) {
            Mbuf m = b.chain;
            MemorySegment untouched = m.ptr(60, 20);
            m.makeWritable(10, 20);
            assertArrayEquals(sub(b.data, 10, 30), sub(m.toByteArray(), 10, 30));
            assertArrayEquals(sub(b.data, 60, 80), bytesOf(untouched),
                    "a view of a region whose bytes did not move went stale");
        }
    }

    // ================================================================ the region model

    static List<Range> shift(List<Range> rs, int delta) {
        return rs.stream().map(r -> new Range(r.offset() + delta, r.length())).toList();
    }

    /** m_adj(n > 0) and the tail of a split: drop the first n bytes. */
    static List<Range> trimFront(List<Range> rs, int n) {
        List<Range> out = new ArrayList<>();
        for (Range r : rs) {
            int s = Math.max(0, r.offset() - n);
            int e = r.end() - n;
            if (e > s) {
                out.add(new Range(s, e - s));
            }
        }
        return out;
    }

    /** m_adj(n < 0) and the head of a split: keep bytes below newLength. */
    static List<Range> truncate(List<Range> rs, int newLength) {
        List<Range> out = new ArrayList<>();
        for (Range r : rs) {
            int e = Math.min(r.end(), newLength);
            if (e > r.offset()) {
                out.add(new Range(r.offset(), e - r.offset()));
            }
        }
        return out;
    }

    static byte[] sub(byte[] a, int from, int to) {
        return Arrays.copyOfRange(a, from, to);
    }

    // ================================================================ the operations

    /** An operation that keeps the one chain and every offset. */
    abstract static class InPlace implements Op {
        @Override
        public List<Mbuf> run(List<Mbuf> in) {
            apply(in.getFirst());
            return List.of(in.getFirst());
        }

        abstract void apply(Mbuf m);

        @Override
        public List<byte[]> expectedData(List<byte[]> in) {
            return List.of(in.getFirst());
        }

        @Override
        public List<List<Range>> expectedRegions(List<List<Range>> in, List<byte[]> data) {
            return List.of(in.getFirst());
        }

        @Override
        public Location locate(int input, Range r, List<byte[]> in) {
            return new Location(0, r.offset());
        }
    }

    static final class Pullup extends InPlace {
        final int len;

        Pullup(int len) {
            this.len = len;
        }

        @Override
        public String label() {
            return "pullup(" + len + ")";
        }

        @Override
        void apply(Mbuf m) {
            m.pullup(len);
        }

        @Override
        public void check(List<Mbuf> out, List<byte[]> expected) {
            Mbuf m = out.getFirst();
            assertTrue(m.contiguousAt(0).byteSize() >= len, () -> label() + ": first segment too short\n" + m.dump());
        }
    }

    static final class Copyup extends InPlace {
        final int len;
        final int dstOff;

        Copyup(int len, int dstOff) {
            this.len = len;
            this.dstOff = dstOff;
        }

        @Override
        public String label() {
            return "copyup(" + len + "," + dstOff + ")";
        }

        @Override
        void apply(Mbuf m) {
            m.copyup(len, dstOff);
        }

        @Override
        public void check(List<Mbuf> out, List<byte[]> expected) {
            Mbuf m = out.getFirst();
            assertTrue(m.contiguousAt(0).byteSize() >= len, () -> label() + ": first segment too short\n" + m.dump());
            assertEquals(dstOff, m.leadingSpace(), () -> label() + "\n" + m.dump());
            assertFalse(m.isReadOnly(0, len));
        }
    }

    static final class Pulldown extends InPlace {
        final int off;
        final int len;
        MemorySegment view;

        Pulldown(int off, int len) {
            this.off = off;
            this.len = len;
        }

        @Override
        public String label() {
            return "pulldown(" + off + "," + len + ")";
        }

        @Override
        void apply(Mbuf m) {
            view = m.pulldown(off, len);
        }

        @Override
        public void check(List<Mbuf> out, List<byte[]> expected) {
            Mbuf m = out.getFirst();
            assertEquals(len, view.byteSize());
            assertFalse(view.isReadOnly(), "pulldown's view must be writable");
            assertTrue(m.isContiguous(off, len), () -> label() + "\n" + m.dump());
            assertFalse(m.isReadOnly(off, len), () -> label() + "\n" + m.dump());
            assertArrayEquals(sub(expected.getFirst(), off, off + len), bytesOf(view));
        }
    }

    static final class MakeWritable extends InPlace {
        final int off;
        final int len;

        MakeWritable(int off, int len) {
            this.off = off;
            this.len = len;
        }

        @Override
        public String label() {
            return "makeWritable(" + off + "," + len + ")";
        }

        @Override
        void apply(Mbuf m) {
            m.makeWritable(off, len);
        }

        @Override
        public void check(List<Mbuf> out, List<byte[]> expected) {
            Mbuf m = out.getFirst();
            assertFalse(m.isReadOnly(off, len), () -> label() + "\n" + m.dump());
        }
    }

    static final class CopyBackCow implements Op {
        final int off;
        final byte[] src;

        CopyBackCow(int off, int len) {
            this.off = off;
            this.src = new byte[len];
            Arrays.fill(src, (byte) 0xEE);
        }

        @Override
        public String label() {
            return "copyBackCow(" + off + ", " + src.length + " bytes)";
        }

        @Override
        public List<Mbuf> run(List<Mbuf> in) {
            in.getFirst().copyBackCow(off, src);
            return List.of(in.getFirst());
        }

        @Override
        public List<byte[]> expectedData(List<byte[]> in) {
            byte[] old = in.getFirst();
            byte[] out = Arrays.copyOf(old, Math.max(old.length, off + src.length));
            System.arraycopy(src, 0, out, off, src.length);
            return List.of(out);
        }

        @Override
        public List<List<Range>> expectedRegions(List<List<Range>> in, List<byte[]> data) {
            return List.of(in.getFirst());
        }

        @Override
        public Location locate(int input, Range r, List<byte[]> in) {
            return new Location(0, r.offset());
        }

        @Override
        public void check(List<Mbuf> out, List<byte[]> expected) {
            Mbuf m = out.getFirst();
            assertFalse(m.isReadOnly(off, src.length), () -> label() + "\n" + m.dump());
        }
    }

    static final class Split implements Op {
        final int at;

        Split(int at) {
            this.at = at;
        }

        @Override
        public String label() {
            return "split(" + at + ")";
        }

        @Override
        public List<Mbuf> run(List<Mbuf> in) {
            Mbuf tail = in.getFirst().split(at);
            return List.of(in.getFirst(), tail);
        }

        @Override
        public List<byte[]> expectedData(List<byte[]> in) {
            byte[] d = in.getFirst();
            return List.of(sub(d, 0, at), sub(d, at, d.length));
        }

        @Override
        public List<List<Range>> expectedRegions(List<List<Range>> in, List<byte[]> data) {
            return List.of(truncate(in.getFirst(), at), trimFront(in.getFirst(), at));
        }

        @Override
        public Location locate(int input, Range r, List<byte[]> in) {
            if (r.end() <= at) {
                return new Location(0, r.offset());
            }
            if (r.offset() >= at) {
                return new Location(1, r.offset() - at);
            }
            return null; // cut in two
        }

        @Override
        public void check(List<Mbuf> out, List<byte[]> expected) {
            assertEquals(at, out.get(0).length());
            assertEquals(out.get(0).isPacket(), out.get(1).isPacket());
        }
    }

    /** this.cat(tail), or with {@code swapped} tail.cat(this). */
    static final class Cat implements Op {
        final boolean swapped;

        Cat(boolean swapped) {
            this.swapped = swapped;
        }

        @Override
        public String label() {
            return swapped ? "tail.cat(chain)" : "chain.cat(tail)";
        }

        @Override
        public int inputs() {
            return 2;
        }

        @Override
        public List<Mbuf> run(List<Mbuf> in) {
            Mbuf first = in.get(swapped ? 1 : 0);
            Mbuf second = in.get(swapped ? 0 : 1);
            first.cat(second);
            assertFalse(second.isAlive());
            return List.of(first);
        }

        @Override
        public List<byte[]> expectedData(List<byte[]> in) {
            return List.of(swapped ? concat(in.get(1), in.get(0)) : concat(in.get(0), in.get(1)));
        }

        @Override
        public List<List<Range>> expectedRegions(List<List<Range>> in, List<byte[]> data) {
            List<Range> out = new ArrayList<>(in.get(swapped ? 1 : 0));
            out.addAll(shift(in.get(swapped ? 0 : 1), data.get(swapped ? 1 : 0).length));
            return List.of(out);
        }

        @Override
        public Location locate(int input, Range r, List<byte[]> in) {
            boolean isFirst = (input == 0) != swapped;
            return new Location(0, isFirst ? r.offset() : r.offset() + in.get(swapped ? 1 : 0).length);
        }
    }

    static final class Prepend extends InPlace {
        final int len;

        Prepend(int len) {
            this.len = len;
        }

        @Override
        public String label() {
            return "prepend(" + len + ")";
        }

        @Override
        void apply(Mbuf m) {
            m.prepend(len);
        }

        @Override
        public List<byte[]> expectedData(List<byte[]> in) {
            return List.of(concat(new byte[len], in.getFirst()));
        }

        @Override
        public List<List<Range>> expectedRegions(List<List<Range>> in, List<byte[]> data) {
            return List.of(shift(in.getFirst(), len));
        }

        @Override
        public Location locate(int input, Range r, List<byte[]> in) {
            return new Location(0, r.offset() + len);
        }

        @Override
        public void check(List<Mbuf> out, List<byte[]> expected) {
            Mbuf m = out.getFirst();
            assertTrue(m.isContiguous(0, len), () -> label() + "\n" + m.dump());
            assertFalse(m.isReadOnly(0, len), () -> label() + "\n" + m.dump());
        }
    }

    static final class Adj extends InPlace {
        final int n;

        Adj(int n) {
            this.n = n;
        }

        @Override
        public String label() {
            return "adj(" + n + ")";
        }

        @Override
        void apply(Mbuf m) {
            m.adj(n);
        }

        @Override
        public List<byte[]> expectedData(List<byte[]> in) {
            byte[] d = in.getFirst();
            return List.of(n >= 0 ? sub(d, n, d.length) : sub(d, 0, d.length + n));
        }

        @Override
        public List<List<Range>> expectedRegions(List<List<Range>> in, List<byte[]> data) {
            List<Range> rs = in.getFirst();
            return List.of(n >= 0 ? trimFront(rs, n) : truncate(rs, data.getFirst().length + n));
        }

        @Override
        public Location locate(int input, Range r, List<byte[]> in) {
            int length = in.getFirst().length;
            if (n >= 0) {
                return r.offset() >= n ? new Location(0, r.offset() - n) : null;
            }
            return r.end() <= length + n ? new Location(0, r.offset()) : null;
        }
    }
}
