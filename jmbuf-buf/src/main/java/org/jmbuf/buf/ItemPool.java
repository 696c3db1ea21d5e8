package org.jmbuf.buf;

import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A pool of reusable items with a hard limit, a low watermark and per-thread caches: the pool(9) /
 * pool_cache(9) pair behind {@code mb_cache} and {@code mcl_cache}.
 *
 * <p>Each thread keeps a small magazine of idle items and exchanges half-magazines with a shared depot
 * under a lock, so the common get and put touch no shared state but the in-use counter. An item freed
 * on another thread than the one that took it simply joins the freeing thread's magazine: items are not
 * bound to threads, only counted. The limit bounds the items in use, not the idle ones. The magazines of
 * threads that have ended go back to the depot when the next thread registers its own, and a pool no
 * longer referenced is collected with its magazines (threads reach theirs only weakly).
 *
 * <p>The low watermark is the number of idle items made up front and kept in the depot: {@link #trim()}
 * never releases the depot below it, so that much can still be allocated when memory is short.
 */
final class ItemPool<T> {
    private static final int MAGAZINE = 32;

    private final Supplier<T> factory;
    private final AtomicInteger inUse = new AtomicInteger();
    private final AtomicInteger highWater = new AtomicInteger();
    private final AtomicLong allocations = new AtomicLong();
    private final AtomicLong created = new AtomicLong();
    private final ReentrantLock depotLock = new ReentrantLock();
    private final ArrayDeque<T> depot = new ArrayDeque<>();
    /**
     * Each thread's magazine, reached weakly: the pool holds the magazines (in {@link #magazines}), so a
     * thread's map does not keep the pool alive through the items it caches (which point back at the pool).
     */
    private final ThreadLocal<WeakReference<Magazine>> local = new ThreadLocal<>();
    /** Every live thread's magazine; guarded by {@link #depotLock}. */
    private final ArrayList<Magazine> magazines = new ArrayList<>();
    private volatile int limit;
    private volatile int lowWater;

    private static final class Magazine {
        final Object[] items = new Object[MAGAZINE];
        final WeakReference<Thread> owner = new WeakReference<>(Thread.currentThread());
        int count;
    }

    ItemPool(Supplier<T> factory, int limit, int lowWater) {
        this.factory = factory;
        this.limit = limit;
        setLowWater(lowWater);
    }

    /** Takes an item, or returns null if the limit is reached. */
    T tryGet() {
        int now;
        do {
            now = inUse.get();
            if (now >= limit) {
                return null;
            }
        } while (!inUse.compareAndSet(now, now + 1));
        if (now + 1 > highWater.get()) {
            highWater.accumulateAndGet(now + 1, Math::max); // rarely: only when a new high is reached
        }
        allocations.incrementAndGet();
        Magazine magazine = magazine();
        if (magazine.count == 0) {
            refill(magazine);
        }
        if (magazine.count > 0) {
            @SuppressWarnings("unchecked")
            T item = (T) magazine.items[--magazine.count];
            magazine.items[magazine.count] = null;
            return item;
        }
        created.incrementAndGet();
        return factory.get();
    }

    /** Returns an item taken with {@link #tryGet()}; any thread may return it. */
    void put(T item) {
        Magazine magazine = magazine();
        if (magazine.count == MAGAZINE) {
            spill(magazine);
        }
        magazine.items[magazine.count++] = item;
        inUse.decrementAndGet();
    }

    private Magazine magazine() {
        WeakReference<Magazine> ref = local.get();
        Magazine magazine = ref == null ? null : ref.get();
        return magazine != null ? magazine : register();
    }

    /**
     * Gives the calling thread a magazine, and returns the items of magazines whose threads have ended to
     * the depot (a dead thread's cache would otherwise hold them forever).
     */
    private Magazine register() {
        Magazine magazine = new Magazine();
        depotLock.lock();
        try {
            for (int i = magazines.size() - 1; i >= 0; i--) {
                Magazine m = magazines.get(i);
                Thread owner = m.owner.get();
                if (owner == null || !owner.isAlive()) {
                    for (int j = 0; j < m.count; j++) {
                        @SuppressWarnings("unchecked")
                        T item = (T) m.items[j];
                        depot.push(item);
                        m.items[j] = null;
                    }
                    m.count = 0;
                    magazines.remove(i);
                }
            }
            magazines.add(magazine);
        } finally {
            depotLock.unlock();
        }
        local.set(new WeakReference<>(magazine));
        return magazine;
    }

    private void refill(Magazine magazine) {
        depotLock.lock();
        try {
            while (magazine.count < MAGAZINE / 2 && !depot.isEmpty()) {
                magazine.items[magazine.count++] = depot.pop();
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
                T item = (T) magazine.items[--magazine.count];
                magazine.items[magazine.count] = null;
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

    int inUse() {
        return inUse.get();
    }

    int highWater() {
        return highWater.get();
    }

    long allocations() {
        return allocations.get();
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

    int limit() {
        return limit;
    }

    void setLimit(int limit) {
        this.limit = limit;
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
