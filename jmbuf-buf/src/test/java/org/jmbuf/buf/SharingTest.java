package org.jmbuf.buf;

import static org.jmbuf.buf.AcceptanceFixtures.bytesOf;
import static org.jmbuf.buf.AcceptanceFixtures.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Acceptance: copyPacket of a cluster packet shares the cluster; writing through either copy's ptrRw
 * leaves the other unchanged.
 */
class SharingTest {
    private static final int LEN = 1000;

    /** An immutable tag: copies of the packet share it. */
    record Mark(int value) implements PacketTag { }

    /** A mutable tag: copies of the packet get their own. */
    static final class Counter implements PacketTag {
        int count;

        Counter(int count) {
            this.count = count;
        }

        @Override
        public PacketTag copyForPacket() {
            return new Counter(count);
        }
    }

    private static Mbuf clusterPacket(MbufPool pool, byte[] data) {
        Mbuf m = pool.getCluster(true);
        m.copyBack(0, data);
        assertEquals(1, m.segmentCount());
        assertEquals(1, pool.stats().clustersInUse());
        assertFalse(m.isReadOnly(0, data.length), "a cluster referenced once is writable");
        return m;
    }

    private static byte[] with(byte[] base, int off, byte[] src) {
        byte[] out = base.clone();
        System.arraycopy(src, 0, out, off, src.length);
        return out;
    }

    private static byte[] filled(int n, int value) {
        byte[] out = new byte[n];
        Arrays.fill(out, (byte) value);
        return out;
    }

    @Test
    void copyPacketSharesTheClusterAndWritesThroughEitherSideStayPrivate() {
        MbufPool pool = MbufPool.builder().build();
        byte[] data = pattern(LEN, 1);
        try (Mbuf original = clusterPacket(pool, data)) {
            long clustersBefore = pool.stats().clusterAllocations();
            long copiedBefore = pool.stats().bytesCopied();
            try (Mbuf copy = original.copyPacket()) {
                PoolStats s = pool.stats();
                assertEquals(1, s.clustersInUse(), "copyPacket must share the cluster");
                assertEquals(clustersBefore, s.clusterAllocations());
                assertEquals(copiedBefore, s.bytesCopied(), "copyPacket of a cluster copies no byte");
                assertTrue(original.isReadOnly(0, LEN));
                assertTrue(copy.isReadOnly(0, LEN));
                assertArrayEquals(data, copy.toByteArray());

                // write through the original: the copy does not see it
                MemorySegment w1 = original.ptrRw(100, 50);
                assertFalse(w1.isReadOnly());
                MemorySegment.copy(MemorySegment.ofArray(filled(50, 0x11)), 0, w1, 0, 50);
                byte[] expectedOriginal = with(data, 100, filled(50, 0x11));
                assertArrayEquals(expectedOriginal, original.toByteArray());
                assertArrayEquals(data, copy.toByteArray(), "a write through the original showed in the copy");

                // and the other way round, on the same bytes and elsewhere
                MemorySegment w2 = copy.ptrRw(120, 300);
                MemorySegment.copy(MemorySegment.ofArray(filled(300, 0x22)), 0, w2, 0, 300);
                MemorySegment w3 = copy.ptrRw(0, 10);
                MemorySegment.copy(MemorySegment.ofArray(filled(10, 0x33)), 0, w3, 0, 10);
                byte[] expectedCopy = with(with(data, 120, filled(300, 0x22)), 0, filled(10, 0x33));
                assertArrayEquals(expectedCopy, copy.toByteArray());
                assertArrayEquals(expectedOriginal, original.toByteArray(),
                        "a write through the copy showed in the original");
                original.verify();
                copy.verify();
                // the original's earlier writable view is still its bytes
                assertArrayEquals(filled(50, 0x11), bytesOf(w1));
            }
            // copy freed: does the original still share with anyone? Its cluster pieces may be split into
            // several segments (left and right of the copy on write), which share the cluster among
            // themselves, so only check that the chain is intact and freeing works.
            assertArrayEquals(with(data, 100, filled(50, 0x11)), original.toByteArray());
            original.verify();
        }
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    @Test
    void afterFreeingTheOriginalTheCopyOwnsTheClusterAndWritesInPlace() {
        MbufPool pool = MbufPool.builder().build();
        byte[] data = pattern(LEN, 2);
        Mbuf original = clusterPacket(pool, data);
        try (Mbuf copy = original.copyPacket()) {
            assertTrue(copy.isReadOnly(0, LEN));
            assertTrue(original.isReadOnly(0, LEN));
            original.free();
            assertEquals(1, pool.stats().clustersInUse());
            assertFalse(copy.isReadOnly(0, LEN), "the last reference to a cluster must make it writable again");
            long copied = pool.stats().bytesCopied();
            long segments = pool.stats().segmentAllocations();
            MemorySegment w = copy.ptrRw(200, 100);
            w.fill((byte) 0x44);
            assertEquals(copied, pool.stats().bytesCopied(), "ptrRw of an unshared cluster must not copy");
            assertEquals(segments, pool.stats().segmentAllocations(), "ptrRw of an unshared cluster allocated");
            assertEquals(1, copy.segmentCount());
            assertArrayEquals(with(data, 200, filled(100, 0x44)), copy.toByteArray());
            copy.verify();
        }
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    @Test
    void afterFreeingTheCopyTheOriginalOwnsTheClusterAgain() {
        MbufPool pool = MbufPool.builder().build();
        byte[] data = pattern(LEN, 3);
        try (Mbuf original = clusterPacket(pool, data)) {
            Mbuf copy = original.copyPacket();
            assertTrue(original.isReadOnly(0, LEN));
            // a write through the copy at its start keeps one cluster segment in each chain
            MemorySegment w = copy.ptrRw(0, 40);
            w.fill((byte) 0x55);
            assertTrue(original.isReadOnly(0, LEN), "still shared with the copy's remaining cluster segment");
            assertArrayEquals(data, original.toByteArray());
            copy.free();
            assertFalse(original.isReadOnly(0, LEN));
            long copied = pool.stats().bytesCopied();
            MemorySegment w2 = original.ptrRw(0, LEN);
            w2.fill((byte) 0x66);
            assertEquals(copied, pool.stats().bytesCopied(), "ptrRw of an unshared cluster must not copy");
            assertArrayEquals(filled(LEN, 0x66), original.toByteArray());
        }
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    @Test
    void copyPacketCopiesTheHeaderAndTags() {
        MbufPool pool = MbufPool.builder().build();
        try (Mbuf original = clusterPacket(pool, pattern(300, 4))) {
            original.setReceivingInterface(7);
            original.setChecksumFlags(ChecksumFlags.TCP_V4 | ChecksumFlags.DATA);
            original.setChecksumData(0xBEEF);
            original.setSegmentSize(1460);
            Mark mark = new Mark(42);
            Counter counter = new Counter(3);
            original.addTag(mark);
            original.addTag(counter);
            try (Mbuf copy = original.copyPacket()) {
                assertTrue(copy.isPacket(), "copyPacket must give a packet");
                assertEquals(7, copy.receivingInterface());
                assertEquals(ChecksumFlags.TCP_V4 | ChecksumFlags.DATA, copy.checksumFlags());
                assertEquals(0xBEEF, copy.checksumData());
                assertEquals(1460, copy.segmentSize());
                assertEquals(2, copy.tags().size());
                assertSame(mark, copy.tag(Mark.class), "an immutable tag is shared (copyForPacket default)");
                Counter copied = copy.tag(Counter.class);
                assertNotNull(copied);
                assertNotSame(counter, copied, "a mutable tag is copied with copyForPacket");
                assertEquals(3, copied.count);
                copied.count = 9;
                assertEquals(3, original.tag(Counter.class).count, "the tags of the two packets are separate");
                // removing a tag from one leaves the other's
                assertTrue(copy.removeTag(Mark.class));
                assertSame(mark, original.tag(Mark.class));
                // header fields are separate too
                copy.setReceivingInterface(8);
                assertEquals(7, original.receivingInterface());
            }
            // copy(0, n) of a packet is a packet with the header as well; copy from elsewhere is not
            try (Mbuf head = original.copy(0, 100); Mbuf middle = original.copy(10, 100)) {
                assertTrue(head.isPacket());
                assertEquals(7, head.receivingInterface());
                assertEquals(2, head.tags().size());
                assertFalse(middle.isPacket());
            }
        }
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    // ---- writable views and sharing (Mbuf javadoc: "a writable view also ends when its storage becomes
    // shared (copy, copyPacket, split), because shared storage is read-only")

    @Test
    void aWritableViewEndsWhenItsStorageBecomesShared() {
        MbufPool pool = MbufPool.builder().build();
        byte[] data = pattern(LEN, 5);
        for (String how : new String[] {"copyPacket", "copy", "split"}) {
            try (Mbuf m = clusterPacket(pool, data)) {
                MemorySegment w = m.ptrRw(10, 20);
                MemorySegment r = m.ptr(100, 20);
                assertFalse(w.isReadOnly());
                long copied = pool.stats().bytesCopied();
                Mbuf other = switch (how) {
                    case "copyPacket" -> m.copyPacket();
                    case "copy" -> m.copy(5, 200);
                    default -> m.split(500);
                };
                try (other) {
                    assertEquals(copied, pool.stats().bytesCopied(), how + " of a cluster copies nothing");
                    assertTrue(m.isReadOnly(10, 20), how);
                    assertThrows(IllegalStateException.class, () -> w.set(ValueLayout.JAVA_BYTE, 0, (byte) 1),
                            how + ": a writable view of now shared storage must not write");
                    assertArrayEquals(Arrays.copyOfRange(data, 100, 120), bytesOf(r),
                            how + ": a read-only view of bytes that did not move stays valid");
                    assertArrayEquals(Arrays.copyOf(data, m.length()), m.toByteArray());
                    // a fresh ptrRw copies on write and leaves the other chain alone
                    m.ptrRw(10, 20).fill((byte) 0x7E);
                    byte[] otherWant = switch (how) {
                        case "copyPacket" -> data;
                        case "copy" -> Arrays.copyOfRange(data, 5, 205);
                        default -> Arrays.copyOfRange(data, 500, LEN);
                    };
                    assertArrayEquals(otherWant, other.toByteArray(), how);
                }
            }
        }
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    @Test
    void aWritableViewOfStorageThatStaysUnsharedSurvivesACopyOfOtherBytes() {
        // two clusters; copy(0, 50) shares only the first, so the second stays writable and so should its view
        MbufPool pool = MbufPool.builder().build();
        try (AcceptanceFixtures.Built b = AcceptanceFixtures.build(pool, "c100 C300")) {
            Mbuf m = b.chain;
            assertFalse(m.isReadOnly(100, 300));
            MemorySegment w = m.ptrRw(150, 20);
            try (Mbuf c = m.copy(0, 50)) {
                assertTrue(m.isReadOnly(0, 100));
                assertFalse(m.isReadOnly(100, 300), "the second cluster is not shared");
                w.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x7F); // must not throw: its storage is not shared
                assertEquals((byte) 0x7F, m.byteAt(150));
                assertArrayEquals(Arrays.copyOf(b.data, 50), c.toByteArray());
            }
        }
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    @Test
    void aFailedCopyPacketLeavesWritableViewsWritable() {
        boolean[] fail = {false};
        MbufPool pool = MbufPool.builder().allocationFaults(n -> fail[0]).build();
        byte[] data = pattern(LEN, 6);
        try (Mbuf m = clusterPacket(pool, data)) {
            MemorySegment w = m.ptrRw(10, 20);
            fail[0] = true;
            assertThrows(NoBufferSpaceException.class, m::copyPacket);
            fail[0] = false;
            assertFalse(m.isReadOnly(0, LEN), "nothing shares the cluster after a failed copy");
            w.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x10); // the chain is as it was: the view still writes
            assertEquals((byte) 0x10, m.byteAt(10));
            assertEquals(1, pool.stats().clustersInUse());
        }
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }
}
