package org.jmbuf.wire;

import static org.jmbuf.wire.WireTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class Ipv6RoutingHeaderTest {
    /** Type 0, next ICMPv6, Hdr Ext Len 4, one segment left, two addresses. */
    static final byte[] TYPE_0 = bytes("3a" + "04" + "00" + "01" + "00000000"
            + "20010db8000000000000000000000001" + "20010db8000000000000000000000002");
    /** Segment Routing (type 4) with Hdr Ext Len 1: no address list this view knows. */
    private static final byte[] SEGMENT_ROUTING = bytes("3a" + "01" + "04" + "00" + "0000000000000000" + "00000000");

    @Test
    void readsEveryField() {
        Ipv6RoutingHeader routing = Ipv6RoutingHeader.of(MemorySegment.ofArray(TYPE_0));
        assertEquals(IpProtocol.ICMPV6, routing.nextHeader());
        assertEquals(4, routing.headerExtensionLength());
        assertEquals(40, routing.length());
        assertEquals(Ipv6RoutingHeader.TYPE_0, routing.routingType());
        assertEquals(1, routing.segmentsLeft());
        assertEquals(36, routing.data().byteSize());
        assertEquals(2, routing.addressCount());
        assertEquals(Ipv6Address.parse("2001:db8::1"), routing.address(0));
        assertEquals(Ipv6Address.parse("2001:db8::2"), routing.address(1));
        assertEquals(24, routing.addressOffset(1));
        assertThrows(IndexOutOfBoundsException.class, () -> routing.address(2));
        assertThrows(IndexOutOfBoundsException.class, () -> routing.address(-1));
    }

    @Test
    void truncatedAtEveryLengthIsRejectedCleanly() {
        assertRejectedBelow(TYPE_0, Ipv6RoutingHeader::of, n -> n < 2 ? 0 : Ipv6RoutingHeader.Field.LENGTH);
        assertRejectedBelow(SEGMENT_ROUTING, 16, Ipv6RoutingHeader::of,
                n -> n < 2 ? 0 : Ipv6RoutingHeader.Field.LENGTH);
    }

    @Test
    void oddLengthOfAType0HeaderIsMalformedAtTheLengthField() {
        byte[] odd = bytes("3a" + "01" + "00" + "01" + "00000000" + "0000000000000000");
        Ipv6RoutingHeader routing = Ipv6RoutingHeader.of(MemorySegment.ofArray(odd));
        MalformedPacketException e = assertThrows(MalformedPacketException.class, routing::addressCount);
        assertEquals(1, e.offset());
        assertThrows(MalformedPacketException.class, () -> routing.address(0));
    }

    @Test
    void otherTypesHaveNoAddressList() {
        Ipv6RoutingHeader routing = Ipv6RoutingHeader.of(MemorySegment.ofArray(SEGMENT_ROUTING));
        assertEquals(Ipv6RoutingHeader.SEGMENT_ROUTING, routing.routingType());
        assertThrows(IllegalStateException.class, routing::addressCount);
        assertThrows(IllegalStateException.class, () -> routing.address(0));
    }

    @Test
    void settersRoundTrip() {
        Ipv6RoutingHeader routing = Ipv6RoutingHeader.of(MemorySegment.ofArray(new byte[24]));
        routing.setNextHeader(IpProtocol.TCP).setHeaderExtensionLength(2).setRoutingType(Ipv6RoutingHeader.TYPE_2)
                .setSegmentsLeft(1).setAddress(0, Ipv6Address.parse("2001:db8::99"));
        assertEquals("06" + "02" + "02" + "01" + "00000000" + "20010db8000000000000000000000099", hex(routing.bytes()));
        assertEquals(1, routing.addressCount());
        assertThrows(IndexOutOfBoundsException.class, () -> routing.setAddress(1, Ipv6Address.LOOPBACK));
        assertThrows(IndexOutOfBoundsException.class, () -> routing.setHeaderExtensionLength(4));
    }

    @Test
    void readOnlyViewCannotBeWritten() {
        Ipv6RoutingHeader routing = Ipv6RoutingHeader.of(readOnly(TYPE_0));
        assertThrows(IllegalArgumentException.class, () -> routing.setNextHeader(0));
        assertThrows(IllegalArgumentException.class, () -> routing.setHeaderExtensionLength(0));
        assertThrows(IllegalArgumentException.class, () -> routing.setRoutingType(2));
        assertThrows(IllegalArgumentException.class, () -> routing.setSegmentsLeft(0));
        assertThrows(IllegalArgumentException.class, () -> routing.setAddress(0, Ipv6Address.LOOPBACK));
        assertEquals(1, routing.segmentsLeft());
        assertEquals(Ipv6Address.parse("2001:db8::1"), routing.address(0));
    }
}
