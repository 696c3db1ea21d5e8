package org.jmbuf.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jmbuf.io.CaptureReader;
import org.jmbuf.io.CapturedPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NetworkDemoTest {
    @TempDir
    Path dir;

    @Test
    void theDemoShowsEveryExchangeAnsweredAndWritesTheTraffic() throws Exception {
        Path capture = dir.resolve("session.pcapng");
        DemoCommandTest.Run run = DemoCommandTest.run("demo", "--capture", capture.toString());
        assertEquals(0, run.status(), run.out() + run.err());
        String out = run.out();
        assertFalse(out.contains("no answer"), out);
        for (String what : new String[] {"ping 198.51.100.2 (ARP", "4000 bytes (fragmented, refragmented by R)",
            "ping -R", "Packet Too Big", "fragmented at A for MTU 1280", "%eth0 (link-local, with a zone)",
            "UDP echo to 198.51.100.2", "UDP echo to 2001:db8:2::2"}) {
            assertTrue(out.contains(what), "missing " + what + "\n" + out);
        }
        // the MSS: the 1280-byte link's, less the IP and TCP headers and the timestamp option
        for (String tcp : new String[] {"198\\.51\\.100\\.2 port 7 \\(MSS 1228\\)",
            "2001:db8:2::2 port 7 \\(MSS 1208\\)"}) {
            assertTrue(java.util.regex.Pattern.compile("TCP echo of 256 KiB with " + tcp + " +identical").matcher(out)
                    .find(), "missing TCP echo " + tcp + "\n" + out);
        }
        assertTrue(out.contains("Route recorded by ping -R: 192.0.2.1 -> 198.51.100.254 -> 198.51.100.2"), out);
        assertTrue(out.contains("Pool use per owner"), out);
        assertTrue(out.contains(capture.toAbsolutePath().toString()), out);
        int frames = 0;
        try (CaptureReader reader = CaptureReader.open(capture)) {
            for (CapturedPacket next = reader.next(); next != null; next = reader.next()) {
                try (CapturedPacket p = next) {
                    frames += p.capturedLength() > 0 ? 1 : 0;
                }
            }
            assertEquals(2, reader.interfaces().size(), "one interface per link");
        }
        assertTrue(frames > 40, frames + " frames");
        assertTrue(Files.size(capture) > 10_000);
    }

    @Test
    void withoutArgumentsJmbufRunsTheDemo() {
        DemoCommandTest.Run run = DemoCommandTest.run("--help");
        assertTrue(run.out().contains("Without a command, jmbuf runs its embedded network scenario"), run.out());
    }
}
