package org.jmbuf.buf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ReadOnlyBufferException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.Tuple.Tuple2;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.statistics.StatisticsReport;
import org.jmbuf.buf.ChainFixtures.Built;
import org.jmbuf.buf.ChainFixtures.External;
import org.jmbuf.buf.ChainFixtures.Held;
import org.jmbuf.buf.ChainFixtures.Piece;
import org.jmbuf.buf.ChainFixtures.Registry;

/**
 * Model test of chain operations: random sequences of every chain operation, on random chain shapes
 * (inline, cluster, read-only and writable external storage, storage shared with another live chain),
 * agree byte for byte with a plain byte-array model, and {@link Mbuf#verify()} holds after each step.
 *
 * <p>Besides the bytes, the model tracks the packet flag and receiving interface, the guaranteed
 * contiguous regions (every range handed out by ptr/ptrRw must stay inside one listed region, every
 * listed region must be contiguous, and no region may cover bytes no such range covers), and which bytes
 * are certainly writable (made writable by makeWritable, ptrRw, pulldown, copyBack, copyBackCow, prepend
 * or copyup, and not shared since: isReadOnly must say false and copyBack must not refuse them). After
 * every step it also checks that read-only external storage still holds its original bytes, that every
 * chain kept alive beside the one under test (the pieces' sharing partners, kept copies, and a witness
 * copy taken before some step) still shows its own bytes, and that the views of earlier steps follow the
 * view rules of strict mode: a view that still works shows the packet's bytes (and, if writable, bytes
 * that are not read-only); a view of trimmed or freed bytes throws; a view stays valid through operations
 * that neither move its bytes nor share its storage. Some steps run with the pool refusing an
 * allocation (fault injection): they must either succeed or leave everything unchanged. Appended chains
 * may come from a second pool. At the end of each try every free action ran exactly once and both pools
 * are quiescent.
 *
 * <p>Offsets and lengths in the operation records are raw numbers, reduced modulo the chain's length when
 * the operation runs; a failure prints the trace of operations with their actual arguments.
 */
class ChainPropertiesTest {

    // ================================================================================== properties

    @Property(tries = 1000, edgeCases = EdgeCasesMode.NONE)
    @StatisticsReport(onFailureOnly = true)
    void randomOperationSequencesAgreeWithByteArrayModel(
            @ForAll("shapes") List<Piece> shape,
            @ForAll("operations") List<Op> ops,
            @ForAll @IntRange(min = 0, max = 24) int witnessBefore,
            @ForAll boolean witnessByCopyPacket) {
        Run.execute(shape, ops, witnessBefore % ops.size(), witnessByCopyPacket);
        Statistics.label("events").coverage(c -> {
            c.check("copyBack refused: read-only").count(n -> n > 0);
            c.check("copyup refused: no space").count(n -> n > 0);
            c.check("ptr copied").count(n -> n > 0);
            c.check("ptrRw copied").count(n -> n > 0);
            c.check("split, continued with tail").count(n -> n > 0);
            c.check("wrote into a shared partner").count(n -> n > 0);
            c.check("operation failed by injected fault").count(n -> n > 0);
        });
        Statistics.label("ops").coverage(c -> {
            for (Class<?> op : Op.class.getPermittedSubclasses()) {
                c.check(op.getSimpleName()).count(n -> n > 0);
            }
        });
    }

    /** Shapes made only of read-only storage (external read-only, shared): every write must copy. */
    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    @StatisticsReport(onFailureOnly = true)
    void readOnlyShapesAgreeWithByteArrayModel(
            @ForAll("readOnlyShapes") List<Piece> shape,
            @ForAll("operations") List<Op> ops,
            @ForAll @IntRange(min = 0, max = 24) int witnessBefore) {
        Run.execute(shape, ops, witnessBefore % ops.size(), false);
    }

    /**
     * The first property on pools that recycle handles ({@link MbufPool.Builder#recycleHandles}): every chain
     * a step makes (copies, split tails, chains to cat) and frees hands its handle to the next one, so a
     * field a reused handle kept from its last chain (header, owner, regions, length) would show up here.
     */
    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void operationSequencesAgreeWithByteArrayModelWhenHandlesAreReused(
            @ForAll("shapes") List<Piece> shape,
            @ForAll("operations") List<Op> ops,
            @ForAll @IntRange(min = 0, max = 24) int witnessBefore,
            @ForAll boolean witnessByCopyPacket) {
        Run.execute(shape, ops, witnessBefore % ops.size(), witnessByCopyPacket, true);
    }

    // ================================================================================== bugs found, minimal

    /**
     * makeWritable of an empty range whose offset lies strictly inside a read-only segment throws
     * NoSuchElementException instead of doing nothing (found by the property; shrunk: EXT_RO(len=2),
     * makeWritable(1, 0)).
     */
    @Example
    void makeWritableOfAnEmptyRangeInsideReadOnlyStorageDoesNothing() {
        MbufPool pool = MbufPool.builder().build();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment storage = arena.allocate(2).fill((byte) 7);
            Mbuf m = pool.wrap(storage, false, null);
            try {
                m.makeWritable(1, 0);
                m.verify();
                assertArrayEquals(new byte[] {7, 7}, m.toByteArray());
            } finally {
                m.free();
            }
        }
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    /**
     * Regression: isReadOnly(off, 0) answered true when off lay strictly inside a read-only segment, though
     * an empty range holds no byte ("true if any byte of [off, off + len) lies in read-only storage").
     * Found by the property (shrunk: EXT_RO(len=2), witness copy, isReadOnly(1, 0)); fixed in 2e523ad.
     */
    @Example
    void anEmptyRangeIsNeverReadOnly() {
        MbufPool pool = MbufPool.builder().build();
        try (Arena arena = Arena.ofConfined()) {
            Mbuf m = pool.wrap(arena.allocate(2), false, null);
            try {
                assertFalse(m.isReadOnly(0, 0), "empty range at 0");
                assertFalse(m.isReadOnly(1, 0), "empty range at 1: no byte, so no read-only byte");
            } finally {
                m.free();
            }
        }
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    /**
     * Strict mode: a copy that shares nothing of a writable view's storage must leave the view valid (the
     * contract ends a writable view only "when its storage becomes shared"). Until 3f65198 any copy revoked
     * every writable view of cluster or external storage (found by the property: pulldown(0, 225) on a
     * cluster, then copy(0, 0)). Still broken: an empty copy at an offset strictly inside the view's
     * segment, copy(50, 0), revokes the view though it shares nothing.
     */
    @Example
    void aCopyThatSharesNothingOfAWritableViewsStorageLeavesTheViewValid() {
        MbufPool pool = MbufPool.builder().build();
        Mbuf m = pool.getCluster(true);
        try {
            m.align(100); // no trailing space: the second cluster is linked, not copied
            m.copyBack(0, new byte[100]);
            Mbuf second = pool.getCluster(false);
            second.copyBack(0, new byte[100]);
            m.cat(second);
            assertEquals(2, m.segmentCount());
            MemorySegment view = m.ptrRw(0, 10); // in the first cluster
            m.copy(0, 0).free(); // shares nothing
            assertEquals(0, view.get(ValueLayout.JAVA_BYTE, 0), "view usable after copy(0, 0)");
            Mbuf payload = m.copy(100, 100); // shares the second cluster only
            try {
                assertFalse(m.isReadOnly(0, 10), "the first cluster is not shared");
                view.set(ValueLayout.JAVA_BYTE, 0, (byte) 5);
                assertEquals(5, m.byteAt(0), "write through a view whose storage is not shared");
            } finally {
                payload.free();
            }
            m.copy(50, 0).free(); // shares nothing either
            assertEquals(5, view.get(ValueLayout.JAVA_BYTE, 0), "view usable after copy(50, 0)");
        } finally {
            m.free();
        }
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    @Provide
    Arbitrary<List<Piece>> shapes() {
        return ChainFixtures.shapes(6);
    }

    @Provide
    Arbitrary<List<Piece>> readOnlyShapes() {
        return ChainFixtures.pieces()
                .filter(p -> p.kind() == ChainFixtures.Kind.EXT_RO || p.kind() == ChainFixtures.Kind.SHARED)
                .list().ofMinSize(1).ofMaxSize(6).withSizeDistribution(RandomDistribution.uniform());
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        return ops().list().ofMinSize(1).ofMaxSize(25).withSizeDistribution(RandomDistribution.uniform());
    }

    static Arbitrary<Op> ops() {
        Arbitrary<Integer> raw = Arbitraries.integers().between(0, 1 << 16);
        Arbitrary<Integer> seed = Arbitraries.integers().between(0, 1000);
        Arbitrary<Boolean> bool = Arbitraries.of(false, true);
        Arbitrary<Integer> size = Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.integers().between(0, 300)),
                Tuple.of(1, Arbitraries.integers().between(0, 3000)));
        Arbitrary<Integer> gap = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(0)),
                Tuple.of(1, Arbitraries.integers().between(1, 300)));
        Arbitrary<Integer> small = Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.integers().between(0, 64)),
                Tuple.of(2, Arbitraries.integers().between(0, 300)), Tuple.of(1, Arbitraries.integers().between(0, 2500)));
        return Arbitraries.frequencyOf(
                w(3, Combinators.combine(raw, raw, bool).as(Copy::new)),
                w(1, Combinators.combine(raw, bool).as(CopyFrom::new)),
                w(1, bool.map(CopyPacket::new)),
                w(2, Combinators.combine(raw, raw).as(Dup::new)),
                w(1, Combinators.combine(raw, raw, Arbitraries.integers().between(0, 20)).as(CopyDataArray::new)),
                w(1, Combinators.combine(raw, raw, Arbitraries.integers().between(0, 20)).as(CopyDataSegment::new)),
                w(1, Arbitraries.just(new ToByteArray())),
                w(1, raw.map(ByteAt::new)),
                w(5, Combinators.combine(raw, gap, size, seed, bool).as(CopyBack::new)),
                w(4, Combinators.combine(raw, gap, size, seed, bool).as(CopyBackCow::new)),
                w(3, Combinators.combine(raw, raw).as(MakeWritable::new)),
                w(3, Combinators.combine(ChainFixtures.shapes(3), bool, raw, raw, bool).as(Cat::new)),
                w(2, Combinators.combine(raw, raw, bool).as(CatCopy::new)),
                w(3, Combinators.combine(Arbitraries.integers().between(0, 4), allocatingOps(raw, seed, bool, size, gap,
                        small)).as(Faulty::new)),
                w(3, Combinators.combine(raw, bool).as(Adj::new)),
                w(2, small.map(Prepend::new)),
                w(3, Combinators.combine(raw, bool).as(Split::new)),
                w(2, raw.map(Pullup::new)),
                w(2, Combinators.combine(raw, Arbitraries.integers().between(0, 240)).as(Copyup::new)),
                w(3, Combinators.combine(raw, raw, seed).as(Pulldown::new)),
                w(4, Combinators.combine(raw, raw).as(Ptr::new)),
                w(4, Combinators.combine(raw, raw, seed).as(PtrRw::new)),
                w(1, Combinators.combine(raw, raw, Arbitraries.integers().between(0, 4)).as(Apply::new)),
                w(1, raw.map(ContiguousAt::new)),
                w(1, Combinators.combine(raw, raw).as(IsReadOnly::new)),
                w(1, Combinators.combine(raw, raw).as(IsContiguous::new)),
                w(2, Combinators.combine(raw, raw, size, seed, bool).as(WriteHeld::new)),
                w(1, Combinators.combine(Arbitraries.integers().between(0, OutOfRange.CASES - 1),
                        Arbitraries.integers().between(0, 3)).as(OutOfRange::new)));
    }

    /** The operations that allocate, for fault injection. */
    static Arbitrary<Op> allocatingOps(Arbitrary<Integer> raw, Arbitrary<Integer> seed, Arbitrary<Boolean> bool,
                                       Arbitrary<Integer> size, Arbitrary<Integer> gap, Arbitrary<Integer> small) {
        return Arbitraries.frequencyOf(
                w(1, Combinators.combine(raw, raw, bool).as(Copy::new)),
                w(1, Combinators.combine(raw, raw).as(Dup::new)),
                w(2, Combinators.combine(raw, gap, size, seed, bool).as(CopyBack::new)),
                w(2, Combinators.combine(raw, gap, size, seed, bool).as(CopyBackCow::new)),
                w(2, Combinators.combine(raw, raw).as(MakeWritable::new)),
                w(1, Combinators.combine(ChainFixtures.shapes(3), bool, raw, raw, bool).as(Cat::new)),
                w(1, Combinators.combine(raw, raw, bool).as(CatCopy::new)),
                w(1, small.map(Prepend::new)),
                w(1, Combinators.combine(raw, bool).as(Split::new)),
                w(1, raw.map(Pullup::new)),
                w(1, Combinators.combine(raw, Arbitraries.integers().between(0, 240)).as(Copyup::new)),
                w(1, Combinators.combine(raw, raw, seed).as(Pulldown::new)),
                w(2, Combinators.combine(raw, raw).as(Ptr::new)),
                w(2, Combinators.combine(raw, raw, seed).as(PtrRw::new)),
                w(1, Combinators.combine(raw, raw, size, seed, bool).as(WriteHeld::new)));
    }

    private static Tuple2<Integer, Arbitrary<? extends Op>> w(int weight, Arbitrary<? extends Op> arbitrary) {
        return Tuple.of(weight, arbitrary);
    }

    // ================================================================================== the run

    /** One try: the chain under test, its model, and everything kept alive beside it. */
    static final class Run {
        final Registry reg;
        final MbufPool pool;
        final StringBuilder trace = new StringBuilder();
        Mbuf m;
        byte[] data;
        boolean[] writable;
        boolean packet;
        int rcvif;
        List<int[]> regions = new ArrayList<>();
        /** Views handed out by earlier steps, with the packet offset of their first byte now. */
        List<TrackedView> views = new ArrayList<>();
        /** Set when an operation failed by an injected fault (so it changed nothing). */
        boolean failedByFault;
        private int step;

        /** A view kept after its step: it must throw (strict mode) or show the packet's bytes. */
        static final class TrackedView {
            final MemorySegment view;
            final String origin;
            final boolean writable;
            int off;
            final int len;
            /** The current operation trimmed, split off or freed its bytes: using it must throw. */
            boolean mustBeStale;
            /** The current operation moved none of its bytes (nor shared its storage if writable): it must work. */
            boolean mustStayValid;

            TrackedView(MemorySegment view, String origin, int off, int len) {
                this.view = view;
                this.origin = origin;
                this.writable = !view.isReadOnly();
                this.off = off;
                this.len = len;
            }
        }

        void track(MemorySegment view, String origin, int off) {
            if (view.byteSize() > 0) {
                views.add(new TrackedView(view, origin + " at step " + step, off, (int) view.byteSize()));
                if (views.size() > 4) {
                    views.removeFirst();
                }
            }
        }

        /** The current operation moves no byte of the chain and shares no storage: every view stays valid. */
        void keepViewsValid() {
            for (TrackedView v : views) {
                v.mustStayValid = true;
            }
        }

        /**
         * Called before a copy of [off, off + len) that shares storage: read-only views stay valid, and so do
         * writable views whose segment the copy does not touch (their storage does not become shared).
         */
        void sharing(int off, int len) {
            for (TrackedView v : views) {
                if (!v.writable || len == 0) {
                    v.mustStayValid = true;
                    continue;
                }
                int segEnd = v.off + (int) m.contiguousAt(v.off).byteSize();
                int lo = 0;
                int hi = v.off;
                while (lo < hi) {
                    int mid = (lo + hi) >>> 1;
                    if (m.isContiguous(mid, segEnd - mid)) {
                        hi = mid;
                    } else {
                        lo = mid + 1;
                    }
                }
                if (!(off < segEnd && off + len > lo)) {
                    v.mustStayValid = true;
                }
            }
        }

        /**
         * Packet offsets move by {@code delta}; views of bytes outside {@code [keepFrom, keepTo)} were
         * trimmed or split off and must be stale; those inside must stay valid if {@code validIfKept}.
         */
        void shiftViews(int delta, int keepFrom, int keepTo, java.util.function.Predicate<TrackedView> validIfKept) {
            for (TrackedView v : views) {
                if (v.off < keepFrom || v.off + v.len > keepTo) {
                    v.mustBeStale = true;
                } else if (validIfKept.test(v)) {
                    v.mustStayValid = true;
                }
                v.off += delta;
            }
        }

        /**
         * Strict mode: a view whose bytes were moved, trimmed or freed (or, if writable, whose storage became
         * shared) throws; one that does not throw still aliases the packet's bytes, and if writable, bytes
         * that are not read-only.
         */
        void checkViews(boolean allMustStayValid) {
            for (var it = views.iterator(); it.hasNext(); ) {
                TrackedView v = it.next();
                boolean mustStayValid = v.mustStayValid || allMustStayValid;
                v.mustStayValid = false;
                byte[] seen;
                try {
                    seen = bytesOf(v.view);
                } catch (IllegalStateException stale) {
                    assertFalse(mustStayValid, () -> "view " + v.origin + " went stale in an operation that neither "
                            + "moved its bytes nor shared its storage");
                    it.remove();
                    continue;
                }
                assertFalse(v.mustBeStale, () -> "view " + v.origin + " of bytes since trimmed or freed is still usable");
                assertBytes(slice(v.off, v.len), seen, "view " + v.origin + " (still usable, now at packet offset "
                        + v.off + ")");
                if (v.writable) {
                    assertFalse(m.isReadOnly(v.off, v.len), () -> "writable view " + v.origin
                            + " is still usable over bytes that are now read-only");
                }
            }
        }

        Run(boolean recycleHandles) {
            reg = new Registry(recycleHandles);
            pool = reg.pool;
        }

        static void execute(List<Piece> shape, List<Op> ops, int witnessBefore, boolean witnessByCopyPacket) {
            execute(shape, ops, witnessBefore, witnessByCopyPacket, false);
        }

        static void execute(List<Piece> shape, List<Op> ops, int witnessBefore, boolean witnessByCopyPacket,
                            boolean recycleHandles) {
            Run r = new Run(recycleHandles);
            try {
                r.run(shape, ops, witnessBefore, witnessByCopyPacket);
            } catch (Throwable t) {
                String chain = r.m != null && r.m.isAlive() ? r.m.dump() : "(no live chain)";
                r.releaseAll();
                throw new AssertionError(t + "\n--- shape: " + shape + "\n--- trace (actual arguments):\n" + r.trace
                        + "--- chain:\n" + chain, t);
            }
        }

        private void run(List<Piece> shape, List<Op> ops, int witnessBefore, boolean witnessByCopyPacket) {
            Built b = ChainFixtures.build(reg, shape);
            m = b.chain();
            data = b.bytes();
            writable = b.writable();
            packet = b.packet();
            if (packet) {
                rcvif = 42;
                m.setReceivingInterface(rcvif);
            }
            note("build " + shape + " -> length " + data.length);
            checkAll();
            for (int i = 0; i < ops.size(); i++) {
                if (i == witnessBefore) {
                    takeWitness(witnessByCopyPacket);
                    checkAll();
                    checkViews(false);
                }
                step = i;
                Statistics.label("ops").collect(ops.get(i).getClass().getSimpleName());
                failedByFault = false;
                ops.get(i).apply(this);
                checkAll();
                checkViews(ops.get(i).movesNothing() || failedByFault);
            }
            // The end: free everything, every free action ran once, the pool is quiescent.
            m.free();
            for (Held h : reg.held) {
                h.chain.free();
            }
            for (External e : reg.externals) {
                assertEquals(1, e.freed().get(), () -> e.label() + ": free action runs " + e.freed().get() + " times");
            }
            PoolStats stats = pool.stats();
            assertTrue(stats.isQuiescent(), () -> "pool not quiescent at the end:\n" + stats + pool.leakReport());
            PoolStats other = reg.otherPool.stats();
            assertTrue(other.isQuiescent(), () -> "other pool not quiescent at the end:\n" + other
                    + reg.otherPool.leakReport());
            reg.arena.close();
        }

        private void releaseAll() {
            try {
                if (m != null) {
                    m.close();
                }
            } catch (RuntimeException | Error ignored) {
                // the chain may be broken; this is only cleanup after a failure
            }
            for (Held h : reg.held) {
                try {
                    h.chain.close();
                } catch (RuntimeException | Error ignored) {
                    // as above
                }
            }
            try {
                reg.arena.close();
            } catch (RuntimeException ignored) {
                // already closed
            }
        }

        void note(String s) {
            trace.append("  ").append(step).append(": ").append(s).append('\n');
        }

        void event(String what) {
            Statistics.label("events").collect(what);
        }

        int len() {
            return data.length;
        }

        /** A position in {@code [0, length]}. */
        int pos(int raw) {
            return Math.floorMod(raw, len() + 1);
        }

        /** A length that fits from {@code off}. */
        int lenFrom(int off, int raw) {
            return Math.floorMod(raw, len() - off + 1);
        }

        byte[] slice(int off, int len) {
            return Arrays.copyOfRange(data, off, off + len);
        }

        boolean allWritable(int off, int len) {
            for (int i = off; i < off + len; i++) {
                if (!writable[i]) {
                    return false;
                }
            }
            return true;
        }

        void setWritable(int off, int len) {
            Arrays.fill(writable, off, off + len, true);
        }

        /** Something else now shares storage with m: nothing is certainly writable any more. */
        void shared() {
            Arrays.fill(writable, false);
        }

        long copied() {
            return pool.stats().bytesCopied();
        }

        long segmentAllocations() {
            return pool.stats().segmentAllocations();
        }

        /** Writes {@code src} at {@code off} into the model, extending (zero-filled gap) as copyBack does. */
        void modelWrite(int off, byte[] src) {
            int end = off + src.length;
            int old = len();
            if (end > old) {
                data = Arrays.copyOf(data, end);
                writable = Arrays.copyOf(writable, end);
            }
            System.arraycopy(src, 0, data, off, src.length);
            setWritable(Math.min(off, old), end - Math.min(off, old));
        }

        void takeWitness(boolean byCopyPacket) {
            sharing(0, len());
            Mbuf w;
            if (byCopyPacket && packet) {
                note("witness = copyPacket()");
                w = m.copyPacket();
            } else {
                note("witness = copy(0, " + len() + ")");
                w = m.copy(0, len());
            }
            checkCopy(w, 0, len(), true, "witness copy taken before later writes");
        }

        /** Checks a copy of [off, off + len) and keeps it alive (checked at every step) or frees it. */
        void checkCopy(Mbuf c, int off, int len, boolean keep, String what) {
            try {
                c.verify();
                assertBytes(slice(off, len), c.toByteArray(), what + " bytes");
                assertEquals(off == 0 && packet, c.isPacket(), what + ": packet header copied iff off == 0");
                if (c.isPacket()) {
                    assertEquals(rcvif, c.receivingInterface(), what + ": receiving interface");
                }
                assertTrue(c.guaranteedRegions().isEmpty(), what + " has no regions");
            } catch (RuntimeException | Error e) {
                c.close();
                throw e;
            }
            if (keep) {
                reg.held.add(new Held(what + " (step " + step + ")", c, slice(off, len)));
                shared();
            } else {
                c.free();
            }
        }

        // ------------------------------------------------------------------------------ invariants

        void checkAll() {
            m.verify();
            assertEquals(len(), m.length(), "length");
            assertBytes(data, m.toByteArray(), "chain bytes");
            assertEquals(packet, m.isPacket(), "packet flag");
            if (packet) {
                assertEquals(rcvif, m.receivingInterface(), "receiving interface");
            }
            checkRegions(m, regions, "chain");
            if (len() > 0 && m.isReadOnly(0, 1)) {
                assertEquals(0, m.leadingSpace(), "leading space of read-only storage (M_LEADINGSPACE)");
            }
            if (len() > 0 && m.isReadOnly(len() - 1, 1)) {
                assertEquals(0, m.trailingSpace(), "trailing space of read-only storage (M_TRAILINGSPACE)");
            }
            for (int i = 0; i < len(); ) {
                if (!writable[i]) {
                    i++;
                    continue;
                }
                int j = i;
                while (j < len() && writable[j]) {
                    j++;
                }
                int from = i;
                int to = j;
                assertFalse(m.isReadOnly(from, to - from),
                        () -> "bytes " + from + ".." + to + " were made writable and not shared since, but isReadOnly");
                i = j;
            }
            for (External e : reg.externals) {
                if (e.snapshot() != null) {
                    long mismatch = MemorySegment.mismatch(e.storage(), 0, e.snapshot().length,
                            MemorySegment.ofArray(e.snapshot()), 0, e.snapshot().length);
                    assertEquals(-1, mismatch, () -> e.label() + " was written at byte " + mismatch);
                }
                assertTrue(e.freed().get() <= 1, () -> e.label() + ": free action ran " + e.freed().get() + " times");
            }
            for (Held h : reg.held) {
                h.chain.verify();
                assertBytes(h.expected, h.chain.toByteArray(), h.label + " (kept alive beside the chain)");
            }
        }

        static void checkRegions(Mbuf c, List<int[]> model, String what) {
            List<Mbuf.Range> actual = c.guaranteedRegions();
            int previousEnd = 0;
            for (Mbuf.Range r : actual) {
                assertTrue(r.length() > 0 && r.offset() >= previousEnd && r.end() <= c.length(),
                        () -> what + ": regions out of order or out of the chain: " + actual);
                assertTrue(c.isContiguous(r.offset(), r.length()),
                        () -> what + ": guaranteed region " + r + " is not contiguous");
                previousEnd = r.end();
                for (int i = r.offset(); i < r.end(); i++) {
                    int at = i;
                    assertTrue(model.stream().anyMatch(x -> x[0] <= at && at < x[1]),
                            () -> what + ": region " + r + " covers byte " + at + " that no ptr/ptrRw range covers; "
                                    + "model ranges " + show(model) + ", regions " + actual);
                }
            }
            for (int[] x : model) {
                assertTrue(actual.stream().anyMatch(r -> r.offset() <= x[0] && x[1] <= r.end()),
                        () -> what + ": range " + x[0] + ".." + x[1] + " handed out by ptr/ptrRw is in no region "
                                + actual);
            }
        }
    }

    static String show(List<int[]> ranges) {
        StringBuilder out = new StringBuilder("[");
        for (int[] r : ranges) {
            out.append(out.length() > 1 ? ", " : "").append(r[0]).append("..").append(r[1]);
        }
        return out.append(']').toString();
    }

    static void assertBytes(byte[] expected, byte[] actual, String what) {
        if (!Arrays.equals(expected, actual)) {
            int i = Arrays.mismatch(expected, actual);
            fail(what + ": expected " + expected.length + " bytes, got " + actual.length + "; first difference at "
                    + i + (i < expected.length && i < actual.length
                    ? " (expected " + expected[i] + ", got " + actual[i] + ")" : ""));
        }
    }

    static byte[] bytesOf(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    // ------------------------------------------------------------------------------ region model

    static List<int[]> regionsShifted(List<int[]> regions, int delta) {
        List<int[]> out = new ArrayList<>();
        for (int[] r : regions) {
            out.add(new int[] {r[0] + delta, r[1] + delta});
        }
        return out;
    }

    static List<int[]> regionsTrimFront(List<int[]> regions, int n) {
        List<int[]> out = new ArrayList<>();
        for (int[] r : regions) {
            int s = Math.max(0, r[0] - n);
            int e = r[1] - n;
            if (e > s) {
                out.add(new int[] {s, e});
            }
        }
        return out;
    }

    static List<int[]> regionsTruncate(List<int[]> regions, int length) {
        List<int[]> out = new ArrayList<>();
        for (int[] r : regions) {
            int e = Math.min(r[1], length);
            if (e > r[0]) {
                out.add(new int[] {r[0], e});
            }
        }
        return out;
    }

    /** The end of the smallest range from 0 containing [0, len) that cuts no region. */
    static int closureEnd(List<int[]> regions, int len) {
        int end = len;
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int[] r : regions) {
                if (r[0] < end && r[1] > end) {
                    end = r[1];
                    changed = true;
                }
            }
        }
        return end;
    }

    // ================================================================================== operations

    /** One step of a random sequence. Raw numbers are reduced to valid offsets when it runs. */
    sealed interface Op permits Copy, CopyFrom, CopyPacket, Dup, CopyDataArray, CopyDataSegment, ToByteArray, ByteAt,
            CopyBack, CopyBackCow, MakeWritable, Cat, CatCopy, Faulty, Adj, Prepend, Split, Pullup, Copyup, Pulldown, Ptr, PtrRw, Apply,
            ContiguousAt, IsReadOnly, IsContiguous, WriteHeld, OutOfRange {
        void apply(Run r);

        /**
         * True for operations that move, trim and free no byte of the chain and share none of its storage:
         * every view must stay valid.
         */
        default boolean movesNothing() {
            return false;
        }
    }

    record Copy(int off, int len, boolean keep) implements Op {
        public void apply(Run r) {
            int o = r.pos(off);
            int n = r.lenFrom(o, len);
            r.note("copy(" + o + ", " + n + ")" + (keep ? ", kept alive" : ""));
            r.sharing(o, n);
            r.checkCopy(r.m.copy(o, n), o, n, keep, "copy(" + o + ", " + n + ")");
        }
    }

    record CopyFrom(int off, boolean keep) implements Op {
        public void apply(Run r) {
            int o = r.pos(off);
            r.note("copy(" + o + ")" + (keep ? ", kept alive" : ""));
            r.sharing(o, r.len() - o);
            r.checkCopy(r.m.copy(o), o, r.len() - o, keep, "copy(" + o + ")");
        }
    }

    record CopyPacket(boolean keep) implements Op {
        public void apply(Run r) {
            r.note("copyPacket()" + (keep ? ", kept alive" : ""));
            if (!r.packet) {
                r.keepViewsValid();
                assertThrows(IllegalStateException.class, r.m::copyPacket, "copyPacket of a chain without header");
                return;
            }
            r.sharing(0, r.len());
            r.checkCopy(r.m.copyPacket(), 0, r.len(), keep, "copyPacket()");
        }
    }

    record Dup(int off, int len) implements Op {
        @Override
        public boolean movesNothing() {
            return true;
        }

        public void apply(Run r) {
            int o = r.pos(off);
            int n = r.lenFrom(o, len);
            r.note("dup(" + o + ", " + n + ")");
            Mbuf c = r.m.dup(o, n);
            try {
                c.verify();
                assertBytes(r.slice(o, n), c.toByteArray(), "dup bytes");
                assertEquals(o == 0 && r.packet, c.isPacket(), "dup: packet header copied iff off == 0");
                if (n > 0) {
                    assertFalse(c.isReadOnly(0, n), "dup shares nothing: all writable");
                }
                assertTrue(c.guaranteedRegions().isEmpty(), "dup has no regions");
            } finally {
                c.free();
            }
        }
    }

    record CopyDataArray(int off, int len, int dstOff) implements Op {
        @Override
        public boolean movesNothing() {
            return true;
        }

        public void apply(Run r) {
            int o = r.pos(off);
            int n = r.lenFrom(o, len);
            r.note("copyData(" + o + ", " + n + ", byte[" + (dstOff + n + 3) + "], " + dstOff + ")");
            byte[] dst = new byte[dstOff + n + 3];
            Arrays.fill(dst, (byte) 0x5A);
            r.m.copyData(o, n, dst, dstOff);
            byte[] expected = new byte[dst.length];
            Arrays.fill(expected, (byte) 0x5A);
            System.arraycopy(r.data, o, expected, dstOff, n);
            assertBytes(expected, dst, "copyData into an array");
        }
    }

    record CopyDataSegment(int off, int len, int dstOff) implements Op {
        @Override
        public boolean movesNothing() {
            return true;
        }

        public void apply(Run r) {
            int o = r.pos(off);
            int n = r.lenFrom(o, len);
            r.note("copyData(" + o + ", " + n + ", segment[" + (dstOff + n + 3) + "], " + dstOff + ")");
            MemorySegment dst = r.reg.arena.allocate(dstOff + n + 3);
            dst.fill((byte) 0x5A);
            r.m.copyData(o, n, dst, dstOff);
            byte[] expected = new byte[dstOff + n + 3];
            Arrays.fill(expected, (byte) 0x5A);
            System.arraycopy(r.data, o, expected, dstOff, n);
            assertBytes(expected, bytesOf(dst), "copyData into a memory segment");
        }
    }

    record ToByteArray() implements Op {
        @Override
        public boolean movesNothing() {
            return true;
        }

        public void apply(Run r) {
            r.note("toByteArray()");
            assertBytes(r.data, r.m.toByteArray(), "toByteArray");
        }
    }

    record ByteAt(int off) implements Op {
        @Override
        public boolean movesNothing() {
            return true;
        }

        public void apply(Run r) {
            if (r.len() == 0) {
                r.note("byteAt(0) on an empty chain");
                assertThrows(IndexOutOfBoundsException.class, () -> r.m.byteAt(0));
                return;
            }
            int o = Math.floorMod(off, r.len());
            r.note("byteAt(" + o + ")");
            assertEquals(r.data[o], r.m.byteAt(o), "byteAt(" + o + ")");
        }
    }

    /** m_copyback: writes at an offset inside the chain, or past its end with a zero gap (gap > 0). */
    record CopyBack(int off, int gap, int size, int seed, boolean fromSegment) implements Op {
        @Override
        public boolean movesNothing() {
            return true;
        }

        public void apply(Run r) {
            int old = r.len();
            int o = gap == 0 ? r.pos(off) : old + gap;
            byte[] src = r.reg.bytes(seed, size);
            int overwrite = Math.min(o + size, old) - Math.min(o, old);
            boolean readOnly = overwrite > 0 && r.m.isReadOnly(o, overwrite);
            r.note("copyBack(" + o + ", " + size + " bytes" + (fromSegment ? " from a segment" : "") + ") on length "
                    + old + (readOnly ? ", overwriting read-only bytes: must throw" : ""));
            if (overwrite > 0 && r.allWritable(o, overwrite)) {
                assertFalse(readOnly, "bytes made writable and not shared since are read-only");
            }
            Runnable write = fromSegment
                    ? () -> r.m.copyBack(o, r.reg.arena.allocate(Math.max(1, size)).asSlice(0, size)
                            .copyFrom(MemorySegment.ofArray(src)))
                    : () -> r.m.copyBack(o, src);
            if (readOnly) {
                r.event("copyBack refused: read-only");
                assertThrows(ReadOnlyBufferException.class, write::run);
                return;
            }
            int trail = r.m.trailingSpace();
            int segments = r.m.segmentCount();
            long allocations = r.segmentAllocations();
            write.run();
            r.modelWrite(o, src);
            if (old > 0 && o + size - old <= trail) {
                assertEquals(allocations, r.segmentAllocations(), "copyBack growing into trailing space allocated");
                assertEquals(segments, r.m.segmentCount(), "copyBack growing into trailing space added a segment");
            }
        }
    }

    /** m_copyback_cow: as CopyBack, copying read-only bytes first; may extend with a zero gap. */
    record CopyBackCow(int off, int gap, int size, int seed, boolean fromSegment) implements Op {
        public void apply(Run r) {
            int old = r.len();
            int o = gap == 0 ? r.pos(off) : old + gap;
            byte[] src = r.reg.bytes(seed, size);
            int overwrite = Math.min(o + size, old) - Math.min(o, old);
            boolean readOnly = overwrite > 0 && r.m.isReadOnly(o, overwrite);
            r.note("copyBackCow(" + o + ", " + size + " bytes" + (fromSegment ? " from a segment" : "") + ") on length "
                    + old + (readOnly ? " (read-only bytes)" : ""));
            if (!readOnly) {
                r.keepViewsValid();
            }
            if (fromSegment) {
                r.m.copyBackCow(o, r.reg.arena.allocate(Math.max(1, size)).asSlice(0, size)
                        .copyFrom(MemorySegment.ofArray(src)));
            } else {
                r.m.copyBackCow(o, src);
            }
            r.modelWrite(o, src);
            int from = Math.min(o, old);
            int n = o + size - from;
            if (n > 0) {
                assertFalse(r.m.isReadOnly(from, n), "bytes written by copyBackCow are read-only");
            }
        }
    }

    record MakeWritable(int off, int len) implements Op {
        public void apply(Run r) {
            int o = r.pos(off);
            int n = r.lenFrom(o, len);
            boolean readOnly = n > 0 && r.m.isReadOnly(o, n);
            r.note("makeWritable(" + o + ", " + n + ")" + (readOnly ? " (read-only bytes in range)" : ""));
            long before = r.copied();
            if (!readOnly) {
                r.keepViewsValid();
            }
            r.m.makeWritable(o, n);
            if (!readOnly) {
                assertEquals(before, r.copied(), "makeWritable copied bytes of an already writable range");
            }
            if (n > 0) {
                assertFalse(r.m.isReadOnly(o, n), "range still read-only after makeWritable");
            }
            r.setWritable(o, n);
        }
    }

    /**
     * m_cat of a freshly built random chain, which may carry a guaranteed region of its own and may come
     * from another pool.
     */
    record Cat(List<Piece> pieces, boolean withRegion, int regionOff, int regionLen, boolean fromOtherPool)
            implements Op {
        @Override
        public boolean movesNothing() {
            return true;
        }

        public void apply(Run r) {
            Built b = ChainFixtures.build(r.reg, fromOtherPool ? r.reg.otherPool : r.pool, pieces);
            Mbuf t = b.chain();
            List<int[]> tRegions = new ArrayList<>();
            String region = "";
            int old = r.len();
            try {
                if (withRegion) {
                    int o = Math.floorMod(regionOff, b.bytes().length + 1);
                    int n = Math.floorMod(regionLen, b.bytes().length - o + 1);
                    MemorySegment view = t.ptr(o, n);
                    assertBytes(Arrays.copyOfRange(b.bytes(), o, o + n), bytesOf(view), "ptr of the chain to append");
                    if (n > 0) {
                        tRegions.add(new int[] {o, o + n});
                    }
                    region = " with region " + o + ".." + (o + n);
                }
                r.note("cat(chain of " + pieces + (fromOtherPool ? " from another pool" : "") + ", length "
                        + b.bytes().length + region + ") onto length " + old);
                Run.checkRegions(t, tRegions, "chain to append");
                r.m.cat(t);
            } catch (RuntimeException | Error e) {
                t.close();
                throw e;
            }
            assertFalse(t.isAlive(), "cat consumes its argument");
            assertThrows(IllegalStateException.class, t::length, "a consumed handle throws");
            r.data = Arrays.copyOf(r.data, old + b.bytes().length);
            System.arraycopy(b.bytes(), 0, r.data, old, b.bytes().length);
            r.writable = Arrays.copyOf(r.writable, r.data.length);
            System.arraycopy(b.writable(), 0, r.writable, old, b.writable().length);
            r.regions.addAll(regionsShifted(tRegions, old));
        }
    }

    /** m_cat of a copy (sharing storage with the chain itself) or a deep copy of a range of the chain. */
    record CatCopy(int off, int len, boolean deep) implements Op {
        public void apply(Run r) {
            int o = r.pos(off);
            int n = r.lenFrom(o, len);
            int old = r.len();
            r.note("cat(" + (deep ? "dup" : "copy") + "(" + o + ", " + n + ")) onto length " + old);
            if (deep) {
                r.keepViewsValid();
            } else {
                r.sharing(o, n);
            }
            Mbuf t = deep ? r.m.dup(o, n) : r.m.copy(o, n);
            r.m.cat(t);
            byte[] appended = r.slice(o, n);
            r.data = Arrays.copyOf(r.data, old + n);
            System.arraycopy(appended, 0, r.data, old, n);
            r.writable = Arrays.copyOf(r.writable, old + n);
            if (deep) {
                r.setWritable(old, n);
            } else {
                r.shared();
            }
        }
    }

    /** An allocating operation while the pool refuses its k-th allocation from now: all or nothing. */
    record Faulty(int grantedBeforeFault, Op inner) implements Op {
        public void apply(Run r) {
            r.note("next " + grantedBeforeFault + " allocations granted, then one refused, during:");
            r.reg.faultCountdown = grantedBeforeFault;
            try {
                inner.apply(r);
            } catch (NoBufferSpaceException e) {
                r.note("  refused by the injected fault: the chain must be unchanged");
                r.failedByFault = true;
                r.event("operation failed by injected fault");
            } finally {
                r.reg.faultCountdown = -1;
            }
        }
    }

    record Adj(int amount, boolean fromTail) implements Op {
        public void apply(Run r) {
            int n = r.pos(amount);
            r.note("adj(" + (fromTail ? -n : n) + ") on length " + r.len());
            r.m.adj(fromTail ? -n : n);
            if (fromTail) {
                r.shiftViews(0, 0, r.len() - n, v -> true);
            } else {
                r.shiftViews(-n, n, r.len(), v -> true);
            }
            if (fromTail) {
                r.data = Arrays.copyOf(r.data, r.len() - n);
                r.writable = Arrays.copyOf(r.writable, r.data.length);
                r.regions = regionsTruncate(r.regions, r.data.length);
            } else {
                r.data = Arrays.copyOfRange(r.data, n, r.len());
                r.writable = Arrays.copyOfRange(r.writable, n, r.writable.length);
                r.regions = regionsTrimFront(r.regions, n);
            }
        }
    }

    record Prepend(int len) implements Op {
        public void apply(Run r) {
            int lead = r.m.leadingSpace();
            int segments = r.m.segmentCount();
            long allocations = r.segmentAllocations();
            r.note("prepend(" + len + ") on length " + r.len() + " with leading space " + lead);
            r.m.prepend(len);
            if (len <= lead) {
                assertEquals(allocations, r.segmentAllocations(), "prepend into leading space allocated");
                assertEquals(segments, r.m.segmentCount(), "prepend into leading space changed the segment count");
            } else {
                assertEquals(allocations + 1, r.segmentAllocations(), "prepend beyond leading space: one new segment");
            }
            r.shiftViews(len, 0, r.len(), v -> true);
            byte[] d = new byte[len + r.len()];
            System.arraycopy(r.data, 0, d, len, r.len());
            boolean[] wr = new boolean[d.length];
            Arrays.fill(wr, 0, len, true);
            System.arraycopy(r.writable, 0, wr, len, r.len());
            r.data = d;
            r.writable = wr;
            r.regions = regionsShifted(r.regions, len);
            assertTrue(r.m.isContiguous(0, len), "prepended bytes are contiguous");
            if (len > 0) {
                assertFalse(r.m.isReadOnly(0, len), "prepended bytes are writable");
            }
        }
    }

    /** m_split: both halves are checked against the model; the run goes on with one, the other is freed. */
    record Split(int at, boolean continueWithTail) implements Op {
        public void apply(Run r) {
            int a = r.pos(at);
            r.note("split(" + a + ") on length " + r.len() + ", continue with the " + (continueWithTail ? "tail" : "head"));
            long before = r.copied();
            Mbuf t = r.m.split(a);
            assertTrue(r.copied() - before <= MbufPool.MLEN, "split copies at most the inline bytes after the cut");
            List<int[]> headRegions = regionsTruncate(r.regions, a);
            List<int[]> tailRegions = regionsTrimFront(r.regions, a);
            Mbuf other = continueWithTail ? r.m : t;
            try {
                t.verify();
                assertBytes(r.slice(a, r.len() - a), t.toByteArray(), "tail of split");
                assertEquals(r.packet, t.isPacket(), "the tail of a split packet is a packet");
                if (r.packet) {
                    assertEquals(r.rcvif, t.receivingInterface(), "tail of split: receiving interface");
                }
                Run.checkRegions(t, tailRegions, "tail of split");
                r.m.verify();
                assertBytes(r.slice(0, a), r.m.toByteArray(), "head of split");
                Run.checkRegions(r.m, headRegions, "head of split");
            } catch (RuntimeException | Error e) {
                t.close();
                throw e;
            }
            if (continueWithTail) {
                // bytes after the cut in inline storage are copied, so views of the tail may go stale
                r.shiftViews(-a, a, r.len(), v -> false);
            } else {
                // the head's bytes stay; a writable view of the cut segment ends if its storage is now shared
                r.shiftViews(0, 0, a, v -> !v.writable);
            }
            if (continueWithTail) {
                r.event("split, continued with tail");
                r.m = t;
                r.data = r.slice(a, r.len() - a);
                r.writable = Arrays.copyOfRange(r.writable, a, r.writable.length);
                r.regions = tailRegions;
            } else {
                r.data = r.slice(0, a);
                r.writable = Arrays.copyOf(r.writable, a);
                r.regions = headRegions;
            }
            other.free();
        }
    }

    record Pullup(int len) implements Op {
        public void apply(Run r) {
            int n = r.pos(len);
            boolean holds = n == 0 || r.m.contiguousAt(0).byteSize() >= n;
            r.note("pullup(" + n + ")" + (holds ? " (first segment already holds it)" : ""));
            long before = r.copied();
            if (holds) {
                r.keepViewsValid();
            }
            r.m.pullup(n);
            if (holds) {
                assertEquals(before, r.copied(), "pullup copied although the first segment held the bytes");
            }
            assertTrue(r.m.isContiguous(0, n), "pullup(" + n + ") left the range not contiguous");
            if (n > 0) {
                assertTrue(r.m.contiguousAt(0).byteSize() >= n, "pullup: the first segment does not hold the bytes");
            }
        }
    }

    record Copyup(int len, int dstOff) implements Op {
        public void apply(Run r) {
            int n = Math.floorMod(len, Math.min(r.len(), 240) + 1);
            int end = n == 0 ? 0 : closureEnd(r.regions, n);
            boolean fits = dstOff + end <= MbufPool.MLEN;
            r.note("copyup(" + n + ", " + dstOff + ")" + (end != n ? " (extended to region end " + end + ")" : "")
                    + (fits ? "" : ": does not fit, must throw"));
            if (!fits) {
                r.event("copyup refused: no space");
                assertThrows(NoBufferSpaceException.class, () -> r.m.copyup(n, dstOff));
                return;
            }
            long before = r.copied();
            r.m.copyup(n, dstOff);
            assertEquals(before + end, r.copied(), "copyup copies exactly the (extended) range");
            assertTrue(r.m.isContiguous(0, n), "copyup(" + n + ") left the range not contiguous");
            if (n > 0) {
                assertEquals(dstOff, r.m.leadingSpace(), "copyup: leading space of the new first segment");
                assertTrue(r.m.contiguousAt(0).byteSize() >= end, "copyup: the first segment does not hold the bytes");
                assertFalse(r.m.isReadOnly(0, end), "copyup: a fresh inline segment is writable");
                r.setWritable(0, end);
            }
        }
    }

    /** m_pulldown: a writable contiguous view; random bytes are written through it. */
    record Pulldown(int off, int len, int seed) implements Op {
        public void apply(Run r) {
            int o = r.pos(off);
            int n = r.lenFrom(o, len);
            boolean inPlace = r.m.isContiguous(o, n) && !(n > 0 && r.m.isReadOnly(o, n));
            r.note("pulldown(" + o + ", " + n + ")" + (inPlace ? " (contiguous and writable)" : "")
                    + ", then write " + n + " bytes through the view");
            if (inPlace) {
                r.keepViewsValid();
            }
            MemorySegment view = r.m.pulldown(o, n);
            assertEquals(n, view.byteSize(), "pulldown view size");
            assertBytes(r.slice(o, n), bytesOf(view), "pulldown view");
            if (n == 0) {
                return;
            }
            assertFalse(view.isReadOnly(), "pulldown view must be writable");
            assertTrue(r.m.isContiguous(o, n), "pulldown range not contiguous");
            byte[] src = r.reg.bytes(seed, n);
            view.copyFrom(MemorySegment.ofArray(src));
            r.modelWrite(o, src);
            r.track(view, "pulldown(" + o + ", " + n + ")", o);
        }
    }

    /** mptr: a read-only contiguous view; the range becomes a guaranteed region. */
    record Ptr(int off, int len) implements Op {
        public void apply(Run r) {
            int o = r.pos(off);
            int n = r.lenFrom(o, len);
            boolean contiguous = r.m.isContiguous(o, n);
            r.note("ptr(" + o + ", " + n + ")" + (contiguous ? " (already contiguous)" : ""));
            long before = r.copied();
            if (contiguous) {
                r.keepViewsValid();
            }
            MemorySegment view = r.m.ptr(o, n);
            if (contiguous) {
                assertEquals(before, r.copied(), "ptr copied a range that was contiguous");
            } else {
                r.event("ptr copied");
            }
            assertEquals(n, view.byteSize(), "ptr view size");
            assertTrue(view.isReadOnly(), "ptr view must be read-only");
            assertBytes(r.slice(o, n), bytesOf(view), "ptr view");
            assertTrue(r.m.isContiguous(o, n), "ptr range not contiguous");
            if (n > 0) {
                r.regions.add(new int[] {o, o + n});
            }
            r.track(view, "ptr(" + o + ", " + n + ")", o);
        }
    }

    /** mptr_rw: a writable contiguous view; random bytes are written through it. */
    record PtrRw(int off, int len, int seed) implements Op {
        public void apply(Run r) {
            int o = r.pos(off);
            int n = r.lenFrom(o, len);
            boolean contiguous = r.m.isContiguous(o, n);
            boolean readOnly = n > 0 && r.m.isReadOnly(o, n);
            r.note("ptrRw(" + o + ", " + n + ")" + (contiguous ? " (already contiguous)" : "")
                    + (readOnly ? " (read-only bytes)" : "") + ", then write " + n + " bytes through the view");
            long before = r.copied();
            if (contiguous && !readOnly) {
                r.keepViewsValid();
            }
            MemorySegment view = r.m.ptrRw(o, n);
            if (contiguous && !readOnly) {
                assertEquals(before, r.copied(), "ptrRw copied a contiguous writable range");
            } else if (n > 0) {
                r.event("ptrRw copied");
            }
            assertEquals(n, view.byteSize(), "ptrRw view size");
            assertBytes(r.slice(o, n), bytesOf(view), "ptrRw view");
            if (n == 0) {
                return;
            }
            assertFalse(view.isReadOnly(), "ptrRw view must be writable");
            assertTrue(r.m.isContiguous(o, n), "ptrRw range not contiguous");
            r.regions.add(new int[] {o, o + n});
            byte[] src = r.reg.bytes(seed, n);
            view.copyFrom(MemorySegment.ofArray(src));
            r.modelWrite(o, src);
            r.track(view, "ptrRw(" + o + ", " + n + ")", o);
        }
    }

    /** m_apply: the pieces, in order, make up the range; a non-zero return stops early. */
    record Apply(int off, int len, int stopAtCall) implements Op {
        @Override
        public boolean movesNothing() {
            return true;
        }

        public void apply(Run r) {
            int o = r.pos(off);
            int n = r.lenFrom(o, len);
            r.note("apply(" + o + ", " + n + "), stopping at call " + stopAtCall);
            List<byte[]> chunks = new ArrayList<>();
            MemorySegment[] last = new MemorySegment[1];
            int result = r.m.apply(o, n, chunk -> {
                assertTrue(chunk.isReadOnly(), "apply hands out read-only pieces");
                assertTrue(chunk.byteSize() > 0, "apply handed out an empty piece");
                chunks.add(bytesOf(chunk));
                last[0] = chunk;
                return chunks.size() == stopAtCall + 1 ? 77 : 0;
            });
            byte[] seen = new byte[chunks.stream().mapToInt(c -> c.length).sum()];
            int at = 0;
            for (byte[] c : chunks) {
                System.arraycopy(c, 0, seen, at, c.length);
                at += c.length;
            }
            if (result == 77) {
                assertEquals(stopAtCall + 1, chunks.size(), "apply went on after a non-zero return");
                assertBytes(r.slice(o, seen.length), seen, "apply pieces (stopped early)");
            } else {
                assertEquals(0, result, "apply result");
                assertTrue(chunks.size() <= stopAtCall, "apply did not stop at a non-zero return");
                assertBytes(r.slice(o, n), seen, "apply pieces");
            }
            if (last[0] != null) {
                MemorySegment stale = last[0];
                assertThrows(IllegalStateException.class, () -> stale.get(ValueLayout.JAVA_BYTE, 0),
                        "strict mode: a piece used after apply returned must throw");
            }
        }
    }

    /** m_getptr: a read-only view to the end of the segment holding off. */
    record ContiguousAt(int off) implements Op {
        @Override
        public boolean movesNothing() {
            return true;
        }

        public void apply(Run r) {
            int o = r.pos(off);
            MemorySegment view = r.m.contiguousAt(o);
            int size = (int) view.byteSize();
            r.note("contiguousAt(" + o + ") -> " + size + " bytes");
            if (o == r.len()) {
                assertEquals(0, size, "contiguousAt(length) is empty");
                return;
            }
            assertTrue(size > 0 && o + size <= r.len(), "contiguousAt size " + size);
            assertTrue(view.isReadOnly(), "contiguousAt view must be read-only");
            assertBytes(r.slice(o, size), bytesOf(view), "contiguousAt view");
            assertTrue(r.m.isContiguous(o, size), "contiguousAt range not contiguous");
            if (o + size < r.len()) {
                assertFalse(r.m.isContiguous(o, size + 1), "contiguousAt stopped before the end of its segment");
            }
            r.track(view, "contiguousAt(" + o + ")", o);
        }
    }

    record IsReadOnly(int off, int len) implements Op {
        @Override
        public boolean movesNothing() {
            return true;
        }

        public void apply(Run r) {
            int o = r.pos(off);
            int n = r.lenFrom(o, len);
            boolean readOnly = r.m.isReadOnly(o, n);
            r.note("isReadOnly(" + o + ", " + n + ") -> " + readOnly);
            if (r.allWritable(o, n)) {
                assertFalse(readOnly, "isReadOnly of bytes made writable and not shared since (or of no bytes)");
            }
        }
    }

    record IsContiguous(int off, int len) implements Op {
        @Override
        public boolean movesNothing() {
            return true;
        }

        public void apply(Run r) {
            int o = r.pos(off);
            int n = r.lenFrom(o, len);
            boolean contiguous = r.m.isContiguous(o, n);
            r.note("isContiguous(" + o + ", " + n + ") -> " + contiguous);
            if (n == 0) {
                assertTrue(contiguous, "an empty range is contiguous");
            } else {
                assertEquals(r.m.contiguousAt(o).byteSize() >= n, contiguous,
                        "isContiguous disagrees with contiguousAt");
            }
        }
    }

    /**
     * Writes into a chain kept alive beside the one under test (a piece's sharing partner, a kept copy,
     * the witness): the chain under test must not see it.
     */
    record WriteHeld(int which, int off, int size, int seed, boolean viaPtrRw) implements Op {
        @Override
        public boolean movesNothing() {
            return true;
        }

        public void apply(Run r) {
            if (r.reg.held.isEmpty()) {
                r.note("write into a kept chain: none kept");
                return;
            }
            Held h = r.reg.held.get(Math.floorMod(which, r.reg.held.size()));
            int o = Math.floorMod(off, h.expected.length + 1);
            if (viaPtrRw) {
                int n = Math.floorMod(size, h.expected.length - o + 1);
                r.note("ptrRw(" + o + ", " + n + ") and write into " + h.label);
                MemorySegment view = h.chain.ptrRw(o, n);
                byte[] src = r.reg.bytes(seed, n);
                if (n > 0) {
                    view.copyFrom(MemorySegment.ofArray(src));
                }
                System.arraycopy(src, 0, h.expected, o, n);
            } else {
                byte[] src = r.reg.bytes(seed, size);
                r.note("copyBackCow(" + o + ", " + size + " bytes) into " + h.label);
                h.chain.copyBackCow(o, src);
                if (o + size > h.expected.length) {
                    h.expected = Arrays.copyOf(h.expected, o + size);
                }
                System.arraycopy(src, 0, h.expected, o, size);
            }
            r.event("wrote into a shared partner");
        }
    }

    /** A call with arguments outside the chain: it must throw and leave the chain as it was. */
    record OutOfRange(int which, int excess) implements Op {
        @Override
        public boolean movesNothing() {
            return true;
        }

        static final int CASES = 24;

        public void apply(Run r) {
            Mbuf m = r.m;
            int l = r.len();
            int past = l + 1 + excess;
            int neg = -1 - excess;
            record Case(String what, Class<? extends Throwable> expected, Runnable call) { }
            Case c = switch (which) {
                case 0 -> new Case("copy(0, " + past + ")", IndexOutOfBoundsException.class, () -> m.copy(0, past));
                case 1 -> new Case("copy(" + past + ")", IndexOutOfBoundsException.class, () -> m.copy(past));
                case 2 -> new Case("dup(1, " + l + ")", IndexOutOfBoundsException.class, () -> m.dup(1, l + excess));
                case 3 -> new Case("copyData(0, " + past + ", ...)", IndexOutOfBoundsException.class,
                        () -> m.copyData(0, past, new byte[past], 0));
                case 4 -> new Case("copyData into a short array", IndexOutOfBoundsException.class,
                        () -> m.copyData(0, l, new byte[l + 1], 2 + excess));
                case 5 -> new Case("byteAt(" + (l + excess) + ")", IndexOutOfBoundsException.class,
                        () -> m.byteAt(l + excess));
                case 6 -> new Case("ptr(" + l + ", " + (1 + excess) + ")", IndexOutOfBoundsException.class,
                        () -> m.ptr(l, 1 + excess));
                case 7 -> new Case("ptrRw(0, " + past + ")", IndexOutOfBoundsException.class, () -> m.ptrRw(0, past));
                case 8 -> new Case("pulldown(" + neg + ", 1)", IndexOutOfBoundsException.class,
                        () -> m.pulldown(neg, 1));
                case 9 -> new Case("makeWritable(0, " + past + ")", IndexOutOfBoundsException.class,
                        () -> m.makeWritable(0, past));
                case 10 -> new Case("isReadOnly(0, " + past + ")", IndexOutOfBoundsException.class,
                        () -> m.isReadOnly(0, past));
                case 11 -> new Case("isContiguous(" + past + ", 0)", IndexOutOfBoundsException.class,
                        () -> m.isContiguous(past, 0));
                case 12 -> new Case("apply(0, " + past + ")", IndexOutOfBoundsException.class,
                        () -> m.apply(0, past, x -> 0));
                case 13 -> new Case("contiguousAt(" + past + ")", IndexOutOfBoundsException.class,
                        () -> m.contiguousAt(past));
                case 14 -> new Case("split(" + past + ")", IndexOutOfBoundsException.class, () -> m.split(past));
                case 15 -> new Case("pullup(" + past + ")", IndexOutOfBoundsException.class, () -> m.pullup(past));
                case 16 -> new Case("copyup(" + past + ", 0)", IndexOutOfBoundsException.class,
                        () -> m.copyup(past, 0));
                case 17 -> new Case("adj(" + (excess % 2 == 0 ? past : -past) + ")", IndexOutOfBoundsException.class,
                        () -> m.adj(excess % 2 == 0 ? past : -past));
                case 18 -> new Case("copyBack(" + neg + ", 1 byte)", IndexOutOfBoundsException.class,
                        () -> m.copyBack(neg, new byte[1]));
                case 19 -> new Case("copyBackCow(" + neg + ", 1 byte)", IndexOutOfBoundsException.class,
                        () -> m.copyBackCow(neg, new byte[1]));
                case 20 -> new Case("ptr(0, " + neg + ")", IndexOutOfBoundsException.class, () -> m.ptr(0, neg));
                case 21 -> new Case("copyup(0, " + neg + ")", IndexOutOfBoundsException.class,
                        () -> m.copyup(0, neg));
                case 22 -> new Case("prepend(" + neg + ")", IllegalArgumentException.class, () -> m.prepend(neg));
                case 23 -> new Case("cat(itself)", IllegalArgumentException.class, () -> m.cat(m));
                default -> throw new AssertionError(which);
            };
            r.note(c.what() + " on length " + l + ": must throw " + c.expected().getSimpleName());
            Throwable thrown = assertThrows(c.expected(), c.call()::run, c.what());
            assertNotNull(thrown);
        }
    }
}
