package org.jmbuf.buf;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ReadOnlyBufferException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The packet header (M_PKTHDR), packet tags, use after free, align and leading/trailing space. */
class PacketHeaderTest {

    record Vlan(int id) implements PacketTag { }

    record Mark(String value) implements PacketTag { }

    /** A mutable tag: a copy of the packet gets a copy of it. */
    static final class Counter implements PacketTag {
        int hits;

        Counter(int hits) {
            this.hits = hits;
        }

        @Override
        public PacketTag copyForPacket() {
            return new Counter(hits);
        }
    }

    private static byte[] pattern(int len) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (i * 13 + 5);
        }
        return b;
    }

    private final MbufPool pool = MbufPool.builder().build();

    // ------------------------------------------------------------------ header fields

    @Test
    void headerFieldsOnPackets() {
        List<Supplier<Mbuf>> makers = List.of(pool::getPacket, () -> pool.getCluster(true),
                () -> pool.devget(MemorySegment.ofArray(pattern(10))),
                () -> pool.wrap(Arena.ofAuto().allocate(8), true, null));
        for (Supplier<Mbuf> maker : makers) {
            try (Mbuf m = maker.get()) {
                assertTrue(m.isPacket());
                assertEquals(0, m.receivingInterface());
                assertEquals(0, m.checksumFlags());
                assertEquals(0, m.checksumData());
                assertEquals(0, m.segmentSize());
                assertEquals(List.of(), m.tags());
                m.setReceivingInterface(7);
                m.setChecksumFlags(ChecksumFlags.TCP_V4 | ChecksumFlags.IPV4 | ChecksumFlags.TSO_V4);
                m.setChecksumData(0xbeef);
                m.setSegmentSize(1460);
                assertEquals(7, m.receivingInterface());
                assertEquals(ChecksumFlags.TCP_V4 | ChecksumFlags.IPV4 | ChecksumFlags.TSO_V4, m.checksumFlags());
                assertEquals(0xbeef, m.checksumData());
                assertEquals(1460, m.segmentSize());
                String dump = m.dump();
                assertTrue(dump.contains("rcvif=7") && dump.contains("segsz=1460"), dump);
            }
        }
    }

    @Test
    void checksumFlagBitsAreDistinct() {
        int[] bits = {ChecksumFlags.TCP_V4, ChecksumFlags.UDP_V4, ChecksumFlags.TCP_UDP_BAD, ChecksumFlags.DATA,
                ChecksumFlags.TCP_V6, ChecksumFlags.UDP_V6, ChecksumFlags.IPV4, ChecksumFlags.IPV4_BAD,
                ChecksumFlags.TSO_V4, ChecksumFlags.TSO_V6};
        int all = 0;
        for (int b : bits) {
            assertEquals(1, Integer.bitCount(b));
            assertEquals(0, all & b);
            all |= b;
        }
    }

    @Test
    void headerAccessOnNonPacketThrows() {
        List<Supplier<Mbuf>> makers = List.of(() -> pool.get(MbufType.DATA), () -> pool.getCluster(false),
                () -> pool.get(MbufType.HEADER));
        for (Supplier<Mbuf> maker : makers) {
            try (Mbuf m = maker.get()) {
                assertFalse(m.isPacket());
                Map<String, Executable> calls = new LinkedHashMap<>();
                calls.put("receivingInterface", m::receivingInterface);
                calls.put("setReceivingInterface", () -> m.setReceivingInterface(1));
                calls.put("checksumFlags", m::checksumFlags);
                calls.put("setChecksumFlags", () -> m.setChecksumFlags(ChecksumFlags.UDP_V4));
                calls.put("checksumData", m::checksumData);
                calls.put("setChecksumData", () -> m.setChecksumData(1));
                calls.put("segmentSize", m::segmentSize);
                calls.put("setSegmentSize", () -> m.setSegmentSize(1));
                calls.put("addTag", () -> m.addTag(new Vlan(1)));
                calls.put("tag", () -> m.tag(Vlan.class));
                calls.put("removeTag", () -> m.removeTag(Vlan.class));
                calls.put("tags", m::tags);
                calls.put("copyPacket", m::copyPacket);
                calls.forEach((name, call) -> assertThrows(IllegalStateException.class, call, name));
                assertEquals(1, pool.stats().segmentsInUse(), "copyPacket allocated nothing");
                // copies of a non-packet are non-packets
                m.copyBack(0, pattern(10));
                try (Mbuf c = m.copy(0); Mbuf d = m.dup(0, 10); Mbuf t = m.split(5)) {
                    assertFalse(c.isPacket());
                    assertFalse(d.isPacket());
                    assertFalse(t.isPacket());
                }
            }
        }
    }

    // ------------------------------------------------------------------ tags

    @Test
    void tagsAddReplaceFindRemoveInOrder() {
        try (Mbuf m = pool.getPacket()) {
            assertNull(m.tag(Vlan.class));
            assertFalse(m.removeTag(Vlan.class));
            Vlan v5 = new Vlan(5);
            Counter counter = new Counter(1);
            Mark mark = new Mark("x");
            m.addTag(v5);
            m.addTag(counter);
            m.addTag(mark);
            assertEquals(List.of(v5, counter, mark), m.tags());
            assertSame(v5, m.tag(Vlan.class));
            assertSame(counter, m.tag(Counter.class));
            assertSame(mark, m.tag(Mark.class));

            Vlan v7 = new Vlan(7);
            m.addTag(v7); // replaces the tag of the same class
            assertEquals(3, m.tags().size());
            assertSame(v7, m.tag(Vlan.class));
            assertEquals(List.of(counter, mark, v7), m.tags(), "the replacement was added last");

            assertTrue(m.removeTag(Counter.class));
            assertFalse(m.removeTag(Counter.class));
            assertNull(m.tag(Counter.class));
            assertEquals(List.of(mark, v7), m.tags());
            assertThrows(NullPointerException.class, () -> m.addTag(null));

            // tags() is a snapshot
            List<PacketTag> snapshot = m.tags();
            m.removeTag(Mark.class);
            assertEquals(List.of(mark, v7), snapshot);
            assertEquals(List.of(v7), m.tags());
        }
    }

    @Test
    void copiesOfAPacketCopyHeaderAndTags() {
        try (Mbuf m = pool.getPacket()) {
            m.copyBack(0, pattern(3000)); // inline + clusters
            m.setReceivingInterface(3);
            m.setChecksumFlags(ChecksumFlags.UDP_V6 | ChecksumFlags.DATA);
            m.setChecksumData(0x1234);
            m.setSegmentSize(1200);
            Vlan vlan = new Vlan(9);
            Counter counter = new Counter(4);
            m.addTag(vlan);
            m.addTag(counter);

            Map<String, Mbuf> copies = new LinkedHashMap<>();
            copies.put("copyPacket", m.copyPacket());
            copies.put("copy(0, len)", m.copy(0, 1000));
            copies.put("copy(0)", m.copy(0));
            copies.put("dup(0, len)", m.dup(0, 3000));
            copies.put("copy(0, 0)", m.copy(0, 0));
            try {
                copies.forEach((name, c) -> {
                    assertTrue(c.isPacket(), name);
                    assertEquals(3, c.receivingInterface(), name);
                    assertEquals(ChecksumFlags.UDP_V6 | ChecksumFlags.DATA, c.checksumFlags(), name);
                    assertEquals(0x1234, c.checksumData(), name);
                    assertEquals(1200, c.segmentSize(), name);
                    assertEquals(2, c.tags().size(), name);
                    assertSame(vlan, c.tag(Vlan.class), name + ": an immutable tag is shared");
                    Counter copied = c.tag(Counter.class);
                    assertNotNull(copied, name);
                    assertNotSame(counter, copied, name + ": a mutable tag is copied");
                    assertEquals(4, copied.hits, name);
                    // the copies are independent
                    copied.hits = 100;
                    c.setReceivingInterface(42);
                    c.removeTag(Vlan.class);
                    assertEquals(4, counter.hits, name);
                    assertEquals(3, m.receivingInterface(), name);
                    assertSame(vlan, m.tag(Vlan.class), name);
                    assertEquals(List.of(vlan, counter), m.tags(), name);
                });
                assertArrayEquals(pattern(3000), copies.get("copyPacket").toByteArray());
                assertArrayEquals(pattern(3000), copies.get("dup(0, len)").toByteArray());
                assertEquals(1000, copies.get("copy(0, len)").length());
            } finally {
                copies.values().forEach(Mbuf::close);
            }
        }
    }

    @Test
    void copiesFromAnOffsetAreNotPackets() {
        try (Mbuf m = pool.getPacket()) {
            m.copyBack(0, pattern(500));
            m.setReceivingInterface(3);
            m.addTag(new Vlan(1));
            try (Mbuf a = m.copy(1, 100); Mbuf b = m.copy(10); Mbuf c = m.dup(5, 400); Mbuf d = m.copy(500, 0)) {
                for (Mbuf x : List.of(a, b, c, d)) {
                    assertFalse(x.isPacket(), x.toString());
                    assertThrows(IllegalStateException.class, x::tags);
                }
                assertArrayEquals(java.util.Arrays.copyOfRange(pattern(500), 10, 500), b.toByteArray());
            }
        }
    }

    @Test
    void splitGivesTheTailTheReceivingInterface() {
        try (Mbuf m = pool.getPacket()) {
            m.copyBack(0, pattern(3000));
            m.setReceivingInterface(11);
            m.setChecksumFlags(ChecksumFlags.TCP_V4);
            for (int cut : new int[] {2500, 100, 50, 0}) {
                try (Mbuf tail = m.split(cut)) {
                    assertTrue(tail.isPacket(), "cut " + cut);
                    assertEquals(11, tail.receivingInterface(), "cut " + cut);
                    assertTrue(m.isPacket());
                    assertEquals(11, m.receivingInterface());
                    assertEquals(ChecksumFlags.TCP_V4, m.checksumFlags());
                    assertEquals(cut, m.length());
                }
            }
            assertEquals(0, m.length());
        }
    }

    // ------------------------------------------------------------------ use after free

    @Test
    void useAfterFreeThrowsEverywhereButClose() {
        Mbuf other = pool.getPacket();
        Mbuf m = pool.getPacket();
        m.copyBack(0, pattern(100));
        m.addTag(new Vlan(1));
        m.free();
        assertFalse(m.isAlive());
        assertEquals("Mbuf[dead]", m.toString());
        assertEquals("Mbuf[dead]", m.dump());
        assertSame(pool, m.pool(), "pool() still answers after free");
        MbufOwner owner = pool.owner("x", "y");
        Map<String, Executable> calls = new LinkedHashMap<>();
        calls.put("length", m::length);
        calls.put("isPacket", m::isPacket);
        calls.put("segmentCount", m::segmentCount);
        calls.put("leadingSpace", m::leadingSpace);
        calls.put("trailingSpace", m::trailingSpace);
        calls.put("isReadOnly", () -> m.isReadOnly(0, 1));
        calls.put("isContiguous", () -> m.isContiguous(0, 1));
        calls.put("guaranteedRegions", m::guaranteedRegions);
        calls.put("align", () -> m.align(0));
        calls.put("copyData(byte[])", () -> m.copyData(0, 1, new byte[1], 0));
        calls.put("copyData(MemorySegment)", () -> m.copyData(0, 1, MemorySegment.ofArray(new byte[1]), 0));
        calls.put("toByteArray", m::toByteArray);
        calls.put("byteAt", () -> m.byteAt(0));
        calls.put("apply", () -> m.apply(0, 1, chunk -> 0));
        calls.put("contiguousAt", () -> m.contiguousAt(0));
        calls.put("ptr", () -> m.ptr(0, 1));
        calls.put("ptrRw", () -> m.ptrRw(0, 1));
        calls.put("pulldown", () -> m.pulldown(0, 1));
        calls.put("pullup", () -> m.pullup(1));
        calls.put("copyup", () -> m.copyup(1, 0));
        calls.put("makeWritable", () -> m.makeWritable(0, 1));
        calls.put("copyBack(byte[])", () -> m.copyBack(0, new byte[1]));
        calls.put("copyBack(MemorySegment)", () -> m.copyBack(0, MemorySegment.ofArray(new byte[1])));
        calls.put("copyBackCow(byte[])", () -> m.copyBackCow(0, new byte[1]));
        calls.put("copyBackCow(MemorySegment)", () -> m.copyBackCow(0, MemorySegment.ofArray(new byte[1])));
        calls.put("prepend", () -> m.prepend(1));
        calls.put("adj", () -> m.adj(1));
        calls.put("split", () -> m.split(0));
        calls.put("cat(this dead)", () -> m.cat(other));
        calls.put("cat(tail dead)", () -> other.cat(m));
        calls.put("copy(off, len)", () -> m.copy(0, 1));
        calls.put("copy(off)", () -> m.copy(0));
        calls.put("copyPacket", m::copyPacket);
        calls.put("dup", () -> m.dup(0, 1));
        calls.put("free", m::free);
        calls.put("claim", () -> m.claim(owner));
        calls.put("owner", m::owner);
        calls.put("type", m::type);
        calls.put("receivingInterface", m::receivingInterface);
        calls.put("setReceivingInterface", () -> m.setReceivingInterface(1));
        calls.put("checksumFlags", m::checksumFlags);
        calls.put("setChecksumFlags", () -> m.setChecksumFlags(1));
        calls.put("checksumData", m::checksumData);
        calls.put("setChecksumData", () -> m.setChecksumData(1));
        calls.put("segmentSize", m::segmentSize);
        calls.put("setSegmentSize", () -> m.setSegmentSize(1));
        calls.put("addTag", () -> m.addTag(new Vlan(2)));
        calls.put("tag", () -> m.tag(Vlan.class));
        calls.put("removeTag", () -> m.removeTag(Vlan.class));
        calls.put("tags", m::tags);
        calls.put("verify", m::verify);
        try {
            calls.forEach((name, call) -> assertThrows(IllegalStateException.class, call, name));
            assertTrue(other.isAlive(), "cat with a dead chain must not consume the live one");
            assertEquals(0, other.length());
            assertEquals(1, pool.stats().segmentsInUse(), "nothing was allocated by the failed calls");
            m.close(); // a no-op after free
            m.close();
            assertFalse(m.isAlive());
        } finally {
            other.free();
        }
    }

    @Test
    void closeAfterFreeOrCatIsANoOp() {
        Mbuf a = pool.getPacket();
        Mbuf b = pool.getPacket();
        b.copyBack(0, pattern(10));
        a.cat(b);
        assertFalse(b.isAlive(), "cat consumes its argument");
        assertThrows(IllegalStateException.class, b::length);
        assertThrows(IllegalStateException.class, b::free);
        b.close();
        assertEquals(10, a.length());
        a.close();
        assertFalse(a.isAlive());
        a.close();
        assertThrows(IllegalStateException.class, a::free);
        assertTrue(pool.stats().isQuiescent());
    }

    // ------------------------------------------------------------------ align

    @Test
    void alignOnEmptyInlineChain() {
        try (Mbuf m = pool.get(MbufType.DATA)) {
            m.align(32);
            assertEquals(MbufPool.MLEN - 32, m.leadingSpace());
            assertEquals(32, m.trailingSpace());
            m.copyBack(0, pattern(32));
            assertEquals(1, m.segmentCount(), "the aligned data fits without a new segment");
            assertEquals(0, m.trailingSpace());
            m.prepend(20);
            assertEquals(1, m.segmentCount(), "the prepend used the leading space");
            assertEquals(MbufPool.MLEN - 52, m.leadingSpace());
        }
        try (Mbuf m = pool.getPacket()) {
            m.align(30); // (224 - 30) rounded down to 8
            assertEquals(192, m.leadingSpace());
            assertEquals(32, m.trailingSpace());
            m.align(0);
            assertEquals(MbufPool.MLEN, m.leadingSpace());
            assertEquals(0, m.trailingSpace());
            m.align(MbufPool.MLEN);
            assertEquals(0, m.leadingSpace());
            assertEquals(MbufPool.MLEN, m.trailingSpace());
            assertThrows(IndexOutOfBoundsException.class, () -> m.align(-1));
            assertThrows(IndexOutOfBoundsException.class, () -> m.align(MbufPool.MLEN + 1));
            assertEquals(0, m.leadingSpace(), "a refused align changes nothing");
        }
    }

    @Test
    void alignOnEmptyClusterChain() {
        try (Mbuf m = pool.getCluster(true)) {
            m.align(100); // (2048 - 100) rounded down to 8
            assertEquals(1944, m.leadingSpace());
            assertEquals(104, m.trailingSpace());
            m.align(MbufPool.MCLBYTES);
            assertEquals(0, m.leadingSpace());
            assertThrows(IndexOutOfBoundsException.class, () -> m.align(MbufPool.MCLBYTES + 1));
        }
    }

    @Test
    void alignOnNonEmptyChainThrows() {
        try (Mbuf m = pool.getPacket()) {
            m.copyBack(0, pattern(1));
            assertThrows(IllegalStateException.class, () -> m.align(10));
            assertEquals(0, m.leadingSpace());
            assertArrayEquals(pattern(1), m.toByteArray());
        }
    }

    @Test
    void alignOnEmptyReadOnlyStorageIsRefused() {
        try (Mbuf m = pool.wrap(Arena.ofAuto().allocate(64), false, null)) {
            m.adj(64);
            assertEquals(0, m.length());
            assertThrows(ReadOnlyBufferException.class, () -> m.align(8));
            assertEquals(0, m.leadingSpace());
            assertEquals(0, m.length());
        }
    }

    // ------------------------------------------------------------------ leading and trailing space

    @Test
    void leadingAndTrailingSpaceOfInlineStorage() {
        try (Mbuf m = pool.getPacket()) {
            assertEquals(0, m.leadingSpace());
            assertEquals(MbufPool.MLEN, m.trailingSpace());
            assertEquals(224, MbufPool.MLEN);
            assertEquals(MbufPool.MLEN, MbufPool.MHLEN);
            m.copyBack(0, pattern(24));
            assertEquals(200, m.trailingSpace());
            m.adj(4);
            assertEquals(4, m.leadingSpace());
            m.adj(-10);
            assertEquals(210, m.trailingSpace());
        }
        try (Mbuf m = pool.devget(MemorySegment.ofArray(pattern(10)))) {
            assertEquals(MbufPool.MAX_LINKHDR, m.leadingSpace());
            assertEquals(MbufPool.MLEN - MbufPool.MAX_LINKHDR - 10, m.trailingSpace());
        }
    }

    @Test
    void leadingAndTrailingSpaceOfClusters() {
        try (Mbuf m = pool.getCluster(true)) {
            assertEquals(0, m.leadingSpace());
            assertEquals(MbufPool.MCLBYTES, m.trailingSpace());
            assertEquals(2048, MbufPool.MCLBYTES);
            m.copyBack(0, pattern(100));
            assertEquals(1948, m.trailingSpace());
            m.adj(8);
            assertEquals(8, m.leadingSpace());
            Mbuf copy = m.copyPacket();
            try {
                // shared: read-only, so no space on either side for either chain
                assertEquals(0, m.leadingSpace());
                assertEquals(0, m.trailingSpace());
                assertEquals(0, copy.leadingSpace());
                assertEquals(0, copy.trailingSpace());
            } finally {
                copy.free();
            }
            assertEquals(8, m.leadingSpace());
            assertEquals(1948, m.trailingSpace());
        }
    }

    @Test
    void leadingAndTrailingSpaceOfReadOnlyStorageIsZero() {
        try (Mbuf rw = pool.wrap(Arena.ofAuto().allocate(100), true, null);
             Mbuf ro = pool.wrap(Arena.ofAuto().allocate(100), false, null);
             Mbuf roStorage = pool.wrap(Arena.ofAuto().allocate(100).asReadOnly(), true, null)) {
            for (Mbuf m : List.of(rw, ro, roStorage)) {
                m.adj(10);
                m.adj(-10);
                assertEquals(80, m.length());
            }
            assertEquals(10, rw.leadingSpace());
            assertEquals(10, rw.trailingSpace());
            assertEquals(0, ro.leadingSpace());
            assertEquals(0, ro.trailingSpace());
            assertEquals(0, roStorage.leadingSpace());
            assertEquals(0, roStorage.trailingSpace());
            assertTrue(roStorage.isReadOnly(0, 80));
        }
    }
}
