package org.jmbuf.wire;

import static org.jmbuf.wire.WireTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class Ipv6ExtensionHeaderTest {
    /** Hop-by-Hop, next ICMPv6, 8 bytes: Router Alert (MLD), PadN of 0 bytes. */
    private static final byte[] HOP_BY_HOP = bytes("3a" + "00" + "05020000" + "0100");
    /**
     * Destination Options, next UDP, 16 bytes: Pad1 at 2; type 0x1e (skip, fixed) with 2 bytes at 3; type 0xfe
     * (discard and report unless multicast, may change) with 1 byte at 7; PadN of 3 at 10; Pad1 at 15.
     */
    static final byte[] DESTINATION = bytes("11" + "01" + "00" + "1e02abcd" + "fe01ee" + "0103000000" + "00");

    private static Ipv6OptionCursor cursor(byte[] header) {
        return new Ipv6OptionCursor().reset(Ipv6ExtensionHeader.of(MemorySegment.ofArray(header)));
    }

    @Test
    void readsTheGenericFields() {
        Ipv6ExtensionHeader hbh = Ipv6ExtensionHeader.of(MemorySegment.ofArray(HOP_BY_HOP));
        assertEquals(IpProtocol.ICMPV6, hbh.nextHeader());
        assertEquals(0, hbh.headerExtensionLength());
        assertEquals(8, hbh.length());
        assertEquals("050200000100", hex(hbh.options()));

        Ipv6ExtensionHeader dest = Ipv6ExtensionHeader.of(MemorySegment.ofArray(DESTINATION));
        assertEquals(IpProtocol.UDP, dest.nextHeader());
        assertEquals(1, dest.headerExtensionLength());
        assertEquals(16, dest.length());
        assertEquals(16, dest.header().byteSize());
        assertEquals(16, Ipv6ExtensionHeader.lengthOf(MemorySegment.ofArray(DESTINATION).asSlice(0, 2)));
    }

    @Test
    void truncatedAtEveryLengthIsRejectedCleanly() {
        assertRejectedBelow(HOP_BY_HOP, Ipv6ExtensionHeader::of, n -> n < 2 ? 0 : Ipv6ExtensionHeader.Field.LENGTH);
        assertRejectedBelow(DESTINATION, Ipv6ExtensionHeader::of,
                n -> n < 2 ? 0 : Ipv6ExtensionHeader.Field.LENGTH);
        assertThrows(MalformedPacketException.class,
                () -> Ipv6ExtensionHeader.lengthOf(MemorySegment.ofArray(new byte[1])));
    }

    @Test
    void optionsAreWalkedWithPaddingSkipped() {
        Ipv6OptionCursor options = cursor(DESTINATION);
        assertTrue(options.next());
        assertEquals(0x1e, options.type());
        assertEquals(3, options.offset());
        assertEquals(4, options.length());
        assertEquals(2, options.dataLength());
        assertEquals("abcd", hex(options.data()));
        assertEquals("1e02abcd", hex(options.option()));
        assertEquals(Ipv6OptionCursor.ACTION_SKIP, options.action());
        assertFalse(options.mayChangeEnRoute());

        assertTrue(options.next());
        assertEquals(0xfe, options.type());
        assertEquals(7, options.offset());
        assertEquals("ee", hex(options.data()));
        assertEquals(Ipv6OptionCursor.ACTION_DISCARD_AND_REPORT_UNLESS_MULTICAST, options.action());
        assertTrue(options.mayChangeEnRoute());

        assertFalse(options.next());
        assertFalse(options.next());
    }

    @Test
    void routerAlertIsFoundInHopByHop() {
        Ipv6OptionCursor options = cursor(HOP_BY_HOP);
        assertTrue(options.next());
        assertEquals(Ipv6OptionCursor.ROUTER_ALERT, options.type());
        assertEquals(2, options.offset());
        assertEquals(0, Bytes.u16(options.data(), 0), "MLD");
        assertFalse(options.next());
    }

    @Test
    void actionBitsAreTheTopTwo() {
        assertEquals(Ipv6OptionCursor.ACTION_SKIP, Ipv6OptionCursor.actionOf(0x3f));
        assertEquals(Ipv6OptionCursor.ACTION_DISCARD, Ipv6OptionCursor.actionOf(0x40));
        assertEquals(Ipv6OptionCursor.ACTION_DISCARD_AND_REPORT, Ipv6OptionCursor.actionOf(0x80));
        assertEquals(Ipv6OptionCursor.ACTION_DISCARD_AND_REPORT_UNLESS_MULTICAST, Ipv6OptionCursor.actionOf(0xc2));
    }

    @Test
    void optionLengthPastTheEndIsRejectedWithItsOffsetInTheHeader() {
        // Router Alert claiming 5 bytes of data at offset 2: 7 bytes, 6 left; the length byte is at 3.
        assertOptionsRejectedAt("3a00" + "0505" + "00000000", 3);
        // PadN claiming 8 bytes at offset 2
        assertOptionsRejectedAt("3a00" + "0108" + "00000000", 3);
        // PadN of 3 fills 2..6, then a type byte at 7 with no length byte
        assertOptionsRejectedAt("3a00" + "0103000000" + "07", 7);
        // A valid first option, then one overrunning a 16-byte header: type at 10, length at 11
        assertOptionsRejectedAt("3a01" + "1e06000000000000" + "1e05" + "00000000", 11);
    }

    private static void assertOptionsRejectedAt(String hex, int offset) {
        Ipv6OptionCursor options = cursor(bytes(hex));
        MalformedPacketException e = assertThrows(MalformedPacketException.class, () -> {
            while (options.next()) {
                // walk to the bad option
            }
        }, hex);
        assertEquals(offset, e.offset(), hex);
    }

    @Test
    void settersRoundTrip() {
        Ipv6ExtensionHeader header = Ipv6ExtensionHeader.of(MemorySegment.ofArray(new byte[24]));
        header.setNextHeader(IpProtocol.TCP).setHeaderExtensionLength(2);
        assertEquals(IpProtocol.TCP, header.nextHeader());
        assertEquals(24, header.length());
        assertThrows(IndexOutOfBoundsException.class, () -> header.setHeaderExtensionLength(3));
        assertThrows(IllegalArgumentException.class, () -> header.setHeaderExtensionLength(256));
        assertThrows(IllegalArgumentException.class, () -> header.setHeaderExtensionLength(-1));
        assertEquals(24, header.length(), "unchanged");
    }

    @Test
    void readOnlyViewCannotBeWritten() {
        Ipv6ExtensionHeader header = Ipv6ExtensionHeader.of(readOnly(DESTINATION));
        assertThrows(IllegalArgumentException.class, () -> header.setNextHeader(IpProtocol.TCP));
        assertThrows(IllegalArgumentException.class, () -> header.setHeaderExtensionLength(0));
        assertEquals(IpProtocol.UDP, header.nextHeader());
        assertEquals(16, header.length());
    }
}
