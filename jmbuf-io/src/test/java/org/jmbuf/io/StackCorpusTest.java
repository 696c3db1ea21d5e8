package org.jmbuf.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.jmbuf.buf.MbufPool;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every packet of the tcpdump corpus (mostly malformed on purpose) goes through a jmbuf host straight
 * from the read-only mapping of its file: the stack must classify, answer or drop each one without an
 * exception, without leaking a buffer (the leak extension checks every pool after each test), and
 * without changing a byte of the file.
 */
class StackCorpusTest {
    @TestFactory
    Stream<DynamicTest> everyCorpusPacketGoesThroughTheStack() throws IOException {
        List<Path> files = CorpusTest.files().stream()
                .filter(f -> !f.getFileName().toString().equals("LICENSE")).toList();
        assertTrue(files.size() >= 40, "the corpus has " + files.size() + " captures");
        long[] totals = new long[2];
        return Stream.concat(
                files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> replay(f, totals))),
                Stream.of(DynamicTest.dynamicTest("the corpus reached the stack in both families", () -> {
                    assertTrue(totals[0] > 20, totals[0] + " IPv4 packets");
                    assertTrue(totals[1] > 20, totals[1] + " IPv6 packets");
                })));
    }

    private static void replay(Path file, long[] totals) throws Exception {
        String before = sha256(file);
        MbufPool pool = MbufPool.builder().build();
        CaptureReplay.Report report = CaptureReplay.replay(file, pool, null);
        assertEquals(List.of(), report.failures(), file + "\n" + report.netstat());
        assertEquals(report.packets(), report.ipv4() + report.ipv6() + report.skipped(), "every packet accounted");
        assertTrue(pool.stats().isQuiescent(), file + ": " + pool.stats() + pool.leakReport());
        totals[0] += report.ipv4();
        totals[1] += report.ipv6();
        assertEquals(before, sha256(file), file + " was written");
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
