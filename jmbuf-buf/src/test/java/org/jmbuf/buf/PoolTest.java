package org.jmbuf.buf;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** Acceptance: pool limits, low watermarks, drain hooks and statistics behave as documented. */
class PoolTest {

    /** An {@link InstantSource} the test moves by hand. */
    static final class MutableClock implements InstantSource {
        private volatile Instant now;

        MutableClock(Instant start) {
            this.now = start;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private static byte[] pattern(int len, int seed) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (i * 31 + seed * 7 + (i >>> 8));
        }
        return b;
    }

    private static void freeAll(Iterable<Mbuf> chains) {
        for (Mbuf m : chains) {
            m.close();
        }
    }

    // ------------------------------------------------------------------ limits

    @Test
    void segmentLimitRefusesWithNoBufferSpaceAndCountsFailure() {
        MbufPool pool = MbufPool.builder().segmentLimit(3).build();
        List<Mbuf> held = new ArrayList<>();
        try {
            held.add(pool.getPacket());
            held.add(pool.get(MbufType.HEADER));
            held.add(pool.getPacket());
            assertEquals(3, pool.stats().segmentsInUse());
            assertEquals(0, pool.stats().failures());

            NoBufferSpaceException e = assertThrows(NoBufferSpaceException.class, pool::getPacket);
            assertTrue(e.getMessage().contains("segment limit of 3"), e.getMessage());
            assertTrue(e.getMessage().contains("raise the limit") && e.getMessage().contains("free packets"),
                    "the message should say what to do: " + e.getMessage());
            assertEquals(1, pool.stats().failures());

            assertThrows(NoBufferSpaceException.class, () -> pool.get(MbufType.DATA));
            assertThrows(NoBufferSpaceException.class, () -> pool.getCluster(true));
            assertThrows(NoBufferSpaceException.class, () -> pool.devget(MemorySegment.ofArray(new byte[10])));
            assertThrows(NoBufferSpaceException.class, () -> held.getFirst().copyPacket());
            assertEquals(5, pool.stats().failures());
            // refusals leave nothing behind
            assertEquals(3, pool.stats().segmentsInUse());
            assertEquals(0, pool.stats().clustersInUse());
            assertEquals(3, pool.stats().segmentHighWater());

            held.removeFirst().free();
            Mbuf again = pool.getPacket();
            held.add(again);
            assertEquals(3, pool.stats().segmentsInUse());
        } finally {
            freeAll(held);
        }
    }

    @Test
    void clusterLimitRefusesAndLeavesNoSegmentBehind() {
        MbufPool pool = MbufPool.builder().clusterLimit(2).build();
        List<Mbuf> held = new ArrayList<>();
        try {
            held.add(pool.getCluster(true));
            held.add(pool.getCluster(false));
            assertEquals(2, pool.stats().clustersInUse());
            assertEquals(2, pool.stats().segmentsInUse());

            NoBufferSpaceException e = assertThrows(NoBufferSpaceException.class, () -> pool.getCluster(true));
            assertTrue(e.getMessage().contains("cluster limit of 2"), e.getMessage());
            assertTrue(e.getMessage().contains("raise the limit"), e.getMessage());
            assertEquals(1, pool.stats().failures());
            assertEquals(2, pool.stats().segmentsInUse(), "the segment taken for the refused cluster is freed");

            // an operation that needs a cluster fails and leaves its chain unchanged
            Mbuf small = pool.getPacket();
            held.add(small);
            small.copyBack(0, pattern(100, 1));
            assertThrows(NoBufferSpaceException.class, () -> small.copyBack(100, pattern(1000, 2)));
            assertEquals(2, pool.stats().failures());
            assertEquals(100, small.length());
            assertEquals(1, small.segmentCount());
            assertArrayEquals(pattern(100, 1), small.toByteArray());
            assertEquals(3, pool.stats().segmentsInUse());
            assertEquals(2, pool.stats().clustersInUse());

            // devget that runs out of clusters half way leaves nothing allocated
            held.removeFirst().free(); // one cluster free again
            assertThrows(NoBufferSpaceException.class, () -> pool.devget(MemorySegment.ofArray(pattern(5000, 3))));
            assertEquals(3, pool.stats().failures());
            assertEquals(2, pool.stats().segmentsInUse());
            assertEquals(1, pool.stats().clustersInUse());

            // inline storage is not bounded by the cluster limit
            held.add(pool.getPacket());
        } finally {
            freeAll(held);
        }
    }

    // ------------------------------------------------------------------ drain hooks

    @Test
    void drainHookThatFreesHeldPacketsLetsTheRefusedAllocationSucceed() {
        MbufPool pool = MbufPool.builder().segmentLimit(4).build();
        Deque<Mbuf> reassembly = new ArrayDeque<>();
        AtomicInteger calls = new AtomicInteger();
        pool.addDrainHook(() -> {
            calls.incrementAndGet();
            Mbuf m;
            while ((m = reassembly.poll()) != null) {
                m.free();
            }
        });
        try {
            for (int i = 0; i < 4; i++) {
                reassembly.add(pool.getPacket());
            }
            assertEquals(0, calls.get(), "hooks run only when a limit is reached");
            Mbuf m = pool.getPacket();
            try {
                assertEquals(1, calls.get());
                assertEquals(1, pool.stats().drains());
                assertEquals(0, pool.stats().failures());
                assertEquals(0, pool.stats().limitWarnings());
                assertEquals(1, pool.stats().segmentsInUse());
                assertTrue(reassembly.isEmpty());
            } finally {
                m.free();
            }
        } finally {
            freeAll(reassembly);
        }
    }

    @Test
    void drainHookFreeingClustersLetsClusterAllocationSucceed() {
        MbufPool pool = MbufPool.builder().clusterLimit(2).build();
        Deque<Mbuf> cache = new ArrayDeque<>();
        AtomicInteger calls = new AtomicInteger();
        pool.addDrainHook(() -> {
            calls.incrementAndGet();
            Mbuf m = cache.poll();
            if (m != null) {
                m.free();
            }
        });
        try {
            cache.add(pool.getCluster(true));
            cache.add(pool.getCluster(true));
            Mbuf m = pool.getCluster(true);
            try {
                assertEquals(1, calls.get());
                assertEquals(1, pool.stats().drains());
                assertEquals(0, pool.stats().failures());
                assertEquals(2, pool.stats().clustersInUse());
                assertEquals(1, cache.size());
            } finally {
                m.free();
            }
        } finally {
            freeAll(cache);
        }
    }

    @Test
    void drainHookThatFreesNothingStillRefuses() {
        MbufPool pool = MbufPool.builder().segmentLimit(1).build();
        AtomicInteger calls = new AtomicInteger();
        pool.addDrainHook(calls::incrementAndGet);
        try (Mbuf held = pool.getPacket()) {
            assertEquals(1, held.segmentCount());
            assertThrows(NoBufferSpaceException.class, pool::getPacket);
            assertEquals(1, calls.get());
            assertEquals(1, pool.stats().drains());
            assertEquals(1, pool.stats().failures());
        }
    }

    @Test
    void drainHooksDoNotRecurse() {
        MbufPool pool = MbufPool.builder().segmentLimit(2).build();
        AtomicInteger calls = new AtomicInteger();
        List<Throwable> innerFailures = new ArrayList<>();
        pool.addDrainHook(() -> {
            calls.incrementAndGet();
            pool.reclaim(); // must not recurse either
            try {
                pool.getPacket().free(); // the pool is at its limit: must fail without running the hooks again
                fail("allocation inside the drain hook should have been refused");
            } catch (NoBufferSpaceException e) {
                innerFailures.add(e);
            }
        });
        List<Mbuf> held = new ArrayList<>();
        try {
            held.add(pool.getPacket());
            held.add(pool.getPacket());
            assertThrows(NoBufferSpaceException.class, pool::getPacket);
            assertEquals(1, calls.get(), "the hook ran once, not recursively");
            assertEquals(1, innerFailures.size());
            assertEquals(2, pool.stats().failures(), "the inner and the outer allocation were refused");
            assertEquals(1, pool.stats().drains());

            // the guard is reset afterwards: the next refusal runs the hooks again
            assertThrows(NoBufferSpaceException.class, pool::getPacket);
            assertEquals(2, calls.get());
            assertEquals(2, pool.stats().drains());
        } finally {
            freeAll(held);
        }
    }

    @Test
    void reclaimRunsEveryHookInOrderAndCountsADrain() {
        MbufPool pool = MbufPool.builder().build();
        List<String> ran = new ArrayList<>();
        Runnable first = () -> ran.add("first");
        Runnable second = () -> ran.add("second");
        pool.addDrainHook(first);
        pool.addDrainHook(second);
        pool.reclaim();
        assertEquals(List.of("first", "second"), ran);
        assertEquals(1, pool.stats().drains());
        assertEquals(0, pool.stats().failures());

        assertTrue(pool.removeDrainHook(first));
        assertFalse(pool.removeDrainHook(first));
        pool.reclaim();
        assertEquals(List.of("first", "second", "second"), ran);
        assertEquals(2, pool.stats().drains());
        assertThrows(NullPointerException.class, () -> pool.addDrainHook(null));
    }

    // ------------------------------------------------------------------ low watermarks

    @Test
    void lowWatermarksFillTheDepotAndTrimKeepsThem() {
        MbufPool pool = MbufPool.builder().segmentLowWater(10).clusterLowWater(5).build();
        PoolStats s = pool.stats();
        assertEquals(10, s.segmentsIdle());
        assertEquals(5, s.clustersIdle());
        assertTrue(s.isQuiescent());
        assertEquals(0, s.segmentAllocations());
        assertEquals(0, pool.trim(), "nothing above the low watermarks");
        assertEquals(10, pool.stats().segmentsIdle());
        assertEquals(5, pool.stats().clustersIdle());

        // make the depot hold more than the watermarks
        List<Mbuf> many = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                many.add(pool.getCluster(true));
            }
        } finally {
            freeAll(many);
        }
        s = pool.stats();
        assertTrue(s.segmentsIdle() > 10, s.toString());
        assertTrue(s.clustersIdle() > 5, s.toString());
        int expected = (s.segmentsIdle() - 10) + (s.clustersIdle() - 5);
        assertEquals(expected, pool.trim());
        assertEquals(10, pool.stats().segmentsIdle());
        assertEquals(5, pool.stats().clustersIdle());
        assertEquals(0, pool.trim());
        assertEquals(10, pool.stats().segmentsIdle());
        assertEquals(5, pool.stats().clustersIdle());
    }

    @Test
    void trimNeverReleasesBelowTheWatermarkWhenTheDepotIsShort() {
        MbufPool pool = MbufPool.builder().segmentLowWater(40).build();
        List<Mbuf> held = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                held.add(pool.getPacket());
            }
            int idle = pool.stats().segmentsIdle();
            assertTrue(idle < 40, "allocations took idle segments from the depot: " + idle);
            assertEquals(0, pool.trim());
            assertEquals(idle, pool.stats().segmentsIdle());
        } finally {
            freeAll(held);
        }
    }

    @Test
    void settingLowWatermarksMakesIdleStorage() {
        MbufPool pool = MbufPool.builder().build();
        assertEquals(0, pool.stats().segmentsIdle());
        assertEquals(0, pool.stats().clustersIdle());
        pool.setSegmentLowWater(12);
        pool.setClusterLowWater(7);
        assertEquals(12, pool.stats().segmentsIdle());
        assertEquals(7, pool.stats().clustersIdle());
        assertEquals(0, pool.trim());
        pool.setSegmentLowWater(2);
        pool.setClusterLowWater(1);
        assertEquals(10 + 6, pool.trim());
        assertEquals(2, pool.stats().segmentsIdle());
        assertEquals(1, pool.stats().clustersIdle());
        assertThrows(IllegalArgumentException.class, () -> pool.setSegmentLowWater(-1));
        assertThrows(IllegalArgumentException.class, () -> pool.setClusterLowWater(-1));
        assertEquals(2, pool.stats().segmentsIdle());
        assertEquals(1, pool.stats().clustersIdle());
    }

    @Test
    void lowWatermarkCannotBeSetAboveTheLimit() {
        MbufPool pool = MbufPool.builder().segmentLimit(8).clusterLimit(4).build();
        assertThrows(IllegalArgumentException.class, () -> pool.setSegmentLowWater(9));
        assertThrows(IllegalArgumentException.class, () -> pool.setClusterLowWater(5));
        assertEquals(0, pool.stats().segmentsIdle(), "a refused watermark makes nothing");
        assertEquals(0, pool.stats().clustersIdle());
        pool.setSegmentLowWater(8);
        pool.setClusterLowWater(4);
        assertEquals(8, pool.stats().segmentsIdle());
        assertEquals(4, pool.stats().clustersIdle());
        // a raised cluster limit allows a higher watermark
        pool.setClusterLimit(6);
        pool.setClusterLowWater(6);
        assertEquals(6, pool.stats().clustersIdle());
    }

    // ------------------------------------------------------------------ raising the cluster limit

    @Test
    void clusterLimitOnlyGrowsAndARaisedLimitLetsAllocationProceed() {
        MbufPool pool = MbufPool.builder().clusterLimit(2).build();
        assertEquals(2, pool.clusterLimit());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.setClusterLimit(1));
        assertTrue(e.getMessage().contains("raised"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> pool.setClusterLimit(0));
        assertEquals(2, pool.clusterLimit());
        pool.setClusterLimit(2); // not lower: allowed
        assertEquals(2, pool.clusterLimit());

        List<Mbuf> held = new ArrayList<>();
        try {
            held.add(pool.getCluster(true));
            held.add(pool.getCluster(true));
            assertThrows(NoBufferSpaceException.class, () -> pool.getCluster(true));
            pool.setClusterLimit(3);
            assertEquals(3, pool.clusterLimit());
            held.add(pool.getCluster(true));
            assertEquals(3, pool.stats().clustersInUse());
            assertThrows(NoBufferSpaceException.class, () -> pool.getCluster(true));
        } finally {
            freeAll(held);
        }
    }

    @Test
    void unlimitedPoolReportsMaxValueClusterLimit() {
        MbufPool pool = MbufPool.builder().build();
        assertEquals(Integer.MAX_VALUE, pool.clusterLimit());
        assertThrows(IllegalArgumentException.class, () -> pool.setClusterLimit(1_000_000));
    }

    // ------------------------------------------------------------------ builder validation

    @Test
    void builderValidation() {
        assertThrows(IllegalArgumentException.class, () -> MbufPool.builder().segmentLimit(0));
        assertThrows(IllegalArgumentException.class, () -> MbufPool.builder().segmentLimit(-5));
        assertThrows(IllegalArgumentException.class, () -> MbufPool.builder().clusterLimit(0));
        assertThrows(IllegalArgumentException.class, () -> MbufPool.builder().clusterLimit(Integer.MIN_VALUE));
        assertThrows(IllegalArgumentException.class, () -> MbufPool.builder().segmentLowWater(-1));
        assertThrows(IllegalArgumentException.class, () -> MbufPool.builder().clusterLowWater(-1));
        assertThrows(NullPointerException.class, () -> MbufPool.builder().clock(null));
        assertThrows(NullPointerException.class, () -> MbufPool.builder().warningInterval(null));
        assertThrows(NullPointerException.class, () -> MbufPool.builder().allocationFaults(null));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MbufPool.builder().segmentLimit(4).segmentLowWater(5).build());
        assertTrue(e.getMessage().contains("low watermark"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> MbufPool.builder().clusterLowWater(9).clusterLimit(8).build());

        // a watermark equal to its limit is fine, and the whole reserve can be allocated
        MbufPool pool = MbufPool.builder().segmentLimit(4).segmentLowWater(4).clusterLimit(2)
                .clusterLowWater(2).build();
        assertEquals(4, pool.stats().segmentsIdle());
        assertEquals(2, pool.stats().clustersIdle());
        List<Mbuf> held = new ArrayList<>();
        try {
            held.add(pool.getCluster(true));
            held.add(pool.getCluster(true));
            held.add(pool.getPacket());
            held.add(pool.getPacket());
            assertThrows(NoBufferSpaceException.class, pool::getPacket);
        } finally {
            freeAll(held);
        }
    }

    // ------------------------------------------------------------------ the "limit reached" warning

    @Test
    void limitWarningIsRateLimitedPerKind() {
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        MbufPool pool = MbufPool.builder().segmentLimit(2).clusterLimit(1).clock(clock)
                .warningInterval(Duration.ofSeconds(60)).build();
        List<Mbuf> held = new ArrayList<>();
        try {
            held.add(pool.getCluster(true)); // 1 segment, 1 cluster: the cluster limit
            Mbuf p = pool.getPacket();       // 2 segments: the segment limit
            held.add(p);

            for (int i = 0; i < 3; i++) {
                assertThrows(NoBufferSpaceException.class, pool::getPacket);
                clock.advance(Duration.ofSeconds(5));
            }
            assertEquals(3, pool.stats().failures());
            assertEquals(1, pool.stats().limitWarnings(), "three refusals within the interval log once");

            // the cluster kind has its own pacing
            held.remove(p);
            p.free();
            assertThrows(NoBufferSpaceException.class, () -> pool.getCluster(true));
            assertEquals(2, pool.stats().limitWarnings());
            assertThrows(NoBufferSpaceException.class, () -> pool.getCluster(true));
            assertEquals(2, pool.stats().limitWarnings());
            assertEquals(1, pool.stats().segmentsInUse());
            held.add(pool.getPacket());

            // 59 seconds after the first segment warning: still quiet
            clock.advance(Duration.ofSeconds(44));
            assertThrows(NoBufferSpaceException.class, pool::getPacket);
            assertEquals(2, pool.stats().limitWarnings());
            // a full interval after it: another warning, then quiet again
            clock.advance(Duration.ofSeconds(1));
            assertThrows(NoBufferSpaceException.class, pool::getPacket);
            assertEquals(3, pool.stats().limitWarnings());
            assertThrows(NoBufferSpaceException.class, pool::getPacket);
            assertEquals(3, pool.stats().limitWarnings());
            clock.advance(Duration.ofMinutes(10));
            assertThrows(NoBufferSpaceException.class, pool::getPacket);
            assertEquals(4, pool.stats().limitWarnings());
            assertEquals(9, pool.stats().failures());
        } finally {
            freeAll(held);
        }
    }

    @Test
    void limitWarningDefaultIntervalIsAMinute() {
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        MbufPool pool = MbufPool.builder().segmentLimit(1).clock(clock).build();
        try (Mbuf held = pool.getPacket()) {
            assertEquals(0, held.length());
            assertThrows(NoBufferSpaceException.class, pool::getPacket);
            clock.advance(Duration.ofSeconds(59));
            assertThrows(NoBufferSpaceException.class, pool::getPacket);
            assertEquals(1, pool.stats().limitWarnings());
            clock.advance(Duration.ofSeconds(1));
            assertThrows(NoBufferSpaceException.class, pool::getPacket);
            assertEquals(2, pool.stats().limitWarnings());
        }
    }

    // ------------------------------------------------------------------ fault injection

    @Test
    void allocationFaultsNumberEveryAllocationOverThePoolsLife() {
        List<Long> seen = new CopyOnWriteArrayList<>();
        AtomicLong failAt = new AtomicLong(-1);
        MbufPool pool = MbufPool.builder().allocationFaults(n -> {
            seen.add(n);
            return n == failAt.get();
        }).build();
        AtomicInteger hookCalls = new AtomicInteger();
        pool.addDrainHook(hookCalls::incrementAndGet);
        List<Mbuf> held = new ArrayList<>();
        try {
            held.add(pool.getPacket());                 // 1: segment
            assertEquals(List.of(1L), seen);
            held.add(pool.getCluster(true));            // 2: segment, 3: cluster
            assertEquals(List.of(1L, 2L, 3L), seen);

            failAt.set(4);
            NoBufferSpaceException e = assertThrows(NoBufferSpaceException.class, pool::getPacket);
            assertTrue(e.getMessage().contains("4"), e.getMessage());
            assertEquals(1, pool.stats().failures(), "a fault counts as a failure");
            assertEquals(0, hookCalls.get(), "a fault does not run the drain hooks");
            assertEquals(0, pool.stats().drains());
            assertEquals(2, pool.stats().segmentsInUse());

            held.add(pool.getPacket());                 // 5
            failAt.set(7);
            assertThrows(NoBufferSpaceException.class, () -> pool.getCluster(true)); // 6 segment, 7 cluster
            assertEquals(2, pool.stats().failures());
            assertEquals(3, pool.stats().segmentsInUse(), "the segment of the refused cluster packet is freed");
            assertEquals(1, pool.stats().clustersInUse());
            assertEquals(0, hookCalls.get());

            // a large buffer is numbered too
            Mbuf big = held.getFirst();
            big.copyBack(0, pattern(3000, 3)); // inline + two clusters: 8, 9, 10, 11
            assertEquals(LongStream.rangeClosed(1, 11).boxed().toList(), seen);
            failAt.set(13);                   // 12: segment, 13: large buffer
            assertThrows(NoBufferSpaceException.class, () -> big.pullup(3000));
            assertEquals(3000, big.length());
            assertEquals(3, big.segmentCount());
            assertArrayEquals(pattern(3000, 3), big.toByteArray());
            assertEquals(0, pool.stats().largeBuffersInUse());
            assertEquals(3, pool.stats().failures());
            big.pullup(3000);                 // 14, 15
            assertEquals(1, pool.stats().largeBuffersInUse());
            assertEquals(LongStream.rangeClosed(1, 15).boxed().toList(), seen);
            assertArrayEquals(pattern(3000, 3), big.toByteArray());
            assertEquals(0, hookCalls.get());
        } finally {
            freeAll(held);
        }
    }

    @Test
    void everyOtherAllocationFaulting() {
        MbufPool pool = MbufPool.builder().allocationFaults(n -> n % 2 == 0).build();
        try (Mbuf a = pool.getPacket()) {                  // 1 ok
            assertThrows(NoBufferSpaceException.class, pool::getPacket);            // 2 fails
            // 3 segment ok, 4 cluster fails
            assertThrows(NoBufferSpaceException.class, () -> pool.getCluster(false));
            assertEquals(2, pool.stats().failures());
            assertEquals(1, pool.stats().segmentsInUse());
            assertEquals(0, pool.stats().clustersInUse());
            assertEquals(0, a.length());
        }
    }

    // ------------------------------------------------------------------ statistics

    @Test
    void statisticsCountWhatIsInUse() {
        MbufPool pool = MbufPool.builder().build();
        PoolStats s0 = pool.stats();
        assertTrue(s0.isQuiescent());
        assertEquals(0, s0.bytesCopied());
        for (MbufType type : MbufType.values()) {
            assertEquals(0, s0.segmentsInUseByType().get(type), type.toString());
        }

        List<Mbuf> held = new ArrayList<>();
        try {
            Mbuf p = pool.getPacket();
            held.add(p);
            held.add(pool.get(MbufType.HEADER));
            held.add(pool.get(MbufType.CONTROL));
            Mbuf c = pool.getCluster(true);
            held.add(c);
            Mbuf w = pool.wrap(Arena.ofAuto().allocate(100), true, null);
            held.add(w);
            Mbuf big = pool.getPacket();
            held.add(big);
            big.copyBack(0, pattern(3000, 4)); // inline + 2 clusters
            PoolStats s = pool.stats();
            assertEquals(8, s.segmentsInUse());
            assertEquals(3, s.clustersInUse());
            assertEquals(1, s.externalInUse());
            assertEquals(0, s.largeBuffersInUse());
            assertEquals(0, s.bytesCopied(), "bytes the caller wrote are not counted");

            big.pullup(3000);                   // one large buffer replaces three segments
            s = pool.stats();
            assertEquals(6, s.segmentsInUse());
            assertEquals(1, s.clustersInUse());
            assertEquals(1, s.largeBuffersInUse());
            assertEquals(9, s.segmentHighWater());
            assertEquals(3, s.clusterHighWater());
            assertEquals(9, s.segmentAllocations());
            assertEquals(3, s.clusterAllocations());
            assertEquals(3000, s.bytesCopied());
            assertEquals(0, s.failures());
            assertEquals(0, s.drains());
            assertEquals(0, s.limitWarnings());
            assertFalse(s.isQuiescent());
            Map<MbufType, Integer> byType = s.segmentsInUseByType();
            assertEquals(4, byType.get(MbufType.DATA));
            assertEquals(1, byType.get(MbufType.HEADER));
            assertEquals(1, byType.get(MbufType.CONTROL));
            assertEquals(0, byType.get(MbufType.SONAME));
            assertEquals(MbufType.values().length, byType.size());
            assertThrows(UnsupportedOperationException.class, () -> byType.put(MbufType.DATA, 0));

            // a copy shares the cluster: one more segment, no more clusters
            c.copyBack(0, pattern(1000, 5));
            Mbuf copy = c.copyPacket();
            held.add(copy);
            s = pool.stats();
            assertEquals(7, s.segmentsInUse());
            assertEquals(1, s.clustersInUse());
            assertEquals(5, s.segmentsInUseByType().get(MbufType.DATA));
            // a copy made from a HEADER segment has the type of its source
            Mbuf headerCopy = held.get(1);
            headerCopy.copyBack(0, pattern(10, 6));
            Mbuf hc = headerCopy.copy(0);
            held.add(hc);
            assertEquals(2, pool.stats().segmentsInUseByType().get(MbufType.HEADER));
            assertEquals(3010, pool.stats().bytesCopied());

            c.free();
            assertEquals(1, pool.stats().clustersInUse(), "the copy still holds the cluster");
            copy.free();
            assertEquals(0, pool.stats().clustersInUse());
        } finally {
            freeAll(held);
        }
        PoolStats end = pool.stats();
        assertTrue(end.isQuiescent(), end.toString());
        assertEquals(0, end.segmentsInUse());
        for (MbufType type : MbufType.values()) {
            assertEquals(0, end.segmentsInUseByType().get(type), type.toString());
        }
        assertEquals(9, end.segmentHighWater(), "high water is kept");
        assertEquals(11, end.segmentAllocations());
        assertEquals(3, end.clusterAllocations());
    }

    @Test
    void statsToStringIsAReadableTable() {
        MbufPool pool = MbufPool.builder().segmentLimit(2).build();
        List<Mbuf> held = new ArrayList<>();
        try {
            held.add(pool.getCluster(true));
            held.add(pool.get(MbufType.SONAME));
            assertThrows(NoBufferSpaceException.class, pool::getPacket);
            String table = pool.stats().toString();
            String[] lines = table.split("\\R");
            for (String line : lines) {
                assertTrue(line.matches("\\s*\\d+ [a-z].*"), "not a 'count what' line: '" + line + "'");
            }
            assertTrue(table.matches("(?s).*\\b2 segments in use.*"), table);
            assertTrue(table.matches("(?s).*\\b1 clusters in use.*"), table);
            assertTrue(table.matches("(?s).*\\b1 requests for memory denied.*"), table);
            assertTrue(table.matches("(?s).*\\b1 calls to protocol drain routines.*"), table);
            assertTrue(table.matches("(?s).*\\b1 segments of type data.*"), table);
            assertTrue(table.matches("(?s).*\\b1 segments of type soname.*"), table);
            assertFalse(table.contains("segments of type header"), "zero types are left out:\n" + table);
            assertEquals(14 + 2, lines.length, table);
        } finally {
            freeAll(held);
        }
    }

    @Test
    void largeBuffersAreNotBoundedByTheClusterLimit() {
        MbufPool pool = MbufPool.builder().clusterLimit(2).build();
        try (Mbuf m = pool.getPacket()) {
            m.copyBack(0, pattern(3000, 12)); // inline + 2 clusters: the cluster limit is reached
            assertEquals(2, pool.stats().clustersInUse());
            assertThrows(NoBufferSpaceException.class, () -> pool.getCluster(true));
            m.pullup(3000);
            assertEquals(1, m.segmentCount());
            assertEquals(0, pool.stats().clustersInUse());
            assertEquals(1, pool.stats().largeBuffersInUse());
            assertArrayEquals(pattern(3000, 12), m.toByteArray());
        }
        assertEquals(0, pool.stats().largeBuffersInUse());
    }

    @Test
    void storageReturnsToThePoolThatMadeIt() {
        MbufPool a = MbufPool.builder().build();
        MbufPool b = MbufPool.builder().build();
        Mbuf head = a.getPacket();
        head.copyBack(0, pattern(100, 13));
        Mbuf tail = b.getPacket();
        tail.copyBack(0, pattern(3000, 14)); // inline + 2 clusters of pool b
        head.cat(tail);
        assertEquals(3100, head.length());
        assertEquals(1, a.stats().segmentsInUse());
        assertEquals(3, b.stats().segmentsInUse());
        assertEquals(2, b.stats().clustersInUse());

        Mbuf copy = head.copyPacket(); // new segments from pool a, sharing pool b's clusters
        assertEquals(5, a.stats().segmentsInUse());
        assertEquals(0, a.stats().clustersInUse());
        assertEquals(2, b.stats().clustersInUse());
        head.free();
        assertEquals(4, a.stats().segmentsInUse());
        assertEquals(0, b.stats().segmentsInUse());
        assertEquals(2, b.stats().clustersInUse(), "the copy still shares them");
        byte[] expected = new byte[3100];
        System.arraycopy(pattern(100, 13), 0, expected, 0, 100);
        System.arraycopy(pattern(3000, 14), 0, expected, 100, 3000);
        assertArrayEquals(expected, copy.toByteArray());
        copy.free();
        assertTrue(a.stats().isQuiescent(), a.stats().toString());
        assertTrue(b.stats().isQuiescent(), b.stats().toString());
        for (MbufType type : MbufType.values()) {
            assertEquals(0, a.stats().segmentsInUseByType().get(type));
            assertEquals(0, b.stats().segmentsInUseByType().get(type));
        }
    }

    // ------------------------------------------------------------------ external storage

    @Test
    void wrapOnFreeRunsOnceAfterTheLastSharingCopy() {
        MbufPool pool = MbufPool.builder().build();
        MemorySegment storage = Arena.ofAuto().allocate(256);
        storage.copyFrom(MemorySegment.ofArray(pattern(256, 7)));
        AtomicInteger freed = new AtomicInteger();
        Mbuf w = pool.wrap(storage, true, freed::incrementAndGet);
        assertEquals(256, w.length());
        assertTrue(w.isPacket());
        assertEquals(1, pool.stats().externalInUse());
        Mbuf c1 = w.copyPacket();
        Mbuf c2 = w.copy(10, 50);
        Mbuf c3 = c1.copy(0);
        Mbuf tail = c3.split(100);
        assertEquals(1, pool.stats().externalInUse());

        w.free();
        c1.free();
        c2.free();
        c3.free();
        assertEquals(0, freed.get(), "a copy still shares the storage");
        assertEquals(1, pool.stats().externalInUse());
        assertArrayEquals(java.util.Arrays.copyOfRange(pattern(256, 7), 100, 256), tail.toByteArray());
        tail.free();
        assertEquals(1, freed.get());
        assertEquals(0, pool.stats().externalInUse());
    }

    @Test
    void wrapOnFreeRunsOnceWhenCopyOnWriteDropsTheStorage() {
        MbufPool pool = MbufPool.builder().build();
        MemorySegment storage = Arena.ofAuto().allocate(100);
        storage.copyFrom(MemorySegment.ofArray(pattern(100, 8)));
        AtomicInteger freed = new AtomicInteger();
        Mbuf w = pool.wrap(storage, false, freed::incrementAndGet);
        assertTrue(w.isReadOnly(0, 100));
        w.makeWritable(0, 100);
        assertFalse(w.isReadOnly(0, 100));
        w.copyBack(0, new byte[] {1, 2, 3});
        assertArrayEquals(pattern(100, 8), storage.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                "the original storage is never written");
        w.free();
        assertEquals(1, freed.get());
        assertEquals(0, pool.stats().externalInUse());
    }

    @Test
    void wrapWithoutOnFreeIsCounted() {
        MbufPool pool = MbufPool.builder().build();
        Mbuf w = pool.wrap(Arena.ofAuto().allocate(10), true, null);
        assertEquals(1, pool.stats().externalInUse());
        w.free();
        assertEquals(0, pool.stats().externalInUse());
    }

    // ------------------------------------------------------------------ owners

    @Test
    void ownersTrackWhoHoldsWhat() {
        MbufPool pool = MbufPool.builder().build();
        List<MbufOwner> initial = pool.owners();
        assertEquals(MbufType.values().length, initial.size());
        for (MbufType type : MbufType.values()) {
            MbufOwner u = pool.unknownOwner(type);
            assertSame(u, initial.get(type.ordinal()), "unknown owners come first, in type order");
            assertEquals("unknown", u.name());
            assertEquals(type.label(), u.description());
        }
        MbufOwner ip = pool.owner("ip", "reassembly");
        assertEquals("ip", ip.name());
        assertEquals("reassembly", ip.description());
        assertTrue(pool.owners().contains(ip));
        assertEquals(MbufType.values().length + 1, pool.owners().size());
        assertThrows(NullPointerException.class, () -> pool.owner(null, "x"));
        assertThrows(NullPointerException.class, () -> pool.owner("x", null));

        MbufOwner unknownData = pool.unknownOwner(MbufType.DATA);
        MbufOwner unknownHeader = pool.unknownOwner(MbufType.HEADER);
        List<Mbuf> held = new ArrayList<>();
        try {
            Mbuf m = pool.getPacket();
            held.add(m);
            m.copyBack(0, pattern(3000, 9)); // inline + 2 clusters
            assertSame(unknownData, m.owner());
            assertCounts(unknownData, 3, 2, 0);
            assertCounts(ip, 0, 0, 0);

            m.claim(ip);
            assertSame(ip, m.owner());
            assertCounts(ip, 3, 2, 0);
            assertCounts(unknownData, 0, 0, 0);

            Mbuf w = pool.wrap(Arena.ofAuto().allocate(64), true, null);
            held.add(w);
            assertCounts(unknownData, 1, 0, 1);
            w.claim(ip);
            assertCounts(unknownData, 0, 0, 0);
            assertCounts(ip, 4, 2, 1);

            // copies are charged to the source's owner
            Mbuf copy = m.copyPacket();
            held.add(copy);
            assertSame(ip, copy.owner());
            assertCounts(ip, 7, 4, 1);
            assertCounts(unknownData, 0, 0, 0);
            Mbuf deep = m.dup(0, 3000);
            held.add(deep);
            assertSame(ip, deep.owner());
            assertEquals(0, unknownData.segments());
            // segments an operation adds join the chain's owner
            w.copyBack(64, pattern(1000, 10));
            assertEquals(0, unknownData.segments());

            Mbuf h = pool.get(MbufType.HEADER);
            held.add(h);
            assertCounts(unknownHeader, 1, 0, 0);
            assertSame(unknownHeader, h.owner());
            MbufOwner tcp = pool.owner("tcp", "send buffer");
            h.claim(tcp);
            assertCounts(unknownHeader, 0, 0, 0);
            assertCounts(tcp, 1, 0, 0);
            assertSame(MbufType.HEADER, h.type());

            // claiming again moves the whole chain
            m.claim(tcp);
            assertCounts(tcp, 4, 2, 0);
            assertEquals(ip.segments(), pool.stats().segmentsInUse() - 4);
            assertTrue(ip.toString().startsWith("ip/reassembly: "), ip.toString());

            // a large buffer counts as external storage of its owner
            m.pullup(3000);
            assertEquals(1, m.segmentCount());
            assertEquals(1, pool.stats().largeBuffersInUse());
            assertCounts(tcp, 2, 0, 1);
        } finally {
            freeAll(held);
        }
        for (MbufOwner o : pool.owners()) {
            assertCounts(o, 0, 0, 0);
        }
    }

    @Test
    void ownerClaimsCountEachChargedSegmentOnce() {
        // MbufOwner.claims(): "How many segments have been charged to this owner since it was made"
        MbufPool pool = MbufPool.builder().build();
        MbufOwner o = pool.owner("tcp", "reassembly");
        try (Mbuf m = pool.getPacket()) {
            m.claim(o);
            assertEquals(1, o.claims());
            m.copyBack(0, pattern(1000, 11)); // adds one cluster segment, charged to o
            assertEquals(2, m.segmentCount());
            assertEquals(2, o.segments());
            assertEquals(2, o.claims(), "one new segment was charged once");
        }
        MbufOwner unknown = pool.unknownOwner(MbufType.DATA);
        int before = unknown.claims();
        try (Mbuf c = pool.getCluster(true)) {
            assertEquals(1, c.segmentCount());
            assertEquals(before + 1, unknown.claims(), "one cluster segment was charged once");
        }
    }

    private static void assertCounts(MbufOwner o, int segments, int clusters, int external) {
        assertEquals(segments, o.segments(), () -> "segments of " + o);
        assertEquals(clusters, o.clusters(), () -> "clusters of " + o);
        assertEquals(external, o.external(), () -> "external of " + o);
    }
}
