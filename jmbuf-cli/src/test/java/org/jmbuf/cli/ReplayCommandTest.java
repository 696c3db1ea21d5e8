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

    @Test
    void jsonReportsCountersByGroupAndName() {
        DemoCommandTest.Run run = DemoCommandTest.run("replay", "--json");
        assertEquals(0, run.status(), run.err());
        String out = run.out().trim();
        assertTrue(out.startsWith("[") && out.endsWith("]"), out);
        assertTrue(out.contains("\"file\": \"(embedded sample)\""), out);
        assertTrue(out.contains("\"failures\": []"), out);
        assertTrue(out.contains("\"icmp\": {") && out.contains("\"ECHO_REQUESTS\": "), out);
        assertTrue(!out.contains("No capture given"), "JSON only: " + out);
    }

    @Test
    void givenAddressesAndTheSentTrafficWrittenToAFile(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path sample = dir.resolve("in.pcapng");
        SampleCapture.write(sample);
        Path sent = dir.resolve("sent.pcapng");
        DemoCommandTest.Run run = DemoCommandTest.run("replay", "--ip", "192.0.2.2/24", "--ip", "2001:db8::2/64",
                "--write", sent.toString(), "--netstat", sample.toString());
        assertEquals(0, run.status(), run.out() + run.err());
        assertTrue(run.out().contains("echo replies sent"), run.out());
        int packets = 0;
        try (org.jmbuf.io.CaptureReader reader = org.jmbuf.io.CaptureReader.open(sent)) {
            for (org.jmbuf.io.CapturedPacket next = reader.next(); next != null; next = reader.next()) {
                try (org.jmbuf.io.CapturedPacket p = next) {
                    assertEquals(org.jmbuf.io.LinkType.RAW, p.linkType());
                    packets++;
                }
            }
        }
        assertTrue(packets >= 4, packets + " packets sent");
    }

    @Test
    void badOptionsAreUsageErrors() {
        DemoCommandTest.Run bad = DemoCommandTest.run("replay", "--ip", "192.0.2.2/40");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("bad prefix length in 192.0.2.2/40"), bad.err());
        DemoCommandTest.Run two = DemoCommandTest.run("replay", "--write", "x.pcapng", "a.pcap", "b.pcap");
        assertEquals(2, two.status());
        assertTrue(two.err().contains("--write takes one input file"), two.err());
    }

    @Test
    void everyCorpusFileReplaysWithAReportAndNoExceptionTrace() throws Exception {
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
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("replay"));
        try (java.util.stream.Stream<Path> files = Files.list(corpus)) {
            files.sorted().forEach(f -> args.add(f.toString()));
        }
        DemoCommandTest.Run run = DemoCommandTest.run(args.toArray(String[]::new));
        // LICENSE sits in the folder and is not a capture: reported, and the run says so by its status.
        assertEquals(1, run.status());
        assertTrue(run.err().contains("LICENSE: at offset 0: unknown magic number"), run.err());
        assertTrue(!run.err().contains("\tat ") && !run.err().contains("Exception"), "no trace:\n" + run.err());
        assertTrue(!run.err().contains("the stack failed"), run.err());
        for (String name : new String[] {"icmpv6.pcap", "ip6_frag_asan.pcap", "tfo-5c1fa7f9ae91.pcap", "LICENSE"}) {
            assertTrue(run.out().lines().anyMatch(l -> l.contains(name)), "a row for " + name + "\n" + run.out());
        }
    }
}
