package org.jmbuf.wire;

import static org.jmbuf.wire.WireTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class TcpHeaderTest {
    private static final Ipv6Address SOURCE = Ipv6Address.parse("2001:db8::1");
    private static final Ipv6Address DESTINATION = Ipv6Address.parse("2001:db8::2");

    /**
     * A SYN 50000 > 80, sequence 0xfffffff0, window 64240, 20 bytes of options: MSS 1460, SACK permitted,
     * timestamps 123456/0, NOP, window scale 7. Checksum 4bc7 (over 2001:db8::1 > 2001:db8::2) computed
     * independently.
     */
    static final byte[] SYN = bytes("c350" + "0050" + "fffffff0" + "00000000" + "a002" + "faf0" + "4bc7" + "0000"
            + "020405b4" + "0402" + "080a0001e24000000000" + "01" + "030307");
    /** An ACK with data and no options: data offset 5, ACK|PSH|ECE|CWR|AE, urgent pointer 2. */
    private static final byte[] DATA = bytes("0050" + "c350" + "00000001" + "fffffff1" + "51d8" + "0100" + "0000"
            + "0002"
            + "68656c6c6f");

    @Test
    void readsEveryField() {
        TcpHeader tcp = TcpHeader.of(MemorySegment.ofArray(SYN));
        assertEquals(50000, tcp.sourcePort());
        assertEquals(80, tcp.destinationPort());
        assertEquals(0xfffffff0, tcp.sequenceNumber());
        assertEquals(0, tcp.acknowledgmentNumber());
        assertEquals(40, tcp.headerLength());
        assertEquals(TcpHeader.SYN, tcp.flags());
        assertTrue(tcp.hasFlags(TcpHeader.SYN));
        assertFalse(tcp.hasFlags(TcpHeader.SYN | TcpHeader.ACK));
        assertEquals(64240, tcp.window());
        assertEquals(0x4bc7, tcp.checksum());
        assertEquals(0, tcp.urgentPointer());
        assertEquals("020405b4", hex(tcp.options().asSlice(0, 4)));
        assertEquals(20, tcp.options().byteSize());
        assertEquals(0, tcp.payload().byteSize());
        assertTrue(tcp.isChecksumValid(InternetChecksum.ipv6PseudoHeader(SOURCE, DESTINATION, IpProtocol.TCP, 40)));
    }

    @Test
    void readsAllNineFlags() {
        TcpHeader tcp = TcpHeader.of(MemorySegment.ofArray(DATA));
        assertEquals(20, tcp.headerLength());
        assertEquals(TcpHeader.ACK | TcpHeader.PSH | TcpHeader.ECE | TcpHeader.CWR | TcpHeader.AE, tcp.flags());
        assertTrue(tcp.hasFlags(TcpHeader.AE));
        assertEquals(0xfffffff1, tcp.acknowledgmentNumber());
        assertEquals(256, tcp.window());
        assertEquals(2, tcp.urgentPointer());
        assertEquals(0, tcp.options().byteSize());
        assertEquals("68656c6c6f", hex(tcp.payload()));
    }

    @Test
    void truncatedAtEveryLengthIsRejectedCleanly() {
        assertRejectedBelow(SYN, TcpHeader::of, n -> n < 20 ? 0 : TcpHeader.Field.DATA_OFFSET_FLAGS);
        assertRejectedBelow(DATA, TcpHeader.MIN_LENGTH, TcpHeader::of, n -> 0);
    }

    @Test
    void dataOffsetBelowFiveIsRejected() {
        byte[] bad = DATA.clone();
        bad[12] = 0x41;
        MalformedPacketException e = assertThrows(MalformedPacketException.class,
                () -> TcpHeader.of(MemorySegment.ofArray(bad)));
        assertEquals(TcpHeader.Field.DATA_OFFSET_FLAGS, e.offset());
    }

    @Test
    void headerLengthIsReadableBeforeAView() {
        assertEquals(40, TcpHeader.headerLengthOf(MemorySegment.ofArray(SYN).asSlice(0, 13)));
        assertThrows(MalformedPacketException.class,
                () -> TcpHeader.headerLengthOf(MemorySegment.ofArray(SYN).asSlice(0, 12)));
    }

    @Test
    void checksumFillAndVerify() {
        TcpHeader tcp = TcpHeader.of(writable(SYN));
        long pseudo = InternetChecksum.ipv6PseudoHeader(SOURCE, DESTINATION, IpProtocol.TCP, 40);
        tcp.setChecksum(0);
        assertFalse(tcp.isChecksumValid(pseudo));
        tcp.fillChecksum(pseudo);
        assertEquals(0x4bc7, tcp.checksum());
        tcp.setWindow(1);
        assertFalse(tcp.isChecksumValid(pseudo));
    }

    @Test
    void settersRoundTrip() {
        // a bare header with data offset 5 and four NOPs after it
        TcpHeader tcp = TcpHeader.of(MemorySegment.ofArray(bytes("000000000000000000000000" + "5000" + "000000000000"
                + "01010101")));
        tcp.setSourcePort(443).setDestinationPort(50001).setSequenceNumber(-1).setAcknowledgmentNumber(0x80000000)
                .setFlags(TcpHeader.SYN | TcpHeader.ACK).setWindow(65535).setChecksum(0xbeef).setUrgentPointer(7);
        assertEquals("01bb" + "c351" + "ffffffff" + "80000000" + "5012" + "ffff" + "beef" + "0007" + "01010101",
                hex(tcp.bytes()));
        tcp.setHeaderLength(24);
        assertEquals(24, tcp.headerLength());
        assertEquals(TcpHeader.SYN | TcpHeader.ACK, tcp.flags(), "flags kept");
        assertEquals(4, tcp.options().byteSize());
        tcp.setFlags(TcpHeader.AE | TcpHeader.FIN);
        assertEquals(TcpHeader.AE | TcpHeader.FIN, tcp.flags());
        assertEquals(24, tcp.headerLength(), "data offset kept");
        assertEquals("6101", hex(tcp.bytes().asSlice(12, 2)));
    }

    @Test
    void setFlagsKeepsTheReservedBits() {
        byte[] reserved = DATA.clone();
        reserved[12] = 0x5e; // data offset 5, the three reserved bits set, AE clear
        reserved[13] = 0x00;
        TcpHeader tcp = TcpHeader.of(MemorySegment.ofArray(reserved));
        tcp.setFlags(TcpHeader.RST);
        assertEquals("5e04", hex(tcp.bytes().asSlice(12, 2)));
    }

    @Test
    void setterArgumentsAreChecked() {
        TcpHeader tcp = TcpHeader.of(writable(DATA));
        assertThrows(IllegalArgumentException.class, () -> tcp.setFlags(0x200));
        assertThrows(IllegalArgumentException.class, () -> tcp.setHeaderLength(22));
        assertThrows(IllegalArgumentException.class, () -> tcp.setHeaderLength(16));
        assertThrows(IllegalArgumentException.class, () -> tcp.setHeaderLength(64));
        assertThrows(IndexOutOfBoundsException.class, () -> tcp.setHeaderLength(28), "25 bytes in the view");
        assertEquals(20, tcp.headerLength());
    }

    @Test
    void readOnlyViewCannotBeWritten() {
        TcpHeader tcp = TcpHeader.of(readOnly(SYN));
        assertThrows(IllegalArgumentException.class, () -> tcp.setSourcePort(1));
        assertThrows(IllegalArgumentException.class, () -> tcp.setDestinationPort(1));
        assertThrows(IllegalArgumentException.class, () -> tcp.setSequenceNumber(1));
        assertThrows(IllegalArgumentException.class, () -> tcp.setAcknowledgmentNumber(1));
        assertThrows(IllegalArgumentException.class, () -> tcp.setHeaderLength(20));
        assertThrows(IllegalArgumentException.class, () -> tcp.setFlags(TcpHeader.RST));
        assertThrows(IllegalArgumentException.class, () -> tcp.setWindow(1));
        assertThrows(IllegalArgumentException.class, () -> tcp.setChecksum(1));
        assertThrows(IllegalArgumentException.class, () -> tcp.setUrgentPointer(1));
        assertThrows(IllegalArgumentException.class, () -> tcp.fillChecksum(0));
        assertEquals(TcpHeader.SYN, tcp.flags());
        assertEquals(40, tcp.headerLength());
    }
}
