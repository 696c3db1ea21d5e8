package org.jmbuf.wire;

import static org.jmbuf.wire.WireTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class Ipv6FragmentHeaderTest {
    /** Next UDP, offset 1480, M set, identification 0x89abcdef (top bit set: unsigned), then data. */
    private static final byte[] MIDDLE = bytes("11" + "00" + "05c9" + "89abcdef" + "cafe");

    @Test
    void readsEveryField() {
        Ipv6FragmentHeader fragment = Ipv6FragmentHeader.of(MemorySegment.ofArray(MIDDLE));
        assertEquals(IpProtocol.UDP, fragment.nextHeader());
        assertEquals(1480, fragment.fragmentOffset());
        assertTrue(fragment.moreFragments());
        assertFalse(fragment.isAtomic());
        assertEquals(0x89abcdef, fragment.identification());
        assertEquals(0x05c9, fragment.offsetAndFlags());
        assertEquals("cafe", hex(fragment.payload()));
        assertTrue(Ipv6FragmentHeader.of(MemorySegment.ofArray(bytes("3a00000000000001"))).isAtomic());
        assertFalse(Ipv6FragmentHeader.of(MemorySegment.ofArray(bytes("3a00000800000001"))).isAtomic());
    }

    @Test
    void truncatedAtEveryLengthIsRejectedCleanly() {
        assertRejectedBelow(MIDDLE, Ipv6FragmentHeader.LENGTH, Ipv6FragmentHeader::of, n -> 0);
    }

    @Test
    void settersRoundTrip() {
        Ipv6FragmentHeader fragment = Ipv6FragmentHeader.of(writable(MIDDLE));
        fragment.setFragmentOffset(65528);
        assertEquals(65528, fragment.fragmentOffset());
        assertTrue(fragment.moreFragments(), "M kept");
        fragment.setMoreFragments(false);
        assertFalse(fragment.moreFragments());
        assertEquals(65528, fragment.fragmentOffset(), "offset kept");
        fragment.setNextHeader(IpProtocol.TCP).setIdentification(1);
        assertEquals("06" + "00" + "fff8" + "00000001" + "cafe", hex(fragment.bytes()));
        fragment.setFragmentOffset(0).setMoreFragments(true);
        assertEquals("0001", hex(fragment.bytes().asSlice(2, 2)));
    }

    @Test
    void setNextHeaderClearsTheReservedByte() {
        Ipv6FragmentHeader fragment = Ipv6FragmentHeader.of(MemorySegment.ofArray(bytes("11ff05c989abcdef")));
        fragment.setNextHeader(IpProtocol.ICMPV6);
        assertEquals("3a00", hex(fragment.bytes().asSlice(0, 2)));
    }

    @Test
    void fragmentOffsetMustBeAMultipleOfEightThatFits() {
        Ipv6FragmentHeader fragment = Ipv6FragmentHeader.of(writable(MIDDLE));
        assertThrows(IllegalArgumentException.class, () -> fragment.setFragmentOffset(1));
        assertThrows(IllegalArgumentException.class, () -> fragment.setFragmentOffset(65536));
        assertThrows(IllegalArgumentException.class, () -> fragment.setFragmentOffset(-8));
        assertEquals(1480, fragment.fragmentOffset());
    }

    @Test
    void readOnlyViewCannotBeWritten() {
        Ipv6FragmentHeader fragment = Ipv6FragmentHeader.of(readOnly(MIDDLE));
        assertThrows(IllegalArgumentException.class, () -> fragment.setNextHeader(0));
        assertThrows(IllegalArgumentException.class, () -> fragment.setFragmentOffset(8));
        assertThrows(IllegalArgumentException.class, () -> fragment.setMoreFragments(false));
        assertThrows(IllegalArgumentException.class, () -> fragment.setIdentification(0));
        assertEquals(1480, fragment.fragmentOffset());
        assertTrue(fragment.moreFragments());
    }
}
