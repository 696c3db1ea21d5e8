package org.jmbuf.io;

import static org.jmbuf.io.CaptureTestSupport.pattern;
import static org.jmbuf.io.CaptureTestSupport.sha256;
import static org.jmbuf.io.CaptureTestSupport.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.io.CaptureTestSupport.PcapBuilder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader's contract: zero copy, read-only, reference-counted mapping, close semantics, pool failures. */
class CaptureReaderTest {
    @TempDir
    Path dir;
    Path file;

    @BeforeEach
    void threePackets() {
        file = write(dir, "three.pcap", new PcapBuilder(ByteOrder.LITTLE_ENDIAN, false, 1000, 1)
                .record(1, 0, 100, pattern(100, 1)).record(2, 0, 200, pattern(200, 2)).record(3, 0, 50, pattern(50, 3))
                .bytes());
    }

    @Test
    void packetsAreReadOnlyAndWritesCopyInsteadOfTouchingTheFile() throws IOException {
        String before = sha256(file);
        try (CaptureReader r = CaptureReader.open(file); CapturedPacket p = r.next()) {
            Mbuf m = p.mbuf();
            assertTrue(m.isReadOnly(0, 100));
            MemorySegment view = m.ptr(0, 20);
            assertTrue(view.isReadOnly());
            assertThrows(IllegalArgumentException.class, () -> view.set(ValueLayout.JAVA_BYTE, 0, (byte) 0));
            assertEquals(pattern(100, 1)[0], view.get(ValueLayout.JAVA_BYTE, 0), "ptr shares the mapped bytes");

            MemorySegment writable = m.ptrRw(10, 20); // copy on write
            writable.fill((byte) 0xEE);
            m.copyBackCow(90, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
            m.prepend(14);
            assertEquals(114, m.length());
            assertEquals((byte) 0xEE, m.byteAt(24));
        }
        assertEquals(before, sha256(file), "the file must be unchanged by writes to its packets");
        try (CaptureReader r = CaptureReader.open(file); CapturedPacket p = r.next()) {
            assertArrayEquals(pattern(100, 1), p.mbuf().toByteArray());
        }
    }

    @Test
    void closeWithPacketsAliveDefersTheUnmapping() throws IOException {
        CaptureReader r = CaptureReader.open(file);
        CapturedPacket a = r.next();
        CapturedPacket b = r.next();
        assertEquals(2, r.outstandingPackets());
        a.close();
        assertEquals(1, r.outstandingPackets());
        r.close();
        assertTrue(r.isMapped(), "a live packet keeps the mapping");
        assertEquals(1, r.outstandingPackets());
        assertArrayEquals(pattern(200, 2), b.mbuf().toByteArray(), "and stays readable");
        IllegalStateException e = assertThrows(IllegalStateException.class, r::next);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        r.close(); // twice: nothing
        assertTrue(r.isMapped());
        b.close();
        assertFalse(r.isMapped(), "the last free unmaps");
        assertEquals(0, r.outstandingPackets());
    }

    @Test
    void copiesShareTheMappingUntilTheLastIsFreed() throws IOException {
        CaptureReader r = CaptureReader.open(file);
        CapturedPacket p = r.next();
        Mbuf copy = p.mbuf().copy(10, 50);
        Mbuf second = p.mbuf().copyPacket();
        r.close();
        p.close();
        assertTrue(r.isMapped());
        assertEquals(1, r.outstandingPackets(), "one packet's storage, shared by two copies");
        second.free();
        assertTrue(r.isMapped());
        assertArrayEquals(java.util.Arrays.copyOfRange(pattern(100, 1), 10, 60), copy.toByteArray());
        copy.free();
        assertFalse(r.isMapped());
    }

    @Test
    void theLastFreeMayHappenOnAnotherThread() throws Exception {
        CaptureReader r = CaptureReader.open(file);
        CapturedPacket p = r.next();
        r.close();
        CompletableFuture.runAsync(p::close).get();
        assertFalse(r.isMapped());
    }

    @Test
    void aStaleViewOfAFreedPacketThrowsInsteadOfReadingUnmappedMemory() throws IOException {
        MemorySegment view;
        try (CaptureReader r = CaptureReader.open(file); CapturedPacket p = r.next()) {
            view = p.mbuf().ptr(0, 10);
            assertEquals(pattern(100, 1)[3], view.get(ValueLayout.JAVA_BYTE, 3));
        }
        assertThrows(IllegalStateException.class, () -> view.get(ValueLayout.JAVA_BYTE, 3));
    }

    @Test
    void aRefusedChainConsumesNothing() throws IOException {
        MbufPool pool = MbufPool.builder().allocationFaults(n -> n == 2).build();
        try (CaptureReader r = CaptureReader.open(file, pool)) {
            try (CapturedPacket p = r.next()) {
                assertEquals(24, p.fileOffset());
            }
            long position = r.position();
            assertThrows(NoBufferSpaceException.class, r::next);
            assertEquals(position, r.position());
            assertEquals(0, r.outstandingPackets());
            try (CapturedPacket p = r.next()) {
                assertEquals(position, p.fileOffset(), "the refused packet is read again");
                assertArrayEquals(pattern(200, 2), p.mbuf().toByteArray());
                assertEquals(pool, p.mbuf().pool());
            }
            assertEquals(2, r.packetsRead());
        }
    }

    @Test
    void metadataAndAccessors() throws IOException {
        try (CaptureReader r = CaptureReader.open(file)) {
            assertEquals(file, r.path());
            assertEquals(Files.size(file), r.size());
            assertEquals(24, r.position());
            try (CapturedPacket p = r.next()) {
                assertEquals(1_000_000_000L, p.timestampNanos());
                assertEquals(24 + 16 + 100, r.position());
                assertTrue(r.toString().contains("1 packets read, 1 outstanding"), r.toString());
            }
        }
    }

    @Test
    void openErrorsAreIOExceptionsOrFormatErrors() throws IOException {
        assertThrows(NoSuchFileException.class, () -> CaptureReader.open(dir.resolve("absent.pcap")));
        assertThrows(IOException.class, () -> CaptureReader.open(dir));
        Path text = write(dir, "text", "not a capture".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        CaptureFormatException e = assertThrows(CaptureFormatException.class, () -> CaptureReader.open(text));
        assertEquals(text + ": at offset 0: unknown magic number 0x6e6f7420: expected a pcap file (a1b2c3d4 or "
                + "a1b23c4d, in either byte order) or a pcapng file (0a0d0d0a)", e.getMessage());
    }
}
