package org.jmbuf.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Groups 5 and 6: share a 1500-byte packet of three segments ({@code copyPacket}) and free the copy; and
 * write 4 bytes into a shared cluster with copy on write, against Netty's copy-then-write.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dio.netty.leakDetection.level=disabled"})
@State(Scope.Thread)
public class CopyBench {
    private final MbufPool pool = Packets.POOL;
    private final PooledByteBufAllocator netty = PooledByteBufAllocator.DEFAULT;
    Mbuf threeSegments;
    Mbuf oneCluster;
    Mbuf oneClusterShared;
    CompositeByteBuf composite;
    ByteBuf flat;
    ByteBuf flatShared;
    final MemorySegment word = MemorySegment.ofArray(new byte[] {1, 2, 3, 4});

    @Setup(Level.Trial)
    public void setUp() {
        byte[] data = Packets.data(1500);
        threeSegments = Packets.chain(pool, data, 500, 500, 500);
        oneCluster = Packets.chain(pool, data, 1500);
        oneClusterShared = oneCluster.copyPacket(); // the cluster is shared, so read-only, for the whole run
        composite = Packets.composite(netty, data, 500, 500, 500);
        flat = Packets.flat(netty, data);
        flatShared = flat.retainedDuplicate();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        threeSegments.free();
        oneClusterShared.free();
        oneCluster.free();
        composite.release();
        flatShared.release();
        flat.release();
    }

    // ---------------------------------------------------------------- 5. copyPacket and free

    @Benchmark
    public void copyPacket_jmbuf3SegFree() {
        threeSegments.copyPacket().free();
    }

    @Benchmark
    public void copyPacket_nettyCompositeRetainedDuplicateRelease() {
        composite.retainedDuplicate().release();
    }

    @Benchmark
    public void copyPacket_nettyCompositeRetainedSliceRelease() {
        composite.retainedSlice(0, 1500).release();
    }

    /** For reference: one pooled buffer's retainedDuplicate comes from Netty's recycler. */
    @Benchmark
    public void copyPacket_nettyFlatRetainedDuplicateRelease() {
        flat.retainedDuplicate().release();
    }

    // ---------------------------------------------------------------- 6. copy on write of 4 bytes

    /** Baseline for the one below: share the cluster and free the copy. */
    @Benchmark
    public void cow_jmbufCopyPacketFree() {
        oneCluster.copyPacket().free();
    }

    /** Share the cluster, write 4 bytes at offset 24 (copied into fresh storage first), free. */
    @Benchmark
    public void cow_jmbufCopyPacketCopyBackCowFree() {
        Mbuf c = oneCluster.copyPacket();
        c.copyBackCow(24, word);
        c.free();
    }

    /** Netty has no copy on write: copy the shared buffer (1500 bytes, pooled), write, release. */
    @Benchmark
    public void cow_nettyCopySetIntRelease() {
        ByteBuf c = flat.copy();
        c.setInt(24, 0x01020304);
        c.release();
    }
}
