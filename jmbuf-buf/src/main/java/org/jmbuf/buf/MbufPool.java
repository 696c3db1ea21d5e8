package org.jmbuf.buf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
 * that allocated it goes to the freeing thread's cache and is counted correctly. A pool without limits
 * counts what is in use per thread too, so threads share no counter (see {@link PoolStats} for what that
 * means for the counts). A chain handle, unlike its pool, belongs to one thread at a time.
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
    /** One segment in {@link #inUse}. */
    private static final long SEGMENT = 1L;
    /** One cluster in {@link #inUse}. */
    private static final long CLUSTER = 1L << 32;

    private final ItemPool<Segment> segments;
    private final ItemPool<Storage> clusters;
    /**
     * Whether segments and clusters in use are counted by each thread in its own {@link Cache} (a pool
     * without limits) rather than in {@link #inUse} (a pool with a limit, which must see the exact count
     * at every allocation). Fixed when the pool is built.
     */
    private final boolean countsPerThread;
    /** Whether freed handles are kept for reuse ({@link Builder#recycleHandles}). */
    private final boolean recyclesHandles;
    /**
     * Segments in use (the low 32 bits, {@link #SEGMENT}) and clusters in use (the high 32 bits,
     * {@link #CLUSTER}) in one word, for a pool with a limit: exact at every allocation, as the limits
     * need, and a packet with a cluster is counted in, and out, with one atomic instruction. Unused when
     * the pool {@linkplain #countsPerThread counts per thread}.
     */
    private final AtomicLong inUse = new AtomicLong();
    private final AtomicInteger segmentHighWater = new AtomicInteger();
    private final AtomicInteger clusterHighWater = new AtomicInteger();
    private final int segmentLimit;
    private volatile int clusterLimit;
    private final LongPredicate faults;
    private final AtomicLong allocationNumber = new AtomicLong();
    private final List<Runnable> drainHooks = new CopyOnWriteArrayList<>();
    private final ThreadLocal<Boolean> draining = ThreadLocal.withInitial(() -> false);
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong drains = new AtomicLong();
    private final AtomicLong limitWarnings = new AtomicLong();
    private final AtomicInteger externalInUse = new AtomicInteger();
    private final AtomicInteger largeInUse = new AtomicInteger();
    private final InstantSource clock;
    private final Duration warningInterval;
    private final AtomicLong lastSegmentWarning = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong lastClusterWarning = new AtomicLong(Long.MIN_VALUE);
    private final System.Logger log = System.getLogger(MbufPool.class.getName());
    private final List<MbufOwner> owners = new CopyOnWriteArrayList<>();
    private final Map<MbufType, MbufOwner> unknownOwners = new EnumMap<>(MbufType.class);
    private final Set<Segment> live = Strict.ENABLED ? ConcurrentHashMap.newKeySet() : null;
    private final Object slabLock = new Object();
    /**
     * The {@link Cache} of a thread that found its slot of {@link #homes} held by another, reached weakly: the
     * pool holds the caches (in {@link #caches}), so a thread's map does not keep the pool alive through the
     * items it caches (which point back at the pool).
     */
    private final ThreadLocal<WeakReference<Cache>> local = new ThreadLocal<>();
    /** Every live thread's cache; guarded by itself. */
    private final ArrayList<Cache> caches = new ArrayList<>();
    /**
     * The threads' caches by thread id, direct-mapped: {@link #HOME_SLOTS} slots after the padding, a thread
     * at {@code FIRST_IDLE + (threadId & (HOME_SLOTS - 1))}. A thread finds its cache here with one comparison
     * of thread ids, as NetBSD finds a CPU's pool cache by the CPU's index, instead of a thread-local
     * look-up; a thread whose slot another live thread holds uses {@link #local}. Written under
     * {@link #caches} (once per registering thread), read without: a {@link Home} is immutable and only its
     * own thread can match a thread id, so a stale slot is only ever a miss. Read on every operation by
     * every thread, so it is {@linkplain Padding padded} off the lines of anything written on the way.
     */
    private final Home[] homes = new Home[FIRST_IDLE + HOME_SLOTS + Padding.REFERENCE_SLOTS];
    /** The counts of caches whose threads ended, by type; guarded by {@link #caches}. */
    private final int[] retiredTypes = new int[MbufType.values().length];
    /** The bytes copied by threads that ended; guarded by {@link #caches}. */
    private long retiredBytesCopied;
    /** The owner counts of caches whose threads ended, as in {@link Cache#owners}; guarded by {@link #caches}. */
    private int[] retiredOwners = new int[0];
    private MemorySegment inlineSlab = MemorySegment.NULL;
    private MemorySegment clusterSlab = MemorySegment.NULL;

    private MbufPool(Builder b) {
        for (MbufType type : MbufType.values()) {
            unknownOwners.put(type, owner("unknown", type.label()));
        }
        this.faults = b.faults;
        this.clock = b.clock;
        this.warningInterval = b.warningInterval;
        this.segmentLimit = b.segmentLimit;
        this.clusterLimit = b.clusterLimit;
        this.countsPerThread = b.segmentLimit == Integer.MAX_VALUE && b.clusterLimit == Integer.MAX_VALUE;
        this.recyclesHandles = b.recycleHandles;
        this.segments = new ItemPool<>(this::makeSegment, b.segmentLowWater);
        this.clusters = new ItemPool<>(this::makeCluster, b.clusterLowWater);
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
        private boolean recycleHandles = Boolean.getBoolean("jmbuf.recycleHandles");

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
         * Whether the pool keeps the handles of freed chains and hands them out again as the handles of new
         * chains, as C reuses the memory of a freed mbuf; off by default ({@code -Djmbuf.recycleHandles=true}
         * turns it on for every pool built without saying). With it, making and freeing chains allocates
         * nothing on the Java heap in steady state; without it, each new chain allocates its handle (80 bytes).
         *
         * <p>The price is the guarantee that any use of a freed handle throws: a handle freed with
         * {@link Mbuf#free()} or {@link Mbuf#close()} still throws {@link IllegalStateException} while it
         * waits in its thread's cache, but once a later allocation has taken it, it <em>is</em> that new
         * chain, and a stale reference reads, changes or frees the new chain (as a C pointer kept after
         * {@code m_freem} would). Turn it on only where every reference to a chain is dropped when the
         * chain is freed, and never {@code close()} a chain that may have been freed already. Handles
         * consumed by {@link Mbuf#cat} are not reused. Strict mode still verifies every chain, but cannot
         * tell a stale use of a reused handle from a use of its new chain.
         */
        public Builder recycleHandles(boolean recycle) {
            this.recycleHandles = recycle;
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
        Cache cache = cache();
        return handle(cache, allocSegment(cache, type, null), false);
    }

    /**
     * {@code m_gethdr(M_DONTWAIT, MT_DATA)}: an empty packet (a chain with a packet header) of one
     * segment with inline storage.
     *
     * @throws NoBufferSpaceException if the segment limit is reached or a fault is injected
     */
    public Mbuf getPacket() {
        Cache cache = cache();
        return handle(cache, allocSegment(cache, MbufType.DATA, null), true);
    }

    /**
     * {@code m_getcl}: an empty chain of one segment whose storage is a cluster of {@link #MCLBYTES}.
     *
     * @param packet whether the chain has a packet header ({@code M_PKTHDR})
     * @throws NoBufferSpaceException if the segment or cluster limit is reached or a fault is injected
     */
    public Mbuf getCluster(boolean packet) {
        Cache cache = cache();
        return handle(cache, allocClusterSegment(cache, MbufType.DATA, null), packet);
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
        Cache cache = cache();
        Segment segment = allocSegment(cache, MbufType.DATA, null);
        Storage external = new Storage(Storage.Kind.EXTERNAL, this, storage, writable && !storage.isReadOnly(), onFree);
        externalInUse.incrementAndGet();
        attachShared(cache, segment, external, 0, (int) storage.byteSize());
        return handle(cache, segment, true);
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
        return handle(head, true);
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
        return clusterLimit;
    }

    /**
     * Raises the cluster limit, as {@code sysctl kern.mbuf.nmbclusters} does.
     *
     * @throws IllegalArgumentException if {@code limit} is below the current limit (it may only grow)
     */
    public void setClusterLimit(int limit) {
        if (limit < clusterLimit) {
            throw new IllegalArgumentException("the cluster limit can only be raised: " + limit + " < "
                    + clusterLimit);
        }
        clusterLimit = limit;
    }

    /**
     * Sets the segment low watermark ({@code kern.mbuf.mblowat}), making idle segments up to it.
     *
     * @throws IllegalArgumentException if {@code count} is negative or above the segment limit
     */
    public void setSegmentLowWater(int count) {
        segments.setLowWater(lowWaterWithin(count, segmentLimit, "segmentLowWater"));
    }

    /**
     * Sets the cluster low watermark ({@code kern.mbuf.mcllowat}), making idle clusters up to it.
     *
     * @throws IllegalArgumentException if {@code count} is negative or above the cluster limit
     */
    public void setClusterLowWater(int count) {
        clusters.setLowWater(lowWaterWithin(count, clusterLimit, "clusterLowWater"));
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
        long bytesCopied;
        synchronized (caches) {
            for (MbufType type : MbufType.values()) {
                int sum = retiredTypes[type.ordinal()];
                for (Cache c : caches) {
                    sum += (int) INTS.getOpaque(c.types, FIRST_COUNT + type.ordinal());
                }
                byType.put(type, sum);
            }
            bytesCopied = retiredBytesCopied;
            for (Cache c : caches) {
                bytesCopied += c.bytesCopied();
            }
        }
        int segmentsInUse;
        int clustersInUse;
        if (countsPerThread) {
            Census c = census;
            segmentsInUse = c.segmentsInUse();
            clustersInUse = c.clustersInUse();
        } else {
            long both = inUse.get();
            segmentsInUse = segmentsIn(both);
            clustersInUse = clustersIn(both);
        }
        return new PoolStats(segmentsInUse, clustersInUse, externalInUse.get(), largeInUse.get(),
                segments.idleInDepot(), clusters.idleInDepot(), segmentHighWater.get(), clusterHighWater.get(),
                segments.allocations(), clusters.allocations(), failures.get(), drains.get(),
                limitWarnings.get(), bytesCopied, Collections.unmodifiableMap(byType));
    }

    /** {@code MOWNER_ATTACH}: a new owner, listed from now on by {@link #owners()}. */
    public MbufOwner owner(String name, String description) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        synchronized (owners) {
            MbufOwner owner = new MbufOwner(name, description, this, owners.size());
            owners.add(owner);
            return owner;
        }
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

    /** Counts {@code bytes} copied by a chain operation, in the calling thread's cache (no shared counter). */
    void countCopy(long bytes) {
        cache().countCopy(bytes);
    }

    MbufOwner ownerFor(MbufType type, MbufOwner requested) {
        return requested != null ? requested : unknownOwners.get(type);
    }

    /** A segment with empty inline storage, charged to {@code owner} (or the unknown owner of its type). */
    Segment allocSegment(MbufType type, MbufOwner owner) {
        return allocSegment(cache(), type, owner);
    }

    private Segment allocSegment(Cache cache, MbufType type, MbufOwner owner) {
        injectFault("a segment");
        if (!reserve(cache, SEGMENT, segmentLimit)) {
            reclaim();
            if (!reserve(cache, SEGMENT, segmentLimit)) {
                throw refuse(lastSegmentWarning, "segment", segmentLimit);
            }
        }
        return takeSegment(cache, type, owner);
    }

    /** Takes a segment counted in use already, empty, with inline storage, charged to {@code owner}. */
    private Segment takeSegment(Cache cache, MbufType type, MbufOwner owner) {
        Segment s = segments.get(cache.segments);
        if (Strict.ENABLED) {
            checkPoison(s.inlineStorage().memory(), "segment");
            s.allocationSite = new Throwable("allocated here");
            live.add(s);
        }
        s.free = false;
        s.resetToInline();
        s.type = type;
        s.owner = ownerFor(type, owner);
        cache.add(cache.types, FIRST_COUNT + type.ordinal(), +1);
        cache.charge(s.owner, Storage.Kind.INTERNAL, +1);
        return s;
    }

    /**
     * {@code m_dup}'s pool side, with one look-up of the thread's cache: a chain of fresh writable segments
     * whose data windows add up to {@code len} bytes (clusters, and inline storage for a last piece of at
     * most {@link #MLEN}), charged to {@code owner}, under a new handle without a packet header. The caller
     * fills in the bytes, which are counted as copied here.
     *
     * @throws NoBufferSpaceException if the pool refuses a segment or cluster; nothing is left allocated
     */
    Mbuf allocForCopy(int len, MbufType type, MbufOwner owner) {
        Cache cache = cache();
        Segment first = null;
        Segment last = null;
        try {
            int done = 0;
            do {
                int remaining = len - done;
                Segment c = remaining > MLEN ? allocClusterSegment(cache, type, owner) : allocSegment(cache, type, owner);
                if (first == null) {
                    first = c;
                } else {
                    last.next = c;
                }
                last = c;
                c.length = Math.min(remaining, c.storage().capacity());
                done += c.length;
            } while (done < len);
        } catch (NoBufferSpaceException e) {
            freeSegments(first);
            throw e;
        }
        cache.countCopy(len);
        return handle(cache, first, false);
    }

    /** A segment whose storage is a fresh cluster, empty. */
    Segment allocClusterSegment(MbufType type, MbufOwner owner) {
        return allocClusterSegment(cache(), type, owner);
    }

    private Segment allocClusterSegment(Cache cache, MbufType type, MbufOwner owner) {
        if (faults == NO_FAULTS && segmentLimit == Integer.MAX_VALUE && clusterLimit == Integer.MAX_VALUE) {
            // Nothing can refuse either: count both in use at once.
            countOut(cache, SEGMENT + CLUSTER);
            Segment s = takeSegment(cache, type, owner);
            attachShared(cache, s, takeCluster(cache), 0, 0);
            return s;
        }
        Segment s = allocSegment(cache, type, owner);
        Storage cluster;
        try {
            cluster = allocCluster(cache);
        } catch (NoBufferSpaceException e) {
            free(cache, s);
            throw e;
        }
        attachShared(cache, s, cluster, 0, 0);
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
        Cache cache = cache();
        Segment s = allocSegment(cache, type, owner);
        try {
            injectFault("a large buffer of " + size + " bytes");
        } catch (NoBufferSpaceException e) {
            free(cache, s);
            throw e;
        }
        largeInUse.incrementAndGet();
        attachShared(cache, s, new Storage(Storage.Kind.LARGE, this, Arena.ofAuto().allocate(size, 16), true, null),
                0, 0);
        return s;
    }

    /**
     * {@code m_copym}'s pool side, with one look-up of the thread's cache: a chain holding {@code [off, off +
     * len)} of the chain that starts at {@code head}, under a new handle without a packet header. Each
     * segment of the range whose storage can be shared gets a segment sharing it (a reference taken);
     * inline bytes are copied (and counted as copied). An empty range gets one empty segment. The caller
     * revokes the writable views of the shared storage once this has succeeded.
     *
     * @throws NoBufferSpaceException if the pool refuses a segment; nothing is left allocated
     */
    Mbuf allocCopyOf(Segment head, int off, int len) {
        Cache cache = cache();
        Segment first = null;
        Segment last = null;
        try {
            if (len == 0) {
                first = allocSegment(cache, head.type, head.owner);
            }
            int start = 0;
            for (Segment s = head; s != null && len > 0; start += s.length, s = s.next) {
                if (start + s.length <= off) {
                    continue;
                }
                int from = off - start;
                int n = Math.min(s.length - from, len);
                Segment c;
                if (s.storage().isShareable()) {
                    c = allocSharing(cache, s);
                    c.offset += from;
                } else {
                    c = allocSegment(cache, s.type, s.owner);
                    MemorySegment.copy(s.storage().memory(), s.offset + from, c.storage().memory(), 0, n);
                    cache.countCopy(n);
                }
                c.length = n;
                if (first == null) {
                    first = c;
                } else {
                    last.next = c;
                }
                last = c;
                off += n;
                len -= n;
            }
        } catch (NoBufferSpaceException e) {
            freeSegments(first);
            throw e;
        }
        return handle(cache, first, false);
    }

    /**
     * A segment sharing {@code source}'s storage and data window (takes a reference). The caller revokes
     * {@code source}'s writable views once its operation has succeeded, since shared storage is read-only.
     */
    Segment allocSharing(Segment source) {
        return allocSharing(cache(), source);
    }

    private Segment allocSharing(Cache cache, Segment source) {
        Segment s = allocSegment(cache, source.type, source.owner);
        source.storage().addReference();
        attachShared(cache, s, source.storage(), source.offset, source.length);
        return s;
    }

    private static void attachShared(Cache cache, Segment s, Storage shared, int offset, int length) {
        Storage.Kind before = s.storage().kind();
        s.attach(shared, offset, length);
        cache.recount(s.owner, before, shared.kind()); // the owner counts storage kinds
    }

    /** Moves a segment's charge to another owner. */
    void recharge(Segment s, MbufOwner owner) {
        Cache cache = cache();
        cache.charge(s.owner, s.storage().kind(), -1);
        s.owner = owner;
        cache.charge(owner, s.storage().kind(), +1);
    }

    /** Frees one segment ({@code m_free}): drops its storage reference and returns it to the pool. */
    void free(Segment s) {
        s.pool.free(s.pool.cache(), s); // a chain may hold segments of several pools after cat
    }

    private void free(Cache cache, Segment s) {
        if (s.free) {
            throw new IllegalStateException("segment freed twice: " + s);
        }
        s.revokeAll();
        Storage storage = s.storage();
        cache.charge(s.owner, storage.kind(), -1);
        cache.add(cache.types, FIRST_COUNT + s.type.ordinal(), -1);
        long released = SEGMENT;
        if (storage.isShareable() && storage.dropReference()) {
            if (storage.pool() != this) {
                storage.pool().release(storage.pool().cache(), storage);
            } else if (storage.kind() == Storage.Kind.CLUSTER) {
                putCluster(cache, storage);
                released += CLUSTER; // the segment and its cluster leave the count together
            } else {
                release(cache, storage);
            }
        }
        s.free = true;
        s.next = null;
        if (Strict.ENABLED) {
            live.remove(s);
            s.allocationSite = null;
            s.inlineStorage().memory().fill(POISON);
        }
        s.resetToInline();
        segments.put(cache.segments, s);
        countBack(cache, released);
    }

    /** Frees a run of segments linked by {@code next}, with one look-up of the thread's cache for the run. */
    void freeSegments(Segment head) {
        Cache cache = head == null ? null : cache();
        while (head != null) {
            Segment next = head.next;
            if (head.pool == this) {
                free(cache, head);
            } else {
                free(head);
            }
            head = next;
        }
    }

    /** Returns a cluster whose last reference was dropped to the thread's magazine; the caller uncounts it. */
    private void putCluster(Cache cache, Storage cluster) {
        if (Strict.ENABLED) {
            cluster.memory().fill(POISON);
        }
        clusters.put(cache.clusters, cluster);
    }

    /** Releases storage whose last reference was dropped: a cluster back to the pool, external storage's free action. */
    private void release(Cache cache, Storage storage) {
        switch (storage.kind()) {
            case CLUSTER -> {
                putCluster(cache, storage);
                countBack(cache, CLUSTER);
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

    private Storage allocCluster(Cache cache) {
        injectFault("a cluster");
        if (!reserve(cache, CLUSTER, clusterLimit)) {
            reclaim();
            if (!reserve(cache, CLUSTER, clusterLimit)) {
                throw refuse(lastClusterWarning, "cluster", clusterLimit);
            }
        }
        return takeCluster(cache);
    }

    /** Takes a cluster counted in use already, referenced once. */
    private Storage takeCluster(Cache cache) {
        Storage c = clusters.get(cache.clusters);
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

    /**
     * Counts one more segment ({@link #SEGMENT}) or cluster ({@link #CLUSTER}) in use, unless that would pass
     * {@code limit}; returns whether it did. Without a limit this is one atomic add; with one, a
     * compare-and-set loop that never passes it.
     */
    private boolean reserve(Cache cache, long unit, int limit) {
        if (limit == Integer.MAX_VALUE) {
            countOut(cache, unit);
            return true;
        }
        while (true) {
            long now = inUse.get();
            if ((unit == SEGMENT ? segmentsIn(now) : clustersIn(now)) >= limit) {
                return false;
            }
            if (inUse.compareAndSet(now, now + unit)) {
                recordHighWater(segmentsIn(now + unit), clustersIn(now + unit));
                return true;
            }
        }
    }

    /**
     * Counts {@code unit} ({@link #SEGMENT}, {@link #CLUSTER} or both) as taken from the pool, with no limit
     * to check: in the shared word, or in the thread's own counts. A thread that reaches a new high of its
     * own sums every thread's counts and raises the high waters if the sum is a new high.
     */
    private void countOut(Cache cache, long unit) {
        if (!countsPerThread) {
            long both = inUse.addAndGet(unit);
            recordHighWater(segmentsIn(both), clustersIn(both));
        } else if (cache.countOut(segmentsIn(unit), clustersIn(unit))) {
            Census c = census;
            recordHighWater(c.segmentsInUse(), c.clustersInUse());
        }
    }

    /** Counts {@code unit} ({@link #SEGMENT}, {@link #CLUSTER} or both) as back in the pool. */
    private void countBack(Cache cache, long unit) {
        if (countsPerThread) {
            cache.countBack(segmentsIn(unit), clustersIn(unit));
        } else {
            inUse.addAndGet(-unit);
        }
    }

    /** Raises the high waters to these counts of segments and clusters in use if those are new highs. */
    private void recordHighWater(int segmentCount, int clusterCount) {
        if (segmentCount > segmentHighWater.get()) {
            segmentHighWater.accumulateAndGet(segmentCount, Math::max); // rarely: only at a new high
        }
        if (clusterCount > clusterHighWater.get()) {
            clusterHighWater.accumulateAndGet(clusterCount, Math::max);
        }
    }

    private static int segmentsIn(long both) {
        return (int) both;
    }

    private static int clustersIn(long both) {
        return (int) (both >>> 32);
    }

    private NoBufferSpaceException refuse(AtomicLong lastWarning, String kind, int limit) {
        failures.incrementAndGet();
        long now = clock.millis();
        long last = lastWarning.get();
        if ((last == Long.MIN_VALUE || now - last >= warningInterval.toMillis())
                && lastWarning.compareAndSet(last, now)) {
            limitWarnings.incrementAndGet();
            log.log(System.Logger.Level.WARNING, "mbuf " + kind + " limit reached ("
                    + limit + " in use at " + Instant.ofEpochMilli(now) + "); raise the "
                    + kind + " limit");
        }
        return new NoBufferSpaceException("no buffer space: the " + kind + " limit of " + limit
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

    // ---------------------------------------------------------------- per-thread caches and counters

    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle COPIED;
    private static final VarHandle OWNERS;

    static {
        try {
            COPIED = MethodHandles.lookup().findVarHandle(CacheFields.class, "bytesCopied", long.class);
            OWNERS = MethodHandles.lookup().findVarHandle(CacheFields.class, "owners", int[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    /** Region sets a thread keeps for reuse; beyond that, freed chains' sets are left to the garbage collector. */
    private static final int REGION_CACHE = 16;
    /** Slots of {@link #homes}: a power of two. */
    private static final int HOME_SLOTS = 64;
    /** Idle handles a thread's cache keeps at most, when the pool {@linkplain #recyclesHandles recycles them}. */
    private static final int HANDLE_CACHE = 64;
    /** {@link Cache#out}: segments the thread took from the pool less those it gave back (after the padding). */
    private static final int OUT_SEGMENTS = Padding.INT_SLOTS;
    /** {@link Cache#out}: clusters the thread took from the pool less those it gave back. */
    private static final int OUT_CLUSTERS = Padding.INT_SLOTS + 1;
    /** Where {@link Cache#types} and {@link Cache#owners} counts start, after the padding. */
    private static final int FIRST_COUNT = Padding.INT_SLOTS;
    /** Where {@link Cache#idleRegions} and {@link Cache#idleHandles} items start, after the padding. */
    private static final int FIRST_IDLE = Padding.REFERENCE_SLOTS;

    /**
     * The threads' caches whose counts make up the in-use counts of a pool that
     * {@linkplain #countsPerThread counts per thread}, with what the caches of ended threads left behind.
     * Replaced whole (under {@link #caches}) when a thread registers, so that a reader sums a consistent
     * set without a lock.
     */
    private record Census(Cache[] caches, int retiredSegments, int retiredClusters) {
        /** The sum of every thread's segments out: exact when no thread is allocating or freeing meanwhile. */
        int segmentsInUse() {
            int sum = retiredSegments;
            for (Cache c : caches) {
                sum += (int) INTS.getOpaque(c.out, OUT_SEGMENTS);
            }
            return sum;
        }

        /** The sum of every thread's clusters out, as {@link #segmentsInUse()}. */
        int clustersInUse() {
            int sum = retiredClusters;
            for (Cache c : caches) {
                sum += (int) INTS.getOpaque(c.out, OUT_CLUSTERS);
            }
            return sum;
        }
    }

    /** A thread and its cache, as {@link #homes} holds them. */
    private record Home(long threadId, Cache cache) {
    }

    /** The slot of {@link #homes} for a thread id. */
    private static int homeSlot(long threadId) {
        return FIRST_IDLE + (int) (threadId & (HOME_SLOTS - 1));
    }

    private volatile Census census = new Census(new Cache[0], 0, 0);

    /**
     * One thread's share of the pool, as NetBSD's per-CPU pool caches and per-CPU statistics: its
     * magazines of idle segments and clusters, and its counts of segments by type and by owner. Only its
     * thread writes it, so the counts need no atomic instruction and no cache line is shared between
     * threads on the way; a read sums every thread's counts (a freeing thread's count goes negative when
     * another thread allocated). One look-up ({@link #cache()}) finds it for a whole operation.
     *
     * <p>The thread writes its {@code int} counts with plain stores, which cannot tear and which the compiler
     * may schedule freely; opaque stores, which it may not reorder, made an allocate + free about 5 ns (15 %)
     * slower. Readers load them with opaque access ({@link #INTS}), and see each count as the thread last
     * stored it: exact once the threads that allocate and free have synchronized with the reader (a join, a
     * lock, a queue hand-off), and in practice within moments otherwise. The {@code long} counts
     * ({@link #bytesCopied}, the magazines' {@code taken}) keep opaque stores, since a plain {@code long} may
     * tear.
     *
     * <p>What the thread writes on the way (these fields and the arrays' slots in use) is {@linkplain Padding
     * padded} on both sides, so that no other thread's data, nor the pool's own fields, share a cache line
     * with it: the fields follow {@link Padding}'s and precede {@link Cache}'s, and each array has the
     * padding before its first slot ({@link #FIRST_COUNT}, {@link #FIRST_IDLE}, {@link #OUT_SEGMENTS}) and
     * after its last.
     */
    private abstract static class CacheFields extends Padding {
        /** The {@linkplain Thread#threadId id} of the thread this cache belongs to. */
        final long threadId = Thread.currentThread().threadId();
        final ItemPool.Magazine segments;
        final ItemPool.Magazine clusters;
        /** Region sets of freed chains, cleared, for the next chains' first regions. */
        final Regions[] idleRegions = new Regions[FIRST_IDLE + REGION_CACHE + Padding.REFERENCE_SLOTS];
        int idleRegionCount;
        /** Segments allocated minus segments freed by this thread, at {@link #FIRST_COUNT} + {@link MbufType} ordinal. */
        final int[] types = new int[FIRST_COUNT + MbufType.values().length + Padding.INT_SLOTS];
        /**
         * This thread's part of every owner's counts, at {@link #FIRST_COUNT} {@code + owner.index * COUNTERS +
         * counter}; grown (by its thread) when a new owner is charged, and the grown array published with a
         * release store, so that a reader ({@link #owners()}, an acquire load) sees its counts copied.
         */
        private int[] owners = new int[FIRST_COUNT + Padding.INT_SLOTS];
        /**
         * Segments and clusters this thread took from the pool less those it gave back (either may be negative:
         * a thread that frees what others allocated), when the pool {@linkplain #countsPerThread counts per
         * thread}.
         */
        final int[] out = new int[OUT_CLUSTERS + 1 + Padding.INT_SLOTS];
        /** The highest {@link #out} values this thread has reached: a new high is when the pool's total may be one. */
        int segmentPeak;
        int clusterPeak;
        /**
         * Bytes this thread's chain operations copied from one storage to another; written by the thread only,
         * read by anyone through {@link #COPIED}.
         */
        @SuppressWarnings("unused") // accessed through COPIED
        private long bytesCopied;
        /** Handles of freed chains, when the pool recycles them; else null. */
        final Mbuf[] idleHandles;
        int idleHandleCount;

        CacheFields(ItemPool.Magazine segments, ItemPool.Magazine clusters, boolean recyclesHandles) {
            this.segments = segments;
            this.clusters = clusters;
            this.idleHandles = recyclesHandles ? new Mbuf[FIRST_IDLE + HANDLE_CACHE + Padding.REFERENCE_SLOTS] : null;
        }

        /** Counts segments and clusters taken; true if either count is a new high for this thread. */
        boolean countOut(int segmentCount, int clusterCount) {
            boolean newHigh = false;
            if (segmentCount != 0) {
                int n = out[OUT_SEGMENTS] += segmentCount;
                if (n > segmentPeak) {
                    segmentPeak = n;
                    newHigh = true;
                }
            }
            if (clusterCount != 0) {
                int n = out[OUT_CLUSTERS] += clusterCount;
                if (n > clusterPeak) {
                    clusterPeak = n;
                    newHigh = true;
                }
            }
            return newHigh;
        }

        /** Counts segments and clusters given back. */
        void countBack(int segmentCount, int clusterCount) {
            add(out, OUT_SEGMENTS, -segmentCount);
            if (clusterCount != 0) {
                add(out, OUT_CLUSTERS, -clusterCount);
            }
        }

        void countCopy(long bytes) {
            COPIED.setOpaque(this, (long) COPIED.getOpaque(this) + bytes);
        }

        long bytesCopied() {
            return (long) COPIED.getOpaque(this);
        }

        void add(int[] counts, int i, int delta) {
            counts[i] += delta; // a plain store: see the class comment
        }

        /** Adds or removes ({@code sign}) a segment of storage {@code kind} to {@code owner}'s counts; a new one is a claim. */
        void charge(MbufOwner owner, Storage.Kind kind, int sign) {
            int[] counts = countsFor(owner);
            int at = ownerAt(owner, 0);
            add(counts, at + MbufOwner.SEGMENTS, sign);
            int kindCounter = kind.ownerCounter;
            if (kindCounter >= 0) {
                add(counts, at + kindCounter, sign);
            }
            if (sign > 0) {
                add(counts, at + MbufOwner.CLAIMS, 1);
            }
        }

        /** A segment of {@code owner} changed its storage from {@code from} to {@code to}. */
        void recount(MbufOwner owner, Storage.Kind from, Storage.Kind to) {
            int before = from.ownerCounter;
            int after = to.ownerCounter;
            if (before != after) {
                int[] counts = countsFor(owner);
                int at = ownerAt(owner, 0);
                if (before >= 0) {
                    add(counts, at + before, -1);
                }
                if (after >= 0) {
                    add(counts, at + after, +1);
                }
            }
        }

        private int[] countsFor(MbufOwner owner) {
            int[] counts = owners;
            int needed = ownerAt(owner, MbufOwner.COUNTERS) + Padding.INT_SLOTS;
            if (counts.length < needed) {
                counts = java.util.Arrays.copyOf(counts, Math.max(needed, counts.length * 2));
                OWNERS.setRelease(this, counts);
            }
            return counts;
        }

        /** The owner counts as another thread reads them. */
        int[] owners() {
            return (int[]) OWNERS.getAcquire(this);
        }

        boolean isOrphaned() {
            return segments.isOrphaned();
        }
    }

    /** A thread's {@link CacheFields}, with the padding after them. */
    private static final class Cache extends CacheFields {
        @SuppressWarnings("unused")
        private long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;

        Cache(ItemPool.Magazine segments, ItemPool.Magazine clusters, boolean recyclesHandles) {
            super(segments, clusters, recyclesHandles);
        }
    }

    /** Where {@code owner}'s {@code counter} is in {@link Cache#owners} (and in {@link #retiredOwners}). */
    private static int ownerAt(MbufOwner owner, int counter) {
        return FIRST_COUNT + owner.index * MbufOwner.COUNTERS + counter;
    }

    /**
     * A handle for a new chain starting at {@code chain}: a freed one from the thread's cache if the pool
     * recycles handles and has one, else a new one.
     */
    Mbuf handle(Segment chain, boolean packet) {
        return recyclesHandles ? handle(cache(), chain, packet) : new Mbuf(this, chain, packet);
    }

    private Mbuf handle(Cache cache, Segment chain, boolean packet) {
        if (cache.idleHandles == null || cache.idleHandleCount == 0) {
            return new Mbuf(this, chain, packet);
        }
        Mbuf m = cache.idleHandles[FIRST_IDLE + --cache.idleHandleCount];
        cache.idleHandles[FIRST_IDLE + cache.idleHandleCount] = null;
        m.reuse(chain, packet);
        return m;
    }

    /**
     * {@code m_freem}'s pool side, with one look-up of the thread's cache: frees the segments from
     * {@code head} on, and keeps {@code handle} (already dead) for reuse if the pool recycles handles. The
     * chain's region set, cleared, stays with the kept handle for its next chain, else goes to the cache.
     */
    void freeChain(Segment head, Regions regions, Mbuf handle) {
        Cache cache = cache();
        while (head != null) {
            Segment next = head.next;
            if (head.pool == this) {
                free(cache, head);
            } else {
                free(head);
            }
            head = next;
        }
        if (cache.idleHandles != null && cache.idleHandleCount < HANDLE_CACHE) {
            cache.idleHandles[FIRST_IDLE + cache.idleHandleCount++] = handle;
            if (regions != Regions.NONE) {
                regions.clear();
                handle.keepRegions(regions);
            }
        } else {
            recycle(cache, regions);
        }
    }

    /**
     * An empty region set for a chain's first guaranteed region: one a freed chain gave back to this
     * thread's cache ({@link #recycle}), or a new one. Region sets are internal to chains and never escape,
     * so reusing them is safe, and a chain that takes a {@code ptr} allocates no region storage once warm.
     */
    Regions takeRegions() {
        Cache cache = cache();
        if (cache.idleRegionCount == 0) {
            return new Regions();
        }
        Regions regions = cache.idleRegions[FIRST_IDLE + --cache.idleRegionCount];
        cache.idleRegions[FIRST_IDLE + cache.idleRegionCount] = null;
        return regions;
    }

    /** Keeps the region set of a chain being freed for reuse by {@link #takeRegions()}; ignores {@link Regions#NONE}. */
    void recycle(Regions regions) {
        if (regions != Regions.NONE) {
            recycle(cache(), regions);
        }
    }

    private void recycle(Cache cache, Regions regions) {
        if (regions != Regions.NONE && cache.idleRegionCount < REGION_CACHE) {
            regions.clear();
            cache.idleRegions[FIRST_IDLE + cache.idleRegionCount++] = regions;
        }
    }

    /**
     * The calling thread's cache: from its slot of {@link #homes}, else from {@link #local}, else made now
     * (its first use of the pool).
     */
    private Cache cache() {
        long thread = Thread.currentThread().threadId();
        Home home = homes[homeSlot(thread)];
        if (home != null && home.threadId == thread) {
            return home.cache;
        }
        WeakReference<Cache> ref = local.get();
        Cache cache = ref == null ? null : ref.get();
        return cache != null ? cache : register();
    }

    /** Gives the calling thread a cache, and folds the counts of caches whose threads ended into the pool's. */
    private Cache register() {
        Cache cache = new Cache(segments.newMagazine(), clusters.newMagazine(), recyclesHandles);
        synchronized (caches) {
            int retiredSegments = census.retiredSegments();
            int retiredClusters = census.retiredClusters();
            for (int i = caches.size() - 1; i >= 0; i--) {
                Cache dead = caches.get(i);
                if (dead.isOrphaned()) {
                    retiredSegments += (int) INTS.getOpaque(dead.out, OUT_SEGMENTS);
                    retiredClusters += (int) INTS.getOpaque(dead.out, OUT_CLUSTERS);
                    for (int t = 0; t < retiredTypes.length; t++) {
                        retiredTypes[t] += (int) INTS.getOpaque(dead.types, FIRST_COUNT + t);
                    }
                    retiredBytesCopied += dead.bytesCopied();
                    int[] counts = dead.owners();
                    if (retiredOwners.length < counts.length) {
                        retiredOwners = java.util.Arrays.copyOf(retiredOwners, counts.length);
                    }
                    for (int j = 0; j < counts.length; j++) {
                        retiredOwners[j] += (int) INTS.getOpaque(counts, j);
                    }
                    caches.remove(i);
                    int slot = homeSlot(dead.threadId);
                    if (homes[slot] != null && homes[slot].cache == dead) {
                        homes[slot] = null;
                    }
                }
            }
            caches.add(cache);
            int slot = homeSlot(cache.threadId);
            if (homes[slot] == null) {
                homes[slot] = new Home(cache.threadId, cache);
            } else {
                local.set(new WeakReference<>(cache));
            }
            census = new Census(caches.toArray(new Cache[0]), retiredSegments, retiredClusters);
        }
        return cache;
    }

    /** The sum over every thread of {@code owner}'s {@code counter} ({@link MbufOwner#SEGMENTS}, ...). */
    int ownerCount(MbufOwner owner, int counter) {
        int at = ownerAt(owner, counter);
        synchronized (caches) {
            int sum = at < retiredOwners.length ? retiredOwners[at] : 0;
            for (Cache c : caches) {
                int[] counts = c.owners();
                if (at < counts.length) {
                    sum += (int) INTS.getOpaque(counts, at);
                }
            }
            return sum;
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
