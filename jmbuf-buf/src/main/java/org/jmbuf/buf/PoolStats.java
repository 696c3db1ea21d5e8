package org.jmbuf.buf;

import java.util.Map;

/**
 * A snapshot of a pool's counters: the {@code mbstat} of NetBSD together with the pool(9) numbers
 * of {@code mbpl} and {@code mclpl}. A snapshot is not atomic across fields while other threads allocate.
 *
 * <p>A pool with a limit counts segments and clusters in use in one shared word: those counts and the
 * high waters are exact at every instant. A pool without limits counts them per thread, as NetBSD's
 * per-CPU caches do, and the snapshot sums the threads' counts: exact whenever no other thread allocates
 * or frees at the same moment and those that did have synchronized with the reader since (a join, a lock,
 * a queue hand-off: the threads store their counts with plain stores); its high waters are exact while one thread at a time allocates, and may
 * be lower than the true peak when several threads allocate at once (docs/mbuf-api.md §5.4).
 *
 * @param segmentsInUse      segments (mbufs) allocated and not yet freed
 * @param clustersInUse      clusters referenced by at least one segment
 * @param externalInUse      external storages ({@link MbufPool#wrap}) not yet released
 * @param largeBuffersInUse  buffers made for a contiguous range longer than a cluster, not yet released
 * @param segmentsIdle       idle segments in the shared depot (per-thread caches not counted)
 * @param clustersIdle       idle clusters in the shared depot (per-thread caches not counted)
 * @param segmentHighWater   the most segments ever in use at once
 * @param clusterHighWater   the most clusters ever in use at once
 * @param segmentAllocations segments handed out since the pool was built
 * @param clusterAllocations clusters handed out since the pool was built
 * @param failures           allocations refused, by a limit or an injected fault ({@code m_drops})
 * @param drains             times the drain hooks ran, because a limit was reached or
 *                           {@link MbufPool#reclaim()} was called ({@code m_drain})
 * @param limitWarnings      "limit reached" warnings logged (at most one per warning interval, a minute
 *                           by default, per pool and kind)
 * @param bytesCopied        bytes that chain operations copied from one storage to another (pullup,
 *                           copy on write, deep copy, splitting inline data, ...); never bytes that a
 *                           caller wrote or read
 * @param segmentsInUseByType segments in use for each {@link MbufType} ({@code m_mtypes}); as NetBSD's
 *                           per-CPU {@code mbstat}, each thread counts its own allocations and frees and
 *                           the snapshot sums them, so these counts are exact under the condition
 *                           above
 */
public record PoolStats(
        int segmentsInUse,
        int clustersInUse,
        int externalInUse,
        int largeBuffersInUse,
        int segmentsIdle,
        int clustersIdle,
        int segmentHighWater,
        int clusterHighWater,
        long segmentAllocations,
        long clusterAllocations,
        long failures,
        long drains,
        long limitWarnings,
        long bytesCopied,
        Map<MbufType, Integer> segmentsInUseByType) {

    /** True when nothing is in use: no segment, cluster, external storage or large buffer. */
    public boolean isQuiescent() {
        return segmentsInUse == 0 && clustersInUse == 0 && externalInUse == 0 && largeBuffersInUse == 0;
    }

    /** A table in the style of {@code netstat -m}, one counter a line. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        line(out, "segments in use", segmentsInUse);
        line(out, "clusters in use", clustersInUse);
        line(out, "external storage in use", externalInUse);
        line(out, "large buffers in use", largeBuffersInUse);
        line(out, "idle segments (depot)", segmentsIdle);
        line(out, "idle clusters (depot)", clustersIdle);
        line(out, "segment high water", segmentHighWater);
        line(out, "cluster high water", clusterHighWater);
        line(out, "segment allocations", segmentAllocations);
        line(out, "cluster allocations", clusterAllocations);
        line(out, "requests for memory denied", failures);
        line(out, "calls to protocol drain routines", drains);
        line(out, "limit warnings logged", limitWarnings);
        line(out, "bytes copied by chain operations", bytesCopied);
        segmentsInUseByType.forEach((type, count) -> {
            if (count != 0) {
                line(out, "segments of type " + type.label(), count);
            }
        });
        return out.toString();
    }

    private static void line(StringBuilder out, String what, long value) {
        out.append(String.format("%12d %s%n", value, what));
    }
}
