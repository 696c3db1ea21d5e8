package org.jmbuf.buf;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** MbufQueue: the ifqueue / MBUFQ. */
class MbufQueueTest {

    private static Mbuf packet(MbufPool pool, int id) {
        Mbuf m = pool.getPacket();
        m.copyBack(0, new byte[] {(byte) id, (byte) (id >>> 8)});
        return m;
    }

    private static int id(Mbuf m) {
        byte[] b = m.toByteArray();
        return (b[0] & 0xff) | (b[1] & 0xff) << 8;
    }

    @Test
    void firstInFirstOut() {
        MbufPool pool = MbufPool.builder().build();
        MbufQueue q = new MbufQueue();
        assertEquals(Integer.MAX_VALUE, q.limit());
        assertNull(q.dequeue());
        assertNull(q.peek());
        for (int i = 0; i < 100; i++) {
            assertTrue(q.enqueue(packet(pool, i)));
        }
        assertEquals(100, q.length());
        assertEquals(100, q.enqueued());
        assertFalse(q.isFull());
        assertEquals(0, id(q.peek()));
        assertEquals(100, q.length(), "peek does not remove");
        for (int i = 0; i < 100; i++) {
            Mbuf m = q.dequeue();
            assertEquals(i, id(m));
            assertTrue(m.isAlive(), "a dequeued packet belongs to the caller");
            m.free();
        }
        assertNull(q.dequeue());
        assertEquals(0, q.length());
        assertEquals(0, q.drops());
        assertTrue(pool.stats().isQuiescent());
    }

    @Test
    void fullQueueDropsAndFreesThePacket() {
        MbufPool pool = MbufPool.builder().build();
        MbufQueue q = new MbufQueue(3);
        assertEquals(3, q.limit());
        for (int i = 0; i < 3; i++) {
            assertTrue(q.enqueue(packet(pool, i)));
        }
        assertTrue(q.isFull());
        Mbuf extra = pool.getCluster(true);
        extra.copyBack(0, new byte[1000]);
        assertEquals(4, pool.stats().segmentsInUse());
        assertEquals(1, pool.stats().clustersInUse());

        assertFalse(q.enqueue(extra));
        assertFalse(extra.isAlive(), "the dropped packet is freed");
        assertThrows(IllegalStateException.class, extra::length);
        assertEquals(1, q.drops());
        assertEquals(3, q.length());
        assertEquals(3, q.enqueued());
        assertEquals(3, pool.stats().segmentsInUse());
        assertEquals(0, pool.stats().clustersInUse());
        assertTrue(q.toString().contains("drops=1"), q.toString());

        assertFalse(q.enqueue(packet(pool, 99)));
        assertEquals(2, q.drops());
        assertEquals(3, pool.stats().segmentsInUse());

        // making room lets the next one in
        q.dequeue().free();
        assertFalse(q.isFull());
        assertTrue(q.enqueue(packet(pool, 3)));
        List<Integer> order = new ArrayList<>();
        Mbuf m;
        while ((m = q.dequeue()) != null) {
            order.add(id(m));
            m.free();
        }
        assertEquals(List.of(1, 2, 3), order);
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    @Test
    void prependIgnoresTheLimitAndGoesFirst() {
        MbufPool pool = MbufPool.builder().build();
        MbufQueue q = new MbufQueue(2);
        q.enqueue(packet(pool, 1));
        q.enqueue(packet(pool, 2));
        assertTrue(q.isFull());
        q.prepend(packet(pool, 0));
        assertEquals(3, q.length());
        assertEquals(0, q.drops());
        assertTrue(q.isFull());
        assertEquals(0, id(q.peek()));
        assertFalse(q.enqueue(packet(pool, 3)), "still full");
        assertEquals(1, q.drops());
        List<Integer> order = new ArrayList<>();
        Mbuf m;
        while ((m = q.dequeue()) != null) {
            order.add(id(m));
            m.free();
        }
        assertEquals(List.of(0, 1, 2), order);
        assertTrue(pool.stats().isQuiescent());
    }

    @Test
    void purgeFreesEveryPacketAndCountsThem() {
        MbufPool pool = MbufPool.builder().build();
        MbufQueue q = new MbufQueue(10);
        List<Mbuf> queued = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Mbuf m = i % 2 == 0 ? pool.getCluster(true) : packet(pool, i);
            queued.add(m);
            q.enqueue(m);
        }
        assertEquals(5, pool.stats().segmentsInUse());
        assertEquals(3, pool.stats().clustersInUse());
        assertEquals(5, q.purge());
        assertEquals(0, q.length());
        for (Mbuf m : queued) {
            assertFalse(m.isAlive());
        }
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
        assertEquals(0, q.purge());
        assertEquals(5, q.enqueued());
    }

    @Test
    void invalidLimit() {
        assertThrows(IllegalArgumentException.class, () -> new MbufQueue(0));
        assertThrows(IllegalArgumentException.class, () -> new MbufQueue(-1));
        assertThrows(IllegalArgumentException.class, () -> new MbufQueue(Integer.MIN_VALUE));
        assertEquals(1, new MbufQueue(1).limit());
    }

    @Test
    void deadPacketIsRejected() {
        MbufPool pool = MbufPool.builder().recycleHandles(false).build(); // the dead handle must stay dead
        MbufQueue q = new MbufQueue(1);
        Mbuf dead = pool.getPacket();
        dead.free();
        assertThrows(IllegalStateException.class, () -> q.enqueue(dead));
        assertThrows(IllegalStateException.class, () -> q.prepend(dead));
        assertEquals(0, q.length());
        assertEquals(0, q.drops());

        // also when the queue is full: the dead packet is not counted as a drop
        q.enqueue(pool.getPacket());
        assertThrows(IllegalStateException.class, () -> q.enqueue(dead));
        assertEquals(0, q.drops());

        // a packet consumed by cat is dead too
        Mbuf a = pool.getPacket();
        Mbuf b = pool.getPacket();
        a.cat(b);
        assertThrows(IllegalStateException.class, () -> q.prepend(b));
        a.free();
        assertEquals(1, q.purge());
        assertTrue(pool.stats().isQuiescent());
    }
}
