package org.jmbuf.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.concurrent.TimeUnit;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Groups 1 and 2: allocate and free a packet with a 2 KB cluster, and a small header-only packet, against
 * Netty's pooled allocator. Nothing is held between operations. The {@code 2Threads} variants run the
 * same operation on two threads at once against one pool: JMH reports the time per operation of each
 * thread, so the scaling of two threads over one is {@code 2 x single / twoThreads}. The jmbuf rows use
 * {@link Packets#POOL}, which recycles handles; the {@code NewHandle} rows use a pool that does not (the
 * default), to show what the 80-byte handle of each new chain costs.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dio.netty.leakDetection.level=disabled"})
@State(Scope.Thread)
public class AllocBench {
    private final MbufPool pool = Packets.POOL;
    private final PooledByteBufAllocator netty = PooledByteBufAllocator.DEFAULT;

    // ---------------------------------------------------------------- 1. a packet with a 2 KB cluster

    @Benchmark
    public void cluster2k_jmbuf(Blackhole bh) {
        Mbuf m = pool.getCluster(true);
        bh.consume(m);
        m.free();
    }

    /** The same without handing the handle to the blackhole: can escape analysis remove the handle? */
    @Benchmark
    public void cluster2k_jmbufNotConsumed() {
        pool.getCluster(true).free();
    }

    /** {@link #cluster2k_jmbuf} on a pool that does not recycle handles (the default): a new handle each time. */
    @Benchmark
    public void cluster2k_jmbufNewHandle(Blackhole bh) {
        Mbuf m = Packets.NEW_HANDLES.getCluster(true);
        bh.consume(m);
        m.free();
    }

    /** {@link #cluster2k_jmbuf} on two threads sharing the pool. */
    @Benchmark
    @Threads(2)
    public void cluster2k_jmbuf2Threads(Blackhole bh) {
        cluster2k_jmbuf(bh);
    }

    @Benchmark
    public void cluster2k_nettyPooledDirect(Blackhole bh) {
        ByteBuf b = netty.directBuffer(2048);
        bh.consume(b);
        b.release();
    }

    /** {@link #cluster2k_nettyPooledDirect} on two threads sharing the allocator. */
    @Benchmark
    @Threads(2)
    public void cluster2k_nettyPooledDirect2Threads(Blackhole bh) {
        cluster2k_nettyPooledDirect(bh);
    }

    @Benchmark
    public void cluster2k_nettyPooledHeap(Blackhole bh) {
        ByteBuf b = netty.heapBuffer(2048);
        bh.consume(b);
        b.release();
    }

    // ---------------------------------------------------------------- 2. a small header-only packet

    @Benchmark
    public void small_jmbuf(Blackhole bh) {
        Mbuf m = pool.getPacket();
        bh.consume(m);
        m.free();
    }

    @Benchmark
    public void small_jmbufNotConsumed() {
        pool.getPacket().free();
    }

    /** {@link #small_jmbuf} on a pool that does not recycle handles (the default): a new handle each time. */
    @Benchmark
    public void small_jmbufNewHandle(Blackhole bh) {
        Mbuf m = Packets.NEW_HANDLES.getPacket();
        bh.consume(m);
        m.free();
    }

    /** {@code buffer(256)}: direct when Netty can use Unsafe (its default preference), else heap. */
    @Benchmark
    public void small_nettyPooledBuffer256(Blackhole bh) {
        ByteBuf b = netty.buffer(256);
        bh.consume(b);
        b.release();
    }

    @Benchmark
    public void small_nettyPooledHeap256(Blackhole bh) {
        ByteBuf b = netty.heapBuffer(256);
        bh.consume(b);
        b.release();
    }
}
