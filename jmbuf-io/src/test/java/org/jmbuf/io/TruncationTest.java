package org.jmbuf.io;

import static org.jmbuf.io.CaptureTestSupport.chain;
import static org.jmbuf.io.CaptureTestSupport.pattern;
import static org.jmbuf.io.CaptureTestSupport.readAll;
import static org.jmbuf.io.CaptureTestSupport.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.io.CaptureTestSupport.FileBuilder;
import org.jmbuf.io.CaptureTestSupport.Outcome;
import org.jmbuf.io.CaptureTestSupport.PcapBuilder;
import org.jmbuf.io.CaptureTestSupport.PcapngBuilder;
import java.nio.file.Path;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every prefix of a good file (smoltcp's "truncated at every length"), and randomly damaged files: the
 * reader yields exactly the complete packets of the prefix, then ends cleanly at a record boundary or
 * throws {@link CaptureFormatException} with an offset inside the file, and never anything else.
 */
class TruncationTest {
    @TempDir
    Path dir;

    /** A sample file: its bytes, where a prefix ends cleanly, and where each packet ends. */
    record Sample(String name, byte[] bytes, List<Integer> boundaries, List<Integer> packetEnds) {
    }

    static Sample of(String name, FileBuilder<?> b) {
        return new Sample(name, b.bytes(), b.boundaries, b.packetEnds);
    }

    /** A file from {@link CaptureWriter}, with its boundaries found by walking its records. */
    static Sample written(CaptureFormat format, ByteOrder order) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (CaptureWriter w = CaptureWriter.builder(format).byteOrder(order).precision(TimestampPrecision.NANOSECONDS)
                .snapLength(50).open(out)) {
            if (format == CaptureFormat.PCAPNG) {
                w.addInterface(LinkType.RAW, 1000, TimestampPrecision.MICROSECONDS, "second");
            }
            for (int i = 0; i < 5; i++) {
                try (Mbuf m = chain(pattern(i * 17, i), 10)) {
                    w.write(m, Instant.ofEpochSecond(i, i), format == CaptureFormat.PCAPNG ? i % 2 : 0, i * 17);
                }
            }
        }
        byte[] bytes = out.toByteArray();
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(order);
        List<Integer> boundaries = new ArrayList<>();
        List<Integer> packetEnds = new ArrayList<>();
        if (format == CaptureFormat.PCAP) {
            for (int at = 24; ; at += 16 + buf.getInt(at + 8)) {
                boundaries.add(at);
                if (at > 24) {
                    packetEnds.add(at);
                }
                if (at == bytes.length) {
                    break;
                }
            }
        } else {
            for (int at = 0; at < bytes.length; ) {
                int type = buf.getInt(at);
                at += buf.getInt(at + 4);
                boundaries.add(at);
                if (type == 6) {
                    packetEnds.add(at);
                }
            }
        }
        return new Sample("written-" + format + "-" + order, bytes, boundaries, packetEnds);
    }

    static List<Sample> samples() throws IOException {
        List<Sample> out = new ArrayList<>();
        for (ByteOrder order : List.of(ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN)) {
            out.add(of("pcap-micro-" + order, new PcapBuilder(order, false, 200, 1).record(1, 2, 30, pattern(30, 0))
                    .record(3, 4, 0, new byte[0]).record(5, 6, 100, pattern(7, 1))));
            out.add(of("pcap-nano-" + order, new PcapBuilder(order, true, 200, 229).record(1, 2, 3, pattern(3, 0))
                    .record(7, 8, 41, pattern(41, 1))));
            out.add(of("pcapng-" + order, HandMadeFileTest.everyBlock(order)));
            for (CaptureFormat format : CaptureFormat.values()) {
                out.add(written(format, order));
            }
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> everyPrefixEndsCleanlyOrWithAnOffset() throws IOException {
        return samples().stream().map(s -> DynamicTest.dynamicTest(s.name(), () -> {
            Outcome full = readAll(write(dir, s.name(), s.bytes()));
            assertNull(full.error(), s.name() + " must be good as a whole");
            assertEquals(s.packetEnds().size(), full.packets().size());
            for (int n = 0; n < s.bytes().length; n++) {
                Path file = write(dir, s.name() + "-" + n, Arrays.copyOf(s.bytes(), n));
                Outcome cut = readAll(file);
                int complete = n;
                long expectedPackets = s.packetEnds().stream().filter(end -> end <= complete).count();
                assertEquals(expectedPackets, cut.packets().size(), "packets in a prefix of " + n + " bytes");
                for (int i = 0; i < expectedPackets; i++) {
                    assertArrayEquals(full.packets().get(i).bytes(), cut.packets().get(i).bytes());
                    assertEquals(full.packets().get(i).timestamp(), cut.packets().get(i).timestamp());
                }
                if (s.boundaries().contains(n)) {
                    assertNull(cut.error(), "a prefix of " + n + " bytes ends at a boundary");
                } else {
                    assertNotNull(cut.error(), "a prefix of " + n + " bytes is truncated");
                    assertTrue(cut.error().offset() <= n, cut.error().getMessage());
                }
                java.nio.file.Files.delete(file);
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> damagedBytesGiveOnlyFormatErrors() throws IOException {
        int[] interesting = {0, 1, 3, 4, 11, 12, 16, 28, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFF0,
                0x0A0D0D0A, 0x1A2B3C4D, 0x4D3C2B1A, 0xA1B2C3D4, 0xD4C3B2A1, 0x0000_0080, 0x0000_00BF, 0x0900_0100};
        return samples().stream().map(s -> DynamicTest.dynamicTest(s.name(), () -> {
            Random random = new Random(s.name().hashCode());
            int errors = 0;
            for (int round = 0; round < 300; round++) {
                byte[] bytes = s.bytes().clone();
                int changes = 1 + random.nextInt(3);
                for (int c = 0; c < changes; c++) {
                    if (random.nextBoolean()) {
                        bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                    } else {
                        int at = random.nextInt(bytes.length / 4) * 4;
                        ByteBuffer.wrap(bytes).order(random.nextBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN)
                                .putInt(at, interesting[random.nextInt(interesting.length)]);
                    }
                }
                if (random.nextInt(4) == 0) {
                    bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
                }
                Path file = write(dir, s.name() + "-" + round, bytes);
                // readAll fails the test on any exception but CaptureFormatException, and on a leak
                if (readAll(file).error() != null) {
                    errors++;
                }
                java.nio.file.Files.delete(file);
            }
            assertTrue(errors > 0, "damage must be detected at least sometimes");
        }));
    }
}
