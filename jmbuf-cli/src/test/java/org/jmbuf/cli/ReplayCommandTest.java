package org.jmbuf.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class ReplayCommandTest {
    @Test
    void withoutFilesReplayUsesTheEmbeddedSampleCleanly() {
        DemoCommandTest.Run run = DemoCommandTest.run("replay");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("replaying the embedded sample session"), run.out());
        String row = run.out().lines().filter(l -> l.startsWith("(embedded sample)")).findFirst().orElseThrow();
        String[] cells = row.trim().split("\\s+");
        assertEquals("0", cells[7], "no failure: " + row);
        assertTrue(Integer.parseInt(cells[2]) > 20, "packets: " + row);
    }

    @Test
    void aMissingFileIsReportedAndFailsTheRun() {
        DemoCommandTest.Run run = DemoCommandTest.run("replay", "no-such-capture.pcap");
        assertEquals(1, run.status());
        assertTrue(run.err().contains("no-such-capture.pcap: no such file"), run.err());
    }

    @Test
    void aCorpusCaptureReplaysWithCounters() throws Exception {
        Path corpus = null;
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("shared/captures/tcpdump"))) {
                corpus = p.resolve("shared/captures/tcpdump");
                break;
            }
        }
        if (corpus == null) {
            System.out.println("SKIPPED: shared/captures/tcpdump not found above " + System.getProperty("user.dir"));
            Assumptions.abort("the capture corpus is not beside the repository");
        }
        Path file = corpus.resolve("ip_printroute_asan.pcap");
        DemoCommandTest.Run run = DemoCommandTest.run("replay", "--netstat", file.toString());
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("total packets received"), run.out());
        assertTrue(run.out().contains("ip_printroute_asan.pcap"), run.out());
    }
}
