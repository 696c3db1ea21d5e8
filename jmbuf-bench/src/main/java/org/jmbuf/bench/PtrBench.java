package org.jmbuf.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.foreign.Arena;
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
 * Groups 3 and 4: {@code ptr} of a 20-byte IPv4 header, then five field reads through the view.
 *
 * <p>Group 3 (contiguous): the header lies in the first of three 500-byte segments, on writable storage
 * and on read-only shared storage (the packet and a {@code copyPacket} of it share every cluster). The
 * chains are kept across operations: {@code ptr} of a contiguous range copies nothing and changes nothing,
 * so every call does the same work. {@code pulldown} of read-only bytes must copy, which changes the chain,
 * so it is measured on a fresh {@code copyPacket} each time, beside {@code copyPacket + ptr} and the
 * {@code copyPacket + free} baseline.
 *
 * <p>Group 4 (straddling): segments of 14, 486 and 1000 bytes, so the header (and its source address word)
 * crosses the first boundary. {@code ptr} on shared storage copies the 20 bytes into a new segment, which
 * changes the chain, so it is measured on a fresh {@code copyPacket}; Netty reads across components in place.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dio.netty.leakDetection.level=disabled"})
@State(Scope.Thread)
public class PtrBench {
    static final int[] CONTIGUOUS = {500, 500, 500};
    static final int[] STRADDLING = {14, 486, 1000};

    private final MbufPool pool = Packets.POOL;
    private final PooledByteBufAllocator netty = PooledByteBufAllocator.DEFAULT;
    Mbuf writable;
    Mbuf original;
    Mbuf sharedCopy;
    Mbuf straddling;
    CompositeByteBuf composite;
    CompositeByteBuf compositeStraddling;
    ByteBuf flat;
    MemorySegment limit;

    @Setup(Level.Trial)
    public void setUp() {
        byte[] data = Packets.data(1500);
        writable = Packets.chain(pool, data, CONTIGUOUS);
        original = Packets.chain(pool, data, CONTIGUOUS);
        sharedCopy = original.copyPacket();
        straddling = Packets.chain(pool, data, STRADDLING);
        composite = Packets.composite(netty, data, CONTIGUOUS);
        compositeStraddling = Packets.composite(netty, data, STRADDLING);
        flat = Packets.flat(netty, data);
        limit = Arena.ofAuto().allocate(1500, 16).copyFrom(MemorySegment.ofArray(data));
        if (writable.isReadOnly(0, 20) || !sharedCopy.isReadOnly(0, 20) || straddling.isContiguous(0, 20)) {
            throw new IllegalStateException("the test packets do not have the intended shape");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        writable.free();
        sharedCopy.free();
        original.free();
        straddling.free();
        composite.release();
        compositeStraddling.release();
        flat.release();
    }

    // ---------------------------------------------------------------- 3. contiguous header

    @Benchmark
    public int contiguous_jmbufPtrWritable() {
        return Packets.readFields(writable.ptr(0, 20));
    }

    @Benchmark
    public int contiguous_jmbufPtrReadOnlyShared() {
        return Packets.readFields(sharedCopy.ptr(0, 20));
    }

    @Benchmark
    public int contiguous_nettyCompositeReads() {
        return Packets.readFields(composite, 0);
    }

    @Benchmark
    public int contiguous_nettyFlatReads() {
        return Packets.readFields(flat, 0);
    }

    /** The limit: the same reads from a flat native segment, no chain at all. */
    @Benchmark
    public int contiguous_limitSegmentReads() {
        return Packets.readFields(limit);
    }

    /** Baseline for the two below: share every cluster of the packet, then free the copy. */
    @Benchmark
    public void contiguous_jmbufCopyPacketFree() {
        original.copyPacket().free();
    }

    @Benchmark
    public int contiguous_jmbufCopyPacketPtrFree() {
        Mbuf c = original.copyPacket();
        int r = Packets.readFields(c.ptr(0, 20));
        c.free();
        return r;
    }

    /** pulldown returns a writable view, so it copies the read-only header (copy on write). */
    @Benchmark
    public int contiguous_jmbufCopyPacketPulldownFree() {
        Mbuf c = original.copyPacket();
        int r = Packets.readFields(c.pulldown(0, 20));
        c.free();
        return r;
    }

    @Benchmark
    public int contiguous_nettyRetainedDuplicateReadsRelease() {
        ByteBuf d = composite.retainedDuplicate();
        int r = Packets.readFields(d, 0);
        d.release();
        return r;
    }

    // ---------------------------------------------------------------- 4. header straddling two segments

    /** Share the packet, make the straddling header contiguous (copies 20 bytes), read, free. */
    @Benchmark
    public int straddle_jmbufCopyPacketPtrFree() {
        Mbuf c = straddling.copyPacket();
        int r = Packets.readFields(c.ptr(0, 20));
        c.free();
        return r;
    }

    /** Baseline for the one above. */
    @Benchmark
    public void straddle_jmbufCopyPacketFree() {
        straddling.copyPacket().free();
    }

    @Benchmark
    public int straddle_nettyCompositeReads() {
        return Packets.readFields(compositeStraddling, 0);
    }

    @Benchmark
    public int straddle_nettyRetainedDuplicateReadsRelease() {
        ByteBuf d = compositeStraddling.retainedDuplicate();
        int r = Packets.readFields(d, 0);
        d.release();
        return r;
    }
}
