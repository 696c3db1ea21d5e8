package org.jmbuf.wire;

import static org.jmbuf.wire.WireTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class IcmpMessageTest {
    /** Echo Request, identifier 0x1234, sequence 1, data "abcdefgh"; checksum 5435 computed independently. */
    private static final byte[] ECHO = bytes("08" + "00" + "5435" + "1234" + "0001" + "6162636465666768");
    /** Fragmentation needed, next-hop MTU 1500, then the invoking IPv4 header (20 bytes) and 8 bytes of it. */
    private static final byte[] NEED_FRAGMENTATION = bytes("03" + "04" + "0000" + "0000" + "05dc"
            + "450005dc00004000" + "3f110000c0000201" + "cb007105" + "d4310035" + "05c80000");
    private static final byte[] PARAMETER_PROBLEM = bytes("0c" + "00" + "0000" + "14000000");
    private static final byte[] REDIRECT = bytes("05" + "01" + "0000" + "c6336401");

    @Test
    void readsAnEcho() {
        IcmpMessage icmp = IcmpMessage.of(MemorySegment.ofArray(ECHO));
        assertEquals(IcmpMessage.ECHO_REQUEST, icmp.type());
        assertEquals(0, icmp.code());
        assertEquals(0x5435, icmp.checksum());
        assertEquals(0x1234, icmp.identifier());
        assertEquals(1, icmp.sequence());
        assertEquals(0x12340001, icmp.restOfHeader());
        assertEquals("6162636465666768", hex(icmp.body()));
        assertTrue(icmp.isChecksumValid());
    }

    @Test
    void readsTheSecondWordOfErrors() {
        IcmpMessage needFrag = IcmpMessage.of(MemorySegment.ofArray(NEED_FRAGMENTATION));
        assertEquals(IcmpMessage.DESTINATION_UNREACHABLE, needFrag.type());
        assertEquals(IcmpMessage.UNREACHABLE_NEED_FRAGMENTATION, needFrag.code());
        assertEquals(1500, needFrag.nextHopMtu());
        Ipv4Header invoking = Ipv4Header.of(needFrag.body());
        assertEquals(Ipv4Address.parse("203.0.113.5"), invoking.destination());
        assertEquals(8, invoking.bytes().byteSize() - invoking.headerLength());

        assertEquals(20, IcmpMessage.of(MemorySegment.ofArray(PARAMETER_PROBLEM)).pointer());
        IcmpMessage redirect = IcmpMessage.of(MemorySegment.ofArray(REDIRECT));
        assertEquals(IcmpMessage.REDIRECT_HOST, redirect.code());
        assertEquals(Ipv4Address.parse("198.51.100.1"), redirect.gateway());
        assertEquals(0, redirect.body().byteSize());
    }

    @Test
    void classifiesErrors() {
        for (int type : new int[] {3, 4, 5, 11, 12}) {
            assertTrue(IcmpMessage.isError(type), "type " + type);
        }
        for (int type : new int[] {0, 8, 9, 10, 13, 14, 255}) {
            assertFalse(IcmpMessage.isError(type), "type " + type);
        }
    }

    @Test
    void truncatedAtEveryLengthIsRejectedCleanly() {
        assertRejectedBelow(ECHO, IcmpMessage.HEADER_LENGTH, IcmpMessage::of, n -> 0);
        assertRejectedBelow(REDIRECT, IcmpMessage::of, n -> 0);
    }

    @Test
    void checksumFillAndVerify() {
        IcmpMessage icmp = IcmpMessage.of(writable(ECHO));
        icmp.setChecksum(0);
        assertFalse(icmp.isChecksumValid());
        icmp.fillChecksum();
        assertEquals(0x5435, icmp.checksum());
        icmp.setType(IcmpMessage.ECHO_REPLY);
        assertFalse(icmp.isChecksumValid());
    }

    @Test
    void settersRoundTrip() {
        IcmpMessage icmp = IcmpMessage.of(MemorySegment.ofArray(new byte[8]));
        icmp.setType(IcmpMessage.ECHO_REPLY).setCode(0).setIdentifier(0xbeef).setSequence(0xffff).setChecksum(0xabcd);
        assertEquals("0000abcdbeefffff", hex(icmp.bytes()));
        icmp.setPointer(0x1ff);
        assertEquals(0xff, icmp.pointer());
        assertEquals("ff000000", hex(icmp.bytes().asSlice(4)), "rest of the word cleared");
        icmp.setNextHopMtu(1280);
        assertEquals(1280, icmp.nextHopMtu());
        assertEquals("00000500", hex(icmp.bytes().asSlice(4)));
        icmp.setGateway(Ipv4Address.parse("192.0.2.254"));
        assertEquals(Ipv4Address.parse("192.0.2.254"), icmp.gateway());
        icmp.setRestOfHeader(0x01020304);
        assertEquals(0x0102, icmp.identifier());
        assertEquals(0x0304, icmp.sequence());
    }

    @Test
    void readOnlyViewCannotBeWritten() {
        IcmpMessage icmp = IcmpMessage.of(readOnly(ECHO));
        assertThrows(IllegalArgumentException.class, () -> icmp.setType(0));
        assertThrows(IllegalArgumentException.class, () -> icmp.setCode(1));
        assertThrows(IllegalArgumentException.class, () -> icmp.setChecksum(0));
        assertThrows(IllegalArgumentException.class, icmp::fillChecksum);
        assertThrows(IllegalArgumentException.class, () -> icmp.setIdentifier(0));
        assertThrows(IllegalArgumentException.class, () -> icmp.setSequence(0));
        assertThrows(IllegalArgumentException.class, () -> icmp.setPointer(0));
        assertThrows(IllegalArgumentException.class, () -> icmp.setNextHopMtu(0));
        assertThrows(IllegalArgumentException.class, () -> icmp.setGateway(Ipv4Address.ANY));
        assertThrows(IllegalArgumentException.class, () -> icmp.setRestOfHeader(0));
        assertEquals(IcmpMessage.ECHO_REQUEST, icmp.type());
        assertTrue(icmp.isChecksumValid());
    }
}
