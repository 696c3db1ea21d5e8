package org.jmbuf.io;

import static org.jmbuf.io.CaptureTestSupport.PcapngBuilder.s64;
import static org.jmbuf.io.CaptureTestSupport.PcapngBuilder.u8;
import static org.jmbuf.io.CaptureTestSupport.pattern;
import static org.jmbuf.io.CaptureTestSupport.readAll;
import static org.jmbuf.io.CaptureTestSupport.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.jmbuf.io.CaptureTestSupport.Outcome;
import org.jmbuf.io.CaptureTestSupport.PcapBuilder;
import org.jmbuf.io.CaptureTestSupport.PcapngBuilder;
import org.jmbuf.io.CaptureTestSupport.Read;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Files built byte by byte with {@link ByteBuffer} in both byte orders (so big-endian files are tested even
 * on a little-endian machine and independently of the writer): every block kind, timestamp resolution,
 * empty and header-only files, and each kind of damage.
 */
class HandMadeFileTest {
    @TempDir
    Path dir;

    static ByteOrder order(String name) {
        return name.equals("BIG_ENDIAN") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    }

    @ParameterizedTest
    @ValueSource(strings = {"BIG_ENDIAN", "LITTLE_ENDIAN"})
    void classicPcapMicroAndNano(String byteOrder) throws IOException {
        for (boolean nano : new boolean[] {false, true}) {
            PcapBuilder b = new PcapBuilder(order(byteOrder), nano, 96, 1)
                    .record(1_600_000_000L, 999_999, 60, pattern(60, 1))
                    .record(0xFFFF_FFFFL, nano ? 999_999_999 : 5, 0xFFFF_FFFFL, pattern(96, 2))
                    // out of range fractions are kept and carried into the seconds, as libpcap does
                    .record(10, nano ? 1_500_000_000L : 1_500_000, 0, new byte[0]);
            Path file = write(dir, "hand" + nano + ".pcap", b.bytes());
            try (CaptureReader r = CaptureReader.open(file)) {
                assertEquals(CaptureFormat.PCAP, r.format());
                assertEquals(order(byteOrder), r.byteOrder());
                assertEquals(List.of(new CaptureInterface(0, 0, LinkType.ETHERNET, 96, nano ? 9 : 6, 0, -1, null)),
                        r.interfaces());
            }
            Outcome o = readAll(file);
            assertNull(o.error());
            List<Read> p = o.packets();
            assertEquals(3, p.size());
            assertEquals(Instant.ofEpochSecond(1_600_000_000L, nano ? 999_999 : 999_999_000), p.get(0).timestamp());
            assertEquals(Instant.ofEpochSecond(0xFFFF_FFFFL, nano ? 999_999_999 : 5000), p.get(1).timestamp());
            assertEquals(Instant.ofEpochSecond(11, 500_000_000), p.get(2).timestamp());
            assertArrayEquals(pattern(60, 1), p.get(0).bytes());
            assertArrayEquals(pattern(96, 2), p.get(1).bytes());
            assertEquals(0xFFFF_FFFFL, p.get(1).originalLength());
            assertEquals(0, p.get(2).bytes().length);
            assertEquals(0, p.get(2).originalLength(), "original below captured is read as it is");
            assertEquals(List.of(24L, 24L + 16 + 60, 24L + 16 + 60 + 16 + 96),
                    p.stream().map(Read::fileOffset).toList());
        }
    }

    @Test
    void classicLinkTypeFieldCarriesFcsBitsAbove16Bits() throws IOException {
        // 0x30000001: FCS length bits set without the "present" bit (as in several tcpdump test files): unknown
        Path unknown = write(dir, "fcs1.pcap", new PcapBuilder(ByteOrder.LITTLE_ENDIAN, false, 64, 0x3000_0001).bytes());
        // 0x24000001: present, 2 sixteen-bit words: a 4-byte FCS
        Path present = write(dir, "fcs2.pcap", new PcapBuilder(ByteOrder.BIG_ENDIAN, false, 64, 0x2400_0001).bytes());
        try (CaptureReader a = CaptureReader.open(unknown); CaptureReader b = CaptureReader.open(present)) {
            assertEquals(LinkType.ETHERNET, a.interfaces().getFirst().linkType());
            assertEquals(-1, a.interfaces().getFirst().fcsLength());
            assertEquals(LinkType.ETHERNET, b.interfaces().getFirst().linkType());
            assertEquals(4, b.interfaces().getFirst().fcsLength());
            assertNull(a.next());
        }
    }

    /** Two sections in opposite byte orders, with every block kind and blocks to skip. */
    static PcapngBuilder everyBlock(ByteOrder first) {
        ByteOrder second = first == ByteOrder.BIG_ENDIAN ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
        PcapngBuilder b = new PcapngBuilder(first).section()
                .other(0x0000_0BAD, 8) // custom block
                .iface(1, 0, 2, "eth0".getBytes(StandardCharsets.UTF_8), 9, u8(9), 13, u8(4),
                        3, "a description".getBytes(StandardCharsets.UTF_8))
                .other(4, 12) // name resolution block
                .iface(101, 40, 9, u8(3), 14, s64(100, first))
                .enhanced(0, 1_000_000_000_123_456_789L, 70, pattern(70, 0))
                .enhanced(1, 5_123, 1000, pattern(40, 1)) // ms resolution, tsoffset 100 s
                .other(5, 20) // interface statistics block
                .simple(60, pattern(60, 2)) // fits, no snap length: captured 60
                .obsoletePacket(1, 7, 33, pattern(33, 3))
                .other(0x7FFF_FFFF, 0) // unknown, empty body
                .order(second).section()
                .iface(229, 8)
                .simple(20, pattern(20, 4)) // cut to the snap length 8
                .enhanced(0, 3_000_001, 9, pattern(9, 5)); // default resolution: microseconds
        return b;
    }

    @ParameterizedTest
    @ValueSource(strings = {"BIG_ENDIAN", "LITTLE_ENDIAN"})
    void pcapngEveryBlockKindAndTwoSections(String byteOrder) throws IOException {
        ByteOrder first = order(byteOrder);
        Path file = write(dir, "every.pcapng", everyBlock(first).bytes());
        Outcome o = readAll(file);
        assertNull(o.error());
        assertEquals(CaptureFormat.PCAPNG, o.format());
        List<Read> p = o.packets();
        assertEquals(6, p.size());

        CaptureInterface eth0 = new CaptureInterface(0, 0, LinkType.ETHERNET, 0, 9, 0, 4, "eth0");
        CaptureInterface raw = new CaptureInterface(0, 1, LinkType.RAW, 40, 3, 100, -1, null);
        CaptureInterface ipv6 = new CaptureInterface(1, 0, LinkType.IPV6, 8, 6, 0, -1, null);

        assertEquals(eth0, p.get(0).iface());
        assertEquals(Instant.ofEpochSecond(1_000_000_000L, 123_456_789), p.get(0).timestamp());
        assertArrayEquals(pattern(70, 0), p.get(0).bytes());

        assertEquals(raw, p.get(1).iface());
        assertEquals(Instant.ofEpochSecond(105, 123_000_000), p.get(1).timestamp());
        assertEquals(1000, p.get(1).originalLength());

        assertEquals(eth0, p.get(2).iface());
        assertNull(p.get(2).timestamp(), "simple packet blocks have no timestamp");
        assertArrayEquals(pattern(60, 2), p.get(2).bytes());

        assertEquals(raw, p.get(3).iface());
        assertEquals(Instant.ofEpochSecond(100, 7_000_000), p.get(3).timestamp());
        assertArrayEquals(pattern(33, 3), p.get(3).bytes());

        assertEquals(ipv6, p.get(4).iface());
        assertArrayEquals(pattern(8, 4), p.get(4).bytes());
        assertEquals(20, p.get(4).originalLength());

        assertEquals(ipv6, p.get(5).iface());
        assertEquals(Instant.ofEpochSecond(3, 1000), p.get(5).timestamp());
        assertArrayEquals(pattern(9, 5), p.get(5).bytes());

        try (CaptureReader r = CaptureReader.open(file)) {
            assertEquals(first, r.byteOrder());
            assertEquals(List.of(), r.interfaces(), "no interface read yet");
            for (int i = 0; i < 4; i++) {
                r.next().close();
            }
            assertEquals(List.of(eth0, raw), r.interfaces());
            r.next().close();
            assertEquals(first == ByteOrder.BIG_ENDIAN ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN, r.byteOrder());
            assertEquals(List.of(ipv6), r.interfaces(), "a new section forgets the interfaces of the one before");
        }
    }

    static Instant epbTimestamp(int tsresol, long units) throws IOException {
        return epbTimestamp(tsresol, units, 0);
    }

    static Instant epbTimestamp(int tsresol, long units, long offset) throws IOException {
        Path dir = java.nio.file.Files.createTempDirectory("ts");
        try {
            Path file = write(dir, "ts.pcapng", new PcapngBuilder(ByteOrder.BIG_ENDIAN).section()
                    .iface(1, 0, 9, u8(tsresol), 14, s64(offset, ByteOrder.BIG_ENDIAN))
                    .enhanced(0, units, 1, new byte[1]).bytes());
            Outcome o = readAll(file);
            if (o.error() != null) {
                throw o.error();
            }
            return o.packets().getFirst().timestamp();
        } finally {
            try (var files = java.nio.file.Files.list(dir)) {
                for (Path f : files.toList()) {
                    java.nio.file.Files.delete(f);
                }
            }
            java.nio.file.Files.delete(dir);
        }
    }

    @Test
    void pcapngTimestampResolutions() throws IOException {
        assertEquals(Instant.ofEpochSecond(1234), epbTimestamp(0, 1234));
        assertEquals(Instant.ofEpochSecond(1, 234_000_000), epbTimestamp(3, 1234));
        assertEquals(Instant.ofEpochSecond(1_700_000_000L, 123_000), epbTimestamp(6, 1_700_000_000_000_123L));
        assertEquals(Instant.ofEpochSecond(1_700_000_000L, 123_456_789),
                epbTimestamp(9, 1_700_000_000_123_456_789L));
        // picoseconds: the fraction below a nanosecond is cut off
        assertEquals(Instant.ofEpochSecond(1_000_000, 999_999_999), epbTimestamp(12, 1_000_000_999_999_999_999L));
        // 10^-18 with an unsigned 64-bit count above Long.MAX_VALUE: 18.446744073709551615 s
        assertEquals(Instant.ofEpochSecond(18, 446_744_073), epbTimestamp(18, -1L));
        // binary: 2^-10 s units; 1536 units = 1.5 s; 1 unit = 976562.5 ns, rounded down
        assertEquals(Instant.ofEpochSecond(1, 500_000_000), epbTimestamp(0x80 | 10, 1536));
        assertEquals(Instant.ofEpochSecond(0, 976_562), epbTimestamp(0x80 | 10, 1));
        assertEquals(Instant.ofEpochSecond(0, 999_999_999), epbTimestamp(0x80 | 63, Long.MAX_VALUE));
        assertEquals(Instant.ofEpochSecond(1, 0), epbTimestamp(0x80 | 63, Long.MIN_VALUE));
        assertEquals(Instant.ofEpochSecond(5), epbTimestamp(0x80, 5));
        // 2^-32 s (a common NTP-like resolution): 2^32 + 2^31 units = 1.5 s
        assertEquals(Instant.ofEpochSecond(1, 500_000_000), epbTimestamp(0x80 | 32, 0x1_8000_0000L));
        // if_tsoffset, negative too
        assertEquals(Instant.ofEpochSecond(1000 - 7, 5000), epbTimestamp(6, 1_000_000_005L, -7));
        assertEquals(Instant.ofEpochSecond(-100, 0), epbTimestamp(0, 0, -100));
    }

    @Test
    void timestampsOutsideInstantAreFormatErrors() {
        CaptureFormatException e = assertThrows(CaptureFormatException.class, () -> epbTimestamp(0, -1L));
        assertEquals(48 + 44 + 12, e.offset(), e.getMessage()); // SHB, IDB, then the EPB's timestamp field
        assertTrue(e.problem().contains("beyond the range of java.time.Instant"), e.getMessage());
        assertThrows(CaptureFormatException.class, () -> epbTimestamp(0, 1, Long.MAX_VALUE));
    }

    @Test
    void emptyAndHeaderOnlyFiles() throws IOException {
        Path empty = write(dir, "empty.pcap", new byte[0]);
        CaptureFormatException e = assertThrows(CaptureFormatException.class, () -> CaptureReader.open(empty));
        assertEquals(0, e.offset());
        assertEquals(empty + ": at offset 0: the file is empty: expected the 4-byte magic number of a pcap or pcapng file",
                e.getMessage());

        for (ByteOrder order : List.of(ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN)) {
            for (boolean nano : new boolean[] {false, true}) {
                Path header = write(dir, "header.pcap", new PcapBuilder(order, nano, 65535, 101).bytes());
                try (CaptureReader r = CaptureReader.open(header)) {
                    assertNull(r.next());
                    assertEquals(LinkType.RAW, r.interfaces().getFirst().linkType());
                    assertEquals(24, r.position());
                }
            }
            Path shb = write(dir, "shb.pcapng", new PcapngBuilder(order).section().bytes());
            Path idb = write(dir, "idb.pcapng", new PcapngBuilder(order).section().iface(1, 0).section().bytes());
            for (Path file : List.of(shb, idb)) {
                Outcome o = readAll(file);
                assertNull(o.error());
                assertEquals(0, o.packets().size());
                assertEquals(CaptureFormat.PCAPNG, o.format());
            }
        }
    }

    /** Asserts that reading {@code bytes} yields {@code packets} packets, then the error at {@code offset}. */
    void assertDamage(byte[] bytes, int packets, long offset, String problemPart) {
        Path file = write(dir, "damaged", bytes);
        Outcome o = readAll(file);
        assertNotNull(o.error(), "no error");
        assertEquals(packets, o.packets().size(), o.error().getMessage());
        assertEquals(offset, o.error().offset(), o.error().getMessage());
        assertTrue(o.error().problem().contains(problemPart), o.error().getMessage());
    }

    static byte[] patch(byte[] bytes, int offset, ByteOrder order, int value) {
        ByteBuffer.wrap(bytes).order(order).putInt(offset, value);
        return bytes;
    }

    @Test
    void damagedFilesNameTheOffsetAndWhatWasExpected() {
        ByteOrder be = ByteOrder.BIG_ENDIAN;
        assertDamage(new byte[] {1, 2, 3}, 0, 0, "the file has only 3 bytes");
        assertDamage("Hello, world".getBytes(StandardCharsets.US_ASCII), 0, 0, "unknown magic number 0x48656c6c");
        assertDamage(patch(new PcapBuilder(be, false, 1, 1).bytes(), 4, be, 0x0003_0000), 0, 4,
                "expected pcap version 2.x, found 3.0");
        assertDamage(java.util.Arrays.copyOf(new PcapBuilder(be, false, 1, 1).bytes(), 23), 0, 0,
                "the pcap file header needs 24 bytes but the file has only 23");

        PcapBuilder pcap = new PcapBuilder(be, false, 1, 1).record(1, 2, 10, pattern(10, 0)).record(1, 2, 70000, pattern(20, 0));
        byte[] lying = patch(pcap.bytes(), 50 + 8, be, 70000);
        assertDamage(lying, 1, 50, "packet record claims 70000 captured bytes but only 20 remain");
        assertDamage(patch(pcap.bytes(), 50 + 8, be, -1), 1, 50, "claims 4294967295 captured bytes");
        assertDamage(java.util.Arrays.copyOf(pcap.bytes(), 60), 1, 50, "record header needs 16 bytes but only 10 remain");

        byte[] ng = new PcapngBuilder(be).section().iface(1, 0).enhanced(0, 1, 10, pattern(10, 0)).bytes();
        int idb = 48; // the section header block with its shb_userappl option
        int epb = idb + 20;
        assertDamage(patch(ng.clone(), epb + 8, be, 1), 0, epb + 8,
                "enhanced packet block refers to interface 1 but only 1 interface(s) are described in section 0");
        assertDamage(patch(ng.clone(), epb + 20, be, 100), 0, epb + 20,
                "enhanced packet block claims 100 captured bytes but holds only 32");
        assertDamage(patch(ng.clone(), ng.length - 4, be, 8), 0, ng.length - 4,
                "enhanced packet block ends with a total length of 8 but starts with 64");
        assertDamage(patch(ng.clone(), epb + 4, be, 50), 0, epb + 4, "which is not a multiple of 4");
        assertDamage(patch(ng.clone(), epb + 4, be, 8), 0, epb + 4, "less than its minimum 12");
        assertDamage(new PcapngBuilder(be).section().iface(1, 0).other(6, 4).bytes(), 0, epb + 4,
                "enhanced packet block of 16 bytes is too short for its 20-byte fixed part");
        assertDamage(patch(ng.clone(), epb + 4, be, 1 << 20), 0, epb, "claims 1048576 bytes but only 64 remain");
        assertDamage(patch(ng.clone(), 8, be, 0x01020304), 0, 8, "byte-order magic of a section header block is 0x01020304");
        assertDamage(patch(ng.clone(), 12, be, 0x0002_0000), 0, 12, "expected pcapng version 1.x, found 2.0");
        assertDamage(java.util.Arrays.copyOf(ng, 10), 0, 0, "a section header block needs at least 28 bytes but only 10 remain");
        assertDamage(java.util.Arrays.copyOf(ng, ng.length - 5), 0, epb, "claims 64 bytes but only 59 remain");
        assertDamage(java.util.Arrays.copyOf(ng, epb + 7), 0, epb, "a block needs at least 12 bytes but only 7 remain");

        assertDamage(new PcapngBuilder(be).section().simple(4, new byte[4]).bytes(), 0, 48,
                "simple packet block, but no interface description block precedes it");
        assertDamage(new PcapngBuilder(be).section().iface(1, 0).section().enhanced(0, 0, 0, new byte[0]).bytes(), 0,
                48 + 20 + 48 + 8, "refers to interface 0 but no interface is described in section 1");
        assertDamage(new PcapngBuilder(be).section().iface(1, 0, 9, new byte[2]).bytes(), 0, 48 + 16,
                "option if_tsresol is 2 bytes long, expected 1");
        assertDamage(new PcapngBuilder(be).section().iface(1, 0, 9, u8(64)).bytes(), 0, 48 + 20,
                "if_tsresol 10^-64 is finer than jmbuf can convert");
        assertDamage(new PcapngBuilder(be).section().iface(1, 0, 9, u8(0x80 | 64)).bytes(), 0, 48 + 20,
                "if_tsresol 2^-64");
        assertDamage(new PcapngBuilder(be).section().iface(1, 0, 14, new byte[4]).bytes(), 0, 48 + 16,
                "option if_tsoffset is 4 bytes long, expected 8");
        assertDamage(new PcapngBuilder(be).section().iface(1, 0, 13, new byte[2]).bytes(), 0, 48 + 16,
                "option if_fcslen is 2 bytes long, expected 1");
        byte[] overrun = new PcapngBuilder(be).section().iface(1, 0, 2, new byte[8]).bytes();
        ByteBuffer.wrap(overrun).order(be).putShort(48 + 16 + 2, (short) 200);
        assertDamage(overrun, 0, 48 + 16, "option 2 of an interface description block claims 200 bytes but only 12 remain");
        assertDamage(new PcapngBuilder(be).section().other(1, 4).bytes(), 0, 48 + 4,
                "interface description block of 16 bytes is too short for its 8-byte fixed part");
        assertDamage(new PcapngBuilder(be).section().other(3, 0).bytes(), 0, 48 + 4, "simple packet block of 12 bytes");
        assertDamage(new PcapngBuilder(be).section().other(2, 4).bytes(), 0, 48 + 4, "packet block of 16 bytes");
    }

    @Test
    void aFailedReaderKeepsFailingWithTheSameException() throws IOException {
        byte[] bytes = new PcapBuilder(ByteOrder.LITTLE_ENDIAN, false, 100, 1).record(0, 0, 5, new byte[5]).bytes();
        Path file = write(dir, "cut.pcap", java.util.Arrays.copyOf(bytes, bytes.length - 1));
        try (CaptureReader r = CaptureReader.open(file)) {
            CaptureFormatException first = assertThrows(CaptureFormatException.class, r::next);
            assertEquals(file + ": at offset 24: packet record claims 5 captured bytes but only 4 remain",
                    first.getMessage());
            assertSame(first, assertThrows(CaptureFormatException.class, r::next));
            assertEquals(0, r.packetsRead());
            assertEquals(24, r.position());
        }
    }

    @Test
    void optionsWithoutEndMarkerAndTrailingSlackAreAccepted() throws IOException {
        // if_name with no opt_endofopt, then two bytes of slack before the trailer are not an option
        ByteBuffer body = ByteBuffer.allocate(20).order(ByteOrder.BIG_ENDIAN).putShort((short) 1).putShort((short) 0)
                .putInt(0).putShort((short) 2).putShort((short) 3).put("ab\0".getBytes(StandardCharsets.US_ASCII)).put((byte) 0);
        PcapngBuilder b = new PcapngBuilder(ByteOrder.BIG_ENDIAN).section().block(1, body, false)
                .enhanced(0, 0, 1, new byte[1]);
        Outcome o = readAll(write(dir, "slack.pcapng", b.bytes()));
        assertNull(o.error());
        assertEquals("ab", o.packets().getFirst().iface().name());
    }
}
