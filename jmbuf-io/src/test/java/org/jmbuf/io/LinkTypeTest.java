package org.jmbuf.io;

import static org.jmbuf.io.CaptureTestSupport.chain;
import static org.jmbuf.io.CaptureTestSupport.readAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.io.CaptureTestSupport.Outcome;
import org.jmbuf.io.LinkType.NetworkLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every link type through a file and back, and {@link LinkType#networkLayer} on each. */
class LinkTypeTest {
    @TempDir
    Path dir;

    static final List<LinkType> KNOWN = List.of(LinkType.ETHERNET, LinkType.RAW, LinkType.RAW_BSD,
            LinkType.RAW_OPENBSD, LinkType.LINUX_SLL, LinkType.IPV4, LinkType.IPV6, LinkType.LINUX_SLL2);

    static Optional<NetworkLayer> locate(LinkType type, byte[] frame) {
        try (Mbuf m = chain(frame, 3)) { // in pieces: the header is read across segments
            return type.networkLayer(m);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 12, 14, 101, 113, 228, 229, 276, 147})
    void everyLinkTypeSurvivesBothFormatsAndByteOrders(int value) throws IOException {
        LinkType type = LinkType.of(value);
        byte[] v4 = Frames.frame(type, Frames.ipv4Udp(10));
        byte[] v6 = Frames.frame(type, Frames.ipv6Udp(10));
        for (CaptureFormat format : CaptureFormat.values()) {
            for (ByteOrder order : List.of(ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN)) {
                Path file = dir.resolve(value + "-" + format + "-" + order);
                try (CaptureWriter w = CaptureWriter.builder(format).byteOrder(order).linkType(type).open(file)) {
                    for (byte[] f : List.of(v4, v6)) {
                        try (Mbuf m = chain(f, 0)) {
                            w.write(m, Instant.EPOCH);
                        }
                    }
                }
                Outcome o = readAll(file);
                assertNull(o.error());
                assertEquals(2, o.packets().size());
                for (int i = 0; i < 2; i++) {
                    assertEquals(type, o.packets().get(i).iface().linkType());
                    assertArrayEquals(i == 0 ? v4 : v6, o.packets().get(i).bytes());
                }
            }
        }
        if (type.isKnown()) {
            int offset = switch (value) {
                case 1 -> 14;
                case 113 -> 16;
                case 276 -> 20;
                default -> 0;
            };
            // LINKTYPE_IPV4 and LINKTYPE_IPV6 say what the packet is whatever it holds
            assertEquals(Optional.of(new NetworkLayer(offset, value == 229 ? 0x86DD : 0x0800)), locate(type, v4));
            assertEquals(Optional.of(new NetworkLayer(offset, value == 228 ? 0x0800 : 0x86DD)), locate(type, v6));
        } else {
            assertEquals(Optional.empty(), locate(type, v4));
        }
    }

    @Test
    void ethernetTagsAndLengthFields() {
        byte[] ip = Frames.ipv4Udp(0);
        assertEquals(Optional.of(new NetworkLayer(18, 0x0800)), locate(LinkType.ETHERNET, Frames.ethernet(0x0800, ip, 0x8100)));
        assertEquals(Optional.of(new NetworkLayer(22, 0x86DD)),
                locate(LinkType.ETHERNET, Frames.ethernet(0x86DD, ip, 0x88A8, 0x8100)));
        assertEquals(Optional.of(new NetworkLayer(14, 0x0806)), locate(LinkType.ETHERNET, Frames.ethernet(0x0806, ip)));
        assertEquals(Optional.empty(), locate(LinkType.ETHERNET, Frames.ethernet(0x05DC, ip)), "802.3 length");
        byte[] tagged = Frames.ethernet(0x0800, ip, 0x8100);
        assertEquals(Optional.empty(), locate(LinkType.ETHERNET, Arrays.copyOf(tagged, 17)), "tag without a type after it");
    }

    @Test
    void framesTooShortForTheirLinkHeaderHaveNoNetworkLayer() {
        byte[] ip = Frames.ipv4Udp(0);
        for (LinkType type : KNOWN) {
            byte[] frame = Frames.frame(type, ip);
            int header = frame.length - ip.length;
            for (int n = 0; n < header; n++) {
                assertEquals(Optional.empty(), locate(type, Arrays.copyOf(frame, n)), type + " cut to " + n);
            }
            if (type.value() == 228 || type.value() == 229) {
                assertTrue(locate(type, new byte[0]).isPresent(), "IPv4/IPv6 link types need no bytes to say what they are");
            } else {
                assertTrue(locate(type, Arrays.copyOf(frame, header + 1)).isPresent(), type.toString());
            }
        }
        assertEquals(Optional.empty(), locate(LinkType.RAW, new byte[] {0x50}), "version 5 is neither");
    }

    @Test
    void constantsNamesAndRange() {
        for (LinkType type : KNOWN) {
            assertSame(type, LinkType.of(type.value()));
            assertTrue(type.isKnown());
            assertTrue(type.toString().endsWith("(" + type.value() + ")"));
        }
        assertEquals("RAW(12)", LinkType.RAW_BSD.toString());
        assertEquals("LINUX_SLL2", LinkType.LINUX_SLL2.name());
        assertEquals("LINKTYPE_147", LinkType.of(147).name());
        assertFalse(LinkType.of(147).isKnown());
        assertEquals(LinkType.of(147), new LinkType(147));
        assertThrows(IllegalArgumentException.class, () -> LinkType.of(-1));
        assertThrows(IllegalArgumentException.class, () -> LinkType.of(65536));
        try (Mbuf freed = chain(new byte[1], 0)) {
            freed.free();
            assertThrows(IllegalStateException.class, () -> LinkType.RAW.networkLayer(freed));
        }
    }
}
