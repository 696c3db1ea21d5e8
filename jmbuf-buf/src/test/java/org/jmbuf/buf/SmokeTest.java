package org.jmbuf.buf;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void buildShareWritePullup() {
        MbufPool pool = MbufPool.builder().build();
        try (Mbuf m = pool.getPacket()) {
            byte[] data = new byte[1000];
            for (int i = 0; i < data.length; i++) data[i] = (byte) i;
            m.copyBack(0, data);
            assertArrayEquals(data, m.toByteArray());
            Mbuf c = m.copyPacket();
            MemorySegment v = c.ptrRw(100, 300);
            v.set(ValueLayout.JAVA_BYTE, 0, (byte) 99);
            assertEquals((byte) 100, m.toByteArray()[100]);
            assertEquals((byte) 99, c.toByteArray()[100]);
            c.pullup(400);
            c.free();
        }
        assertTrue(pool.stats().isQuiescent(), pool.stats().toString());
    }

    @Test
    void readOnlyExternal() {
        MbufPool pool = MbufPool.builder().build();
        MemorySegment storage = Arena.ofAuto().allocate(100);
        boolean[] freed = {false};
        Mbuf m = pool.wrap(storage, false, () -> freed[0] = true);
        MemorySegment ro = m.ptr(0, 20);
        assertThrows(IllegalArgumentException.class, () -> ro.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
        MemorySegment rw = m.ptrRw(0, 20);
        rw.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        assertEquals(0, storage.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> ro.get(ValueLayout.JAVA_BYTE, 0));
        m.free();
        assertTrue(freed[0]);
    }
}
