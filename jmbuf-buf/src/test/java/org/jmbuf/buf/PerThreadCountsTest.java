package org.jmbuf.buf;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A pool without limits counts segments and clusters in use per thread ({@link PoolStats}): the sums are
 * exact whenever no thread allocates or frees meanwhile, whichever threads took and gave back, and after
 * threads end; the high waters are exact while one thread at a time allocates.
 */
class PerThreadCountsTest {

    private static List<Mbuf> clusterPackets(MbufPool pool, int n) {
        List<Mbuf> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(pool.getCluster(true));
        }
        return out;
    }

    private static void inUse(MbufPool pool, int segments, int clusters, String when) {
        PoolStats s = pool.stats();
        assertEquals(segments, s.segmentsInUse(), when + ": segments\n" + s);
        assertEquals(clusters, s.clustersInUse(), when + ": clusters\n" + s);
    }

    private static void onAnotherThread(Runnable work) throws InterruptedException {
        Thread t = Thread.ofPlatform().start(work);
        t.join();
    }

    @Test
    void countsAreExactWhateverThreadsAllocateAndFree() throws Exception {
        MbufPool pool = MbufPool.builder().build();
        List<Mbuf> chains = new ArrayList<>();
        onAnotherThread(() -> chains.addAll(clusterPackets(pool, 10)));
        inUse(pool, 10, 10, "ten allocated by a thread that ended");
        for (int i = 0; i < 4; i++) {
            chains.remove(chains.size() - 1).free();
        }
        inUse(pool, 6, 6, "four of them freed here");
        onAnotherThread(() -> pool.getPacket().free()); // a new thread registers: ended threads' counts are folded
        inUse(pool, 6, 6, "after the ended thread's counts were folded into the pool");
        chains.add(pool.getPacket());
        inUse(pool, 7, 6, "a packet without a cluster allocated here");
        onAnotherThread(() -> chains.forEach(Mbuf::free));
        inUse(pool, 0, 0, "everything freed by a third thread");
        assertTrue(pool.stats().isQuiescent());
    }

    @Test
    void highWatersAreExactWhenThreadsTakeTurns() throws Exception {
        MbufPool pool = MbufPool.builder().build();
        List<Mbuf> held = clusterPackets(pool, 5);
        held.forEach(Mbuf::free);
        held.clear();
        held.addAll(clusterPackets(pool, 3));
        assertEquals(5, pool.stats().segmentHighWater(), "5, then 3: the high is 5");
        List<Mbuf> others = new ArrayList<>();
        onAnotherThread(() -> others.addAll(clusterPackets(pool, 7)));
        assertEquals(10, pool.stats().segmentHighWater(), "3 held here and 7 there");
        assertEquals(10, pool.stats().clusterHighWater());
        onAnotherThread(() -> held.forEach(Mbuf::free)); // this thread's count stays at 3, the freer's goes to -3
        held.clear();
        others.addAll(clusterPackets(pool, 4));
        inUse(pool, 11, 11, "7 + 4");
        assertEquals(11, pool.stats().segmentHighWater(), "this thread's own count is 7, its high was 8 earlier");
        others.forEach(Mbuf::free);
        inUse(pool, 0, 0, "all freed");
        assertEquals(11, pool.stats().clusterHighWater(), "the high water stays");
    }

    @Test
    void aPoolWithALimitCountsExactlyInOneWord() throws Exception {
        MbufPool pool = MbufPool.builder().clusterLimit(4).build();
        List<Mbuf> held = new ArrayList<>();
        onAnotherThread(() -> held.addAll(clusterPackets(pool, 3)));
        held.add(pool.getCluster(true));
        assertThrows(NoBufferSpaceException.class, () -> pool.getCluster(true),
                "four in use on two threads: the limit sees them all");
        inUse(pool, 4, 4, "at the limit");
        assertEquals(4, pool.stats().clusterHighWater());
        held.forEach(Mbuf::free);
        inUse(pool, 0, 0, "all freed");
    }
}
