package org.jmbuf.buf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.Reference;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openjdk.jol.info.ClassLayout;
import org.openjdk.jol.info.FieldLayout;

/**
 * What a thread writes on every allocation and free, its pool cache and its magazines, shares no cache line
 * with anything else ({@link Padding}): checked on the object layouts HotSpot really chose (through JOL),
 * and on the arrays of a cache that has been used.
 */
class FalseSharingPaddingTest {
    private static final String CACHE = "org.jmbuf.buf.MbufPool$Cache";
    private static final String CACHE_FIELDS = "org.jmbuf.buf.MbufPool$CacheFields";
    private static final String MAGAZINE = "org.jmbuf.buf.ItemPool$Magazine";
    private static final String MAGAZINE_FIELDS = "org.jmbuf.buf.ItemPool$MagazineFields";

    @Test
    void aCachesFieldsHavePaddingOnBothSides() throws ClassNotFoundException {
        assertPaddedOnBothSides(Class.forName(CACHE), CACHE_FIELDS);
    }

    @Test
    void aMagazinesFieldsHavePaddingOnBothSides() throws ClassNotFoundException {
        assertPaddedOnBothSides(Class.forName(MAGAZINE), MAGAZINE_FIELDS);
    }

    /** Every field {@code host} declares lies at least {@link Padding#BYTES} from both ends of the object. */
    private static void assertPaddedOnBothSides(Class<?> type, String host) {
        ClassLayout layout = ClassLayout.parseClass(type);
        List<FieldLayout> fields = layout.fields().stream().filter(f -> f.hostClass().equals(host.replace('$', '.'))).toList();
        assertTrue(fields.size() >= 2, "the fields of " + host + " are in the layout:\n" + layout.toPrintable());
        for (FieldLayout f : fields) {
            assertTrue(f.offset() >= Padding.BYTES,
                    f.name() + " at " + f.offset() + " is less than " + Padding.BYTES + " bytes from the object's start:\n"
                            + layout.toPrintable());
            assertTrue(layout.instanceSize() - (f.offset() + f.size()) >= Padding.BYTES,
                    f.name() + " ends less than " + Padding.BYTES + " bytes before the object's end:\n"
                            + layout.toPrintable());
        }
    }

    @Test
    void theArraysAThreadWritesKeepTheirPaddingSlotsUntouched() throws ReflectiveOperationException {
        MbufPool pool = MbufPool.builder().recycleHandles(true).build();
        MbufOwner owner = pool.owner("padding test", "checks the padding of the owner counts");
        List<Mbuf> held = new ArrayList<>();
        for (MbufType type : MbufType.values()) {
            Mbuf m = pool.get(type);
            m.claim(owner);
            held.add(m);
        }
        Mbuf packet = pool.getCluster(true);
        packet.copyBack(0, new byte[64]);
        packet.ptr(0, 20);
        held.add(packet);
        for (int i = 0; i < 70; i++) { // more than half a magazine, so the magazines spill and refill
            Mbuf p = pool.getPacket();
            p.copyBack(0, new byte[8]);
            p.ptr(0, 4); // a region set each: beyond the 64 idle handles that keep theirs, sets go to the cache
            held.add(p);
        }
        Object cache = threadCache(pool);
        boolean[] inUse = checkArrays(cache); // the counts are up while the chains are held
        held.forEach(Mbuf::free); // fills the idle handles, region sets and magazines
        boolean[] idle = checkArrays(cache);
        for (int i = 0; i < inUse.length; i++) {
            assertTrue(inUse[i] || idle[i], "array " + i + " has slots in use between its paddings at some point");
        }
        assertEquals(7, inUse.length, "a cache's five arrays and its two magazines' items are checked");
    }

    /** Checks the padding of every array of {@code cache} and its magazines; returns which have a slot in use. */
    private static boolean[] checkArrays(Object cache) throws ReflectiveOperationException {
        List<Object> arrays = arraysOf(cache, Class.forName(CACHE_FIELDS));
        for (String magazine : List.of("segments", "clusters")) {
            arrays.addAll(arraysOf(field(cache, Class.forName(CACHE_FIELDS), magazine), Class.forName(MAGAZINE_FIELDS)));
        }
        boolean[] used = new boolean[arrays.size()];
        for (int i = 0; i < used.length; i++) {
            used[i] = assertEndsUntouched(arrays.get(i));
        }
        return used;
    }

    /** The calling thread's cache: in its slot of the pool's table of caches, else in the thread-local. */
    private static Object threadCache(MbufPool pool) throws ReflectiveOperationException {
        Object homes = field(pool, MbufPool.class, "homes");
        assertEndsUntouched(homes); // read by every thread on every operation, so padded too
        for (int i = 0; i < Array.getLength(homes); i++) {
            Object home = Array.get(homes, i);
            if (home != null && component(home, "threadId").equals(Thread.currentThread().threadId())) {
                return component(home, "cache");
            }
        }
        ThreadLocal<?> local = (ThreadLocal<?>) field(pool, MbufPool.class, "local");
        Reference<?> ref = (Reference<?>) local.get();
        Object cache = ref == null ? null : ref.get();
        assertNotNull(cache, "the thread has a cache after using the pool");
        return cache;
    }

    private static Object component(Object record, String name) throws ReflectiveOperationException {
        Method accessor = record.getClass().getDeclaredMethod(name);
        accessor.setAccessible(true);
        return accessor.invoke(record);
    }

    private static List<Object> arraysOf(Object owner, Class<?> declaring) throws IllegalAccessException {
        List<Object> arrays = new ArrayList<>();
        for (Field f : declaring.getDeclaredFields()) {
            if (f.getType().isArray()) {
                f.setAccessible(true);
                arrays.add(f.get(owner));
            }
        }
        return arrays;
    }

    /** Asserts that the padding at both ends of {@code array} is zero or null; returns whether a slot between is used. */
    private static boolean assertEndsUntouched(Object array) {
        int length = Array.getLength(array);
        int slots = array instanceof int[] ? Padding.INT_SLOTS : Padding.REFERENCE_SLOTS;
        assertTrue(length > 2 * slots, "an array of " + length + " has room for padding of " + slots + " slots twice");
        boolean used = false;
        for (int i = 0; i < length; i++) {
            Object slot = Array.get(array, i);
            boolean empty = slot == null || Integer.valueOf(0).equals(slot);
            if (i < slots || i >= length - slots) {
                assertTrue(empty, "padding slot " + i + " of " + length + " holds " + slot);
            } else {
                used |= !empty;
            }
        }
        return used;
    }

    private static Object field(Object owner, Class<?> declaring, String name) throws ReflectiveOperationException {
        Field f = declaring.getDeclaredField(name);
        f.setAccessible(true);
        return f.get(owner);
    }
}
