package org.jmbuf.wire;

import static org.jmbuf.wire.WireTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class Ipv6HeaderTest {
    /** Traffic class 0xe1, flow label 0x23456, 8 bytes of ICMPv6, hop limit 255, 2001:db8::1 > fe80::1. */
    private static final byte[] HEADER = bytes("6e123456" + "0008" + "3a" + "ff"
            + "20010db8000000000000000000000001" + "fe800000000000000000000000000001" + "8000000000000000");

    @Test
    void readsEveryField() {
        Ipv6Header ip = Ipv6Header.of(MemorySegment.ofArray(HEADER));
        assertEquals(6, ip.version());
        assertEquals(0xe1, ip.trafficClass());
        assertEquals(0x23456, ip.flowLabel());
        assertEquals(8, ip.payloadLength());
        assertEquals(IpProtocol.ICMPV6, ip.nextHeader());
        assertEquals(255, ip.hopLimit());
        assertEquals(Ipv6Address.parse("2001:db8::1"), ip.source());
        assertEquals(Ipv6Address.parse("fe80::1"), ip.destination());
        assertEquals(Ipv6Address.parse("2001:db8::1"), Ipv6Address.read(ip.bytes(), Ipv6Header.SOURCE_OFFSET));
        assertEquals(Ipv6Address.parse("fe80::1"), Ipv6Address.read(ip.bytes(), Ipv6Header.DESTINATION_OFFSET));
        assertEquals("8000000000000000", hex(ip.payload()));
    }

    @Test
    void staticAccessorsReadTheSameFieldsWithoutAView() {
        MemorySegment h = MemorySegment.ofArray(HEADER);
        Ipv6Header ip = Ipv6Header.of(h);
        assertEquals(6, Ipv6Header.version(h));
        assertEquals(8, Ipv6Header.payloadLength(h));
        assertEquals(255, Ipv6Header.hopLimit(h));
        assertEquals(ip.source(), new Ipv6Address(Ipv6Header.sourceHigh(h), Ipv6Header.sourceLow(h)));
        assertEquals(ip.destination(), new Ipv6Address(Ipv6Header.destinationHigh(h), Ipv6Header.destinationLow(h)));
    }

    @Test
    void truncatedAtEveryLengthIsRejectedCleanly() {
        assertRejectedBelow(HEADER, Ipv6Header.MIN_LENGTH, Ipv6Header::of, n -> 0);
    }

    @Test
    void pseudoHeaderSumMatchesTheAddressForm() {
        Ipv6Header ip = Ipv6Header.of(MemorySegment.ofArray(HEADER));
        assertEquals(InternetChecksum.fold(InternetChecksum.ipv6PseudoHeader(ip.source(), ip.destination(),
                IpProtocol.ICMPV6, 8)), InternetChecksum.fold(ip.pseudoHeaderSum(IpProtocol.ICMPV6, 8)));
    }

    @Test
    void settersRoundTrip() {
        Ipv6Header ip = Ipv6Header.of(MemorySegment.ofArray(new byte[40]));
        ip.setVersionClassAndFlow(0xb8, 0xfffff)
                .setPayloadLength(1460)
                .setNextHeader(IpProtocol.TCP)
                .setHopLimit(64)
                .setSource(Ipv6Address.parse("2001:db8::a"))
                .setDestination(Ipv6Address.parse("2001:db8:1::b"));
        assertEquals("6b8fffff" + "05b4" + "06" + "40" + "20010db800000000000000000000000a"
                + "20010db800010000000000000000000b", hex(ip.bytes()));
        ip.setTrafficClass(0x01);
        assertEquals(6, ip.version());
        assertEquals(0x01, ip.trafficClass());
        assertEquals(0xfffff, ip.flowLabel(), "flow label kept");
        ip.setFlowLabel(0x12345);
        assertEquals(0x01, ip.trafficClass(), "traffic class kept");
        assertEquals(0x12345, ip.flowLabel());
        assertEquals(6, ip.version());
    }

    @Test
    void setterArgumentsAreChecked() {
        Ipv6Header ip = Ipv6Header.of(writable(HEADER));
        assertThrows(IllegalArgumentException.class, () -> ip.setTrafficClass(256));
        assertThrows(IllegalArgumentException.class, () -> ip.setTrafficClass(-1));
        assertThrows(IllegalArgumentException.class, () -> ip.setFlowLabel(0x100000));
        assertThrows(IllegalArgumentException.class, () -> ip.setVersionClassAndFlow(0, -1));
        assertEquals(0xe1, ip.trafficClass());
        assertEquals(0x23456, ip.flowLabel());
    }

    @Test
    void readOnlyViewCannotBeWritten() {
        Ipv6Header ip = Ipv6Header.of(readOnly(HEADER));
        assertThrows(IllegalArgumentException.class, () -> ip.setHopLimit(1));
        assertThrows(IllegalArgumentException.class, () -> ip.setVersionClassAndFlow(0, 0));
        assertThrows(IllegalArgumentException.class, () -> ip.setTrafficClass(0));
        assertThrows(IllegalArgumentException.class, () -> ip.setFlowLabel(0));
        assertThrows(IllegalArgumentException.class, () -> ip.setPayloadLength(0));
        assertThrows(IllegalArgumentException.class, () -> ip.setNextHeader(0));
        assertThrows(IllegalArgumentException.class, () -> ip.setSource(Ipv6Address.LOOPBACK));
        assertThrows(IllegalArgumentException.class, () -> ip.setDestination(Ipv6Address.LOOPBACK));
        assertEquals(255, ip.hopLimit());
    }
}
