package org.jmbuf.wire;

import static org.jmbuf.wire.WireTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class Icmpv6MessageTest {
    private static final Ipv6Address HOST_1 = Ipv6Address.parse("2001:db8::1");
    private static final Ipv6Address HOST_2 = Ipv6Address.parse("2001:db8::2");
    private static final Ipv6Address LINK_LOCAL = Ipv6Address.parse("fe80::1");

    /** Echo Request 2001:db8::1 > 2001:db8::2, identifier 0xabcd, sequence 7; checksum e6d5 computed independently. */
    private static final byte[] ECHO = bytes("80" + "00" + "e6d5" + "abcd" + "0007" + "6162636465666768");
    /** Neighbor Solicitation fe80::1 > ff02::1:ff00:2 for 2001:db8::2, with a source link-layer address. */
    static final byte[] NS = bytes("87" + "00" + "4b5f" + "00000000" + "20010db8000000000000000000000002"
            + "0101020000000001");
    /** Solicited, override Neighbor Advertisement for 2001:db8::2, with a target link-layer address. */
    private static final byte[] NA = bytes("88" + "00" + "0000" + "60000000" + "20010db8000000000000000000000002"
            + "0201020000000002");
    /**
     * Router Advertisement: hop limit 64, M and O, lifetime 1800 s, reachable 30000 ms, retrans 1000 ms;
     * options SLLA, MTU, PIO.
     */
    static final byte[] RA = bytes("86" + "00" + "0000" + "40" + "c0" + "0708" + "00007530" + "000003e8"
            + "0101020000000001" + "05010000000005dc"
            + "0304" + "40" + "c0" + "00278d00" + "00093a80" + "00000000" + "20010db8000000010000000000000000");
    private static final byte[] RS = bytes("85" + "00" + "0000" + "00000000" + "0101020000000001");
    /** Redirect: use fe80::1 to reach 2001:db8::5; a target link-layer address. */
    static final byte[] REDIRECT = bytes("89" + "00" + "0000" + "00000000" + "fe800000000000000000000000000001"
            + "20010db8000000000000000000000005" + "0201020000000009");
    private static final byte[] PACKET_TOO_BIG = bytes("02" + "00" + "0000" + "00000500" + "6000000000000000");
    private static final byte[] PARAMETER_PROBLEM = bytes("04" + "01" + "0000" + "00000028" + "6000000000000000");

    @Test
    void readsAnEchoAndChecksIt() {
        Icmpv6Message icmp = Icmpv6Message.of(MemorySegment.ofArray(ECHO));
        assertEquals(Icmpv6Message.ECHO_REQUEST, icmp.type());
        assertEquals(0, icmp.code());
        assertEquals(0xe6d5, icmp.checksum());
        assertEquals(0xabcd, icmp.identifier());
        assertEquals(7, icmp.sequence());
        assertEquals("6162636465666768", hex(icmp.body()));
        long pseudo = InternetChecksum.ipv6PseudoHeader(HOST_1, HOST_2, IpProtocol.ICMPV6, ECHO.length);
        assertTrue(icmp.isChecksumValid(pseudo));
        assertFalse(icmp.isChecksumValid(InternetChecksum.ipv6PseudoHeader(HOST_2, HOST_2, IpProtocol.ICMPV6,
                ECHO.length)));
        assertThrows(IllegalStateException.class, icmp::targetAddress);
        assertThrows(IllegalStateException.class, icmp::ndOptions);
        assertThrows(IllegalStateException.class, icmp::curHopLimit);
    }

    @Test
    void readsErrorWords() {
        Icmpv6Message tooBig = Icmpv6Message.of(MemorySegment.ofArray(PACKET_TOO_BIG));
        assertEquals(1280, tooBig.mtu());
        assertEquals("6000000000000000", hex(tooBig.body()));
        Icmpv6Message problem = Icmpv6Message.of(MemorySegment.ofArray(PARAMETER_PROBLEM));
        assertEquals(Icmpv6Message.PARAMETER_PROBLEM_NEXT_HEADER, problem.code());
        assertEquals(40, problem.pointer());
        assertEquals(0xffff_fffeL, Icmpv6Message.of(MemorySegment.ofArray(bytes("04000000fffffffe"))).pointer(),
                "unsigned");
    }

    @Test
    void classifiesErrors() {
        assertTrue(Icmpv6Message.isError(Icmpv6Message.DESTINATION_UNREACHABLE));
        assertTrue(Icmpv6Message.isError(Icmpv6Message.PARAMETER_PROBLEM));
        assertTrue(Icmpv6Message.isError(127));
        assertFalse(Icmpv6Message.isError(Icmpv6Message.ECHO_REQUEST));
        assertFalse(Icmpv6Message.isError(Icmpv6Message.NEIGHBOR_SOLICITATION));
        assertFalse(Icmpv6Message.isError(255));
    }

    @Test
    void readsNeighborSolicitationAndAdvertisement() {
        Icmpv6Message ns = Icmpv6Message.of(MemorySegment.ofArray(NS));
        assertEquals(HOST_2, ns.targetAddress());
        assertEquals("0101020000000001", hex(ns.ndOptions()));
        assertTrue(ns.isChecksumValid(InternetChecksum.ipv6PseudoHeader(LINK_LOCAL,
                HOST_2.solicitedNode(), IpProtocol.ICMPV6, NS.length)));
        assertThrows(IllegalStateException.class, ns::isSolicited);

        Icmpv6Message na = Icmpv6Message.of(MemorySegment.ofArray(NA));
        assertEquals(HOST_2, na.targetAddress());
        assertFalse(na.isRouter());
        assertTrue(na.isSolicited());
        assertTrue(na.isOverride());
        assertEquals(Icmpv6Message.NA_SOLICITED | Icmpv6Message.NA_OVERRIDE, na.neighborAdvertisementFlags());
        assertEquals("0201020000000002", hex(na.ndOptions()));
    }

    @Test
    void readsRouterSolicitationAndAdvertisement() {
        assertEquals("0101020000000001", hex(Icmpv6Message.of(MemorySegment.ofArray(RS)).ndOptions()));

        Icmpv6Message ra = Icmpv6Message.of(MemorySegment.ofArray(RA));
        assertEquals(64, ra.curHopLimit());
        assertTrue(ra.isManaged());
        assertTrue(ra.isOtherConfig());
        assertEquals(0xc0, ra.routerAdvertisementFlags());
        assertEquals(1800, ra.routerLifetime());
        assertEquals(30000, ra.reachableTime());
        assertEquals(1000, ra.retransTimer());
        assertEquals(48, ra.ndOptions().byteSize());
        assertEquals(1, Bytes.u8(ra.ndOptions(), 0), "options start at 16 with the SLLA");
        assertThrows(IllegalStateException.class, ra::targetAddress);
        assertThrows(IllegalStateException.class, ra::isRouter);
    }

    @Test
    void readsARedirect() {
        Icmpv6Message redirect = Icmpv6Message.of(MemorySegment.ofArray(REDIRECT));
        assertEquals(LINK_LOCAL, redirect.targetAddress());
        assertEquals(Ipv6Address.parse("2001:db8::5"), redirect.redirectDestination());
        assertEquals("0201020000000009", hex(redirect.ndOptions()));
        assertThrows(IllegalStateException.class,
                () -> Icmpv6Message.of(MemorySegment.ofArray(NS)).redirectDestination());
    }

    @Test
    void ndOptionsOffsetsFollowRfc4861() {
        assertEquals(8, Icmpv6Message.ndOptionsOffset(Icmpv6Message.ROUTER_SOLICITATION));
        assertEquals(16, Icmpv6Message.ndOptionsOffset(Icmpv6Message.ROUTER_ADVERTISEMENT));
        assertEquals(24, Icmpv6Message.ndOptionsOffset(Icmpv6Message.NEIGHBOR_SOLICITATION));
        assertEquals(24, Icmpv6Message.ndOptionsOffset(Icmpv6Message.NEIGHBOR_ADVERTISEMENT));
        assertEquals(40, Icmpv6Message.ndOptionsOffset(Icmpv6Message.REDIRECT));
        assertThrows(IllegalArgumentException.class, () -> Icmpv6Message.ndOptionsOffset(Icmpv6Message.ECHO_REPLY));
    }

    @Test
    void truncatedAtEveryLengthIsRejectedCleanly() {
        assertRejectedBelow(ECHO, Icmpv6Message.HEADER_LENGTH, Icmpv6Message::of, n -> 0);
        assertRejectedBelow(PACKET_TOO_BIG, Icmpv6Message.HEADER_LENGTH, Icmpv6Message::of, n -> 0);
        for (byte[] nd : new byte[][] {RS, RA, NS, NA, REDIRECT}) {
            assertNdRejectedBelow(nd);
        }
    }

    /**
     * Below the fixed part, the view rejects the message; from there on, the option cursor either rejects it
     * or (cut at an option boundary) sees fewer options.
     */
    private static void assertNdRejectedBelow(byte[] message) {
        int type = message[0] & 0xff;
        int fixed = Icmpv6Message.minimumLength(type);
        assertEquals(Icmpv6Message.ndOptionsOffset(type), fixed);
        assertRejectedBelow(message, fixed, Icmpv6Message::of, n -> 0);
        int fullOptions = countOptions(Icmpv6Message.of(MemorySegment.ofArray(message)).ndOptions());
        for (int n = fixed; n < message.length; n++) {
            MemorySegment options = Icmpv6Message.of(MemorySegment.ofArray(message).asSlice(0, n)).ndOptions();
            try {
                assertTrue(countOptions(options) < fullOptions, "type " + type + " cut at " + n);
            } catch (MalformedPacketException expected) {
                assertTrue(expected.offset() >= 0);
            }
        }
    }

    private static int countOptions(MemorySegment options) {
        NdOptionCursor cursor = new NdOptionCursor().reset(options);
        int count = 0;
        while (cursor.next()) {
            count++;
        }
        return count;
    }

    @Test
    void checksumFillAndVerify() {
        Icmpv6Message icmp = Icmpv6Message.of(writable(NS));
        long pseudo = InternetChecksum.ipv6PseudoHeader(LINK_LOCAL, HOST_2.solicitedNode(), IpProtocol.ICMPV6,
                NS.length);
        icmp.setChecksum(0x1234);
        assertFalse(icmp.isChecksumValid(pseudo));
        icmp.fillChecksum(pseudo);
        assertEquals(0x4b5f, icmp.checksum());
        assertTrue(icmp.isChecksumValid(pseudo));
    }

    @Test
    void settersRoundTrip() {
        Icmpv6Message icmp = Icmpv6Message.of(MemorySegment.ofArray(new byte[40]));
        icmp.setType(Icmpv6Message.ECHO_REPLY).setCode(0).setIdentifier(0x0102).setSequence(0x0304).setChecksum(0xffff);
        assertEquals("8100ffff01020304", hex(icmp.bytes().asSlice(0, 8)));
        icmp.setMtu(0xffff_ffffL);
        assertEquals(0xffff_ffffL, icmp.mtu());
        icmp.setPointer(44);
        assertEquals(44, icmp.pointer());

        icmp.setType(Icmpv6Message.NEIGHBOR_ADVERTISEMENT).setNeighborAdvertisementFlags(Icmpv6Message.NA_ROUTER)
                .setTargetAddress(HOST_1);
        assertTrue(icmp.isRouter());
        assertFalse(icmp.isSolicited());
        assertEquals("80000000", hex(icmp.bytes().asSlice(4, 4)), "reserved bits cleared");
        assertEquals(HOST_1, icmp.targetAddress());
        assertThrows(IllegalArgumentException.class, () -> icmp.setNeighborAdvertisementFlags(0x10));

        icmp.setType(Icmpv6Message.REDIRECT).setRedirectDestination(HOST_2);
        assertEquals(HOST_2, icmp.redirectDestination());
        assertEquals(HOST_1, icmp.targetAddress());

        icmp.setType(Icmpv6Message.ROUTER_ADVERTISEMENT).setCurHopLimit(255)
                .setRouterAdvertisementFlags(Icmpv6Message.RA_OTHER).setRouterLifetime(9000).setReachableTime(3_600_000)
                .setRetransTimer(0xffff_ffffL);
        assertEquals("86" + "00" + "ffff" + "ff" + "40" + "2328" + "0036ee80" + "ffffffff",
                hex(icmp.bytes().asSlice(0, 16)));
        assertFalse(icmp.isManaged());
        assertTrue(icmp.isOtherConfig());
        assertEquals(0xffff_ffffL, icmp.retransTimer());
        assertThrows(IllegalStateException.class, () -> icmp.setTargetAddress(HOST_1));
        assertThrows(IllegalStateException.class, () -> icmp.setNeighborAdvertisementFlags(0));
    }

    @Test
    void setTypeKeepsTheFixedPartInsideTheView() {
        byte[] eight = bytes("8000000000000000");
        Icmpv6Message icmp = Icmpv6Message.of(MemorySegment.ofArray(eight));
        assertThrows(IndexOutOfBoundsException.class, () -> icmp.setType(Icmpv6Message.NEIGHBOR_SOLICITATION));
        assertThrows(IndexOutOfBoundsException.class, () -> icmp.setType(Icmpv6Message.ROUTER_ADVERTISEMENT));
        assertEquals(Icmpv6Message.ECHO_REQUEST, icmp.type(), "nothing written");
        icmp.setType(Icmpv6Message.ROUTER_SOLICITATION);
        assertEquals(0, icmp.ndOptions().byteSize());
    }

    @Test
    void readOnlyViewCannotBeWritten() {
        Icmpv6Message ra = Icmpv6Message.of(readOnly(RA));
        assertThrows(IllegalArgumentException.class, () -> ra.setType(Icmpv6Message.ECHO_REQUEST));
        assertThrows(IllegalArgumentException.class, () -> ra.setCode(1));
        assertThrows(IllegalArgumentException.class, () -> ra.setChecksum(1));
        assertThrows(IllegalArgumentException.class, () -> ra.fillChecksum(0));
        assertThrows(IllegalArgumentException.class, () -> ra.setIdentifier(1));
        assertThrows(IllegalArgumentException.class, () -> ra.setSequence(1));
        assertThrows(IllegalArgumentException.class, () -> ra.setPointer(1));
        assertThrows(IllegalArgumentException.class, () -> ra.setMtu(1));
        assertThrows(IllegalArgumentException.class, () -> ra.setCurHopLimit(1));
        assertThrows(IllegalArgumentException.class, () -> ra.setRouterAdvertisementFlags(0));
        assertThrows(IllegalArgumentException.class, () -> ra.setRouterLifetime(0));
        assertThrows(IllegalArgumentException.class, () -> ra.setReachableTime(0));
        assertThrows(IllegalArgumentException.class, () -> ra.setRetransTimer(0));
        assertEquals(64, ra.curHopLimit());
        Icmpv6Message na = Icmpv6Message.of(readOnly(NA));
        assertThrows(IllegalArgumentException.class, () -> na.setTargetAddress(HOST_1));
        assertThrows(IllegalArgumentException.class, () -> na.setNeighborAdvertisementFlags(0));
        Icmpv6Message redirect = Icmpv6Message.of(readOnly(REDIRECT));
        assertThrows(IllegalArgumentException.class, () -> redirect.setRedirectDestination(HOST_1));
        assertEquals(HOST_2, na.targetAddress());
    }
}
