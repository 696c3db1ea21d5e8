package org.jmbuf.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
