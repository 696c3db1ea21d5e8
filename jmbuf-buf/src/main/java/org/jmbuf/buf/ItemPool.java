package org.jmbuf.buf;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A pool of reusable items with a low watermark and per-thread caches: the pool(9) / pool_cache(9) pair
 * behind {@code mb_cache} and {@code mcl_cache}, without the accounting of items in use, which the
 * {@link MbufPool} keeps for its segments and clusters together (it counts them, bounds them by their
 * limits and tracks their high water before it takes an item from here).
 *
 * <p>Each thread keeps a small magazine of idle items and exchanges half-magazines with a shared depot
 * under a lock, so the common get and put touch no shared state. An item freed on another thread than the
 * one that took it simply joins the freeing thread's magazine: items are not bound to threads. The
 * magazines of threads that have ended go back to the depot when the next thread registers its own.
 *
 * <p>The magazines belong to the caller: a thread gets its own with {@link #newMagazine()} once and passes
 * it to every {@link #get} and {@link #put} (the {@link MbufPool} keeps one per thread for each of its two
 * pools, so that one thread-local lookup serves both). The count of items handed out is kept per magazine,
 * without atomic instructions, and summed when read.
 *
 * <p>The low watermark is the number of idle items made up front and kept in the depot: {@link #trim()}
 * never releases the depot below it, so that much can still be allocated when memory is short.
 */
final class ItemPool<T> {
    private static final int MAGAZINE = 32;
    /** Where a magazine's items start in its array, after the padding ({@link Padding}). */
    private static final int FIRST = Padding.REFERENCE_SLOTS;
    private static final VarHandle TAKEN;

    static {
        try {
            TAKEN = MethodHandles.lookup().findVarHandle(MagazineFields.class, "taken", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Supplier<T> factory;
    private final AtomicLong created = new AtomicLong();
    private final ReentrantLock depotLock = new ReentrantLock();
    private final ArrayDeque<T> depot = new ArrayDeque<>();
    /** Every live thread's magazine; guarded by {@link #depotLock}. */
    private final ArrayList<Magazine> magazines = new ArrayList<>();
    /** Items taken through magazines that are gone (their threads ended); guarded by {@link #depotLock}. */
    private long retiredAllocations;
    private volatile int lowWater;

    /**
     * One thread's cache of idle items, and how many items that thread has taken: the fields of a
     * {@link Magazine}, after the padding that keeps them off the line of whatever lies before it.
     */
    abstract static class MagazineFields extends Padding {
        /** The idle items, at {@code items[FIRST]} to {@code items[FIRST + count - 1]}, with padding either side. */
        final Object[] items = new Object[FIRST + MAGAZINE + Padding.REFERENCE_SLOTS];
        final WeakReference<Thread> owner = new WeakReference<>(Thread.currentThread());
        int count;
        /** Items taken through this magazine; written by its thread only, read by any through {@link #TAKEN}. */
        @SuppressWarnings("unused") // accessed through TAKEN
        private long taken;

        boolean isOrphaned() {
            Thread thread = owner.get();
            return thread == null || !thread.isAlive();
        }
    }

    /** A {@link MagazineFields} with padding after its fields too: its thread writes them on every get and put. */
    static final class Magazine extends MagazineFields {
        @SuppressWarnings("unused")
        private long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
    }

    ItemPool(Supplier<T> factory, int lowWater) {
        this.factory = factory;
        setLowWater(lowWater);
    }

    /**
     * Takes an item through the calling thread's {@code magazine}: an idle one from the magazine, refilled
     * from the depot when empty, or a new one. The caller has counted it in use.
     */
    T get(Magazine magazine) {
        TAKEN.setOpaque(magazine, (long) TAKEN.getOpaque(magazine) + 1);
        if (magazine.count == 0) {
            refill(magazine);
        }
        if (magazine.count > 0) {
            @SuppressWarnings("unchecked")
            T item = (T) magazine.items[FIRST + --magazine.count];
            magazine.items[FIRST + magazine.count] = null;
            return item;
        }
        created.incrementAndGet();
        return factory.get();
    }

    /** Returns an item taken with {@link #get}, through the calling thread's {@code magazine}. */
    void put(Magazine magazine, T item) {
        if (magazine.count == MAGAZINE) {
            spill(magazine);
        }
        magazine.items[FIRST + magazine.count++] = item;
    }

    /**
     * A magazine for the calling thread, to be used by it alone. Returns the items of magazines whose threads
     * have ended to the depot first (a dead thread's cache would otherwise hold them forever).
     */
    Magazine newMagazine() {
        Magazine magazine = new Magazine();
        depotLock.lock();
        try {
            for (int i = magazines.size() - 1; i >= 0; i--) {
                Magazine m = magazines.get(i);
                if (m.isOrphaned()) {
                    for (int j = 0; j < m.count; j++) {
                        @SuppressWarnings("unchecked")
                        T item = (T) m.items[FIRST + j];
                        depot.push(item);
                        m.items[FIRST + j] = null;
                    }
                    m.count = 0;
                    retiredAllocations += (long) TAKEN.getOpaque(m);
                    magazines.remove(i);
                }
            }
            magazines.add(magazine);
        } finally {
            depotLock.unlock();
        }
        return magazine;
    }

    private void refill(Magazine magazine) {
        depotLock.lock();
        try {
            while (magazine.count < MAGAZINE / 2 && !depot.isEmpty()) {
                magazine.items[FIRST + magazine.count++] = depot.pop();
            }
        } finally {
            depotLock.unlock();
        }
    }

    private void spill(Magazine magazine) {
        depotLock.lock();
        try {
            while (magazine.count > MAGAZINE / 2) {
                @SuppressWarnings("unchecked")
                T item = (T) magazine.items[FIRST + --magazine.count];
                magazine.items[FIRST + magazine.count] = null;
                depot.push(item);
            }
        } finally {
            depotLock.unlock();
        }
    }

    /** Releases idle items in the depot above the low watermark (pool_reclaim); returns how many. */
    int trim() {
        depotLock.lock();
        try {
            int released = 0;
            while (depot.size() > lowWater) {
                depot.pop();
                released++;
            }
            return released;
        } finally {
            depotLock.unlock();
        }
    }

    /** Items handed out since the pool was built: the sum over every magazine, live or retired. */
    long allocations() {
        depotLock.lock();
        try {
            long sum = retiredAllocations;
            for (Magazine m : magazines) {
                sum += (long) TAKEN.getOpaque(m);
            }
            return sum;
        } finally {
            depotLock.unlock();
        }
    }

    long created() {
        return created.get();
    }

    int idleInDepot() {
        depotLock.lock();
        try {
            return depot.size();
        } finally {
            depotLock.unlock();
        }
    }

    int lowWater() {
        return lowWater;
    }

    /** Sets the low watermark and makes idle items until the depot holds at least that many. */
    void setLowWater(int lowWater) {
        this.lowWater = lowWater;
        depotLock.lock();
        try {
            while (depot.size() < lowWater) {
                created.incrementAndGet();
                depot.push(factory.get());
            }
        } finally {
            depotLock.unlock();
        }
    }
}
