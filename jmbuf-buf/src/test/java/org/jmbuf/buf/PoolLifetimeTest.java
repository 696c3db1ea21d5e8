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
}
