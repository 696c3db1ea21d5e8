package org.jmbuf.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;

/** Helpers shared by the capture tests: hand-built files in either byte order, reading everything, hashes. */
final class CaptureTestSupport {
    private CaptureTestSupport() {
    }

    /** What a test keeps of a packet after freeing it: a copy of its bytes and its metadata. */
    record Read(byte[] bytes, Instant timestamp, int capturedLength, long originalLength, CaptureInterface iface,
            long fileOffset) {
        @Override
        public String toString() {
            return "Read[" + capturedLength + "/" + originalLength + " bytes at " + fileOffset + ", " + timestamp
                    + ", " + iface + "]";
        }
    }

    /** Everything a reader gave: the packets (copied, then freed), and the exception that ended it, if any. */
    record Outcome(List<Read> packets, CaptureFormatException error, CaptureFormat format) {
    }

    /**
     * Reads {@code file} to its end or to a {@link CaptureFormatException} (any other exception fails the
     * test), copying and freeing each packet, checking that each is one read-only segment of the right
     * length, and that the mapping is gone afterwards.
     */
    static Outcome readAll(Path file) {
        List<Read> packets = new ArrayList<>();
        CaptureReader reader;
        try {
            reader = CaptureReader.open(file);
        } catch (CaptureFormatException e) {
            assertCleanError(file, e, sizeOf(file));
            return new Outcome(packets, e, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        CaptureFormatException error = null;
        CaptureFormat format = reader.format();
        try (reader) {
            while (true) {
                CapturedPacket p;
                try {
                    p = reader.next();
                } catch (CaptureFormatException e) {
                    assertCleanError(file, e, sizeOf(file));
                    error = e;
                    break;
                }
                if (p == null) {
                    break;
                }
                try (p) {
                    Mbuf m = p.mbuf();
                    assertEquals(p.capturedLength(), m.length(), "chain length");
                    assertEquals(1, m.segmentCount(), "one segment of external storage");
                    if (m.length() > 0) {
                        assertTrue(m.isReadOnly(0, m.length()), "packet storage must be read-only");
                    }
                    packets.add(new Read(m.toByteArray(), p.timestamp(), p.capturedLength(), p.originalLength(),
                            p.captureInterface(), p.fileOffset()));
                }
            }
            assertEquals(0, reader.outstandingPackets());
        } catch (RuntimeException e) {
            fail(file + ": reading threw " + e + " instead of ending or throwing CaptureFormatException", e);
        }
        assertFalse(reader.isMapped(), "the file must be unmapped after close with every packet freed");
        return new Outcome(packets, error, format);
    }

    static void assertCleanError(Path file, CaptureFormatException e, long size) {
        assertTrue(e.getMessage().startsWith(file + ": at offset " + e.offset() + ": "), e.getMessage());
        assertTrue(e.offset() >= 0 && e.offset() <= size, "offset " + e.offset() + " outside a file of " + size);
        assertFalse(e.problem().isBlank());
        assertEquals(file, e.file());
    }

    static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha256(Path file) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static Path write(Path dir, String name, byte[] bytes) {
        try {
            return Files.write(dir.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A chain holding {@code data}, cut into one segment per piece of {@code pieceSize} bytes (0: one piece). */
    static Mbuf chain(byte[] data, int pieceSize) {
        MbufPool pool = MbufPool.shared();
        if (pieceSize <= 0 || data.length <= pieceSize) {
            return pool.devget(MemorySegment.ofArray(data));
        }
        Mbuf head = pool.devget(MemorySegment.ofArray(Arrays.copyOfRange(data, 0, pieceSize)));
        for (int from = pieceSize; from < data.length; from += pieceSize) {
            head.cat(pool.devget(MemorySegment.ofArray(Arrays.copyOfRange(data, from,
                    Math.min(data.length, from + pieceSize)))));
        }
        return head;
    }

    /** Bytes 0, 1, 2... of the given length, shifted by {@code seed}. */
    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 7 + seed);
        }
        return b;
    }

    // ---------------------------------------------------------------- hand-built files

    /** A growing file in one byte order, remembering where each record or block ended. */
    abstract static class FileBuilder<B extends FileBuilder<B>> {
        ByteBuffer out = ByteBuffer.allocate(1 << 16);
        /** Offsets at which a prefix of the file ends cleanly (after a header, record or block). */
        final List<Integer> boundaries = new ArrayList<>();
        /** The end offset of each packet record or block, in order. */
        final List<Integer> packetEnds = new ArrayList<>();

        FileBuilder(ByteOrder order) {
            out.order(order);
        }

        @SuppressWarnings("unchecked")
        B self() {
            return (B) this;
        }

        B order(ByteOrder order) {
            out.order(order);
            return self();
        }

        B raw(byte[] bytes) {
            out.put(bytes);
            return self();
        }

        byte[] bytes() {
            return Arrays.copyOf(out.array(), out.position());
        }

        int position() {
            return out.position();
        }
    }

    /** Classic pcap, record by record. */
    static final class PcapBuilder extends FileBuilder<PcapBuilder> {
        PcapBuilder(ByteOrder order, boolean nano, int snapLength, int linkField) {
            super(order);
            out.putInt(nano ? 0xA1B23C4D : 0xA1B2C3D4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0)
                    .putInt(snapLength).putInt(linkField);
            boundaries.add(out.position());
        }

        PcapBuilder record(long seconds, long fraction, long originalLength, byte[] data) {
            out.putInt((int) seconds).putInt((int) fraction).putInt(data.length).putInt((int) originalLength).put(data);
            boundaries.add(out.position());
            packetEnds.add(out.position());
            return this;
        }
    }

    /** pcapng, block by block. */
    static final class PcapngBuilder extends FileBuilder<PcapngBuilder> {
        PcapngBuilder(ByteOrder order) {
            super(order);
        }

        /** A Section Header Block in the current byte order, with an shb_userappl option. */
        PcapngBuilder section() {
            ByteBuffer body = body().putInt(0x1A2B3C4D).putShort((short) 1).putShort((short) 0).putLong(-1);
            option(body, 4, "hand-made".getBytes(StandardCharsets.UTF_8));
            body.putInt(0);
            return block(0x0A0D0D0A, body, false);
        }

        /** An Interface Description Block; {@code options} are (code, value) pairs already encoded. */
        PcapngBuilder iface(int linkType, int snapLength, Object... options) {
            ByteBuffer body = body().putShort((short) linkType).putShort((short) 0).putInt(snapLength);
            for (int i = 0; i < options.length; i += 2) {
                option(body, (Integer) options[i], (byte[]) options[i + 1]);
            }
            if (options.length > 0) {
                body.putInt(0);
            }
            return block(1, body, false);
        }

        PcapngBuilder enhanced(int iface, long units, long originalLength, byte[] data) {
            ByteBuffer body = body().putInt(iface).putInt((int) (units >>> 32)).putInt((int) units)
                    .putInt(data.length).putInt((int) originalLength).put(data);
            pad(body);
            option(body, 1, "a comment".getBytes(StandardCharsets.UTF_8));
            body.putInt(0);
            return block(6, body, true);
        }

        PcapngBuilder obsoletePacket(int iface, long units, long originalLength, byte[] data) {
            ByteBuffer body = body().putShort((short) iface).putShort((short) 0).putInt((int) (units >>> 32))
                    .putInt((int) units).putInt(data.length).putInt((int) originalLength).put(data);
            pad(body);
            return block(2, body, true);
        }

        PcapngBuilder simple(long originalLength, byte[] data) {
            ByteBuffer body = body().putInt((int) originalLength).put(data);
            pad(body);
            return block(3, body, true);
        }

        /** Any block, for unknown types: the body is {@code length} bytes of 0x5A. */
        PcapngBuilder other(int type, int length) {
            ByteBuffer body = body();
            for (int i = 0; i < length; i++) {
                body.put((byte) 0x5A);
            }
            return block(type, body, false);
        }

        ByteBuffer body() {
            return ByteBuffer.allocate(1 << 15).order(out.order());
        }

        PcapngBuilder block(int type, ByteBuffer body, boolean packet) {
            int length = 12 + body.position();
            out.putInt(type).putInt(length).put(body.array(), 0, body.position()).putInt(length);
            boundaries.add(out.position());
            if (packet) {
                packetEnds.add(out.position());
            }
            return this;
        }

        static void option(ByteBuffer body, int code, byte[] value) {
            body.putShort((short) code).putShort((short) value.length).put(value);
            pad(body);
        }

        static void pad(ByteBuffer body) {
            while (body.position() % 4 != 0) {
                body.put((byte) 0);
            }
        }

        static byte[] u8(int value) {
            return new byte[] {(byte) value};
        }

        static byte[] s64(long value, ByteOrder order) {
            return ByteBuffer.allocate(8).order(order).putLong(value).array();
        }
    }
}
