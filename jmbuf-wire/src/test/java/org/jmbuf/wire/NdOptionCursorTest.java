package org.jmbuf.wire;

import static org.jmbuf.wire.WireTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class NdOptionCursorTest {
    /** The options of a Router Advertisement: SLLA, MTU 1500, Prefix Information for 2001:db8:0:1::/64. */
    static final byte[] RA_OPTIONS = bytes("0101020000000001" + "05010000000005dc"
            + "0304" + "40" + "c0" + "00278d00" + "00093a80" + "00000000" + "20010db8000000010000000000000000");

    @Test
    void walksRouterAdvertisementOptions() {
        NdOptionCursor options = new NdOptionCursor().reset(MemorySegment.ofArray(RA_OPTIONS));
        assertTrue(options.next());
        assertEquals(NdOptionCursor.SOURCE_LINK_ADDRESS, options.type());
        assertEquals(0, options.offset());
        assertEquals(8, options.length());
        assertTrue(options.isWellFormed());
        assertEquals(MacAddress.parse("02:00:00:00:00:01"), options.linkLayerAddress());
        assertThrows(IllegalStateException.class, options::mtu);
        assertThrows(IllegalStateException.class, options::prefix);

        assertTrue(options.next());
        assertEquals(NdOptionCursor.MTU, options.type());
        assertEquals(8, options.offset());
        assertEquals(1500, options.mtu());
        assertThrows(IllegalStateException.class, options::linkLayerAddress);

        assertTrue(options.next());
        assertEquals(NdOptionCursor.PREFIX_INFORMATION, options.type());
        assertEquals(16, options.offset());
        assertEquals(32, options.length());
        assertTrue(options.isWellFormed());
        assertEquals(64, options.prefixLength());
        assertTrue(options.isOnLink());
        assertTrue(options.isAutonomous());
        assertEquals(0xc0, options.prefixFlags());
        assertEquals(2_592_000, options.validLifetime());
        assertEquals(604_800, options.preferredLifetime());
        assertEquals(Ipv6Address.parse("2001:db8:0:1::"), options.prefix());
        assertEquals(30, options.data().byteSize());

        assertFalse(options.next());
        assertFalse(options.next());
    }

    @Test
    void infiniteLifetimeReadsUnsigned() {
        byte[] pio = bytes("0304" + "30" + "80" + "ffffffff" + "ffffffff" + "00000000"
                + "20010db8000000000000000000000000");
        NdOptionCursor options = new NdOptionCursor().reset(MemorySegment.ofArray(pio));
        assertTrue(options.next());
        assertEquals(NdOptionCursor.INFINITE_LIFETIME, options.validLifetime());
        assertEquals(NdOptionCursor.INFINITE_LIFETIME, options.preferredLifetime());
        assertEquals(48, options.prefixLength());
        assertTrue(options.isOnLink());
        assertFalse(options.isAutonomous());
    }

    @Test
    void zeroLengthIsMalformedAtItsLengthByte() {
        assertRejectedAt("0101020000000001" + "0300" + "000000000000", 9);
        assertRejectedAt("0000", 1);
    }

    @Test
    void missingLengthByteIsMalformedAtTheTypeByte() {
        assertRejectedAt("0101020000000001" + "05", 8);
    }

    @Test
    void lengthPastTheEndIsMalformedAtItsLengthByte() {
        assertRejectedAt("05020000000005dc", 1);
        assertRejectedAt("0101020000000001" + "0304" + "40c0", 9);
    }

    private static void assertRejectedAt(String hex, int offset) {
        NdOptionCursor options = new NdOptionCursor().reset(MemorySegment.ofArray(bytes(hex)));
        MalformedPacketException e = assertThrows(MalformedPacketException.class, () -> {
            while (options.next()) {
                // walk to the bad option
            }
        }, hex);
        assertEquals(offset, e.offset(), hex);
    }

    @Test
    void knownOptionsWithUnexpectedLengthsAreNotWellFormed() {
        // a 16-byte source link-layer address (not Ethernet), a 24-byte prefix information, a 16-byte MTU
        byte[] odd = bytes("0102" + "0000000000000000000000000000" + "0303" + "00".repeat(22) + "0502"
                + "00".repeat(14));
        NdOptionCursor options = new NdOptionCursor().reset(MemorySegment.ofArray(odd));
        assertTrue(options.next());
        assertFalse(options.isWellFormed());
        assertThrows(IllegalStateException.class, options::linkLayerAddress);
        assertTrue(options.next());
        assertFalse(options.isWellFormed());
        assertThrows(IllegalStateException.class, options::prefixLength);
        assertThrows(IllegalStateException.class, options::validLifetime);
        assertTrue(options.next());
        assertFalse(options.isWellFormed());
        assertThrows(IllegalStateException.class, options::mtu);
        assertFalse(options.next());
    }

    @Test
    void redirectedHeaderAndUnknownOptions() {
        byte[] options = bytes("0402" + "000000000000" + "6000000000003a40" + "0e01" + "a1a2a3a4a5a6");
        NdOptionCursor cursor = new NdOptionCursor().reset(MemorySegment.ofArray(options));
        assertTrue(cursor.next());
        assertEquals(NdOptionCursor.REDIRECTED_HEADER, cursor.type());
        assertEquals("6000000000003a40", hex(cursor.redirectedPacket()));
        assertTrue(cursor.next());
        assertEquals(NdOptionCursor.NONCE, cursor.type());
        assertTrue(cursor.isWellFormed());
        assertEquals("a1a2a3a4a5a6", hex(cursor.data()));
        assertThrows(IllegalStateException.class, cursor::redirectedPacket);
        assertFalse(cursor.next());
        assertFalse(new NdOptionCursor().reset(MemorySegment.ofArray(new byte[0])).next());
    }
}
