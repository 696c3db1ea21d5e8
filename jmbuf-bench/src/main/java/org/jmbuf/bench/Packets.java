package org.jmbuf.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;

/** Test packets built the same way for jmbuf and for Netty, and the header fields every benchmark reads. */
public final class Packets {
    /** Big-endian unaligned views of a header's words, as a protocol reads them. */
    public static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** Big-endian unaligned 16-bit words. */
    public static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /**
     * The pool of every jmbuf benchmark but the "new handle" rows: no limits, and handles recycled
     * ({@link MbufPool.Builder#recycleHandles}), so that making a chain allocates nothing on the heap.
     */
    public static final MbufPool POOL = MbufPool.builder().recycleHandles(true).build();
    /** The same pool without handle recycling (the default): every new chain allocates its handle. */
    public static final MbufPool NEW_HANDLES = MbufPool.builder().recycleHandles(false).build();

    private Packets() {
    }

    /** {@code length} bytes that start with an IPv4 header (20 bytes, UDP, 192.0.2.1 to 198.51.100.2). */
    public static byte[] data(int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        byte[] ip = {0x45, 0, (byte) (length >>> 8), (byte) length, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0,
            (byte) 192, 0, 2, 1, (byte) 198, 51, 100, 2};
        System.arraycopy(ip, 0, b, 0, Math.min(ip.length, length));
        return b;
    }

    /** {@code total} bytes cut into {@code count} segments as even as possible (even lengths but the last). */
    public static int[] even(int total, int count) {
        int[] sizes = new int[count];
        int each = (total / count) & ~1;
        Arrays.fill(sizes, each);
        sizes[count - 1] = total - each * (count - 1);
        return sizes;
    }

    /**
     * A packet holding {@code data} in one pooled cluster per entry of {@code sizes}, each segment's bytes
     * at the end of its cluster (so {@link Mbuf#cat} links the next cluster instead of copying into
     * trailing space). Every cluster is writable: nothing shares it.
     */
    public static Mbuf chain(MbufPool pool, byte[] data, int... sizes) {
        Mbuf head = null;
        int at = 0;
        try {
            for (int size : sizes) {
                Mbuf part = pool.getCluster(head == null);
                part.align(size);
                part.copyBack(0, MemorySegment.ofArray(data).asSlice(at, size));
                at += size;
                if (head == null) {
                    head = part;
                } else {
                    head.cat(part);
                }
            }
            if (head == null || head.segmentCount() != sizes.length || at != data.length) {
                throw new IllegalStateException("expected " + sizes.length + " segments holding " + data.length
                        + " bytes, made " + head);
            }
            return head;
        } catch (RuntimeException e) {
            if (head != null) {
                head.close();
            }
            throw e;
        }
    }

    /** The same bytes in a Netty composite of pooled direct buffers, one component per entry of {@code sizes}. */
    public static CompositeByteBuf composite(ByteBufAllocator alloc, byte[] data, int... sizes) {
        CompositeByteBuf c = alloc.compositeDirectBuffer(Integer.MAX_VALUE);
        int at = 0;
        for (int size : sizes) {
            c.addComponent(true, alloc.directBuffer(size, size).writeBytes(data, at, size));
            at += size;
        }
        if (c.numComponents() != sizes.length || c.readableBytes() != data.length) {
            c.release();
            throw new IllegalStateException("composite of " + c.numComponents() + " components");
        }
        return c;
    }

    /** The same bytes in one pooled direct Netty buffer. */
    public static ByteBuf flat(ByteBufAllocator alloc, byte[] data) {
        return alloc.directBuffer(data.length, data.length).writeBytes(data);
    }

    /** Reads version/IHL, total length, protocol, source and destination of an IPv4 header at 0. */
    public static int readFields(MemorySegment h) {
        return h.get(ValueLayout.JAVA_BYTE, 0) + h.get(U16, 2) + h.get(ValueLayout.JAVA_BYTE, 9) + h.get(U32, 12)
                + h.get(U32, 16);
    }

    /** The same fields read from a Netty buffer at {@code off} (Netty's accessors are big-endian). */
    public static int readFields(ByteBuf b, int off) {
        return b.getByte(off) + b.getShort(off + 2) + b.getByte(off + 9) + b.getInt(off + 12) + b.getInt(off + 16);
    }
}
