package org.jmbuf.buf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongPredicate;

/**
 * Where chains come from: the segment pool ({@code mb_cache}) and the cluster pool ({@code mcl_cache})
 * of NetBSD's uipc_mbuf.c, with their limits, low watermarks, drain hooks, statistics and owners.
 *
 * <h2>Sizes</h2>
 * A segment has an inline area of {@link #MLEN} bytes; a cluster is {@link #MCLBYTES} bytes. The
 * packet header lives on the {@link Mbuf} handle, not in the first segment, so {@link #MHLEN} equals
 * {@link #MLEN} (in C it is smaller). An operation that needs a contiguous range longer than a cluster
 * ({@link Mbuf#ptr}, {@link Mbuf#pullup}, {@link Mbuf#pulldown}, {@link Mbuf#prepend}, copy on write of a
 * region longer than a cluster) gets a large buffer of exactly that size; large buffers are counted in
 * {@link PoolStats#largeBuffersInUse()} but not bounded by the cluster limit.
 *
 * <h2>Limits, low watermarks and drain hooks</h2>
 * The segment limit and the cluster limit ({@code nmbclusters}) bound how many are in use at once.
 * When an allocation would pass a limit, the pool runs its drain hooks ({@code m_reclaim}, which calls
 * each protocol's {@code pr_drain}: a reassembly queue frees its fragments, say) and tries once more;
 * if that fails too it counts a failure, logs "limit reached" at most once per
 * {@link Builder#warningInterval(Duration) warning interval} (a minute, as the seed's
 * {@code mclpool_warnmsg}), and throws {@link NoBufferSpaceException}. The low watermarks
 * ({@code mblowat}, {@code mcllowat}) are how many idle segments and clusters the pool makes up front
 * and keeps in reserve: {@link #trim()} never releases idle storage below them.
 *
 * <h2>Threads</h2>
 * A pool is safe to use from any number of threads. Each thread keeps a small cache of idle segments
 * and clusters (the per-CPU caches of pool_cache(9)); storage freed on another thread than the one
 * that allocated it goes to the freeing thread's cache and is counted correctly. A chain handle,
 * unlike its pool, belongs to one thread at a time.
 *
 * <h2>Fault injection</h2>
 * {@link Builder#allocationFaults(LongPredicate)} makes the n-th allocation (of a segment, a cluster
 * or a large buffer, counted from 1 over the pool's life) fail as if the pool were exhausted, so tests
 * can check that every operation survives every allocation failure.
 */
public final class MbufPool {
    /** {@code MSIZE}: the nominal size of a segment, inline area included. */
    public static final int MSIZE = 256;
    /** {@code MLEN}: the inline data area of a segment. */
    public static final int MLEN = 224;
    /** {@code MHLEN}: the inline data area of a packet's first segment; equal to {@link #MLEN} in jmbuf. */
    public static final int MHLEN = MLEN;
    /** {@code MINCLSIZE}: the smallest amount of data worth putting in a cluster rather than two segments. */
    public static final int MINCLSIZE = MHLEN + MLEN + 1;
    /** {@code MCLBYTES}: the size of a cluster. */
    public static final int MCLBYTES = 2048;
    /** {@code max_linkhdr}: the leading space {@link #devget} leaves for a link-layer header. */
    public static final int MAX_LINKHDR = 16;

    private static final byte POISON = (byte) 0xDB;
    /** The default: no injected faults, so allocations need not be numbered. */
    private static final LongPredicate NO_FAULTS = n -> false;
    private static final List<WeakReference<MbufPool>> INSTANCES = new CopyOnWriteArrayList<>();
    private static final MbufPool SHARED = builder().build();

    private final ItemPool<Segment> segments;
    private final ItemPool<Storage> clusters;
    private final LongPredicate faults;
    private final AtomicLong allocationNumber = new AtomicLong();
    private final List<Runnable> drainHooks = new CopyOnWriteArrayList<>();
    private final ThreadLocal<Boolean> draining = ThreadLocal.withInitial(() -> false);
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong drains = new AtomicLong();
    private final AtomicLong limitWarnings = new AtomicLong();
    private final LongAdder bytesCopied = new LongAdder();
    private final AtomicInteger externalInUse = new AtomicInteger();
    private final AtomicInteger largeInUse = new AtomicInteger();
    private final AtomicInteger[] typeCounts = new AtomicInteger[MbufType.values().length];
    private final InstantSource clock;
    private final Duration warningInterval;
    private final AtomicLong lastSegmentWarning = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong lastClusterWarning = new AtomicLong(Long.MIN_VALUE);
    private final System.Logger log = System.getLogger(MbufPool.class.getName());
    private final List<MbufOwner> owners = new CopyOnWriteArrayList<>();
    private final Map<MbufType, MbufOwner> unknownOwners = new EnumMap<>(MbufType.class);
    private final Set<Segment> live = Strict.ENABLED ? ConcurrentHashMap.newKeySet() : null;
    private final Object slabLock = new Object();
    private MemorySegment inlineSlab = MemorySegment.NULL;
    private MemorySegment clusterSlab = MemorySegment.NULL;

    private MbufPool(Builder b) {
        for (int i = 0; i < typeCounts.length; i++) {
            typeCounts[i] = new AtomicInteger();
        }
        for (MbufType type : MbufType.values()) {
            MbufOwner unknown = new MbufOwner("unknown", type.label());
            unknownOwners.put(type, unknown);
            owners.add(unknown);
        }
        this.faults = b.faults;
        this.clock = b.clock;
        this.warningInterval = b.warningInterval;
        this.segments = new ItemPool<>(this::makeSegment, b.segmentLimit, b.segmentLowWater);
        this.clusters = new ItemPool<>(this::makeCluster, b.clusterLimit, b.clusterLowWater);
        if (Strict.ENABLED) {
            INSTANCES.add(new WeakReference<>(this));
        }
    }

    /** A builder for a pool of its own, with limits and watermarks; all unlimited and zero by default. */
    public static Builder builder() {
        return new Builder();
    }

    /** The process-wide pool with no limits, for code that has no reason to keep its own. */
    public static MbufPool shared() {
        return SHARED;
    }

    /**
     * The pools of this process that are still reachable, in strict mode only (an empty list otherwise):
     * for test harnesses that check after each test that nothing is left in use.
     */
    public static List<MbufPool> instances() {
        List<MbufPool> out = new ArrayList<>();
        out.add(SHARED);
        for (WeakReference<MbufPool> ref : INSTANCES) {
            MbufPool pool = ref.get();
            if (pool == null) {
                INSTANCES.remove(ref);
            } else if (pool != SHARED) {
                out.add(pool);
            }
        }
        return Strict.ENABLED ? out : List.of();
    }

    /** Configures an {@link MbufPool}. */
    public static final class Builder {
        private int segmentLimit = Integer.MAX_VALUE;
        private int clusterLimit = Integer.MAX_VALUE;
        private int segmentLowWater;
        private int clusterLowWater;
        private LongPredicate faults = NO_FAULTS;
        private InstantSource clock = InstantSource.system();
        private Duration warningInterval = Duration.ofMinutes(1);

        private Builder() {
        }

        /** The most segments in use at once; unlimited by default. */
        public Builder segmentLimit(int limit) {
            this.segmentLimit = positive(limit, "segmentLimit");
            return this;
        }

        /** The most clusters in use at once ({@code nmbclusters}); unlimited by default. */
        public Builder clusterLimit(int limit) {
            this.clusterLimit = positive(limit, "clusterLimit");
            return this;
        }

        /** Idle segments made up front and kept in reserve ({@code mblowat}); 0 by default. */
        public Builder segmentLowWater(int count) {
            this.segmentLowWater = notNegative(count, "segmentLowWater");
            return this;
        }

        /** Idle clusters made up front and kept in reserve ({@code mcllowat}); 0 by default. */
        public Builder clusterLowWater(int count) {
            this.clusterLowWater = notNegative(count, "clusterLowWater");
            return this;
        }

        /**
         * Fails the allocations for which {@code nthAllocationFails} answers true, numbering the pool's
         * allocations of segments, clusters and large buffers from 1. Faults are counted as failures but
         * do not run the drain hooks.
         */
        public Builder allocationFaults(LongPredicate nthAllocationFails) {
            this.faults = Objects.requireNonNull(nthAllocationFails, "nthAllocationFails");
            return this;
        }

        /** The clock that paces "limit reached" warnings; the system clock by default. */
        public Builder clock(InstantSource clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The least time between two "limit reached" warnings of one kind; a minute by default. */
        public Builder warningInterval(Duration interval) {
            this.warningInterval = Objects.requireNonNull(interval, "interval");
            return this;
        }

        /**
         * Builds the pool.
         *
         * @throws IllegalArgumentException if a low watermark is above its limit
         */
        public MbufPool build() {
            if (segmentLowWater > segmentLimit || clusterLowWater > clusterLimit) {
                throw new IllegalArgumentException("a low watermark (segments " + segmentLowWater + ", clusters "
                        + clusterLowWater + ") is above its limit (segments " + segmentLimit + ", clusters "
                        + clusterLimit + ")");
            }
            return new MbufPool(this);
        }

        private static int positive(int value, String what) {
            if (value <= 0) {
                throw new IllegalArgumentException(what + " must be positive, was " + value);
            }
            return value;
        }

        private static int notNegative(int value, String what) {
            if (value < 0) {
                throw new IllegalArgumentException(what + " must not be negative, was " + value);
            }
            return value;
        }
    }

    // ---------------------------------------------------------------- public allocation API

    /**
     * {@code m_get}: a chain of one empty segment with inline storage, without a packet header.
     *
     * @throws NoBufferSpaceException if the segment limit is reached or a fault is injected
     */
    public Mbuf get(MbufType type) {
        Objects.requireNonNull(type, "type");
        return new Mbuf(this, allocSegment(type, null), false);
    }

    /**
     * {@code m_gethdr(M_DONTWAIT, MT_DATA)}: an empty packet (a chain with a packet header) of one
     * segment with inline storage.
     *
     * @throws NoBufferSpaceException if the segment limit is reached or a fault is injected
     */
    public Mbuf getPacket() {
        return new Mbuf(this, allocSegment(MbufType.DATA, null), true);
    }

    /**
     * {@code m_getcl}: an empty chain of one segment whose storage is a cluster of {@link #MCLBYTES}.
     *
     * @param packet whether the chain has a packet header ({@code M_PKTHDR})
     * @throws NoBufferSpaceException if the segment or cluster limit is reached or a fault is injected
     */
    public Mbuf getCluster(boolean packet) {
        return new Mbuf(this, allocClusterSegment(MbufType.DATA, null), packet);
    }

    /**
     * {@code MEXTADD}: a packet whose one segment points at {@code storage}, without copying it. The
     * packet's length is the storage's size.
     *
     * <p>The storage is shared, not copied: the caller must not change or release it until
     * {@code onFree} runs, which happens once, on whichever thread drops the last reference (copies made
     * with {@link Mbuf#copy} share it too). If {@code writable} is false, or {@code storage} itself is
     * read-only, the bytes are read-only ({@code M_READONLY}): no view of them is ever writable, and
     * operations that must write copy them first (copy on write), so they are never changed.
     *
     * @param storage  the bytes; at most {@link Integer#MAX_VALUE} of them
     * @param writable whether jmbuf may write into the storage (while nothing else shares it)
     * @param onFree   runs when the last reference is dropped; may be null. If {@code wrap} throws, the
     *                 storage stays the caller's and {@code onFree} never runs.
     * @throws IllegalArgumentException if the storage is longer than {@link Integer#MAX_VALUE}
     * @throws NoBufferSpaceException   if the segment limit is reached or a fault is injected
     */
    public Mbuf wrap(MemorySegment storage, boolean writable, Runnable onFree) {
        Objects.requireNonNull(storage, "storage");
        if (storage.byteSize() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("external storage of " + storage.byteSize()
                    + " bytes is longer than a chain can be (" + Integer.MAX_VALUE + ")");
        }
        Segment segment = allocSegment(MbufType.DATA, null);
        Storage external = new Storage(Storage.Kind.EXTERNAL, this, storage, writable && !storage.isReadOnly(), onFree);
        externalInUse.incrementAndGet();
        attachShared(segment, external, 0, (int) storage.byteSize());
        return new Mbuf(this, segment, true);
    }

    /**
     * {@code m_devget}: a packet holding a copy of {@code source}. While {@link #MINCLSIZE} or more bytes
     * remain they go into clusters, the rest into inline storage. If the whole packet fits in its first
     * segment with {@link #MAX_LINKHDR} bytes to spare, the data starts after that much leading space, so a
     * link-layer header can be prepended without allocating.
     *
     * @throws NoBufferSpaceException if the pool runs out; nothing is left allocated
     */
    public Mbuf devget(MemorySegment source) {
        Objects.requireNonNull(source, "source");
        if (source.byteSize() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cannot copy " + source.byteSize() + " bytes into one packet");
        }
        int total = (int) source.byteSize();
        Segment head = null;
        Segment tail = null;
        try {
            int done = 0;
            do {
                int remaining = total - done;
                Segment s = remaining >= MINCLSIZE ? allocClusterSegment(MbufType.DATA, null)
                        : allocSegment(MbufType.DATA, null);
                int n = Math.min(remaining, s.storage().capacity());
                if (head == null && n == remaining && n + MAX_LINKHDR <= s.storage().capacity()) {
                    s.offset = MAX_LINKHDR;
                }
                MemorySegment.copy(source, done, s.storage().memory(), s.offset, n);
                s.length = n;
                if (head == null) {
                    head = s;
                } else {
                    tail.next = s;
                }
                tail = s;
                done += n;
            } while (done < total);
        } catch (NoBufferSpaceException e) {
            freeSegments(head);
            throw e;
        }
        return new Mbuf(this, head, true);
    }

    // ---------------------------------------------------------------- configuration and reporting

    /** Adds a drain hook ({@code pr_drain} / {@code if_drain}), run when an allocation reaches a limit. */
    public void addDrainHook(Runnable hook) {
        drainHooks.add(Objects.requireNonNull(hook, "hook"));
    }

    /** Removes a drain hook added with {@link #addDrainHook(Runnable)}; returns whether it was there. */
    public boolean removeDrainHook(Runnable hook) {
        return drainHooks.remove(hook);
    }

    /**
     * {@code m_reclaim}: runs every drain hook now, and counts it in {@link PoolStats#drains()}.
     * The pool does this by itself when a limit is reached. A hook that throws is logged and skipped, so
     * the allocation that triggered the drain still either succeeds or fails cleanly.
     */
    public void reclaim() {
        if (draining.get()) {
            return; // a hook that allocates must not recurse into the hooks
        }
        draining.set(true);
        try {
            for (Runnable hook : drainHooks) {
                try {
                    hook.run();
                } catch (RuntimeException e) {
                    // A drain hook runs inside some other allocation, which must still fail or succeed cleanly.
                    log.log(System.Logger.Level.ERROR, "mbuf drain hook " + hook + " failed; continuing", e);
                }
            }
            drains.incrementAndGet();
        } finally {
            draining.set(false);
        }
    }

    /**
     * Releases idle segments and clusters held in the shared depot beyond the low watermarks
     * ({@code pool_reclaim}); returns how many were released.
     */
    public int trim() {
        return segments.trim() + clusters.trim();
    }

    /** The cluster limit ({@code kern.mbuf.nmbclusters}). */
    public int clusterLimit() {
        return clusters.limit();
    }

    /**
     * Raises the cluster limit, as {@code sysctl kern.mbuf.nmbclusters} does.
     *
     * @throws IllegalArgumentException if {@code limit} is below the current limit (it may only grow)
     */
    public void setClusterLimit(int limit) {
        if (limit < clusters.limit()) {
            throw new IllegalArgumentException("the cluster limit can only be raised: " + limit + " < "
                    + clusters.limit());
        }
        clusters.setLimit(limit);
    }

    /**
     * Sets the segment low watermark ({@code kern.mbuf.mblowat}), making idle segments up to it.
     *
     * @throws IllegalArgumentException if {@code count} is negative or above the segment limit
     */
    public void setSegmentLowWater(int count) {
        segments.setLowWater(lowWaterWithin(count, segments.limit(), "segmentLowWater"));
    }

    /**
     * Sets the cluster low watermark ({@code kern.mbuf.mcllowat}), making idle clusters up to it.
     *
     * @throws IllegalArgumentException if {@code count} is negative or above the cluster limit
     */
    public void setClusterLowWater(int count) {
        clusters.setLowWater(lowWaterWithin(count, clusters.limit(), "clusterLowWater"));
    }

    private static int lowWaterWithin(int count, int limit, String what) {
        Builder.notNegative(count, what);
        if (count > limit) {
            throw new IllegalArgumentException(what + " " + count + " is above the limit " + limit);
        }
        return count;
    }

    /** A snapshot of the counters ({@code mbstat}, {@code netstat -m}). */
    public PoolStats stats() {
        Map<MbufType, Integer> byType = new EnumMap<>(MbufType.class);
        for (MbufType type : MbufType.values()) {
            byType.put(type, typeCounts[type.ordinal()].get());
        }
        return new PoolStats(segments.inUse(), clusters.inUse(), externalInUse.get(), largeInUse.get(),
                segments.idleInDepot(), clusters.idleInDepot(), segments.highWater(), clusters.highWater(),
                segments.allocations(), clusters.allocations(), failures.get(), drains.get(),
                limitWarnings.get(), bytesCopied.sum(), Collections.unmodifiableMap(byType));
    }

    /** {@code MOWNER_ATTACH}: a new owner, listed from now on by {@link #owners()}. */
    public MbufOwner owner(String name, String description) {
        MbufOwner owner = new MbufOwner(Objects.requireNonNull(name, "name"),
                Objects.requireNonNull(description, "description"));
        owners.add(owner);
        return owner;
    }

    /** Every owner of this pool, the "unknown" owner of each {@link MbufType} first. */
    public List<MbufOwner> owners() {
        return List.copyOf(owners);
    }

    /** The owner that segments of {@code type} are charged to until a chain is claimed. */
    public MbufOwner unknownOwner(MbufType type) {
        return unknownOwners.get(type);
    }

    /**
     * In strict mode, a description of every segment still in use with the place it was allocated,
     * or the empty string if none is; outside strict mode, the empty string.
     */
    public String leakReport() {
        if (live == null || live.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        out.append(live.size()).append(" segment(s) still in use:\n");
        int shown = 0;
        for (Segment s : live) {
            if (shown++ == 10) {
                out.append("  ...\n");
                break;
            }
            out.append("  ").append(s).append('\n');
            if (s.allocationSite != null) {
                for (StackTraceElement e : s.allocationSite.getStackTrace()) {
                    if (!e.getClassName().startsWith(MbufPool.class.getPackageName() + ".")
                            || e.getClassName().endsWith("Test")) {
                        out.append("    allocated at ").append(e).append('\n');
                        break;
                    }
                }
            }
        }
        return out.toString();
    }

    // ---------------------------------------------------------------- package-private allocation

    /** Segment objects made since the pool was built (idle ones included); for tests of reuse. */
    long segmentsCreated() {
        return segments.created();
    }

    void countCopy(long bytes) {
        bytesCopied.add(bytes);
    }

    MbufOwner ownerFor(MbufType type, MbufOwner requested) {
        return requested != null ? requested : unknownOwners.get(type);
    }

    /** A segment with empty inline storage, charged to {@code owner} (or the unknown owner of its type). */
    Segment allocSegment(MbufType type, MbufOwner owner) {
        injectFault("a segment");
        Segment s = segments.tryGet();
        if (s == null) {
            reclaim();
            s = segments.tryGet();
            if (s == null) {
                throw refuse(lastSegmentWarning, "segment", segments);
            }
        }
        if (Strict.ENABLED) {
            checkPoison(s.inlineStorage().memory(), "segment");
            s.allocationSite = new Throwable("allocated here");
            live.add(s);
        }
        s.free = false;
        s.resetToInline();
        s.type = type;
        s.owner = ownerFor(type, owner);
        typeCounts[type.ordinal()].incrementAndGet();
        s.owner.charge(s, +1);
        s.owner.countClaim();
        return s;
    }

    /** A segment whose storage is a fresh cluster, empty. */
    Segment allocClusterSegment(MbufType type, MbufOwner owner) {
        Segment s = allocSegment(type, owner);
        Storage cluster;
        try {
            cluster = allocCluster();
        } catch (NoBufferSpaceException e) {
            free(s);
            throw e;
        }
        attachShared(s, cluster, 0, 0);
        return s;
    }

    /**
     * A writable, empty segment that can hold {@code size} contiguous bytes: inline storage up to
     * {@link #MLEN}, a cluster up to {@link #MCLBYTES}, else a large buffer of exactly {@code size}.
     */
    Segment allocContiguous(int size, MbufType type, MbufOwner owner) {
        if (size <= MLEN) {
            return allocSegment(type, owner);
        }
        if (size <= MCLBYTES) {
            return allocClusterSegment(type, owner);
        }
        Segment s = allocSegment(type, owner);
        try {
            injectFault("a large buffer of " + size + " bytes");
        } catch (NoBufferSpaceException e) {
            free(s);
            throw e;
        }
        largeInUse.incrementAndGet();
        attachShared(s, new Storage(Storage.Kind.LARGE, this, Arena.ofAuto().allocate(size, 16), true, null), 0, 0);
        return s;
    }

    /**
     * A segment sharing {@code source}'s storage and data window (takes a reference). The caller revokes
     * {@code source}'s writable views once its operation has succeeded, since shared storage is read-only.
     */
    Segment allocSharing(Segment source) {
        Segment s = allocSegment(source.type, source.owner);
        source.storage().addReference();
        attachShared(s, source.storage(), source.offset, source.length);
        return s;
    }

    private void attachShared(Segment s, Storage shared, int offset, int length) {
        Storage.Kind before = s.storage().kind();
        s.attach(shared, offset, length);
        s.owner.recount(before, shared.kind()); // the owner counts storage kinds
    }

    /** Moves a segment's charge to another owner. */
    void recharge(Segment s, MbufOwner owner) {
        s.owner.charge(s, -1);
        s.owner = owner;
        owner.charge(s, +1);
        owner.countClaim();
    }

    /** Frees one segment ({@code m_free}): drops its storage reference and returns it to the pool. */
    void free(Segment s) {
        if (s.pool != this) {
            s.pool.free(s); // a chain may hold segments of several pools after cat
            return;
        }
        if (s.free) {
            throw new IllegalStateException("segment freed twice: " + s);
        }
        s.revokeAll();
        s.owner.charge(s, -1);
        typeCounts[s.type.ordinal()].decrementAndGet();
        Storage storage = s.storage();
        if (storage.isShareable() && storage.dropReference()) {
            storage.pool().release(storage);
        }
        s.free = true;
        s.next = null;
        if (Strict.ENABLED) {
            live.remove(s);
            s.allocationSite = null;
            s.inlineStorage().memory().fill(POISON);
        }
        s.resetToInline();
        segments.put(s);
    }

    /** Frees a run of segments linked by {@code next}. */
    void freeSegments(Segment head) {
        while (head != null) {
            Segment next = head.next;
            free(head);
            head = next;
        }
    }

    private void release(Storage storage) {
        switch (storage.kind()) {
            case CLUSTER -> {
                if (Strict.ENABLED) {
                    storage.memory().fill(POISON);
                }
                clusters.put(storage);
            }
            case EXTERNAL -> {
                externalInUse.decrementAndGet();
                Runnable onFree = storage.onFree();
                if (onFree != null) {
                    try {
                        onFree.run();
                    } catch (RuntimeException e) {
                        // The segment is already off the chain; a failing free action must not undo that.
                        log.log(System.Logger.Level.ERROR, "free action of external storage failed", e);
                    }
                }
            }
            case LARGE -> largeInUse.decrementAndGet();
            case INTERNAL -> throw new AssertionError("inline storage is not shared");
        }
    }

    private Storage allocCluster() {
        injectFault("a cluster");
        Storage c = clusters.tryGet();
        if (c == null) {
            reclaim();
            c = clusters.tryGet();
            if (c == null) {
                throw refuse(lastClusterWarning, "cluster", clusters);
            }
        }
        if (Strict.ENABLED) {
            checkPoison(c.memory(), "cluster");
        }
        c.revive();
        return c;
    }

    private void injectFault(String what) {
        if (faults == NO_FAULTS) {
            return; // the common case: no shared counter to bump on every allocation
        }
        long n = allocationNumber.incrementAndGet();
        if (faults.test(n)) {
            failures.incrementAndGet();
            throw new NoBufferSpaceException("injected fault: allocation " + n + " (" + what + ") refused");
        }
    }

    private NoBufferSpaceException refuse(AtomicLong lastWarning, String kind, ItemPool<?> pool) {
        failures.incrementAndGet();
        long now = clock.millis();
        long last = lastWarning.get();
        if ((last == Long.MIN_VALUE || now - last >= warningInterval.toMillis())
                && lastWarning.compareAndSet(last, now)) {
            limitWarnings.incrementAndGet();
            log.log(System.Logger.Level.WARNING, "mbuf " + kind + " limit reached ("
                    + pool.limit() + " in use at " + Instant.ofEpochMilli(now) + "); raise the "
                    + kind + " limit");
        }
        return new NoBufferSpaceException("no buffer space: the " + kind + " limit of " + pool.limit()
                + " is reached and the drain hooks freed nothing; free packets or raise the limit");
    }

    /** Strict mode: a free item is all poison (or all zero, if it was never used); anything else was written after free. */
    private static void checkPoison(MemorySegment memory, String what) {
        byte first = memory.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0);
        long mismatch = first == POISON || first == 0
                ? memory.mismatch(MemorySegment.ofArray(new byte[(int) memory.byteSize()]).fill(first)) : 0;
        if (mismatch != -1) {
            throw new IllegalStateException("a free " + what + " was written after it was freed (byte " + mismatch
                    + " is not poison)");
        }
    }

    private Segment makeSegment() {
        MemorySegment area;
        synchronized (slabLock) {
            if (inlineSlab.byteSize() < MLEN) {
                inlineSlab = Arena.ofAuto().allocate(MLEN * 64L, 16);
            }
            area = inlineSlab.asSlice(0, MLEN);
            inlineSlab = inlineSlab.asSlice(MLEN);
        }
        Segment s = new Segment(this, area);
        s.free = true;
        return s;
    }

    private Storage makeCluster() {
        MemorySegment memory;
        synchronized (slabLock) {
            if (clusterSlab.byteSize() < MCLBYTES) {
                clusterSlab = Arena.ofAuto().allocate(MCLBYTES * 16L, 64);
            }
            memory = clusterSlab.asSlice(0, MCLBYTES);
            clusterSlab = clusterSlab.asSlice(MCLBYTES);
        }
        return new Storage(Storage.Kind.CLUSTER, this, memory, true, null);
    }
}
