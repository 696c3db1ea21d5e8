package org.jmbuf.wire;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class Ipv4HeaderTest {
    private static final byte[] WITH_RECORD_ROUTE = HexFormat.of().parseHex(
            "4f000054" + "abcd4000" + "4001" + "0000" + "c0000201" + "c6336407"
                    // Record Route: type 7, length 39, pointer 4, nine empty slots, then End of Options
                    + "072704" + "00".repeat(36) + "00");

    @Test
    void readsEveryField() {
        Ipv4Header ip = Ipv4Header.of(MemorySegment.ofArray(WITH_RECORD_ROUTE));
        assertEquals(4, ip.version());
        assertEquals(60, ip.headerLength());
        assertEquals(0x54, ip.totalLength());
        assertEquals(0xabcd, ip.identification());
        assertTrue(ip.dontFragment());
        assertFalse(ip.moreFragments());
        assertEquals(0, ip.fragmentOffset());
        assertEquals(64, ip.ttl());
        assertEquals(1, ip.protocol());
        assertEquals(Ipv4Address.parse("192.0.2.1"), ip.source());
        assertEquals(Ipv4Address.parse("198.51.100.7"), ip.destination());
        assertEquals(40, ip.options().byteSize());
    }

    @Test
    void staticAccessorsReadTheSameFieldsWithoutAView() {
        MemorySegment h = MemorySegment.ofArray(WITH_RECORD_ROUTE);
        Ipv4Header ip = Ipv4Header.of(h);
        assertEquals(ip.totalLength(), Ipv4Header.totalLength(h));
        assertEquals(ip.flagsAndFragmentOffset(), Ipv4Header.flagsAndFragmentOffset(h));
        assertEquals(ip.sourceBits(), Ipv4Header.sourceBits(h));
        assertEquals(ip.destinationBits(), Ipv4Header.destinationBits(h));
        assertEquals(Ipv4Address.parse("192.0.2.1").bits(), Ipv4Header.sourceBits(h));
        assertFalse(Ipv4Header.isFragment(h), "DF alone");
        byte[] header = WITH_RECORD_ROUTE.clone();
        MemorySegment writable = MemorySegment.ofArray(header);
        Ipv4Header.fillChecksum(writable);
        assertTrue(Ipv4Header.isChecksumValid(writable));
        int checksum = Ipv4Header.of(writable).checksum();
        assertEquals(checksum, Ipv4Header.of(writable).fillChecksum().checksum(), "the view computes the same");
        header[8]++;
        assertFalse(Ipv4Header.isChecksumValid(writable));
        Ipv4Header.of(writable).setFlagsAndFragmentOffset(Ipv4Header.MORE_FRAGMENTS);
        assertTrue(Ipv4Header.isFragment(writable));
        Ipv4Header.of(writable).setFlagsAndFragmentOffset(Ipv4Header.DONT_FRAGMENT | 1);
        assertTrue(Ipv4Header.isFragment(writable), "a non-zero offset");
        assertThrows(IndexOutOfBoundsException.class,
                () -> Ipv4Header.isChecksumValid(writable.asSlice(0, 40)), "IHL 60 past the segment");
    }

    @Test
    void truncatedAtEveryLengthIsRejectedCleanly() {
        for (int n = 0; n < WITH_RECORD_ROUTE.length; n++) {
            MemorySegment cut = MemorySegment.ofArray(WITH_RECORD_ROUTE).asSlice(0, n);
            MalformedPacketException e = assertThrows(MalformedPacketException.class, () -> Ipv4Header.of(cut),
                    "length " + n);
            assertNotNull(e.getMessage());
        }
        assertDoesNotThrow(() -> Ipv4Header.of(MemorySegment.ofArray(WITH_RECORD_ROUTE)));
    }

    @Test
    void headerLengthBelowTwentyIsRejected() {
        byte[] bad = WITH_RECORD_ROUTE.clone();
        bad[0] = 0x44;
        MalformedPacketException e = assertThrows(MalformedPacketException.class,
                () -> Ipv4Header.of(MemorySegment.ofArray(bad)));
        assertEquals(0, e.offset());
    }

    @Test
    void checksumFillAndVerify() {
        MemorySegment bytes = MemorySegment.ofArray(WITH_RECORD_ROUTE.clone());
        Ipv4Header ip = Ipv4Header.of(bytes);
        assertFalse(ip.isChecksumValid());
        ip.fillChecksum();
        assertTrue(ip.isChecksumValid());
        ip.setTtl(ip.ttl() - 1);
        assertFalse(ip.isChecksumValid());
    }

    @Test
    void readOnlyViewCannotBeWritten() {
        Ipv4Header ip = Ipv4Header.of(MemorySegment.ofArray(WITH_RECORD_ROUTE).asReadOnly());
        assertThrows(IllegalArgumentException.class, () -> ip.setTtl(1));
        assertEquals(64, ip.ttl());
    }

    @Test
    void optionCursorWalksRecordRouteAndStopsAtEnd() {
        Ipv4OptionCursor options = new Ipv4OptionCursor().reset(Ipv4Header.of(
                MemorySegment.ofArray(WITH_RECORD_ROUTE)).options());
        assertTrue(options.next());
        assertEquals(Ipv4OptionCursor.RECORD_ROUTE, options.type());
        assertEquals(39, options.length());
        assertEquals(0, options.offset());
        assertFalse(options.next());
    }

    @Test
    void optionLengthPastTheEndIsRejectedWithItsOffset() {
        MemorySegment options = MemorySegment.ofArray(HexFormat.of().parseHex("0101070904000000"));
        Ipv4OptionCursor cursor = new Ipv4OptionCursor().reset(options);
        MalformedPacketException e = assertThrows(MalformedPacketException.class, cursor::next);
        assertEquals(3, e.offset());
    }

    @Test
    void optionWithoutLengthByteAndLengthBelowTwoAreRejected() {
        assertThrows(MalformedPacketException.class,
                () -> new Ipv4OptionCursor().reset(MemorySegment.ofArray(new byte[] {1, 1, 1, 7})).next());
        assertThrows(MalformedPacketException.class,
                () -> new Ipv4OptionCursor().reset(MemorySegment.ofArray(new byte[] {7, 1, 0, 0})).next());
    }

    @Test
    void initializeMakesAValidViewOverAnyBytes() {
        MemorySegment bytes = MemorySegment.ofArray(new byte[20]);
        Ipv4Header ip = new Ipv4Header().initialize(bytes);
        assertEquals(4, ip.version());
        assertEquals(20, ip.headerLength());
        assertThrows(IndexOutOfBoundsException.class, () -> new Ipv4Header().initialize(MemorySegment.ofArray(new byte[19])));
        assertThrows(IllegalArgumentException.class,
                () -> new Ipv4Header().initialize(MemorySegment.ofArray(new byte[20]).asReadOnly()));
    }
}
