package org.jmbuf.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.io.CaptureFormat;
import org.jmbuf.io.CaptureReplay;
import org.jmbuf.io.CaptureWriter;
import org.jmbuf.io.LinkType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A generated 1 GB capture replays with a progress bar and flat memory: the pool never holds more than a
 * handful of buffers, and the Java heap after the replay is what it was before (the file itself is
 * mapped, not read into the heap).
 */
class BigReplayTest {
    private static final long SIZE = 1L << 30;

    @TempDir
    Path dir;

    /** Writes about {@code size} bytes of IPv4/UDP frames (1442 bytes each) to {@code file}; returns the count. */
    private static long generate(Path file, long size) throws IOException {
        byte[] f = new byte[14 + 20 + 8 + 1400];
        f[12] = 8;
        f[14] = 0x45;
        int total = 20 + 8 + 1400;
        f[16] = (byte) (total >> 8);
        f[17] = (byte) total;
        f[22] = 64;
        f[23] = 17;
        byte[] addresses = {(byte) 192, 0, 2, 1, (byte) 192, 0, 2, 2};
        System.arraycopy(addresses, 0, f, 26, 8);
        long sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += (f[14 + i] & 0xff) << 8 | f[15 + i] & 0xff;
        }
        sum = (sum & 0xffff) + (sum >>> 16);
        int checksum = (int) ~sum & 0xffff;
        f[24] = (byte) (checksum >> 8);
        f[25] = (byte) checksum;
        f[34] = 0x0f; // source port 4000
        f[35] = (byte) 0xa0;
        f[37] = 9; // destination port 9, nobody listening: every datagram is answered or rate-limited
        f[38] = (byte) ((8 + 1400) >> 8);
        f[39] = (byte) (8 + 1400);
        MbufPool pool = MbufPool.builder().build();
        long n = 0;
        Instant start = Instant.parse("2026-11-21T12:00:00Z");
        try (CaptureWriter w = CaptureWriter.builder(CaptureFormat.PCAPNG).linkType(LinkType.ETHERNET).open(file);
                Mbuf m = pool.devget(MemorySegment.ofArray(f))) {
            while (n * (f.length + 32L) < size) {
                w.write(m, start.plusNanos(n * 10_000)); // the writer copies the frame out; one chain serves all
                n++;
            }
        }
        return n;
    }

    private static long heapAfterGc() {
        System.gc();
        Runtime runtime = Runtime.getRuntime();
        return runtime.totalMemory() - runtime.freeMemory();
    }

    @Test
    @Timeout(300)
    void aGigabyteCaptureReplaysWithAProgressBarAndFlatMemory() throws Exception {
        long free = Files.getFileStore(dir).getUsableSpace();
        if (free < 3 * SIZE) {
            String reason = "only " + free / (1 << 20) + " MB free in " + dir + ": the 1 GB replay test needs 3 GB";
            System.out.println("SKIPPED: " + reason);
            Assumptions.abort(reason);
        }
        Path file = dir.resolve("big.pcapng");
        long packets = generate(file, SIZE);
        assertTrue(Files.size(file) >= SIZE, Files.size(file) + " bytes");

        long heapBefore = heapAfterGc();
        MbufPool pool = MbufPool.builder().build();
        List<Long> progress = new ArrayList<>();
        CaptureReplay.Report report = CaptureReplay.replay(file, pool, progress::add);
        long heapAfter = heapAfterGc();
        assertEquals(packets, report.packets());
        assertEquals(List.of(), report.failures());
        assertTrue(progress.size() > 100, progress.size() + " progress reports");
        assertEquals(Files.size(file), (long) progress.getLast(), "progress reaches the end of the file");
        assertTrue(pool.stats().segmentHighWater() < 64 && pool.stats().clusterHighWater() < 64,
                "the pool stayed small:\n" + pool.stats());
        assertTrue(heapAfter - heapBefore < 64 << 20, "the heap grew from " + heapBefore + " to " + heapAfter);

        // The program draws its progress bar for files over 16 MB; a 32 MB one shows it without a second
        // gigabyte of strict-mode replay.
        Path medium = dir.resolve("medium.pcapng");
        long mediumPackets = generate(medium, 32L << 20);
        DemoCommandTest.Run run = DemoCommandTest.run("replay", medium.toString());
        assertEquals(0, run.status(), run.err());
        assertTrue(run.err().contains("[########################################] 100%"), "the progress bar: "
                + run.err().substring(Math.max(0, run.err().length() - 300)));
        assertTrue(run.out().contains(Long.toString(mediumPackets)), run.out());
    }
}
