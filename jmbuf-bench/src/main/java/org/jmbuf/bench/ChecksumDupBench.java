package org.jmbuf.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.wire.InternetChecksum;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Groups 7 and 8: the Internet checksum of a 1500-byte packet over 1, 3 and 8 segments, and {@code dup}
 * (a deep copy) of a 1500-byte packet, each against the plain limit on flat memory.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dio.netty.leakDetection.level=disabled"})
public class ChecksumDupBench {
    static final int LENGTH = 1500;

    /** A 1500-byte packet in {@code segments} clusters (even lengths, so no byte swapping between pieces). */
    @State(Scope.Thread)
    public static class Chain {
        @Param({"1", "3", "8"})
        public int segments;
        Mbuf packet;
        /** Reused from call to call, as the stack's input path does, so that a sum allocates nothing. */
        final InternetChecksum.ChainSum summer = new InternetChecksum.ChainSum();

        @Setup(Level.Trial)
        public void setUp() {
            packet = Packets.chain(Packets.POOL, Packets.data(LENGTH), Packets.even(LENGTH, segments));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            packet.free();
        }
    }

    /** The same bytes flat: a byte array, a native segment and a destination, and Netty buffers. */
    @State(Scope.Thread)
    public static class Flat {
        final byte[] array = Packets.data(LENGTH);
        final MemorySegment segment = Arena.ofAuto().allocate(LENGTH, 16).copyFrom(MemorySegment.ofArray(array));
        final MemorySegment destination = Arena.ofAuto().allocate(LENGTH, 16);
        ByteBuf netty;
        CompositeByteBuf nettyComposite;

        @Setup(Level.Trial)
        public void setUp() {
            netty = Packets.flat(PooledByteBufAllocator.DEFAULT, array);
            nettyComposite = Packets.composite(PooledByteBufAllocator.DEFAULT, array, 500, 500, 500);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            netty.release();
            nettyComposite.release();
        }
    }

    // ---------------------------------------------------------------- 7. Internet checksum

    /**
     * The sum over the chain with a reused {@link InternetChecksum.ChainSum}. The one-off
     * {@link InternetChecksum#sum(Mbuf, int, int)} makes a summer per call, which escape analysis no longer
     * removes since the flat kernel was vectorized (32 B/op).
     */
    @Benchmark
    public int checksum_jmbuf(Chain c) {
        return InternetChecksum.finish(c.summer.sum(c.packet, 0, LENGTH));
    }

    /** The limit asked for: a plain loop over a byte array, 16 bits at a time. */
    @Benchmark
    public int checksum_limitByteArrayLoop(Flat f) {
        byte[] b = f.array;
        long sum = 0;
        for (int i = 0; i + 1 < LENGTH; i += 2) {
            sum += ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
        }
        return InternetChecksum.finish(sum);
    }

    /** jmbuf's own kernel (32 bits at a time) over one flat native segment: what the chain walk adds to. */
    @Benchmark
    public int checksum_limitFlatSegment(Flat f) {
        return InternetChecksum.finish(InternetChecksum.sum(f.segment, 0, LENGTH));
    }

    // ---------------------------------------------------------------- 8. dup

    @Benchmark
    public void dup_jmbufFree(Chain c) {
        c.packet.dup(0, LENGTH).free();
    }

    /** The limit: copying 1500 bytes between two native segments. */
    @Benchmark
    public void dup_limitMemorySegmentCopy(Flat f) {
        MemorySegment.copy(f.segment, 0, f.destination, 0, LENGTH);
    }

    /** Netty's deep copy of one pooled buffer (a pooled allocation and a 1500-byte copy). */
    @Benchmark
    public void dup_nettyFlatCopyRelease(Flat f) {
        f.netty.copy().release();
    }

    /** Netty's deep copy of a three-component composite. */
    @Benchmark
    public void dup_nettyComposite3CopyRelease(Flat f) {
        f.nettyComposite.copy().release();
    }
}
