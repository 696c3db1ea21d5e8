package org.jmbuf.buf;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@link MbufPool.Builder#recycleHandles}: a pool that recycles hands a freed handle to the next chain its
 * thread makes, as a new handle (nothing of the old chain left on it); a pool that does not never does, so a
 * freed handle throws for ever. The chain operations on reused handles are checked against the byte-array
 * model by {@code ChainPropertiesTest.operationSequencesAgreeWithByteArrayModelWhenHandlesAreReused}.
 */
class HandleRecyclingTest {
    record Mark(int value) implements PacketTag { }

    private static MbufPool recycling() {
        return MbufPool.builder().recycleHandles(true).build();
    }

    @Test
    void theNextChainOfTheThreadGetsTheFreedHandle() {
        MbufPool pool = recycling();
        Mbuf m = pool.getPacket();
        m.free();
        Mbuf n = pool.getCluster(false);
        assertSame(m, n, "getCluster reuses the handle getPacket freed");
        n.free();
        Mbuf original = pool.getPacket();
        assertSame(n, original, "one idle handle: this one takes it");
        original.copyBack(0, new byte[] {1, 2, 3});
        Mbuf copy = original.copyPacket();
        assertNotSame(original, copy, "no idle handle left: a new one");
        copy.free();
        Mbuf dup = original.dup(0, 3);
        assertSame(copy, dup, "dup reuses the copy's handle");
        assertArrayEquals(new byte[] {1, 2, 3}, dup.toByteArray());
        dup.free();
        Mbuf tail = original.split(1);
        assertSame(copy, tail, "and split");
        assertArrayEquals(new byte[] {2, 3}, tail.toByteArray());
        assertArrayEquals(new byte[] {1}, original.toByteArray());
        tail.free();
        original.free();
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    @Test
    void aReusedHandleKeepsItsRegionSetEmptiedForTheNextChainsRegions() {
        MbufPool pool = recycling();
        Mbuf m = pool.getCluster(true);
        m.copyBack(0, new byte[100]);
        m.ptr(10, 20);
        m.ptr(50, 10);
        m.free();

        Mbuf n = pool.getCluster(true);
        assertSame(m, n);
        n.copyBack(0, new byte[100]);
        n.ptr(20, 20);
        assertEquals(List.of(new Mbuf.Range(20, 20)), n.guaranteedRegions(), "only the new chain's region");
        n.ptr(0, 30);
        assertEquals(List.of(new Mbuf.Range(0, 40)), n.guaranteedRegions(), "overlapping regions merge as ever");
        n.free();
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    @Test
    void aReusedHandleKeepsNothingOfItsLastChain() {
        MbufPool pool = recycling();
        MbufOwner owner = pool.owner("test", "a protocol");
        Mbuf m = pool.getCluster(true);
        m.copyBack(0, new byte[100]);
        m.setReceivingInterface(7);
        m.setChecksumFlags(ChecksumFlags.IPV4);
        m.setChecksumData(0xbeef);
        m.setSegmentSize(1460);
        m.setPacketFlags(PacketFlags.LINK_BROADCAST);
        m.addTag(new Mark(1));
        m.claim(owner);
        m.ptr(10, 20);
        m.free();

        Mbuf n = pool.get(MbufType.HEADER);
        assertSame(m, n);
        assertTrue(n.isAlive());
        assertFalse(n.isPacket(), "get(type) makes no packet header");
        assertEquals(0, n.length());
        assertEquals(1, n.segmentCount());
        assertEquals(MbufType.HEADER, n.type());
        assertSame(pool.unknownOwner(MbufType.HEADER), n.owner(), "the owner went with the old chain");
        assertTrue(n.guaranteedRegions().isEmpty(), "the regions went with the old chain");
        n.free();

        Mbuf p = pool.getPacket();
        assertSame(m, p);
        assertTrue(p.isPacket());
        assertEquals(0, p.receivingInterface());
        assertEquals(0, p.checksumFlags());
        assertEquals(0, p.checksumData());
        assertEquals(0, p.segmentSize());
        assertEquals(0, p.packetFlags());
        assertTrue(p.tags().isEmpty(), "the tags went with the old chain");
        p.free();
    }

    @Test
    void aFreedHandleThrowsWhileItWaitsForReuse() {
        MbufPool pool = recycling();
        Mbuf m = pool.getPacket();
        m.free();
        assertFalse(m.isAlive());
        assertThrows(IllegalStateException.class, m::length);
        assertThrows(IllegalStateException.class, m::free);
        m.close(); // does nothing while the handle is idle
        assertThrows(IllegalStateException.class, m::length, "close did not revive it");
    }

    @Test
    void aPoolThatDoesNotRecycleNeverReusesAHandle() {
        MbufPool pool = MbufPool.builder().recycleHandles(false).build();
        Mbuf m = pool.getPacket();
        m.free();
        Mbuf n = pool.getPacket();
        assertNotSame(m, n);
        assertThrows(IllegalStateException.class, m::length, "a freed handle throws even after later allocations");
        n.free();
    }

    @Test
    void aHandleConsumedByCatIsNotReused() {
        MbufPool pool = recycling();
        Mbuf head = pool.getPacket();
        Mbuf consumed = pool.getPacket();
        consumed.copyBack(0, new byte[] {9});
        head.cat(consumed);
        Mbuf next = pool.getPacket();
        assertNotSame(consumed, next, "cat kills its argument but does not hand it out again");
        assertThrows(IllegalStateException.class, consumed::length);
        next.free();
        head.free();
    }

    @Test
    void handlesAreReusedByTheThreadThatFreedThem() throws Exception {
        MbufPool pool = recycling();
        Mbuf m = pool.getPacket();
        AtomicReference<Mbuf> other = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            m.free(); // freed here, so kept in this thread's cache
            other.set(pool.getPacket());
        });
        t.join();
        assertSame(m, other.get(), "the freeing thread reuses it");
        Mbuf mine = pool.getPacket();
        assertNotSame(m, mine, "not this thread, whose cache never had it");
        mine.free();
        other.get().free();
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    @Test
    void thePropertyTurnsRecyclingOnForPoolsBuiltWithoutSaying() {
        String before = System.getProperty("jmbuf.recycleHandles");
        System.setProperty("jmbuf.recycleHandles", "true");
        MbufPool pool;
        MbufPool explicit;
        try {
            pool = MbufPool.builder().build();
            explicit = MbufPool.builder().recycleHandles(false).build();
        } finally {
            if (before == null) {
                System.clearProperty("jmbuf.recycleHandles");
            } else {
                System.setProperty("jmbuf.recycleHandles", before);
            }
        }
        Mbuf m = pool.getPacket();
        m.free();
        Mbuf n = pool.getPacket();
        assertSame(m, n, "-Djmbuf.recycleHandles=true: the pool recycles");
        n.free();
        Mbuf a = explicit.getPacket();
        a.free();
        Mbuf b = explicit.getPacket();
        assertNotSame(a, b, "what the builder is told wins");
        b.free();
    }
}
