package org.jmbuf.wire;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MacAddressTest {
    @Test
    void parsesAndPrints() {
        MacAddress mac = MacAddress.parse("02:00:00:00:00:01");
        assertEquals(0x0200_0000_0001L, mac.bits());
        assertEquals("02:00:00:00:00:01", mac.toString());
        assertEquals("0a:bc:de:f0:12:34", MacAddress.parse("0A:bC:De:F0:12:34").toString());
        assertEquals(0xbc, MacAddress.parse("0a:bc:de:f0:12:34").octet(1));
        assertEquals("ff:ff:ff:ff:ff:ff", MacAddress.BROADCAST.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "02:00:00:00:00", "02:00:00:00:00:01:", "02-00-00-00-00-01", "02:00:00:00:00:0g",
            "002:00:00:00:00:1", "02:00:00:00:0:001",
            // Arabic-Indic digit zero: Character.digit would take it
            "\u06602:00:00:00:00:01"})
    void rejectsMalformedText(String text) {
        assertThrows(IllegalArgumentException.class, () -> MacAddress.parse(text));
    }

    @Test
    void rejectsMoreThan48Bits() {
        assertThrows(IllegalArgumentException.class, () -> new MacAddress(1L << 48));
        assertThrows(IllegalArgumentException.class, () -> new MacAddress(-1));
    }

    @Test
    void readsAndWritesAtAnOffset() {
        MemorySegment s = MemorySegment.ofArray(new byte[10]);
        MacAddress.parse("02:00:5e:10:20:ff").write(s, 3);
        assertEquals("00000002005e1020ff00", HexFormat.of().formatHex(s.toArray(ValueLayout.JAVA_BYTE)));
        assertEquals(MacAddress.parse("02:00:5e:10:20:ff"), MacAddress.read(s, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> MacAddress.read(s, 5));
    }

    @Test
    void writeToReadOnlyThrows() {
        MemorySegment s = MemorySegment.ofArray(new byte[6]).asReadOnly();
        assertThrows(IllegalArgumentException.class, () -> MacAddress.BROADCAST.write(s, 0));
    }

    @Test
    void classifies() {
        assertTrue(MacAddress.BROADCAST.isBroadcast());
        assertTrue(MacAddress.BROADCAST.isMulticast());
        MacAddress mdns = MacAddress.parse("01:00:5e:00:00:fb");
        assertTrue(mdns.isMulticast());
        assertFalse(mdns.isBroadcast());
        assertFalse(mdns.isUnicast());
        MacAddress local = MacAddress.parse("02:00:00:00:00:01");
        assertFalse(local.isMulticast());
        assertTrue(local.isUnicast());
        assertTrue(local.isLocallyAdministered());
        assertFalse(MacAddress.parse("00:00:5e:00:53:01").isLocallyAdministered());
        assertFalse(MacAddress.ZERO.isUnicast());
    }

    @Test
    void mapsMulticastGroups() {
        // 233.252.0.0/24 is the documentation multicast range (RFC 5771); only the low 23 bits are kept, so the
        // top bit of 252 is lost
        assertEquals(MacAddress.parse("01:00:5e:7c:00:01"), MacAddress.ofMulticast(Ipv4Address.parse("233.252.0.1")));
        assertEquals(MacAddress.parse("01:00:5e:7c:00:c8"),
                MacAddress.ofMulticast(Ipv4Address.parse("233.252.0.200")));
        assertEquals(MacAddress.parse("33:33:ff:00:00:02"),
                MacAddress.ofMulticast(Ipv6Address.parse("2001:db8::2").solicitedNode()));
        assertThrows(IllegalArgumentException.class, () -> MacAddress.ofMulticast(Ipv4Address.parse("192.0.2.1")));
        assertThrows(IllegalArgumentException.class, () -> MacAddress.ofMulticast(Ipv6Address.parse("fe80::1")));
    }
}
