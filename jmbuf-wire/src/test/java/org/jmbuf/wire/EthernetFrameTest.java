package org.jmbuf.wire;

import static org.jmbuf.wire.WireTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class EthernetFrameTest {
    private static final byte[] UNTAGGED = HexFormat.of().parseHex(
            "020000000002" + "020000000001" + "0800" + "4500001c");
    // priority 5, DEI 1, VLAN 100: a000 | 1000 | 0064
    static final byte[] TAGGED = HexFormat.of().parseHex(
            "333300000001" + "020000000001" + "8100" + "b064" + "86dd" + "60000000");

    @Test
    void readsAnUntaggedFrame() {
        EthernetFrame frame = EthernetFrame.of(MemorySegment.ofArray(UNTAGGED));
        assertEquals(MacAddress.parse("02:00:00:00:00:02"), frame.destination());
        assertEquals(MacAddress.parse("02:00:00:00:00:01"), frame.source());
        assertFalse(frame.isVlanTagged());
        assertEquals(EtherType.IPV4, frame.etherType());
        assertEquals(14, frame.headerLength());
        assertEquals("4500001c", hex(frame.payload()));
        assertThrows(IllegalStateException.class, frame::vlanId);
        assertThrows(IllegalStateException.class, frame::priority);
    }

    @Test
    void readsATaggedFrame() {
        EthernetFrame frame = EthernetFrame.of(MemorySegment.ofArray(TAGGED));
        assertEquals(MacAddress.parse("33:33:00:00:00:01"), frame.destination());
        assertTrue(frame.destination().isMulticast());
        assertTrue(frame.isVlanTagged());
        assertEquals(100, frame.vlanId());
        assertEquals(5, frame.priority());
        assertTrue(frame.dropEligible());
        assertEquals(0xb064, frame.tagControl());
        assertEquals(EtherType.IPV6, frame.etherType());
        assertEquals(18, frame.headerLength());
        assertEquals(4, frame.payload().byteSize());
        assertEquals(0x60, Bytes.u8(frame.payload(), 0));
    }

    @Test
    void truncatedAtEveryLengthIsRejectedCleanly() {
        assertRejectedBelow(UNTAGGED, 14, EthernetFrame::of, n -> 0);
        assertRejectedBelow(TAGGED, 18, EthernetFrame::of, n -> n < 14 ? 0 : EthernetFrame.Field.ETHER_TYPE);
    }

    @Test
    void failedWrapLeavesTheViewAsItWas() {
        EthernetFrame frame = EthernetFrame.of(MemorySegment.ofArray(UNTAGGED));
        assertThrows(MalformedPacketException.class, () -> frame.wrap(MemorySegment.ofArray(TAGGED).asSlice(0, 16)));
        assertEquals(EtherType.IPV4, frame.etherType());
        assertSame(frame, frame.wrap(MemorySegment.ofArray(TAGGED)));
        assertEquals(EtherType.IPV6, frame.etherType());
    }

    @Test
    void settersRoundTrip() {
        EthernetFrame frame = EthernetFrame.of(writable(UNTAGGED));
        frame.setDestination(MacAddress.BROADCAST).setSource(MacAddress.parse("02:00:00:00:00:09"))
                .setEtherType(EtherType.ARP);
        assertEquals(MacAddress.BROADCAST, frame.destination());
        assertEquals(MacAddress.parse("02:00:00:00:00:09"), frame.source());
        assertEquals(EtherType.ARP, frame.etherType());
        assertEquals("ffffffffffff" + "020000000009" + "0806" + "4500001c",
                hex(frame.bytes()));
    }

    @Test
    void taggingAndTagSettersKeepTheOtherBits() {
        EthernetFrame frame = EthernetFrame.of(writable(UNTAGGED));
        frame.setVlanTag(3, 4094, EtherType.IPV4);
        assertTrue(frame.isVlanTagged());
        assertEquals(18, frame.headerLength());
        assertEquals(3, frame.priority());
        assertEquals(4094, frame.vlanId());
        assertFalse(frame.dropEligible());
        assertEquals(EtherType.IPV4, frame.etherType());

        EthernetFrame tagged = EthernetFrame.of(writable(TAGGED));
        tagged.setVlanId(7);
        assertEquals(7, tagged.vlanId());
        assertEquals(5, tagged.priority());
        assertTrue(tagged.dropEligible());
        tagged.setPriority(1);
        assertEquals(1, tagged.priority());
        assertEquals(7, tagged.vlanId());
        assertTrue(tagged.dropEligible());
        tagged.setEtherType(EtherType.ARP);
        assertEquals(EtherType.ARP, tagged.etherType());
        assertEquals(EtherType.VLAN, Bytes.u16(tagged.bytes(), EthernetFrame.Field.ETHER_TYPE));
    }

    @Test
    void setterArgumentsAreChecked() {
        EthernetFrame frame = EthernetFrame.of(writable(UNTAGGED));
        assertThrows(IllegalArgumentException.class, () -> frame.setEtherType(EtherType.VLAN));
        assertThrows(IllegalArgumentException.class, () -> frame.setVlanTag(8, 1, EtherType.IPV4));
        assertThrows(IllegalArgumentException.class, () -> frame.setVlanTag(0, 4096, EtherType.IPV4));
        assertThrows(IllegalStateException.class, () -> frame.setVlanId(1));
        assertEquals(EtherType.IPV4, frame.etherType());

        byte[] exact = UNTAGGED.clone();
        EthernetFrame short14 = EthernetFrame.of(MemorySegment.ofArray(exact).asSlice(0, 14));
        assertThrows(IndexOutOfBoundsException.class, () -> short14.setVlanTag(0, 1, EtherType.IPV4));
        assertArrayEquals(UNTAGGED, exact, "nothing written");
    }

    @Test
    void readOnlyViewCannotBeWritten() {
        EthernetFrame frame = EthernetFrame.of(readOnly(TAGGED));
        assertThrows(IllegalArgumentException.class, () -> frame.setDestination(MacAddress.BROADCAST));
        assertThrows(IllegalArgumentException.class, () -> frame.setSource(MacAddress.BROADCAST));
        assertThrows(IllegalArgumentException.class, () -> frame.setEtherType(EtherType.ARP));
        assertThrows(IllegalArgumentException.class, () -> frame.setVlanId(1));
        assertThrows(IllegalArgumentException.class, () -> frame.setPriority(1));
        assertThrows(IllegalArgumentException.class, () -> frame.setVlanTag(1, 1, EtherType.ARP));
        assertEquals(100, frame.vlanId());
        assertEquals(EtherType.IPV6, frame.etherType());
    }
}
