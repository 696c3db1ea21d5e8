package org.jmbuf.buf;

import static org.jmbuf.buf.AcceptanceFixtures.bytesOf;
import static org.jmbuf.buf.AcceptanceFixtures.concat;
import static org.jmbuf.buf.AcceptanceFixtures.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongPredicate;
import java.util.stream.Stream;
import org.jmbuf.buf.AcceptanceFixtures.Built;
import org.jmbuf.buf.Mbuf.Range;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Acceptance: allocation-failure injection. For each operation that allocates and each chain shape, the
 * 1st, 2nd, ... allocation from the start of the operation fails in turn until the operation succeeds.
 * Every failure must throw NoBufferSpaceException and leave the chain byte-identical (same bytes, same
 * dump, same regions, views still valid) and valid, and leave nothing allocated; the operation must
 * fail exactly once per allocation it makes; after freeing everything the pool is quiescent.
 */
class AllocationFailureTest {

    /** Fails the k-th allocation after {@link #arm(int)}, once; counts every allocation. */
    static final class Faults implements LongPredicate {
        private int countdown;
        long allocations;
        boolean fired;

        @Override
        public boolean test(long n) {
            allocations++;
            if (countdown > 0 && --countdown == 0) {
                fired = true;
                return true;
            }
            return false;
        }

        void arm(int k) {
            countdown = k;
            fired = false;
        }

        void disarm() {
            countdown = 0;
        }
    }

    /** One attempt of an operation, prepared (unarmed) before the faults are armed. */
    interface Attempt {
        Object run();

        /** Releases what {@link #prepare} made, after a failed run. */
        default void discard() {
        }
    }

    interface FaultOp {
        /** Prepares an attempt on chain {@code m} (null for pool operations). */
        Attempt prepare(Mbuf m, MbufPool pool);
    }

    /** Checks a successful result; {@code data} is the chain's bytes before the operation. */
    interface ResultCheck {
        void check(Mbuf m, Object result, byte[] data);
    }

    record FaultCase(String shape, List<Range> regions, FaultOp op, ResultCheck check, boolean allocates) { }

    static Arguments c(String name, String shape, FaultOp op, ResultCheck check) {
        return c(name, shape, List.of(), op, check, true);
    }

    static Arguments c(String name, String shape, List<Range> regions, FaultOp op, ResultCheck check,
            boolean allocates) {
        return Arguments.of(Named.of(name + (shape == null ? "" : " on " + shape)
                + (regions.isEmpty() ? "" : " with regions " + regions), new FaultCase(shape, regions, op, check,
                allocates)));
    }

    static FaultOp simple(java.util.function.Function<Mbuf, Object> f) {
        return (m, pool) -> () -> f.apply(m);
    }

    static byte[] sub(byte[] a, int from, int to) {
        return Arrays.copyOfRange(a, from, to);
    }

    static byte[] fill(int n, int value) {
        byte[] out = new byte[n];
        Arrays.fill(out, (byte) value);
        return out;
    }

    static byte[] written(byte[] data, int off, byte[] src) {
        byte[] out = Arrays.copyOf(data, Math.max(data.length, off + src.length));
        System.arraycopy(src, 0, out, off, src.length);
        return out;
    }

    /** The result is a chain holding {@code expected}; it is freed by the harness. */
    static void chainHolds(Object result, byte[] expected) {
        Mbuf r = (Mbuf) result;
        r.verify();
        assertArrayEquals(expected, r.toByteArray());
    }

    static ResultCheck unchangedBytes() {
        return (m, result, data) -> assertArrayEquals(data, m.toByteArray());
    }

    static ResultCheck contiguous(int off, int len) {
        return contiguous(off, len, off, len);
    }

    /** [off, off + len) is contiguous; a view returned is of [viewOff, viewOff + viewLen). */
    static ResultCheck contiguous(int off, int len, int viewOff, int viewLen) {
        return (m, result, data) -> {
            assertArrayEquals(data, m.toByteArray());
            assertTrue(m.isContiguous(off, len), m::dump);
            if (result instanceof MemorySegment view) {
                assertArrayEquals(sub(data, viewOff, viewOff + viewLen), bytesOf(view));
            }
        };
    }

    static ResultCheck writableContiguous(int off, int len) {
        return writableContiguous(off, len, off, len);
    }

    static ResultCheck writableContiguous(int off, int len, int viewOff, int viewLen) {
        return (m, result, data) -> {
            contiguous(off, len, viewOff, viewLen).check(m, result, data);
            assertFalse(m.isReadOnly(off, len), m::dump);
            assertFalse(((MemorySegment) result).isReadOnly());
        };
    }

    static final byte[] BIG = pattern(3000, 9);

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        // ---- copies
        out.add(c("copy(10,400)", "i50 S300 X100", simple(m -> m.copy(10, 400)),
                (m, r, d) -> chainHolds(r, sub(d, 10, 410))));
        out.add(c("copy(0)", "i50 i50 C800", simple(m -> m.copy(0)), (m, r, d) -> chainHolds(r, d)));
        out.add(c("copyPacket", "S300 i50 X100 W20", simple(Mbuf::copyPacket), (m, r, d) -> {
            chainHolds(r, d);
            assertTrue(((Mbuf) r).isPacket());
        }));
        out.add(c("dup(0,len)", "S300 i50 X100", simple(m -> m.dup(0, m.length())), (m, r, d) -> {
            chainHolds(r, d);
            assertFalse(((Mbuf) r).isReadOnly(0, d.length), "dup shares nothing");
        }));
        out.add(c("dup(5,3000)", "X2000 X1500", simple(m -> m.dup(5, 3000)),
                (m, r, d) -> chainHolds(r, sub(d, 5, 3005))));
        out.add(c("dup(5,100)", "X300", simple(m -> m.dup(5, 100)), (m, r, d) -> chainHolds(r, sub(d, 5, 105))));
        // ---- copyBack (extending)
        out.add(c("copyBack(40, 3000 bytes)", "i50", simple(m -> {
            m.copyBack(40, BIG);
            return null;
        }), (m, r, d) -> assertArrayEquals(written(d, 40, BIG), m.toByteArray())));
        out.add(c("copyBack(150, 300 bytes) past the end", "X100 i20", simple(m -> {
            m.copyBack(150, sub(BIG, 0, 300));
            return null;
        }), (m, r, d) -> assertArrayEquals(written(d, 150, sub(BIG, 0, 300)), m.toByteArray())));
        // ---- copyBackCow
        out.add(c("copyBackCow(100, 100 bytes)", "X600", simple(m -> {
            m.copyBackCow(100, fill(100, 0xAB));
            return null;
        }), (m, r, d) -> assertArrayEquals(written(d, 100, fill(100, 0xAB)), m.toByteArray())));
        out.add(c("copyBackCow(0, 50 bytes)", "S1000", simple(m -> {
            m.copyBackCow(0, fill(50, 0xAB));
            return null;
        }), (m, r, d) -> assertArrayEquals(written(d, 0, fill(50, 0xAB)), m.toByteArray())));
        out.add(c("copyBackCow(300, 200 bytes)", "i20 S1000 X100", simple(m -> {
            m.copyBackCow(300, fill(200, 0xAB));
            return null;
        }), (m, r, d) -> assertArrayEquals(written(d, 300, fill(200, 0xAB)), m.toByteArray())));
        out.add(c("copyBackCow(550, 3000 bytes) extending", "X600", simple(m -> {
            m.copyBackCow(550, BIG);
            return null;
        }), (m, r, d) -> assertArrayEquals(written(d, 550, BIG), m.toByteArray())));
        out.add(c("copyBackCow(1000, 1500 bytes)", "X3000", List.of(new Range(2000, 100)), simple(m -> {
            m.copyBackCow(1000, sub(BIG, 0, 1500));
            return null;
        }), (m, r, d) -> assertArrayEquals(written(d, 1000, sub(BIG, 0, 1500)), m.toByteArray()), true));
        // ---- makeWritable
        out.add(c("makeWritable(0,len)", "X5000", List.of(new Range(2000, 100)), simple(m -> {
            m.makeWritable(0, m.length());
            return null;
        }), (m, r, d) -> {
            assertArrayEquals(d, m.toByteArray());
            assertFalse(m.isReadOnly(0, d.length));
        }, true));
        out.add(c("makeWritable(500,700)", "S1000 i30 X200", simple(m -> {
            m.makeWritable(500, 700);
            return null;
        }), (m, r, d) -> {
            assertArrayEquals(d, m.toByteArray());
            assertFalse(m.isReadOnly(500, 700));
        }));
        // ---- prepend without leading space
        for (int n : new int[] {20, 300, 3000}) {
            out.add(c("prepend(" + n + ")", "X100", simple(m -> {
                m.prepend(n);
                return null;
            }), (m, r, d) -> {
                assertArrayEquals(concat(new byte[n], d), m.toByteArray());
                assertTrue(m.isContiguous(0, n));
            }));
        }
        out.add(c("prepend(8) on shared storage", "S100", simple(m -> {
            m.prepend(8);
            return null;
        }), (m, r, d) -> assertArrayEquals(concat(new byte[8], d), m.toByteArray())));
        // ---- split
        out.add(c("split(40) mid inline", "i100 X50", simple(m -> m.split(40)), splitCheck(40)));
        out.add(c("split(200) mid cluster", "C500", simple(m -> m.split(200)), splitCheck(200)));
        out.add(c("split(70) mid external", "X100", List.of(new Range(60, 20)), simple(m -> m.split(70)),
                splitCheck(70), true));
        out.add(c("split(0)", "X100", simple(m -> m.split(0)), splitCheck(0)));
        out.add(c("split(len)", "i30 X100", simple(m -> m.split(130)), splitCheck(130)));
        out.add(c("split(40) at a segment boundary", "X40 X60", List.of(), simple(m -> m.split(40)),
                splitCheck(40), false));
        // ---- pullup, copyup, pulldown
        out.add(c("pullup(100)", "X40 X40 X40", simple(m -> {
            m.pullup(100);
            return null;
        }), contiguous(0, 100)));
        out.add(c("pullup(90) into a region", "X40 X40 X40", List.of(new Range(82, 20)), simple(m -> {
            m.pullup(90);
            return null;
        }), contiguous(0, 102), true));
        out.add(c("pullup(1000)", "X600 X600", simple(m -> {
            m.pullup(1000);
            return null;
        }), contiguous(0, 1000)));
        out.add(c("pullup(3000)", "X2000 X2000", simple(m -> {
            m.pullup(3000);
            return null;
        }), contiguous(0, 3000)));
        out.add(c("copyup(50,16)", "X40 X40", simple(m -> {
            m.copyup(50, 16);
            return null;
        }), (m, r, d) -> {
            contiguous(0, 50).check(m, r, d);
            assertEquals(16, m.leadingSpace());
        }));
        out.add(c("copyup(30,8)", "S100", simple(m -> {
            m.copyup(30, 8);
            return null;
        }), contiguous(0, 30)));
        out.add(c("pulldown(30,40)", "X40 X40 X40", simple(m -> m.pulldown(30, 40)), writableContiguous(30, 40)));
        out.add(c("pulldown(10,20) in one read-only segment", "X100", simple(m -> m.pulldown(10, 20)),
                writableContiguous(10, 20)));
        out.add(c("pulldown(10,20) in shared storage", "S100", simple(m -> m.pulldown(10, 20)),
                writableContiguous(10, 20)));
        out.add(c("pulldown(10,30) seed case", "X25 X35", List.of(new Range(0, 20)),
                simple(m -> m.pulldown(10, 30)), writableContiguous(10, 30), true));
        // ---- ptr, ptrRw
        out.add(c("ptr(30,20)", "X40 X40", simple(m -> m.ptr(30, 20)), contiguous(30, 20)));
        out.add(c("ptr(1000,2500)", "X2000 X2000", simple(m -> m.ptr(1000, 2500)), contiguous(1000, 2500)));
        out.add(c("ptr(12,20) joining regions", "X20 X20 X20", List.of(new Range(5, 10), new Range(22, 10)),
                simple(m -> m.ptr(12, 20)), contiguous(5, 27, 12, 20), true));
        out.add(c("ptrRw(10,20)", "X100", simple(m -> m.ptrRw(10, 20)), writableContiguous(10, 20)));
        out.add(c("ptrRw(10,20)", "S100", simple(m -> m.ptrRw(10, 20)), writableContiguous(10, 20)));
        out.add(c("ptrRw(100,3000) longer than a cluster", "X5000", simple(m -> m.ptrRw(100, 3000)),
                writableContiguous(100, 3000)));
        out.add(c("ptrRw(0,3000) across segments", "X2000 X2000", simple(m -> m.ptrRw(0, 3000)),
                writableContiguous(0, 3000)));
        out.add(c("ptrRw(50,20) of a region", "X100", List.of(new Range(40, 40)), simple(m -> m.ptrRw(50, 20)),
                writableContiguous(40, 40, 50, 20), true));
        // ---- cat (copies into trailing space, allocates nothing)
        out.add(c("cat", "i50", List.of(), catOp("X100"), catCheck(), false));
        out.add(c("cat", "X50", List.of(), catOp("i20 S60"), catCheck(), false));
        // ---- pool operations
        out.add(c("devget(3000 bytes)", null, List.of(), (m, pool) -> () -> pool.devget(MemorySegment.ofArray(BIG)),
                (m, r, d) -> chainHolds(r, BIG), true));
        out.add(c("devget(100 bytes)", null, List.of(),
                (m, pool) -> () -> pool.devget(MemorySegment.ofArray(sub(BIG, 0, 100))),
                (m, r, d) -> chainHolds(r, sub(BIG, 0, 100)), true));
        out.add(c("getCluster", null, List.of(), (m, pool) -> () -> pool.getCluster(true), (m, r, d) -> {
            Mbuf x = (Mbuf) r;
            assertEquals(0, x.length());
            assertEquals(MbufPool.MCLBYTES, x.trailingSpace() + x.leadingSpace());
        }, true));
        return out.stream();
    }

    static ResultCheck splitCheck(int at) {
        return (m, r, d) -> {
            assertArrayEquals(sub(d, 0, at), m.toByteArray());
            chainHolds(r, sub(d, at, d.length));
        };
    }

    static FaultOp catOp(String tailShape) {
        return (m, pool) -> {
            Built tail = AcceptanceFixtures.build(pool, tailShape, 3);
            return new Attempt() {
                @Override
                public Object run() {
                    m.cat(tail.chain);
                    return tail;
                }

                @Override
                public void discard() {
                    tail.close();
                }
            };
        };
    }

    static ResultCheck catCheck() {
        return (m, r, d) -> {
            Built tail = (Built) r;
            assertFalse(tail.chain.isAlive());
            assertArrayEquals(concat(d, tail.data), m.toByteArray());
            tail.close(); // the twins
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void everyAllocationFailureLeavesTheChainAsItWas(FaultCase fc) {
        Faults faults = new Faults();
        MbufPool pool = MbufPool.builder().allocationFaults(faults).build();
        Built built = fc.shape() == null ? null : AcceptanceFixtures.build(pool, fc.shape());
        Object result = null;
        try {
            Mbuf m = built == null ? null : built.chain;
            List<MemorySegment> views = new ArrayList<>();
            if (m != null) {
                for (Range r : fc.regions()) {
                    m.ptr(r.offset(), r.length());
                }
                assertEquals(fc.regions(), m.guaranteedRegions());
                for (Range r : fc.regions()) {
                    views.add(m.ptr(r.offset(), r.length()));
                }
            }
            byte[] data = m == null ? null : m.toByteArray();
            String dump = m == null ? null : m.dump();
            PoolStats before = pool.stats();
            long failuresBefore = before.failures();
            int failed = 0;
            long allocationsOfSuccess = -1;
            for (int k = 1; ; k++) {
                if (k > 500) {
                    fail("the operation still fails after 500 injected faults");
                }
                Attempt attempt = fc.op().prepare(m, pool);
                long start = faults.allocations;
                faults.arm(k);
                try {
                    result = attempt.run();
                    faults.disarm();
                    assertFalse(faults.fired, "a fault fired but the operation succeeded");
                    allocationsOfSuccess = faults.allocations - start;
                    break;
                } catch (NoBufferSpaceException e) {
                    faults.disarm();
                    failed++;
                    assertTrue(faults.fired, "NoBufferSpaceException without an injected fault: " + e);
                    assertTrue(String.valueOf(e.getMessage()).contains("injected"), e::toString);
                    attempt.discard();
                    int kk = k;
                    if (m != null) {
                        assertTrue(m.isAlive());
                        m.verify();
                        assertArrayEquals(data, m.toByteArray(), () -> "bytes changed by failure " + kk);
                        assertEquals(dump, m.dump(), () -> "structure changed by failure " + kk);
                        assertEquals(fc.regions(), m.guaranteedRegions());
                        for (int i = 0; i < views.size(); i++) {
                            Range r = fc.regions().get(i);
                            assertArrayEquals(sub(data, r.offset(), r.end()), bytesOf(views.get(i)),
                                    () -> "a failed operation staled a view (failure " + kk + ")");
                        }
                        built.assertSharedStorageUntouched();
                    }
                    PoolStats now = pool.stats();
                    assertEquals(before.segmentsInUse(), now.segmentsInUse(), () -> "segments leaked by failure " + kk);
                    assertEquals(before.clustersInUse(), now.clustersInUse(), () -> "clusters leaked by failure " + kk);
                    assertEquals(before.externalInUse(), now.externalInUse());
                    assertEquals(before.largeBuffersInUse(), now.largeBuffersInUse(),
                            () -> "large buffers leaked by failure " + kk);
                    assertEquals(failuresBefore + failed, now.failures(), "failures counted");
                }
            }
            assertEquals(failed, allocationsOfSuccess,
                    "each allocation of the operation must have been a failure point");
            if (fc.allocates()) {
                assertTrue(failed >= 1, "the operation was expected to allocate");
            } else {
                assertEquals(0, failed, "the operation was expected not to allocate");
            }
            if (m != null) {
                m.verify();
                for (Range r : m.guaranteedRegions()) {
                    assertTrue(m.isContiguous(r.offset(), r.length()));
                }
                built.assertSharedStorageUntouched();
            }
            fc.check().check(m, result, data);
        } finally {
            if (result instanceof Mbuf r) {
                r.close();
            }
            if (result instanceof Built b) {
                b.close();
            }
            if (built != null) {
                built.close();
            }
        }
        assertTrue(pool.stats().isQuiescent(), () -> pool.stats().toString() + pool.leakReport());
    }

    @org.junit.jupiter.api.Test
    void wrapFailsCleanlyAndTheFreeActionRunsOnlyForTheWrappedPacket() {
        Faults faults = new Faults();
        MbufPool pool = MbufPool.builder().allocationFaults(faults).build();
        MemorySegment storage = Arena.ofAuto().allocate(100);
        AtomicInteger frees = new AtomicInteger();
        faults.arm(1);
        try {
            pool.wrap(storage, false, frees::incrementAndGet).close();
            fail("wrap must fail when its segment allocation fails");
        } catch (NoBufferSpaceException expected) {
            assertTrue(faults.fired);
        }
        faults.disarm();
        assertEquals(0, frees.get(), "the free action ran for storage that was never wrapped");
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
        long start = faults.allocations;
        Mbuf m = pool.wrap(storage, false, frees::incrementAndGet);
        assertNotNull(m);
        assertEquals(1, faults.allocations - start, "wrap allocates exactly one segment");
        assertEquals(100, m.length());
        m.free();
        assertEquals(1, frees.get());
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }
}
