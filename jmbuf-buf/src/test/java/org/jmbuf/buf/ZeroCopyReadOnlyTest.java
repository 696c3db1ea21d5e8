package org.jmbuf.buf;

import static org.jmbuf.buf.AcceptanceFixtures.bytesOf;
import static org.jmbuf.buf.AcceptanceFixtures.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Acceptance: a read-only external storage packet goes through ptr, copy, split, adj, cat and pullup of an
 * already contiguous range without a single byte copied, and its storage is unchanged after ptrRw,
 * makeWritable and copyBackCow wrote to the same bytes of the chain.
 */
class ZeroCopyReadOnlyTest {
    private static final int SIZE = 3000; // longer than a cluster on purpose

    private static byte[] slice(byte[] a, int from, int to) {
        return Arrays.copyOfRange(a, from, to);
    }

    @Test
    void readOnlyExternalPacketIsNeverCopiedAndNeverWritten() {
        MbufPool pool = MbufPool.builder().build();
        byte[] original = pattern(SIZE, 5);
        MemorySegment storage = Arena.ofAuto().allocate(SIZE);
        MemorySegment.copy(MemorySegment.ofArray(original), 0, storage, 0, SIZE);
        AtomicInteger frees = new AtomicInteger();

        Mbuf m = pool.wrap(storage, false, frees::incrementAndGet);
        PoolStats before = pool.stats();
        assertTrue(m.isReadOnly(0, SIZE));
        assertEquals(1, m.segmentCount());

        // ---- the zero-copy operations
        MemorySegment header = m.ptr(14, 20);
        assertTrue(header.isReadOnly(), "ptr of read-only storage must give a read-only view");
        assertArrayEquals(slice(original, 14, 34), bytesOf(header));
        assertThrows(IllegalArgumentException.class, () -> header.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
        MemorySegment big = m.ptr(100, 2500); // longer than a cluster, still no copy
        assertArrayEquals(slice(original, 100, 2600), bytesOf(big));

        Mbuf part = m.copy(100, 500);
        assertArrayEquals(slice(original, 100, 600), part.toByteArray());
        assertTrue(part.isReadOnly(0, 500));

        Mbuf whole = m.copyPacket();
        assertArrayEquals(original, whole.toByteArray());

        Mbuf back = whole.split(1700); // mid external storage: shared, not copied
        assertEquals(1700, whole.length());
        assertArrayEquals(slice(original, 0, 1700), whole.toByteArray());
        assertArrayEquals(slice(original, 1700, SIZE), back.toByteArray());

        whole.adj(14);
        whole.adj(-10);
        back.adj(-20);
        back.adj(5);
        whole.cat(back); // the last segment is read-only: linked, not copied
        assertFalse(back.isAlive());
        byte[] expectedWhole = new byte[(1690 - 14) + (SIZE - 20 - 1705)];
        System.arraycopy(original, 14, expectedWhole, 0, 1690 - 14);
        System.arraycopy(original, 1705, expectedWhole, 1690 - 14, SIZE - 20 - 1705);
        assertArrayEquals(expectedWhole, whole.toByteArray());
        assertEquals(2, whole.segmentCount());

        m.pullup(2000); // already contiguous in the first segment
        part.pullup(500);
        whole.pullup(1000);
        MemorySegment wv = whole.ptr(0, 1676); // exactly the first segment
        assertArrayEquals(slice(original, 14, 1690), bytesOf(wv));
        MemorySegment pv = part.ptr(10, 100);
        assertArrayEquals(slice(original, 110, 210), bytesOf(pv));

        PoolStats after = pool.stats();
        assertEquals(before.bytesCopied(), after.bytesCopied(), "bytes copied by zero-copy operations");
        assertEquals(before.clusterAllocations(), after.clusterAllocations(), "clusters allocated");
        assertEquals(0, after.clustersInUse());
        assertEquals(0, after.largeBuffersInUse());
        assertEquals(1, after.externalInUse());
        assertArrayEquals(original, bytesOf(storage));
        for (Mbuf c : new Mbuf[] {m, part, whole}) {
            c.verify();
            for (Mbuf.Range r : c.guaranteedRegions()) {
                assertTrue(c.isContiguous(r.offset(), r.length()), r + " in " + c.dump());
            }
        }
        // the views taken at the start still work: nothing moved
        assertArrayEquals(slice(original, 14, 34), bytesOf(header));
        assertArrayEquals(slice(original, 100, 2600), bytesOf(big));

        // ---- writes to the same storage bytes [120, 140) through each chain
        byte[] a = filled(20, (byte) 0xA1);
        byte[] b = filled(20, (byte) 0xB2);
        byte[] c = filled(20, (byte) 0xC3);

        MemorySegment rw = m.ptrRw(120, 20);
        assertFalse(rw.isReadOnly());
        MemorySegment.copy(MemorySegment.ofArray(a), 0, rw, 0, 20);

        part.makeWritable(20, 20);
        assertFalse(part.isReadOnly(20, 20));
        part.copyBack(20, b);

        whole.copyBackCow(120 - 14, c);

        byte[] expectedM = original.clone();
        System.arraycopy(a, 0, expectedM, 120, 20);
        assertArrayEquals(expectedM, m.toByteArray());
        byte[] expectedPart = slice(original, 100, 600);
        System.arraycopy(b, 0, expectedPart, 20, 20);
        assertArrayEquals(expectedPart, part.toByteArray());
        System.arraycopy(c, 0, expectedWhole, 120 - 14, 20);
        assertArrayEquals(expectedWhole, whole.toByteArray());

        // the storage still holds the original bytes, every one of them
        assertArrayEquals(original, bytesOf(storage));
        assertTrue(pool.stats().bytesCopied() > after.bytesCopied(), "copy on write must have copied");
        for (Mbuf x : new Mbuf[] {m, part, whole}) {
            x.verify();
            for (Mbuf.Range r : x.guaranteedRegions()) {
                assertTrue(x.isContiguous(r.offset(), r.length()), r + " in " + x.dump());
            }
        }

        // ---- onFree runs once, after the last reference is gone
        m.free();
        part.free();
        assertEquals(0, frees.get(), "storage released while a chain still refers to it");
        assertArrayEquals(original, bytesOf(storage));
        whole.free();
        assertEquals(1, frees.get());
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
        assertEquals(1, frees.get());
    }

    @Test
    void ptrRwOfReadOnlyRangeLongerThanAClusterCopiesButNeverWrites() {
        MbufPool pool = MbufPool.builder().build();
        byte[] original = pattern(SIZE, 6);
        MemorySegment storage = Arena.ofAuto().allocate(SIZE);
        MemorySegment.copy(MemorySegment.ofArray(original), 0, storage, 0, SIZE);
        AtomicInteger frees = new AtomicInteger();
        try (Mbuf m = pool.wrap(storage, false, frees::incrementAndGet)) {
            long copied = pool.stats().bytesCopied();
            MemorySegment rw = m.ptrRw(200, 2500);
            assertEquals(2500, rw.byteSize());
            assertFalse(rw.isReadOnly());
            assertEquals(copied + 2500, pool.stats().bytesCopied(), "exactly the range is copied");
            rw.fill((byte) 0x5A);
            byte[] expected = original.clone();
            Arrays.fill(expected, 200, 2700, (byte) 0x5A);
            assertArrayEquals(expected, m.toByteArray());
            assertArrayEquals(original, bytesOf(storage));
            assertTrue(m.isContiguous(200, 2500));
            m.verify();
        }
        assertEquals(1, frees.get());
    }

    @Test
    void zeroCopyOnWritableExternalToo() {
        // writable external storage is not copied by ptr either, and ptrRw on it writes in place
        MbufPool pool = MbufPool.builder().build();
        byte[] original = pattern(500, 7);
        MemorySegment storage = Arena.ofAuto().allocate(500);
        MemorySegment.copy(MemorySegment.ofArray(original), 0, storage, 0, 500);
        AtomicInteger frees = new AtomicInteger();
        try (Mbuf m = pool.wrap(storage, true, frees::incrementAndGet)) {
            long copied = pool.stats().bytesCopied();
            assertFalse(m.isReadOnly(0, 500));
            MemorySegment rw = m.ptrRw(10, 10);
            rw.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x77);
            assertEquals((byte) 0x77, storage.get(ValueLayout.JAVA_BYTE, 10), "writable storage is written in place");
            assertEquals(copied, pool.stats().bytesCopied());
        }
        assertEquals(1, frees.get());
    }

    private static byte[] filled(int n, byte value) {
        byte[] out = new byte[n];
        Arrays.fill(out, value);
        return out;
    }
}
