package org.jmbuf.io;

import static org.jmbuf.io.CaptureTestSupport.chain;
import static org.jmbuf.io.CaptureTestSupport.pattern;
import static org.jmbuf.io.CaptureTestSupport.readAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.io.CaptureTestSupport.Outcome;
import org.jmbuf.io.CaptureTestSupport.Read;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Files written by {@link CaptureWriter} read back by {@link CaptureReader}: every format, byte order and precision. */
class CaptureRoundTripTest {
    @TempDir
    Path dir;

    static final int[] SIZES = {0, 1, 14, 60, 1514, 3000, 9001};
    static final Instant T0 = Instant.ofEpochSecond(1_700_000_000L, 123_456_789);

    static Stream<Arguments> variants() {
        List<Arguments> out = new ArrayList<>();
        for (CaptureFormat format : CaptureFormat.values()) {
            for (ByteOrder order : List.of(ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN)) {
                for (TimestampPrecision precision : TimestampPrecision.values()) {
                    out.add(Arguments.of(format, order, precision));
                }
            }
        }
        return out.stream();
    }

    static Instant truncated(Instant t, TimestampPrecision precision) {
        return precision == TimestampPrecision.MICROSECONDS ? t.truncatedTo(java.time.temporal.ChronoUnit.MICROS) : t;
    }

    @ParameterizedTest
    @MethodSource("variants")
    void packetsComeBackByteForByte(CaptureFormat format, ByteOrder order, TimestampPrecision precision)
            throws IOException {
        Path file = dir.resolve("rt." + format.name().toLowerCase());
        List<byte[]> sent = new ArrayList<>();
        try (CaptureWriter w = CaptureWriter.builder(format).byteOrder(order).precision(precision)
                .linkType(LinkType.ETHERNET).open(file)) {
            for (int i = 0; i < SIZES.length; i++) {
                byte[] data = pattern(SIZES[i], i);
                sent.add(data);
                try (Mbuf m = chain(data, 700)) {
                    w.write(m, T0.plusNanos(i * 1_000_001L));
                    assertTrue(m.isAlive(), "write must not free the caller's packet");
                    assertArrayEquals(data, m.toByteArray(), "write must not change the packet");
                }
            }
            assertEquals(SIZES.length, w.packetsWritten());
        }
        try (CaptureReader r = CaptureReader.open(file)) {
            assertEquals(format, r.format());
            assertEquals(order, r.byteOrder());
            long lastOffset = -1;
            for (int i = 0; i < SIZES.length; i++) {
                try (CapturedPacket p = r.next()) {
                    assertArrayEquals(sent.get(i), p.mbuf().toByteArray(), "packet " + i);
                    assertEquals(SIZES[i], p.capturedLength());
                    assertEquals(SIZES[i], p.originalLength());
                    assertFalse(p.isTruncated());
                    assertEquals(truncated(T0.plusNanos(i * 1_000_001L), precision), p.timestamp());
                    assertEquals(LinkType.ETHERNET, p.linkType());
                    assertEquals(0, p.interfaceIndex());
                    assertEquals(precision.decimalDigits(), p.captureInterface().timestampResolution());
                    assertEquals(CaptureWriter.DEFAULT_SNAP_LENGTH, p.captureInterface().snapLength());
                    assertTrue(p.fileOffset() > lastOffset);
                    lastOffset = p.fileOffset();
                }
            }
            assertNull(r.next());
            assertNull(r.next(), "the end stays the end");
            assertEquals(SIZES.length, r.packetsRead());
            assertEquals(Files.size(file), r.position());
        }
    }

    @ParameterizedTest
    @MethodSource("variants")
    void snapLengthCutsPacketsAndKeepsTheOriginalLength(CaptureFormat format, ByteOrder order,
            TimestampPrecision precision) throws IOException {
        Path file = dir.resolve("snap");
        byte[] data = pattern(100, 3);
        try (CaptureWriter w = CaptureWriter.builder(format).byteOrder(order).precision(precision).snapLength(64)
                .open(file); Mbuf m = chain(data, 30)) {
            w.write(m, T0);
            w.write(m, T0, 0, 5000);
            assertEquals(100, m.length());
        }
        Outcome o = readAll(file);
        assertNull(o.error());
        assertEquals(2, o.packets().size());
        for (Read p : o.packets()) {
            assertEquals(64, p.capturedLength());
            assertArrayEquals(java.util.Arrays.copyOf(data, 64), p.bytes());
            assertEquals(64, p.iface().snapLength());
        }
        assertEquals(100, o.packets().get(0).originalLength());
        assertEquals(5000, o.packets().get(1).originalLength());
    }

    @Test
    void pcapHeaderIsExactlyLibpcaps() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (CaptureWriter w = CaptureWriter.builder(CaptureFormat.PCAP).linkType(LinkType.LINUX_SLL)
                .snapLength(65535).open(out); Mbuf m = chain(new byte[] {1, 2, 3}, 0)) {
            w.write(m, Instant.ofEpochSecond(0x01020304L, 5_006_007));
        }
        assertEquals("d4c3b2a1" + "0200" + "0400" + "00000000" + "00000000" + "ffff0000" + "71000000"
                + "04030201" + "8e130000" + "03000000" + "03000000" + "010203", HexFormat.of().formatHex(out.toByteArray()));

        out.reset();
        try (CaptureWriter w = CaptureWriter.builder(CaptureFormat.PCAP).byteOrder(ByteOrder.BIG_ENDIAN)
                .precision(TimestampPrecision.NANOSECONDS).linkType(LinkType.RAW).snapLength(65535).open(out)) {
            assertEquals(List.of(new CaptureInterface(0, 0, LinkType.RAW, 65535, 9, 0, -1, null)), w.interfaces());
        }
        assertEquals("a1b23c4d" + "0002" + "0004" + "00000000" + "00000000" + "0000ffff" + "00000065", HexFormat.of().formatHex(out.toByteArray()));
    }

    @Test
    void pcapngBlocksAreExactlyAsSpecified() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (CaptureWriter w = CaptureWriter.builder(CaptureFormat.PCAPNG).byteOrder(ByteOrder.BIG_ENDIAN)
                .linkType(LinkType.IPV6).snapLength(1500).precision(TimestampPrecision.NANOSECONDS)
                .interfaceName("tun0").open(out); Mbuf m = chain(new byte[] {0x60, 0, 0, 0, 0}, 0)) {
            w.write(m, Instant.ofEpochSecond(1, 2));
        }
        String hex = HexFormat.of().formatHex(out.toByteArray());
        String shb = "0a0d0d0a" + "0000002c" + "1a2b3c4d" + "0001" + "0000" + "ffffffffffffffff"
                + "0004" + "0005" + "6a6d627566000000" + "00000000" + "0000002c";
        String idb = "00000001" + "00000028" + "00e5" + "0000" + "000005dc" + "0002" + "0004" + "74756e30"
                + "0009" + "0001" + "09000000" + "00000000" + "00000028";
        String epb = "00000006" + "00000028" + "00000000" + "00000000" + "3b9aca02" + "00000005" + "00000005"
                + "6000000000000000" + "00000028";
        assertEquals(shb + idb + epb, hex);
    }

    @Test
    void pcapngWithSeveralInterfaces() throws IOException {
        Path file = dir.resolve("multi.pcapng");
        try (CaptureWriter w = CaptureWriter.builder(CaptureFormat.PCAPNG).linkType(LinkType.ETHERNET)
                .interfaceName("eth0").open(file)) {
            assertEquals(1, w.addInterface(LinkType.RAW, 128, TimestampPrecision.NANOSECONDS, "tun0"));
            assertEquals(2, w.addInterface(LinkType.LINUX_SLL2, 65535, TimestampPrecision.MICROSECONDS, null));
            for (int i = 0; i < 6; i++) {
                try (Mbuf m = chain(pattern(200 + i, i), 0)) {
                    w.write(m, T0.plusSeconds(i), i % 3, 200 + i);
                }
            }
            try (Mbuf m = chain(new byte[1], 0)) {
                assertThrows(IllegalArgumentException.class, () -> w.write(m, T0, 3, 1));
            }
        }
        Outcome o = readAll(file);
        assertNull(o.error());
        assertEquals(6, o.packets().size());
        for (int i = 0; i < 6; i++) {
            Read p = o.packets().get(i);
            CaptureInterface iface = p.iface();
            assertEquals(i % 3, iface.index());
            assertEquals(0, iface.section());
            switch (i % 3) {
                case 0 -> assertEquals(new CaptureInterface(0, 0, LinkType.ETHERNET, 262144, 6, 0, -1, "eth0"), iface);
                case 1 -> assertEquals(new CaptureInterface(0, 1, LinkType.RAW, 128, 9, 0, -1, "tun0"), iface);
                default -> assertEquals(new CaptureInterface(0, 2, LinkType.LINUX_SLL2, 65535, 6, 0, -1, null), iface);
            }
            int expected = Math.min(200 + i, (int) iface.snapLength());
            assertEquals(expected, p.capturedLength());
            assertEquals(200 + i, p.originalLength());
            assertEquals(truncated(T0.plusSeconds(i), iface.isNanosecond() ? TimestampPrecision.NANOSECONDS
                    : TimestampPrecision.MICROSECONDS), p.timestamp());
        }
    }

    @Test
    void capturedPacketsCanBeCopiedToAnotherFileOfEitherFormat() throws IOException {
        Path source = dir.resolve("source.pcapng");
        try (CaptureWriter w = CaptureWriter.builder(CaptureFormat.PCAPNG).linkType(LinkType.IPV4)
                .precision(TimestampPrecision.NANOSECONDS).open(source)) {
            for (int i = 0; i < 4; i++) {
                try (Mbuf m = chain(pattern(40 + i, i), 0)) {
                    w.write(m, T0.plusNanos(i), 0, 1000 + i);
                }
            }
        }
        for (CaptureFormat format : CaptureFormat.values()) {
            Path copy = dir.resolve("copy." + format);
            try (CaptureReader r = CaptureReader.open(source);
                    CaptureWriter w = CaptureWriter.builder(format).linkType(LinkType.IPV4)
                            .precision(TimestampPrecision.NANOSECONDS).byteOrder(ByteOrder.BIG_ENDIAN).open(copy)) {
                for (CapturedPacket next = r.next(); next != null; next = r.next()) {
                    try (CapturedPacket p = next) {
                        w.write(p);
                    }
                }
            }
            Outcome a = readAll(source);
            Outcome b = readAll(copy);
            assertEquals(a.packets().size(), b.packets().size());
            for (int i = 0; i < a.packets().size(); i++) {
                Read x = a.packets().get(i);
                Read y = b.packets().get(i);
                assertArrayEquals(x.bytes(), y.bytes());
                assertEquals(x.timestamp(), y.timestamp());
                assertEquals(x.originalLength(), y.originalLength());
                assertEquals(LinkType.IPV4, y.iface().linkType());
            }
        }
    }

    @Test
    void writingACapturedPacketChecksItsLinkTypeAndTimestamp() throws IOException {
        Path source = dir.resolve("sll.pcap");
        try (CaptureWriter w = CaptureWriter.builder(CaptureFormat.PCAP).linkType(LinkType.LINUX_SLL).open(source);
                Mbuf m = chain(pattern(20, 0), 0)) {
            w.write(m, T0);
        }
        try (CaptureReader r = CaptureReader.open(source); CapturedPacket p = r.next();
                CaptureWriter w = CaptureWriter.builder(CaptureFormat.PCAPNG).open(new ByteArrayOutputStream())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.write(p));
            assertTrue(e.getMessage().contains("LINUX_SLL(113)"), e.getMessage());
            assertEquals(0, w.packetsWritten());
            CapturedPacket noTime = new CapturedPacket(p.mbuf(), null, p.capturedLength(), p.originalLength(),
                    p.captureInterface(), 0);
            assertThrows(IllegalArgumentException.class, () -> w.write(noTime));
            assertThrows(IllegalStateException.class, noTime::timestampNanos);
        }
    }

    @Test
    void outputStreamTargetGetsTheSameBytesAsAFile() throws IOException {
        Path file = dir.resolve("f.pcapng");
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        for (Object target : List.of(file, stream)) {
            CaptureWriter.Builder b = CaptureWriter.builder(CaptureFormat.PCAPNG).byteOrder(ByteOrder.BIG_ENDIAN);
            try (CaptureWriter w = target instanceof Path p ? b.open(p) : b.open(stream)) {
                // more than the 64 KiB buffer, so it is flushed on the way
                for (int i = 0; i < 100; i++) {
                    try (Mbuf m = chain(pattern(1000 + i, i), 512)) {
                        w.write(m, T0.plusMillis(i));
                    }
                }
            }
        }
        assertArrayEquals(Files.readAllBytes(file), stream.toByteArray());
        assertEquals(100, readAll(file).packets().size());
    }

    @Test
    void writerRejectsBadArgumentsAndUseAfterClose() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CaptureWriter pcap = CaptureWriter.builder(CaptureFormat.PCAP).open(out);
        try (Mbuf m = chain(pattern(10, 0), 0)) {
            assertThrows(IllegalStateException.class,
                    () -> pcap.addInterface(LinkType.RAW, 100, TimestampPrecision.MICROSECONDS, null));
            assertThrows(IllegalArgumentException.class, () -> pcap.write(m, Instant.ofEpochSecond(-1)));
            assertThrows(IllegalArgumentException.class, () -> pcap.write(m, Instant.ofEpochSecond(1L << 32)));
            assertThrows(IllegalArgumentException.class, () -> pcap.write(m, T0, 0, -1));
            assertThrows(IllegalArgumentException.class, () -> pcap.write(m, T0, 0, 1L << 32));
            assertThrows(IllegalArgumentException.class, () -> pcap.write(m, T0, 1, 10));
            pcap.write(m, Instant.ofEpochSecond(0xFFFF_FFFFL, 999_999_999));
            pcap.close();
            pcap.close();
            assertThrows(IllegalStateException.class, () -> pcap.write(m, T0));
            assertThrows(IllegalStateException.class, pcap::flush);
            assertEquals(24 + 16 + 10, out.size(), "only the good packet was written");

            CaptureWriter ng = CaptureWriter.builder(CaptureFormat.PCAPNG).precision(TimestampPrecision.NANOSECONDS)
                    .open(new ByteArrayOutputStream());
            assertThrows(IllegalArgumentException.class, () -> ng.write(m, Instant.parse("2263-01-01T00:00:00Z")));
            ng.write(m, Instant.parse("2262-01-01T00:00:00Z"));
            ng.close();
            Mbuf freed = chain(new byte[4], 0);
            freed.free();
            CaptureWriter again = CaptureWriter.builder(CaptureFormat.PCAPNG).open(new ByteArrayOutputStream());
            assertThrows(IllegalStateException.class, () -> again.write(freed, T0));
            again.close();
        }
        assertThrows(IllegalStateException.class, () -> CaptureWriter.builder(CaptureFormat.PCAP).interfaceName("x"));
        assertThrows(IllegalArgumentException.class, () -> CaptureWriter.builder(CaptureFormat.PCAP).snapLength(0));
        assertThrows(IllegalArgumentException.class,
                () -> CaptureWriter.builder(CaptureFormat.PCAPNG).interfaceName("x".repeat(5000)));
    }
}
