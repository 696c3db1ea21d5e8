package org.jmbuf.wire;

import static org.jmbuf.wire.WireTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class UdpHeaderTest {
    private static final int SOURCE = Ipv4Address.parse("192.0.2.1").bits();
    private static final int DESTINATION = Ipv4Address.parse("198.51.100.53").bits();

    /** 192.0.2.1:54321 > 198.51.100.53:53, 20 bytes of data; checksum da76 computed independently. */
    private static final byte[] DATAGRAM = bytes("d431" + "0035" + "001c" + "da76"
            + "0102030405060708090a0b0c0d0e0f1011121314");

    private static long pseudoHeader(int length) {
        return InternetChecksum.ipv4PseudoHeader(SOURCE, DESTINATION, IpProtocol.UDP, length);
    }

    @Test
    void readsEveryField() {
        UdpHeader udp = UdpHeader.of(MemorySegment.ofArray(DATAGRAM));
        assertEquals(54321, udp.sourcePort());
        assertEquals(53, udp.destinationPort());
        assertEquals(28, udp.length());
        assertEquals(0xda76, udp.checksum());
        assertEquals(20, udp.payload().byteSize());
        assertEquals(1, Bytes.u8(udp.payload(), 0));
        assertTrue(udp.isChecksumValid(pseudoHeader(28)));
        assertFalse(udp.isChecksumValid(pseudoHeader(29)));
    }

    @Test
    void staticAccessorsReadTheSameFieldsWithoutAView() {
        MemorySegment h = MemorySegment.ofArray(DATAGRAM);
        assertEquals(54321, UdpHeader.sourcePort(h));
        assertEquals(53, UdpHeader.destinationPort(h));
        assertEquals(28, UdpHeader.length(h));
        assertEquals(0xda76, UdpHeader.checksum(h));
    }

    @Test
    void truncatedAtEveryLengthIsRejectedCleanly() {
        assertRejectedBelow(DATAGRAM, UdpHeader.LENGTH, UdpHeader::of, n -> 0);
    }

    @Test
    void checksumFillAndVerify() {
        UdpHeader udp = UdpHeader.of(writable(DATAGRAM));
        udp.setChecksum(0);
        assertFalse(udp.isChecksumValid(pseudoHeader(28)), "no checksum is not a valid one");
        udp.fillChecksum(pseudoHeader(28));
        assertEquals(0xda76, udp.checksum());
    }

    @Test
    void aComputedZeroIsSentAsAllOnes() {
        // the data word 3f05 makes the sum come out to ffff, so the checksum computes to 0
        UdpHeader udp = UdpHeader.of(MemorySegment.ofArray(bytes("d4310035000c0000" + "3f050000")));
        udp.fillChecksum(pseudoHeader(12));
        assertEquals(0xffff, udp.checksum());
        assertTrue(udp.isChecksumValid(pseudoHeader(12)));
    }

    @Test
    void settersRoundTrip() {
        UdpHeader udp = UdpHeader.of(MemorySegment.ofArray(new byte[8]));
        udp.setSourcePort(0xfffe).setDestinationPort(547).setLength(8).setChecksum(0x1234);
        assertEquals("fffe" + "0223" + "0008" + "1234", hex(udp.bytes()));
        assertEquals(0xfffe, udp.sourcePort());
        assertEquals(0, udp.payload().byteSize());
    }

    @Test
    void readOnlyViewCannotBeWritten() {
        UdpHeader udp = UdpHeader.of(readOnly(DATAGRAM));
        assertThrows(IllegalArgumentException.class, () -> udp.setSourcePort(1));
        assertThrows(IllegalArgumentException.class, () -> udp.setDestinationPort(1));
        assertThrows(IllegalArgumentException.class, () -> udp.setLength(1));
        assertThrows(IllegalArgumentException.class, () -> udp.setChecksum(1));
        assertThrows(IllegalArgumentException.class, () -> udp.fillChecksum(0));
        assertEquals(54321, udp.sourcePort());
    }
}
