package org.jmbuf.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class TapCommandTest {
    @Test
    void badAddressesAreUsageErrorsWithAMessage() {
        DemoCommandTest.Run run = DemoCommandTest.run("tap", "--dev", "jmbuftst0", "--ip", "192.0.2.2/x");
        assertEquals(2, run.status());
        assertTrue(run.err().contains("bad prefix length in 192.0.2.2/x"), run.err());
        DemoCommandTest.Run missing = DemoCommandTest.run("tap");
        assertEquals(2, missing.status());
        assertTrue(missing.err().contains("--dev"), missing.err());
    }

    @Test
    @Timeout(60)
    void aLiveHostRunsForItsDurationAndPrintsItsCounters() {
        String reason = !"root".equals(System.getProperty("user.name")) ? "not running as root"
                : !Files.exists(Path.of("/dev/net/tun")) ? "/dev/net/tun is missing" : null;
        if (reason != null) {
            System.out.println("SKIPPED: " + reason + ": cannot create a TAP device");
            Assumptions.abort(reason);
        }
        DemoCommandTest.Run run = DemoCommandTest.run("tap", "--dev", "jmbuftst0", "--ip", "192.0.2.2/24",
                "--ip6", "2001:db8::2/64", "--duration", "2", "--stats-every", "1");
        assertEquals(0, run.status(), run.out() + run.err());
        assertTrue(run.out().contains("jmbuf host on jmbuftst0"), run.out());
        assertTrue(run.out().contains("Counters:"), run.out());
        assertTrue(run.out().contains("duplicate address detection solicitations sent"), run.out());
    }

    @Test
    void tcpServiceOptionsAreDocumentedAndChecked() {
        DemoCommandTest.Run help = DemoCommandTest.run("tap", "--help");
        assertEquals(0, help.status(), help.err());
        assertTrue(help.out().contains("--http=PORT") && help.out().contains("--echo=PORT"), help.out());
        assertTrue(help.out().contains("--http 80 --echo 7"), help.out());
        DemoCommandTest.Run bad = DemoCommandTest.run("tap", "--dev", "jmbuftst1", "--http", "70000");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("port 70000 is not in 1..65535"), bad.err());
        DemoCommandTest.Run same = DemoCommandTest.run("tap", "--dev", "jmbuftst1", "--http", "7", "--echo", "7");
        assertEquals(2, same.status());
        assertTrue(same.err().contains("different ports"), same.err());
    }

    @Test
    @Timeout(60)
    void aLiveHostRunsItsTcpServices() {
        String reason = !"root".equals(System.getProperty("user.name")) ? "not running as root"
                : !Files.exists(Path.of("/dev/net/tun")) ? "/dev/net/tun is missing" : null;
        if (reason != null) {
            System.out.println("SKIPPED: " + reason + ": cannot create a TAP device");
            Assumptions.abort(reason);
        }
        DemoCommandTest.Run run = DemoCommandTest.run("tap", "--dev", "jmbuftst1", "--ip", "192.0.2.2/24",
                "--http", "8080", "--echo", "7007", "--duration", "1");
        assertEquals(0, run.status(), run.out() + run.err());
        assertTrue(run.out().contains("HTTP on TCP port 8080; TCP echo on port 7007"), run.out());
    }
}
