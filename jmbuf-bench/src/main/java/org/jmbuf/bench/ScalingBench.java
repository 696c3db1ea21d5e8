package org.jmbuf.bench;

import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.jmbuf.buf.Mbuf;
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
 * How costs grow: {@code pulldown} with the number of bytes it moves, and a chain walk ({@code copyData},
 * {@code apply}) with the number of segments.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dio.netty.leakDetection.level=disabled"})
public class ScalingBench {
    /**
     * A 2048-byte packet in one cluster that a second packet shares, so it is read-only: {@code pulldown(0,
     * len)} on a fresh {@code copyPacket} copies exactly {@code len} bytes (into inline storage up to 224
     * bytes, a cluster above).
     */
    @State(Scope.Thread)
    public static class SharedPacket {
        Mbuf packet;
        Mbuf sharer;

        @Setup(Level.Trial)
        public void setUp() {
            packet = Packets.chain(Packets.POOL, Packets.data(2048), 2048);
            sharer = packet.copyPacket();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            sharer.free();
            packet.free();
        }
    }

    /** {@link SharedPacket} and how many bytes to pull down. */
    @State(Scope.Thread)
    public static class Shared extends SharedPacket {
        @Param({"16", "128", "512", "1024", "2048"})
        public int bytes;
    }

    /** 1536 bytes in {@code segments} equal segments, and a Netty composite of as many components. */
    @State(Scope.Thread)
    public static class Walk {
        static final int LENGTH = 1536;
        @Param({"1", "4", "16", "64"})
        public int segments;
        Mbuf packet;
        CompositeByteBuf composite;
        final byte[] destination = new byte[LENGTH];
        final Counter counter = new Counter();

        @Setup(Level.Trial)
        public void setUp() {
            byte[] data = Packets.data(LENGTH);
            int[] sizes = Packets.even(LENGTH, segments);
            packet = Packets.chain(Packets.POOL, data, sizes);
            composite = Packets.composite(PooledByteBufAllocator.DEFAULT, data, sizes);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            packet.free();
            composite.release();
        }
    }

    /** An {@code m_apply} function that looks at the first byte of each piece. */
    static final class Counter implements Mbuf.ChunkFunction {
        int seen;

        @Override
        public int apply(MemorySegment chunk) {
            seen += chunk.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0) + (int) chunk.byteSize();
            return 0;
        }
    }

    /** Share, copy {@code bytes} read-only bytes into writable storage, free. */
    @Benchmark
    public void pulldown_jmbufCopyPacketPulldownFree(Shared s) {
        Mbuf c = s.packet.copyPacket();
        c.pulldown(0, s.bytes);
        c.free();
    }

    /** Baseline for the one above (no pulldown). */
    @Benchmark
    public void pulldown_jmbufCopyPacketFree(SharedPacket s) {
        s.packet.copyPacket().free();
    }

    @Benchmark
    public byte[] walk_jmbufCopyData(Walk w) {
        w.packet.copyData(0, Walk.LENGTH, w.destination, 0);
        return w.destination;
    }

    @Benchmark
    public int walk_jmbufApply(Walk w) {
        w.counter.seen = 0;
        w.packet.apply(0, Walk.LENGTH, w.counter);
        return w.counter.seen;
    }

    @Benchmark
    public byte[] walk_nettyCompositeGetBytes(Walk w) {
        w.composite.getBytes(0, w.destination);
        return w.destination;
    }
}
