package org.jmbuf.buf;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A thread finds its cache in the pool's table of caches by thread id, one slot per id modulo the table's
 * size, and falls back to a thread-local look-up when another live thread holds its slot. Whichever way it
 * finds it, a thread must only ever get its own cache. A pool that recycles handles shows whose cache a
 * thread got: a freed handle waits in the cache of the thread that freed it, and only that thread's next
 * chain may get it.
 */
class ThreadCacheLookupTest {
    /** The table's size in {@code MbufPool} ({@code HOME_SLOTS}): ids this far apart share a slot. */
    private static final int SLOTS = 64;

    private static MbufPool recycling() {
        return MbufPool.builder().recycleHandles(true).build();
    }

    /** An unstarted platform thread running {@code work} whose id falls in the same slot as {@code other}'s. */
    private static Thread inTheSlotOf(Thread other, Runnable work) {
        for (int i = 0; i < 4 * SLOTS; i++) {
            Thread t = Thread.ofPlatform().unstarted(work);
            if (t.threadId() % SLOTS == other.threadId() % SLOTS) {
                return t;
            }
        }
        throw new AssertionError("no thread id in the slot of " + other.threadId() + " after " + 4 * SLOTS);
    }

    /** Runs {@code t} to its end, rethrowing what it threw. */
    private static void runToEnd(Thread t, AtomicReference<Throwable> failure) throws InterruptedException {
        t.start();
        t.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(t.isAlive(), t + " did not end");
        if (failure.get() != null) {
            throw new AssertionError(t + " failed", failure.get());
        }
    }

    @Test
    void aThreadWhoseSlotALiveThreadHoldsGetsItsOwnCache() throws Exception {
        MbufPool pool = recycling();
        AtomicReference<Mbuf> freedThere = new AtomicReference<>();
        CountDownLatch registered = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().unstarted(() -> {
            Mbuf m = pool.getPacket();
            m.free(); // its handle waits in this thread's cache
            freedThere.set(m);
            registered.countDown();
            try {
                done.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        AtomicReference<Mbuf> madeByCollider = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread collider = inTheSlotOf(holder, () -> {
            try {
                Mbuf n = pool.getPacket();
                madeByCollider.set(n);
                n.free();
                Mbuf again = pool.getPacket();
                assertSame(n, again, "its own cache recycles its own handle");
                again.free();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        holder.start();
        try {
            assertTrue(registered.await(30, TimeUnit.SECONDS));
            runToEnd(collider, failure);
        } finally {
            done.countDown();
            holder.join();
        }
        assertNotSame(freedThere.get(), madeByCollider.get(),
                "a thread in a live thread's slot got that thread's cache (and its idle handle)");
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    @Test
    void aThreadInTheSlotOfAThreadThatEndedGetsANewCache() throws Exception {
        MbufPool pool = recycling();
        AtomicReference<Mbuf> freedThere = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread ended = Thread.ofPlatform().unstarted(() -> {
            Mbuf m = pool.getCluster(true);
            m.free();
            freedThere.set(m);
        });
        runToEnd(ended, failure);
        AtomicReference<Mbuf> madeByNext = new AtomicReference<>();
        Thread next = inTheSlotOf(ended, () -> {
            try {
                Mbuf n = pool.getCluster(true);
                madeByNext.set(n);
                n.free();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        runToEnd(next, failure);
        assertNotSame(freedThere.get(), madeByNext.get(), "the next thread in the slot got the ended thread's cache");
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
        assertEquals(2, pool.stats().segmentAllocations());
    }

    @Test
    void manyThreadsAtOnceEachKeepTheirOwnCache() throws Exception {
        MbufPool pool = recycling();
        int threads = SLOTS + 8; // more threads than slots: some must share one, and fall back
        CountDownLatch allRegistered = new CountDownLatch(threads);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] all = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            int me = i;
            all[i] = Thread.ofPlatform().start(() -> {
                try {
                    Mbuf m = pool.getPacket();
                    m.free();
                    allRegistered.countDown();
                    assertTrue(allRegistered.await(30, TimeUnit.SECONDS), "every thread registered");
                    for (int round = 0; round < 100; round++) {
                        Mbuf again = pool.getPacket();
                        assertSame(m, again, "thread " + me + " round " + round + ": not its own handle");
                        again.free();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    allRegistered.countDown();
                }
            });
        }
        for (Thread t : all) {
            t.join(TimeUnit.SECONDS.toMillis(60));
            assertFalse(t.isAlive());
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }
}
