package org.jmbuf.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * The bytes of a capture file (its read-only mapping) with readers of unsigned fields in a given byte
 * order. Callers check with {@link #remaining(long)} before they read; the readers do not check again.
 */
final class CaptureBytes {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    final Path file;
    final MemorySegment bytes;
    final long size;

    CaptureBytes(Path file, MemorySegment bytes) {
        this.file = file;
        this.bytes = bytes;
        this.size = bytes.byteSize();
    }

    long remaining(long offset) {
        return size - offset;
    }

    CaptureFormatException error(long offset, String problem) {
        return new CaptureFormatException(file, offset, problem);
    }

    int u8(long offset) {
        return bytes.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    int u16(long offset, ByteOrder order) {
        return bytes.get(order == ByteOrder.BIG_ENDIAN ? SHORT_BE : SHORT_LE, offset) & 0xFFFF;
    }

    long u32(long offset, ByteOrder order) {
        return bytes.get(order == ByteOrder.BIG_ENDIAN ? INT_BE : INT_LE, offset) & 0xFFFF_FFFFL;
    }

    /** The 32-bit field as Java int bits, for magic numbers. */
    int bits32(long offset, ByteOrder order) {
        return bytes.get(order == ByteOrder.BIG_ENDIAN ? INT_BE : INT_LE, offset);
    }

    long s64(long offset, ByteOrder order) {
        return bytes.get(order == ByteOrder.BIG_ENDIAN ? LONG_BE : LONG_LE, offset);
    }

    /** A read-only slice: the packet bytes a chain will share. */
    MemorySegment slice(long offset, int length) {
        return bytes.asSlice(offset, length).asReadOnly();
    }
}
