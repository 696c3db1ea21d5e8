package org.jmbuf.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AddressTest {
    @ParameterizedTest
    @CsvSource({
        "2001:db8::1, 2001:db8::1",
        "2001:DB8:0:0:0:0:0:1, 2001:db8::1",
        "::, ::",
        "::1, ::1",
        "fe80::1:2:3:4, fe80::1:2:3:4",
        "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
        "2001:db8::192.0.2.1, 2001:db8::c000:201",
        "::ffff:192.0.2.1, ::ffff:c000:201",
        "1:2:3:4:5:6:7:8, 1:2:3:4:5:6:7:8",
    })
    void ipv6ParsesAndPrintsCanonically(String text, String canonical) {
        assertEquals(canonical, Ipv6Address.parse(text).toString());
        assertEquals(Ipv6Address.parse(text), Ipv6Address.parse(canonical));
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1::", "+1::", "::-1", "\u0661::", "1.2.3.4::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9",
        "1::2::3", "12345::", "g::", "", "2001:db8::1%eth0"})
    void ipv6RejectsWhatRfc4291DoesNotAllow(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ipv6Address.parse(text));
        assertTrue(e.getMessage().contains("not an IPv6 address"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"\u0661\u0669\u0662.0.2.1", "192.0.2", "192.0.2.256", "192.0.2.-1", "192.0.2.1.", " 192.0.2.1"})
    void ipv4RejectsAnythingButFourAsciiDecimalOctets(String text) {
        assertThrows(IllegalArgumentException.class, () -> Ipv4Address.parse(text));
    }

    @ParameterizedTest
    @CsvSource({"192.0.2.1, -1073741311", "203.0.113.255, -889163265", "0.0.0.0, 0"})
    void ipv4RoundTrips(String text, int bits) {
        assertEquals(bits, Ipv4Address.parse(text).bits());
        assertEquals(text, Ipv4Address.parse(text).toString());
    }

    @org.junit.jupiter.api.Test
    void solicitedNodeAndScopes() {
        assertEquals("ff02::1:ff00:1", Ipv6Address.parse("2001:db8::1").solicitedNode().toString());
        assertTrue(Ipv6Address.parse("fe80::1").isLinkLocal());
        assertTrue(Ipv6Address.parse("ff02::1").isLinkScopeMulticast());
        assertTrue(Ipv6Address.parse("2001:db8::1:2").isIn(Ipv6Address.parse("2001:db8::"), 32));
    }

    @ParameterizedTest
    @CsvSource({"224.0.0.1", "239.255.255.255", "127.0.0.1", "127.255.0.9", "192.0.2.1", "0.0.0.0", "255.255.255.255"})
    void ipv4PredicatesOnBitsAgreeWithTheRecord(String text) {
        Ipv4Address a = Ipv4Address.parse(text);
        assertEquals(a.isMulticast(), Ipv4Address.isMulticast(a.bits()));
        assertEquals(a.isLoopback(), Ipv4Address.isLoopback(a.bits()));
        for (int prefixLength : new int[] {0, 1, 8, 24, 31, 32}) {
            Ipv4Address network = Ipv4Address.parse("192.0.2.0");
            assertEquals(a.isIn(network, prefixLength), Ipv4Address.isIn(a.bits(), network.bits(), prefixLength));
        }
        int network = Ipv4Address.parse("192.0.2.0").bits();
        assertTrue(Ipv4Address.isIn(Ipv4Address.parse("192.0.2.77").bits(), network, 24));
        assertFalse(Ipv4Address.isIn(Ipv4Address.parse("192.0.3.77").bits(), network, 24));
    }

    @ParameterizedTest
    @CsvSource({"ff02::1", "fe80::1", "febf::1", "fec0::1", "::1", "::", "2001:db8::1"})
    void ipv6PredicatesOnHalvesAgreeWithTheRecord(String text) {
        Ipv6Address a = Ipv6Address.parse(text);
        assertEquals(a.isMulticast(), Ipv6Address.isMulticast(a.high()));
        assertEquals(a.isLinkLocal(), Ipv6Address.isLinkLocal(a.high()));
        assertEquals(a.isLoopback(), Ipv6Address.isLoopback(a.high(), a.low()));
        for (int prefixLength : new int[] {0, 10, 32, 64, 96, 128}) {
            Ipv6Address prefix = Ipv6Address.parse("2001:db8::");
            assertEquals(a.isIn(prefix, prefixLength), Ipv6Address.isIn(a.high(), a.low(), prefix, prefixLength));
        }
    }
}
