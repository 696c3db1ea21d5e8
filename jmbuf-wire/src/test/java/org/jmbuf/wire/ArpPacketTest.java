package org.jmbuf.wire;

import static org.jmbuf.wire.WireTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class ArpPacketTest {
    /** Who has 192.0.2.2? Tell 192.0.2.1 (02:00:00:00:00:01); then 4 bytes of Ethernet padding. */
    static final byte[] REQUEST = bytes("0001" + "0800" + "06" + "04" + "0001"
            + "020000000001" + "c0000201" + "000000000000" + "c0000202" + "00000000");
    /** Hardware type 6 with 2-byte addresses, IPv6-sized protocol addresses: 8 + 2 × (2 + 16) = 44 bytes. */
    static final byte[] ODD_SIZES = bytes("0006" + "86dd" + "02" + "10" + "0002"
            + "aaaa" + "20010db8000000000000000000000001" + "bbbb" + "20010db8000000000000000000000002");

    @Test
    void readsAnEthernetIpv4Request() {
        ArpPacket arp = ArpPacket.of(MemorySegment.ofArray(REQUEST));
        assertEquals(ArpPacket.HARDWARE_ETHERNET, arp.hardwareType());
        assertEquals(EtherType.IPV4, arp.protocolType());
        assertEquals(6, arp.hardwareLength());
        assertEquals(4, arp.protocolLength());
        assertEquals(ArpPacket.REQUEST, arp.operation());
        assertEquals(28, arp.length());
        assertTrue(arp.isEthernetIpv4());
        assertEquals(MacAddress.parse("02:00:00:00:00:01"), arp.senderMac());
        assertEquals(Ipv4Address.parse("192.0.2.1"), arp.senderIp());
        assertEquals(MacAddress.ZERO, arp.targetMac());
        assertEquals(Ipv4Address.parse("192.0.2.2"), arp.targetIp());
        assertEquals("c0000202", hex(arp.targetProtocolAddress()));
    }

    @Test
    void readsAnyAddressLengths() {
        ArpPacket arp = ArpPacket.of(MemorySegment.ofArray(ODD_SIZES));
        assertEquals(44, arp.length());
        assertFalse(arp.isEthernetIpv4());
        assertEquals(ArpPacket.REPLY, arp.operation());
        assertEquals("aaaa", hex(arp.senderHardwareAddress()));
        assertEquals(Ipv6Address.parse("2001:db8::1"), Ipv6Address.read(arp.senderProtocolAddress(), 0));
        assertEquals("bbbb", hex(arp.targetHardwareAddress()));
        assertEquals(Ipv6Address.parse("2001:db8::2"), Ipv6Address.read(arp.targetProtocolAddress(), 0));
        assertThrows(IllegalStateException.class, arp::senderMac);
        assertThrows(IllegalStateException.class, arp::targetIp);
    }

    @Test
    void truncatedAtEveryLengthIsRejectedCleanly() {
        assertRejectedBelow(REQUEST, 28, ArpPacket::of, n -> n < 8 ? 0 : ArpPacket.Field.HARDWARE_LENGTH);
        assertRejectedBelow(ODD_SIZES, ArpPacket::of, n -> n < 8 ? 0 : ArpPacket.Field.HARDWARE_LENGTH);
    }

    @Test
    void settersRoundTrip() {
        ArpPacket arp = ArpPacket.of(writable(REQUEST));
        arp.setOperation(ArpPacket.REPLY)
                .setSenderMac(MacAddress.parse("02:00:00:00:00:02"))
                .setSenderIp(Ipv4Address.parse("192.0.2.2"))
                .setTargetMac(MacAddress.parse("02:00:00:00:00:01"))
                .setTargetIp(Ipv4Address.parse("192.0.2.1"));
        assertEquals("0001080006040002" + "020000000002" + "c0000202" + "020000000001" + "c0000201" + "00000000",
                hex(arp.bytes()));
        arp.setHardwareType(6).setProtocolType(EtherType.IPV6);
        assertEquals(6, arp.hardwareType());
        assertEquals(EtherType.IPV6, arp.protocolType());
        assertThrows(IllegalStateException.class, () -> arp.setSenderIp(Ipv4Address.parse("192.0.2.9")));
        arp.setEthernetIpv4(ArpPacket.REQUEST);
        assertTrue(arp.isEthernetIpv4());
        assertEquals(ArpPacket.REQUEST, arp.operation());
        assertEquals(Ipv4Address.parse("192.0.2.2"), arp.senderIp(), "addresses kept");
    }

    @Test
    void settingEthernetIpv4NeedsTwentyEightBytes() {
        byte[] empty = bytes("0000" + "0000" + "00" + "00" + "0000");
        ArpPacket arp = ArpPacket.of(MemorySegment.ofArray(empty));
        assertEquals(8, arp.length());
        assertThrows(IndexOutOfBoundsException.class, () -> arp.setEthernetIpv4(ArpPacket.REQUEST));
        assertEquals("0000000000000000", hex(arp.bytes()), "nothing written");
        ArpPacket made = ArpPacket.of(MemorySegment.ofArray(new byte[28])).setEthernetIpv4(ArpPacket.REPLY);
        assertTrue(made.isEthernetIpv4());
        assertEquals(28, made.length());
    }

    @Test
    void readOnlyViewCannotBeWritten() {
        ArpPacket arp = ArpPacket.of(readOnly(REQUEST));
        assertThrows(IllegalArgumentException.class, () -> arp.setOperation(ArpPacket.REPLY));
        assertThrows(IllegalArgumentException.class, () -> arp.setHardwareType(6));
        assertThrows(IllegalArgumentException.class, () -> arp.setProtocolType(0));
        assertThrows(IllegalArgumentException.class, () -> arp.setEthernetIpv4(ArpPacket.REPLY));
        assertThrows(IllegalArgumentException.class, () -> arp.setSenderMac(MacAddress.BROADCAST));
        assertThrows(IllegalArgumentException.class, () -> arp.setSenderIp(Ipv4Address.ANY));
        assertThrows(IllegalArgumentException.class, () -> arp.setTargetMac(MacAddress.BROADCAST));
        assertThrows(IllegalArgumentException.class, () -> arp.setTargetIp(Ipv4Address.ANY));
        assertEquals(ArpPacket.REQUEST, arp.operation());
    }
}
