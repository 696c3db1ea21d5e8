package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Network byte order (big-endian), unaligned field access on memory segments: the one place that knows
 * how a header field is read. Offsets are bytes from the start of the segment; every access is bounds
 * checked by the segment itself.
 */
public final class Bytes {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private Bytes() {
    }

    /** The unsigned byte at {@code offset}. */
    public static int u8(MemorySegment s, long offset) {
        return Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, offset));
    }

    /** The unsigned 16-bit big-endian field at {@code offset}. */
    public static int u16(MemorySegment s, long offset) {
        return Short.toUnsignedInt(s.get(U16, offset));
    }

    /** The 32-bit big-endian field at {@code offset}, as an int (unsigned values wrap). */
    public static int u32(MemorySegment s, long offset) {
        return s.get(U32, offset);
    }

    /** The 64-bit big-endian field at {@code offset}. */
    public static long u64(MemorySegment s, long offset) {
        return s.get(U64, offset);
    }

    /** Writes the low 8 bits of {@code value} at {@code offset}. */
    public static void setU8(MemorySegment s, long offset, int value) {
        s.set(ValueLayout.JAVA_BYTE, offset, (byte) value);
    }

    /** Writes the low 16 bits of {@code value}, big-endian, at {@code offset}. */
    public static void setU16(MemorySegment s, long offset, int value) {
        s.set(U16, offset, (short) value);
    }

    /** Writes {@code value}, big-endian, at {@code offset}. */
    public static void setU32(MemorySegment s, long offset, int value) {
        s.set(U32, offset, value);
    }

    /** Writes {@code value}, big-endian, at {@code offset}. */
    public static void setU64(MemorySegment s, long offset, long value) {
        s.set(U64, offset, value);
    }
}
