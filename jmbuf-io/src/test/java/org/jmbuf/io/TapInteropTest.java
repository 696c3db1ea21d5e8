package org.jmbuf.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.net.Ipv4;
import org.jmbuf.net.Ipv6;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Linux tools against the jmbuf stack over a TAP device ({@link TapFixture}): ping of both families,
 * fragmented both ways, with Record Route and to the link-local address; UDP echo with netcat; and a
 * capture of a whole session that tshark finds free of malformed packets and bad checksums. Each test skips,
 * saying why, without root, /dev/net/tun or the tools.
 */
class TapInteropTest {
    private final MbufPool pool = MbufPool.builder().build();
    private TapFixture fixture;

    @TempDir
    Path dir;

    @AfterEach
    void tearDown() throws Exception {
        if (fixture != null) {
            Throwable failure = fixture.link.failure();
            fixture.close();
            assertNull(failure, () -> "the link's loop failed: " + failure);
        }
    }

    private TapFixture start(Path capture) throws Exception {
        fixture = TapFixture.start(pool, capture);
        return fixture;
    }

    private static void assertAllAnswered(LinuxTools.Result r, int count) {
        assertEquals(0, r.exitStatus(), r::toString);
        assertTrue(r.output().contains(" " + count + " received"), r::toString);
        assertTrue(r.output().contains(" 0% packet loss"), r::toString);
    }

    private static String[] ping(String... args) {
        String[] full = new String[args.length + 5];
        full[0] = "ping";
        full[1] = "-n";
        full[2] = "-W";
        full[3] = "2";
        full[4] = "-i0.2";
        System.arraycopy(args, 0, full, 5, args.length);
        return full;
    }

    @Test
    void pingBothFamilies() throws Exception {
        LinuxTools.assumeCanRun("ping");
        TapFixture f = start(null);
        assertAllAnswered(f.inNamespace(ping("-c", "5", TapFixture.JMBUF_V4)), 5);
        assertAllAnswered(f.inNamespace(ping("-6", "-c", "5", TapFixture.JMBUF_V6)), 5);
        String netstat = f.call(() -> f.link.host().netstat());
        assertTrue(f.call(() -> f.link.host().icmp().counters().snapshot().toString()).contains("=5"), netstat);
    }

    @Test
    void pingFragmentedBothWays() throws Exception {
        LinuxTools.assumeCanRun("ping");
        TapFixture f = start(null);
        assertAllAnswered(f.inNamespace(ping("-c", "3", "-s", "4000", TapFixture.JMBUF_V4)), 3);
        assertAllAnswered(f.inNamespace(ping("-6", "-c", "3", "-s", "4000", TapFixture.JMBUF_V6)), 3);
        String netstat = f.call(() -> f.link.host().netstat());
        // 4008 bytes of ICMP in 1500-byte packets: 3 fragments each way, for each of the 3 pings.
        assertEquals(3, (long) f.call(() -> f.link.host().ipv4().counters().get(Ipv4.Ipv4Counter.REASSEMBLED)), netstat);
        assertEquals(3, (long) f.call(() -> f.link.host().ipv4().counters().get(Ipv4.Ipv4Counter.FRAGMENTED)), netstat);
        assertEquals(9, (long) f.call(() -> f.link.host().ipv4().counters().get(Ipv4.Ipv4Counter.FRAGMENTS_CREATED)),
                netstat);
        assertEquals(3, (long) f.call(() -> f.link.host().ipv6().counters().get(Ipv6.Ipv6Counter.REASSEMBLED)), netstat);
        assertEquals(3, (long) f.call(() -> f.link.host().ipv6().counters().get(Ipv6.Ipv6Counter.FRAGMENTED)), netstat);
    }

    @Test
    void pingWithRecordRoute() throws Exception {
        LinuxTools.assumeCanRun("ping");
        TapFixture f = start(null);
        LinuxTools.Result r = f.inNamespace(ping("-c", "1", "-R", TapFixture.JMBUF_V4));
        System.out.println(r);
        assertAllAnswered(r, 1);
        Matcher rr = Pattern.compile("RR:((?:\\s+\\d+\\.\\d+\\.\\d+\\.\\d+)+)").matcher(r.output());
        assertTrue(rr.find(), r::toString);
        List<String> route = List.of(rr.group(1).trim().split("\\s+"));
        assertTrue(route.contains(TapFixture.JMBUF_V4), () -> "jmbuf's address is not in the recorded route " + route
                + "\n" + r);
    }

    @Test
    void pingLinkLocal() throws Exception {
        LinuxTools.assumeCanRun("ping");
        TapFixture f = start(null);
        String target = f.jmbufLinkLocal() + "%" + f.tap;
        assertTrue(target.startsWith("fe80::"), target);
        assertAllAnswered(f.inNamespace(ping("-6", "-c", "3", target)), 3);
    }

    @Test
    void udpEchoWithNetcat() throws Exception {
        LinuxTools.assumeCanRun("nc");
        TapFixture f = start(null);
        f.startUdpEcho();
        String four = "hello jmbuf over UDP/IPv4\n";
        LinuxTools.Result r4 = f.inNamespaceWithInput(four, "nc", "-u", "-w", "2", TapFixture.JMBUF_V4, "7");
        assertEquals(four, r4.output(), r4::toString);
        String six = "hello jmbuf over UDP/IPv6\n";
        LinuxTools.Result r6 = f.inNamespaceWithInput(six, "nc", "-6", "-u", "-w", "2", TapFixture.JMBUF_V6, "7");
        assertEquals(six, r6.output(), r6::toString);
    }

    @Test
    void captureOfASessionIsClean() throws Exception {
        LinuxTools.assumeCanRun("ping", "nc", "tcpdump", "tshark");
        Path file = dir.resolve("session.pcap");
        TapFixture f = start(file);
        f.startUdpEcho();
        assertAllAnswered(f.inNamespace(ping("-c", "2", TapFixture.JMBUF_V4)), 2);
        assertAllAnswered(f.inNamespace(ping("-6", "-c", "2", TapFixture.JMBUF_V6)), 2);
        assertAllAnswered(f.inNamespace(ping("-c", "2", "-s", "4000", TapFixture.JMBUF_V4)), 2);
        assertAllAnswered(f.inNamespace(ping("-6", "-c", "2", "-s", "4000", TapFixture.JMBUF_V6)), 2);
        assertAllAnswered(f.inNamespace(ping("-c", "1", "-R", TapFixture.JMBUF_V4)), 1);
        assertAllAnswered(f.inNamespace(ping("-6", "-c", "2", f.jmbufLinkLocal() + "%" + f.tap)), 2);
        assertEquals("four\n", f.inNamespaceWithInput("four\n", "nc", "-u", "-w", "1", TapFixture.JMBUF_V4, "7").output());
        assertEquals("six\n", f.inNamespaceWithInput("six\n", "nc", "-6", "-u", "-w", "1", TapFixture.JMBUF_V6, "7")
                .output());
        String log = f.stopCapture();

        LinuxTools.Result verbose = LinuxTools.run(TapFixture.COMMAND_TIMEOUT, "tshark", "-n", "-o",
                "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-V", "-r", file.toString());
        assertEquals(0, verbose.exitStatus(), verbose::toString);
        String text = verbose.output();
        String lower = text.toLowerCase(java.util.Locale.ROOT);
        for (String bad : List.of("malformed", "incorrect", "status: bad", "bad checksum", "expert info (error")) {
            int at = lower.indexOf(bad);
            assertTrue(at < 0, () -> "tshark says \"" + bad + "\":\n" + context(text, at));
        }
        // The checks did run: IPv4 header, UDP (both families), ICMP and ICMPv6 checksums were verified.
        assertTrue(text.contains("[Header checksum status: Good]"), "IPv4 header checksums were not verified");
        assertTrue(text.lines().filter(l -> l.contains("[Checksum Status: Good]")).count() > 20, "few checksums verified");
        // What jmbuf sent is in the capture: echo replies of both families, fragments, UDP.
        LinuxTools.Result fromJmbuf = LinuxTools.run(TapFixture.COMMAND_TIMEOUT, "tshark", "-n", "-r", file.toString(),
                "-Y", "eth.src == " + TapFixture.JMBUF_MAC, "-T", "fields", "-e", "_ws.col.Protocol", "-e",
                "_ws.col.Info");
        String sent = fromJmbuf.output();
        assertTrue(sent.contains("Echo (ping) reply"), () -> log + sent);
        assertTrue(sent.contains("Echo (ping) reply") && sent.lines().anyMatch(l -> l.startsWith("ICMPv6")
                && l.contains("Echo (ping) reply")), sent);
        assertTrue(sent.lines().anyMatch(l -> l.startsWith("ICMPv6") && l.contains("Neighbor Advertisement")), sent);
        assertTrue(sent.lines().anyMatch(l -> l.startsWith("ARP")), sent);
        assertTrue(sent.lines().anyMatch(l -> l.contains("Fragmented IP protocol")), sent);
        // UDP to and from port 7 shows as the Echo protocol.
        assertTrue(sent.lines().filter(l -> l.startsWith("ECHO") || l.startsWith("UDP")).count() >= 2, sent);
        assertFalse(sent.isBlank());
    }

    private static String context(String text, int at) {
        int from = Math.max(0, text.lastIndexOf("\nFrame ", at));
        return text.substring(from, Math.min(text.length(), at + 400));
    }
}
