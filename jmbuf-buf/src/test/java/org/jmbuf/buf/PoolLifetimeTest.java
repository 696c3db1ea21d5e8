package org.jmbuf.buf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Pools and their per-thread caches do not outlive their use. */
class PoolLifetimeTest {
    private static WeakReference<MbufPool> useAndDrop() {
        MbufPool pool = MbufPool.builder().build();
        for (int i = 0; i < 10; i++) {
            pool.getCluster(true).free(); // leaves a segment and a cluster in this thread's magazines
        }
        return new WeakReference<>(pool);
    }

    @Test
    @Timeout(30)
    void aPoolNoLongerReferencedIsCollectedThoughThisThreadCachedItsStorage() throws InterruptedException {
        // A thread's cache used to keep its pool alive (cache -> segment -> pool -> the thread-local key),
        // so every transient pool leaked its memory for the life of the thread.
        WeakReference<MbufPool> ref = useAndDrop();
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertNull(ref.get(), "the pool was not collected");
    }

    @Test
    @Timeout(30)
    void theCacheOfAThreadThatEndedGoesBackToTheDepot() throws InterruptedException {
        MbufPool pool = MbufPool.builder().build();
        Thread worker = new Thread(() -> {
            Mbuf[] held = new Mbuf[8];
            for (int i = 0; i < held.length; i++) {
                held[i] = pool.getPacket();
            }
            for (Mbuf m : held) {
                m.free(); // into the worker's magazine, not the depot
            }
        });
        worker.start();
        worker.join();
        assertEquals(8, pool.segmentsCreated());
        Thread next = new Thread(() -> {
            Mbuf[] held = new Mbuf[8];
            for (int i = 0; i < held.length; i++) {
                held[i] = pool.getPacket();
            }
            for (Mbuf m : held) {
                m.free();
            }
        });
        next.start();
        next.join();
        assertEquals(8, pool.segmentsCreated(), "the ended thread's cached segments were reused, not remade");
        assertEquals(0, pool.stats().segmentsInUse());
    }

    @Test
    @Timeout(30)
    void countsMadeOnAThreadThatEndedAreKept() throws InterruptedException {
        // Each thread counts its own allocations, types and owner charges; a thread that ends hands its
        // counts to the pool when the next thread registers, and nothing is lost or counted twice.
        MbufPool pool = MbufPool.builder().build();
        MbufOwner owner = pool.owner("test", "held across threads");
        Mbuf[] held = new Mbuf[5];
        Thread worker = new Thread(() -> {
            for (int i = 0; i < held.length; i++) {
                held[i] = i % 2 == 0 ? pool.getCluster(true) : pool.get(MbufType.HEADER);
                held[i].claim(owner);
            }
        });
        worker.start();
        worker.join();
        assertEquals(5, owner.segments());
        assertEquals(3, owner.clusters());
        assertEquals(2, pool.stats().segmentsInUseByType().get(MbufType.HEADER));
        Thread next = new Thread(() -> pool.getPacket().free()); // registers, and retires the worker's cache
        next.start();
        next.join();
        assertEquals(5, owner.segments(), "the ended thread's charges were kept");
        assertEquals(3, owner.clusters());
        assertEquals(5, owner.claims());
        assertEquals(2, pool.stats().segmentsInUseByType().get(MbufType.HEADER));
        for (Mbuf m : held) {
            m.free(); // on this thread: its own counts go negative, the sums reach zero
        }
        PoolStats s = pool.stats();
        assertEquals(0, owner.segments());
        assertEquals(0, owner.clusters());
        assertEquals(5, owner.claims(), "claims are a running total");
        assertEquals(0, s.segmentsInUseByType().get(MbufType.HEADER));
        assertEquals(0, s.segmentsInUseByType().get(MbufType.DATA));
        assertEquals(6, s.segmentAllocations());
        assertEquals(3, s.clusterAllocations());
        assertTrue(s.isQuiescent(), s.toString());
    }
}
