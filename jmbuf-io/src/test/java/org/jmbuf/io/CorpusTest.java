package org.jmbuf.io;

import static org.jmbuf.io.CaptureTestSupport.assertCleanError;
import static org.jmbuf.io.CaptureTestSupport.chain;
import static org.jmbuf.io.CaptureTestSupport.readAll;
import static org.jmbuf.io.CaptureTestSupport.sha256;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.io.CaptureTestSupport.Outcome;
import org.jmbuf.io.CaptureTestSupport.Read;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every file of the tcpdump test captures beside the repository ({@code ../shared/captures/tcpdump}):
 * read to its end or to a clean {@link CaptureFormatException}, every packet touched, written to (copy on
 * write) and freed, the file unchanged byte for byte afterwards; then every packet written again in both
 * formats and read back the same (and, if tshark is installed, read by tshark). Skipped, saying so, where
 * the folder is absent. The captures are read in place, never copied into the repository.
 */
class CorpusTest {
    @TempDir
    Path dir;

    /**
     * Packets per file, counted by an independent parser when this test was written. The corpus is
     * damaged on purpose in its packets, not in its file structure: every file reads to its end.
     */
    static final Map<String, Integer> EXPECTED_PACKETS = Map.ofEntries(
            Map.entry("LINKTYPE_RAW_ipv4.pcap", 1), Map.entry("LINKTYPE_RAW_ipv6.pcap", 1),
            Map.entry("accecn_handshake.pcap", 6), Map.entry("arp-too-long-tha.pcap", 1),
            Map.entry("e1000g.pcap", 20), Map.entry("empty.pcap", 0), Map.entry("empty.pcapng", 0),
            Map.entry("heapoverflow-tcp_print.pcap", 1), Map.entry("icmp-cksum-oobr-1.pcap", 1),
            Map.entry("icmp-cksum-oobr-2.pcap", 1), Map.entry("icmp-length-zero.pcapng", 1),
            Map.entry("icmp-rfc5837.pcap", 1), Map.entry("icmpv6-length-zero.pcapng", 1),
            Map.entry("icmpv6-ns-nonce.pcap", 1), Map.entry("icmpv6-ra-pref64.pcap", 4),
            Map.entry("icmpv6-rfc7112.pcap", 1), Map.entry("icmpv6.pcap", 5), Map.entry("icmpv6_opt24.pcap", 2),
            Map.entry("ip6_frag_asan.pcap", 1), Map.entry("ip_printroute_asan.pcap", 1),
            Map.entry("ip_ts_opts_asan.pcap", 1), Map.entry("ipv4_invalid_hdr_length.pcap", 1),
            Map.entry("ipv4_invalid_length.pcap", 1), Map.entry("ipv4_invalid_total_length.pcap", 1),
            Map.entry("ipv4_invalid_total_length_2.pcap", 1), Map.entry("ipv4_tcp_http_xml.pcap", 1),
            Map.entry("ipv6-bad-version.pcap", 4), Map.entry("ipv6-next-header-oobr-1.pcap", 1),
            Map.entry("ipv6-next-header-oobr-2.pcap", 1), Map.entry("ipv6-routing-header.pcap", 4),
            Map.entry("ipv6-rthdr-oobr.pcap", 1), Map.entry("ipv6-srh-ext-header.pcap", 1),
            Map.entry("ipv6-too-long-jumbo.pcap", 1), Map.entry("ipv6_frag6_negative_len.pcap", 1),
            Map.entry("ipv6_invalid_length.pcap", 1), Map.entry("ipv6_invalid_length_2.pcap", 1),
            Map.entry("ipv6_missing_jumbo_payload_option.pcap", 1), Map.entry("ipv6_no_next_header.pcap", 1),
            Map.entry("tcp-handshake-nano.pcap", 3), Map.entry("tcp_eight_lowest_weight_flags_set.pcap", 1),
            Map.entry("tcp_header_heapoverflow.pcap", 1), Map.entry("tcp_rst_data.pcap", 1),
            Map.entry("tfo-5c1fa7f9ae91.pcap", 14));

    /** The corpus folder: {@code shared/captures/tcpdump} in the nearest directory above the working one. */
    static Path corpus() {
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("shared/captures/tcpdump");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        String reason = "the capture corpus shared/captures/tcpdump was not found in any directory above "
                + System.getProperty("user.dir") + ": skipping the corpus tests";
        System.out.println("SKIPPED: " + reason);
        Assumptions.abort(reason);
        throw new AssertionError("unreachable");
    }

    static List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(corpus())) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyCorpusFileReadsCleanlyAndStaysUntouched() throws IOException {
        List<Path> files = files();
        assertFalse(files.isEmpty(), "the corpus folder is empty");
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> readInPlace(f)));
    }

    /** Reads {@code file}, touching every byte and writing into every packet (copy on write). */
    static void readInPlace(Path file) throws IOException {
        String before = sha256(file);
        String name = file.getFileName().toString();
        int packets = 0;
        CaptureFormatException error = null;
        CaptureReader reader;
        try {
            reader = CaptureReader.open(file);
        } catch (CaptureFormatException e) {
            assertCleanError(file, e, Files.size(file));
            assertFalse(EXPECTED_PACKETS.containsKey(name), name + " is a capture but did not open: " + e.getMessage());
            System.out.println("corpus: " + name + ": not a capture: " + e.getMessage());
            assertEquals(before, sha256(file));
            return;
        }
        try (reader) {
            while (true) {
                CapturedPacket p;
                try {
                    p = reader.next();
                } catch (CaptureFormatException e) {
                    assertCleanError(file, e, reader.size());
                    error = e;
                    break;
                }
                if (p == null) {
                    break;
                }
                packets++;
                try (p) {
                    touch(p);
                }
                assertEquals(0, reader.outstandingPackets());
            }
            System.out.println("corpus: " + name + ": " + reader.format() + " " + reader.byteOrder() + ", " + packets
                    + " packets, link types " + reader.interfaces().stream().map(i -> i.linkType().toString()).toList()
                    + (error == null ? "" : ", then " + error.getMessage()));
        } catch (RuntimeException e) {
            fail(name + ": reading threw " + e + " instead of ending or throwing CaptureFormatException", e);
        }
        assertFalse(reader.isMapped());
        assertEquals(before, sha256(file), name + " was changed by reading it");
        Integer expected = EXPECTED_PACKETS.get(name);
        if (expected != null) {
            assertNull(error, name);
            assertEquals(expected, packets, name);
        }
    }

    /** Reads every byte three ways, finds the network layer, then writes through copy on write. */
    static void touch(CapturedPacket p) {
        Mbuf m = p.mbuf();
        int length = m.length();
        assertEquals(p.capturedLength(), length);
        long[] sum = {0};
        m.apply(0, length, chunk -> {
            assertTrue(chunk.isReadOnly());
            for (long i = 0; i < chunk.byteSize(); i++) {
                sum[0] += chunk.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
            }
            return 0;
        });
        byte[] copy = m.toByteArray();
        long check = 0;
        for (int i = 0; i < length; i++) {
            check += copy[i] & 0xFF;
            assertEquals(copy[i], m.byteAt(i));
        }
        assertEquals(check, sum[0]);
        p.linkType().networkLayer(m).ifPresent(l -> assertTrue(l.offset() <= length));
        if (length > 0) {
            assertTrue(m.isReadOnly(0, length));
            int n = Math.min(length, 16);
            MemorySegment writable = m.ptrRw(0, n);
            writable.fill((byte) 0xFF);
            assertEquals((byte) 0xFF, m.byteAt(0));
            m.copyBackCow(length - 1, new byte[] {0x11, 0x22});
        }
    }

    @TestFactory
    Stream<DynamicTest> everyCorpusPacketSurvivesAWriteAndReadInBothFormats() throws IOException {
        return files().stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> rewrite(f)));
    }

    void rewrite(Path source) throws Exception {
        Outcome original = readAll(source);
        if (original.format() == null || original.packets().isEmpty()) {
            return; // not a capture, or nothing to write
        }
        String name = source.getFileName().toString();
        for (CaptureFormat format : CaptureFormat.values()) {
            LinkType first = original.packets().getFirst().iface().linkType();
            if (format == CaptureFormat.PCAP
                    && original.packets().stream().anyMatch(p -> !p.iface().linkType().equals(first))) {
                continue; // classic pcap holds one link type
            }
            Path copy = dir.resolve(name + "." + format.name().toLowerCase());
            ByteOrder order = format == CaptureFormat.PCAP ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            Map<CaptureInterface, Integer> indexes = new HashMap<>();
            try (CaptureWriter w = CaptureWriter.builder(format).byteOrder(order).linkType(first)
                    .precision(TimestampPrecision.NANOSECONDS).open(copy)) {
                indexes.put(original.packets().getFirst().iface(), 0);
                for (Read p : original.packets()) {
                    Integer index = indexes.get(p.iface());
                    if (index == null) {
                        index = format == CaptureFormat.PCAP ? 0 : w.addInterface(p.iface().linkType(),
                                CaptureWriter.DEFAULT_SNAP_LENGTH, TimestampPrecision.NANOSECONDS, p.iface().name());
                        indexes.put(p.iface(), index);
                    }
                    try (Mbuf m = chain(p.bytes(), 64)) {
                        w.write(m, p.timestamp() == null ? Instant.EPOCH : p.timestamp(), index, p.originalLength());
                    }
                }
            }
            Outcome again = readAll(copy);
            assertNull(again.error());
            assertEquals(original.packets().size(), again.packets().size());
            for (int i = 0; i < original.packets().size(); i++) {
                Read a = original.packets().get(i);
                Read b = again.packets().get(i);
                assertArrayEquals(a.bytes(), b.bytes(), name + " packet " + i);
                assertEquals(a.originalLength(), b.originalLength(), name + " packet " + i);
                assertEquals(a.timestamp() == null ? Instant.EPOCH : a.timestamp(), b.timestamp(), name + " packet " + i);
                assertEquals(a.iface().linkType(), b.iface().linkType());
            }
            if (Files.isExecutable(Tshark.TSHARK)) {
                Tshark.Result r = Tshark.read(copy);
                // the corpus packets are malformed on purpose: only the file structure must be accepted
                assertEquals(0, r.exitStatus(), copy + ":\n" + r.output());
                assertNotNull(r.output());
            }
        }
    }
}
