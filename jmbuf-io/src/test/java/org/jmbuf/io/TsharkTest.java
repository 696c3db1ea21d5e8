package org.jmbuf.io;

import static org.jmbuf.io.CaptureTestSupport.chain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.jmbuf.buf.Mbuf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Wireshark reads what jmbuf writes: every format, byte order, precision and link type, with several
 * interfaces in pcapng, and snapshot-length cuts reported as such. Skipped (saying so) without tshark.
 */
class TsharkTest {
    @TempDir
    Path dir;

    static final List<LinkType> TYPES = List.of(LinkType.ETHERNET, LinkType.RAW, LinkType.LINUX_SLL,
            LinkType.LINUX_SLL2, LinkType.IPV4, LinkType.IPV6);

    static List<byte[]> packetsFor(LinkType type) {
        return switch (type.value()) {
            case 228 -> List.of(Frames.ipv4Udp(5), Frames.ipv4Udp(1400));
            case 229 -> List.of(Frames.ipv6Udp(5), Frames.ipv6Udp(1400));
            default -> List.of(Frames.frame(type, Frames.ipv4Udp(5)), Frames.frame(type, Frames.ipv6Udp(1400)));
        };
    }

    @Test
    void tsharkReadsEveryVariantWithoutComplaint() throws Exception {
        Tshark.assumeInstalled();
        int files = 0;
        for (CaptureFormat format : CaptureFormat.values()) {
            for (ByteOrder order : List.of(ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN)) {
                for (TimestampPrecision precision : TimestampPrecision.values()) {
                    for (LinkType type : TYPES) {
                        Path file = dir.resolve(type.name() + "-" + format + "-" + order + "-" + precision);
                        try (CaptureWriter w = CaptureWriter.builder(format).byteOrder(order).precision(precision)
                                .linkType(type).open(file)) {
                            int i = 0;
                            for (byte[] f : packetsFor(type)) {
                                try (Mbuf m = chain(f, 100)) {
                                    w.write(m, Instant.ofEpochSecond(1_700_000_000L + i++, 123_456_789));
                                }
                            }
                        }
                        Tshark.Result r = Tshark.read(file);
                        assertEquals(0, r.exitStatus(), file + ":\n" + r.output());
                        assertFalse(r.output().contains("Malformed"), file + ":\n" + r.output());
                        assertFalse(r.output().contains("CHECKSUM") || r.output().contains("incorrect"),
                                "bad checksum in " + file + ":\n" + r.output());
                        assertFalse(r.output().contains("[Packet size limited"), file + ":\n" + r.output());
                        assertEquals(2, r.output().lines().filter(l -> l.contains("UDP") || l.contains("4000")).count(),
                                file + ":\n" + r.output());
                        files++;
                    }
                }
            }
        }
        assertEquals(48, files);
    }

    @Test
    void tsharkReadsSeveralInterfacesAndSnapLengthCuts() throws Exception {
        Tshark.assumeInstalled();
        Path file = dir.resolve("multi.pcapng");
        try (CaptureWriter w = CaptureWriter.builder(CaptureFormat.PCAPNG).linkType(LinkType.ETHERNET)
                .interfaceName("eth0").open(file)) {
            int sll2 = w.addInterface(LinkType.LINUX_SLL2, 65535, TimestampPrecision.NANOSECONDS, "any");
            int cut = w.addInterface(LinkType.RAW, 60, TimestampPrecision.NANOSECONDS, "tun0");
            try (Mbuf a = chain(packetsFor(LinkType.ETHERNET).get(0), 0);
                    Mbuf b = chain(packetsFor(LinkType.LINUX_SLL2).get(1), 0);
                    Mbuf c = chain(Frames.ipv4Udp(500), 0)) {
                w.write(a, Instant.ofEpochSecond(1));
                w.write(b, Instant.ofEpochSecond(2), sll2, b.length());
                w.write(c, Instant.ofEpochSecond(3), cut, c.length());
            }
        }
        Tshark.Result r = Tshark.read(file);
        assertEquals(0, r.exitStatus(), r.output());
        assertEquals(3, r.output().lines().count(), r.output());
        Tshark.Result lengths = Tshark.fields(file, "frame.cap_len", "frame.len", "frame.interface_name");
        assertEquals(List.of("47\t47\teth0", "1468\t1468\tany", "60\t528\ttun0"), lengths.output().lines().toList(),
                "captured and original lengths, and interfaces, as written:\n" + lengths.output());
    }
}
