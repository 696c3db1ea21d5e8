package org.jmbuf.io;

import static org.jmbuf.io.LinuxTools.check;
import static org.jmbuf.io.LinuxTools.in;
import static org.jmbuf.io.LinuxTools.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.junit.jupiter.api.Test;

/**
 * {@link TapDevice} on its own: names, errors with their errno, the interface's life, and frames both ways
 * (a multi-segment chain through writev, heap storage through the copy) answered by Linux's ARP in a
 * namespace.
 */
class TapDeviceTest {
    private static final Duration T = Duration.ofSeconds(20);
    private final MbufPool pool = MbufPool.builder().build();

    @Test
    void invalidNamesAreRefusedBeforeAnySystemCall() {
        assertThrows(IllegalArgumentException.class, () -> TapDevice.open("a-name-of-16-byt"));
        assertThrows(IllegalArgumentException.class, () -> TapDevice.open("a/b"));
        assertThrows(IllegalArgumentException.class, () -> TapDevice.open("a b"));
    }

    @Test
    void errnoMessagesNameTheErrorAndSayWhatToDo() {
        ErrnoException e = new ErrnoException("cannot open /dev/net/tun", 1, "run as root or grant CAP_NET_ADMIN");
        assertEquals("cannot open /dev/net/tun: Operation not permitted (EPERM): run as root or grant CAP_NET_ADMIN",
                e.getMessage());
        assertEquals(1, e.errno());
        assertEquals("read: Device or resource busy (EBUSY)", new ErrnoException("read", 16, null).getMessage());
    }

    @Test
    void openingWithoutPrivilegeFailsClearly() throws Exception {
        if (LinuxTools.isRoot()) {
            String why = "running as root: the permission error cannot be provoked";
            System.out.println("SKIPPED: " + why);
            org.junit.jupiter.api.Assumptions.abort(why);
        }
        ErrnoException e = assertThrows(ErrnoException.class, () -> TapDevice.open("jmbufnoperm"));
        assertTrue(e.getMessage().startsWith("cannot open /dev/net/tun: ") || e.getMessage().contains("TUNSETIFF"),
                e.getMessage());
        assertTrue(e.getMessage().contains("CAP_NET_ADMIN") || e.getMessage().contains("tun driver"), e.getMessage());
    }

    @Test
    void theKernelNamesTheDeviceAndClosingDeletesIt() throws Exception {
        LinuxTools.assumeCanRun();
        TapDevice tap = TapDevice.open(null);
        String name = tap.name();
        try {
            assertTrue(name.startsWith("tap"), name);
            assertEquals(0, run(T, "ip", "link", "show", "dev", name).exitStatus());
            assertFalse(tap.awaitReadable(0), "a down interface has nothing to read");
            assertNull(tap.receive(pool));
            ErrnoException busy = assertThrows(ErrnoException.class, () -> TapDevice.open(name));
            assertEquals(16, busy.errno(), busy.getMessage());
            assertTrue(busy.getMessage().contains("TUNSETIFF") && busy.getMessage().contains("EBUSY"), busy.getMessage());
        } finally {
            tap.close();
        }
        tap.close(); // idempotent
        assertFalse(tap.isOpen());
        assertThrows(IllegalStateException.class, () -> tap.receive(pool));
        assertThrows(IllegalStateException.class, () -> tap.awaitReadable(0));
        assertNotEquals(0, run(T, "ip", "link", "show", "dev", name).exitStatus(), "the interface outlived close");
    }

    /**
     * {@link TapDevice#wakeup()} from another thread ends a long wait in {@code awaitReadable} (a liveness
     * check with a generous bound, not a timing measurement), and a wakeup made while nobody waits ends the
     * next wait; a drained wakeup does not end the one after.
     */
    @Test
    void wakeupEndsAWaitFromAnotherThread() throws Exception {
        LinuxTools.assumeCanRun();
        try (TapDevice tap = TapDevice.open(null)) {
            Thread waker = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                tap.wakeup();
            });
            long start = System.nanoTime();
            assertFalse(tap.awaitReadable(60_000), "woken, not readable");
            long waited = System.nanoTime() - start;
            waker.join();
            assertTrue(waited < Duration.ofSeconds(30).toNanos(), "a 60 s wait ended by a wakeup took " + waited + " ns");
            tap.wakeup();
            assertFalse(tap.awaitReadable(60_000), "a pending wakeup ends the next wait at once");
            assertFalse(tap.awaitReadable(0), "and is taken: nothing is pending any more");
        }
    }

    @Test
    void framesGoBothWaysWithoutAndWithACopy() throws Exception {
        LinuxTools.assumeCanRun();
        String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        String ns = "jmbuf-" + id;
        check(T, "ip", "netns", "add", ns);
        try (TapDevice tap = TapDevice.open("jmbdev" + id.substring(0, 6))) {
            check(T, "ip", "link", "set", tap.name(), "netns", ns);
            check(T, in(ns, "ip", "addr", "add", "192.0.2.1/24", "dev", tap.name()));
            check(T, in(ns, "ip", "link", "set", tap.name(), "up"));
            byte[] request = arpRequest();

            // Three segments sharing one cluster (read-only, so cat links them): one writev, no copy.
            Mbuf chain = pool.getCluster(true);
            chain.copyBack(0, request);
            Mbuf middle = chain.split(14);
            Mbuf last = middle.split(8);
            chain.cat(middle);
            chain.cat(last);
            try (chain) {
                assertEquals(3, chain.segmentCount());
                long copiedBefore = pool.stats().bytesCopied();
                assertTrue(tap.send(chain));
                assertEquals(copiedBefore, pool.stats().bytesCopied());
                assertTrue(chain.isAlive(), "send does not free the frame");
            }
            assertEquals(0, tap.framesCopied());
            assertArpReply(tap);

            // Heap storage cannot be handed to the kernel: copied into the native send buffer.
            try (Mbuf heap = pool.wrap(MemorySegment.ofArray(request.clone()), false, null)) {
                assertTrue(tap.send(heap));
            }
            assertEquals(1, tap.framesCopied());
            assertArpReply(tap);
            assertEquals(2, tap.framesSent());
            assertEquals(0, tap.sendDrops());
        } finally {
            check(T, "ip", "netns", "del", ns);
        }
    }

    /** Who has 192.0.2.1? Tell 192.0.2.2 (02:00:5e:00:53:02), broadcast. */
    private static byte[] arpRequest() {
        ByteBuffer b = ByteBuffer.allocate(42);
        b.put(HexFormat.of().parseHex("ffffffffffff" + "02005e005302" + "0806"));
        b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1);
        b.put(HexFormat.of().parseHex("02005e005302" + "c0000202" + "000000000000" + "c0000201"));
        return b.array();
    }

    /** Reads frames until Linux's ARP reply to {@link #arpRequest()} arrives (other frames are skipped). */
    private void assertArpReply(TapDevice tap) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < deadline) {
            if (!tap.awaitReadable(100)) {
                continue;
            }
            long copiedBefore = pool.stats().bytesCopied();
            Mbuf first = tap.receive(pool);
            assertEquals(copiedBefore, pool.stats().bytesCopied(), "receive copied bytes inside the pool");
            for (Mbuf next = first; next != null; next = tap.receive(pool)) {
                try (Mbuf m = next) {
                    byte[] f = m.toByteArray();
                    if (f.length >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2) {
                        assertArrayEquals(HexFormat.of().parseHex("02005e005302"), Arrays.copyOfRange(f, 0, 6));
                        assertArrayEquals(HexFormat.of().parseHex("c0000201"), Arrays.copyOfRange(f, 28, 32));
                        assertArrayEquals(HexFormat.of().parseHex("02005e005302c0000202"), Arrays.copyOfRange(f, 32, 42));
                        assertEquals(1, m.segmentCount(), "one frame, one cluster");
                        return;
                    }
                }
            }
        }
        throw new AssertionError("no ARP reply from Linux within 5 s");
    }
}
