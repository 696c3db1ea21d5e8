package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.InternetChecksum;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;
import org.jmbuf.wire.MacAddress;
import org.jmbuf.wire.UdpHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PacketFilterTest {
    private final MbufPool pool = MbufPool.builder().build();
    private final TwoHostTest.ReadOnlyDelivery readOnly = new TwoHostTest.ReadOnlyDelivery();
    private final Simulation sim = new Simulation(pool, 3);
    private final Host a = sim.host("a");
    private final Host b = sim.host("b");

    PacketFilterTest() {
        SimulatedLink link = sim.link(1500, SimulatedLink.Conditions.PERFECT);
        link.setDelivery(readOnly);
        a.addIpv4(a.attach(link.attach("eth0", MacAddress.parse("02:00:00:00:00:01"))), TwoHostTest.A, 24);
        b.addIpv4(b.attach(link.attach("eth0", MacAddress.parse("02:00:00:00:00:02"))), TwoHostTest.B, 24);
    }

    @AfterEach
    void tearDown() {
        sim.close();
    }

    @Test
    void ruleFilterDropsByPortAndCountsWithoutMakingAnythingWritable() {
        RuleFilter rules = new RuleFilter()
                .add(RuleFilter.Rule.port(PacketFilter.Verdict.DROP, IpProtocol.UDP, 9))
                .add(RuleFilter.Rule.from(PacketFilter.Verdict.PASS, Ipv4Address.parse("192.0.2.0"), 24));
        b.ipv4().addFilter(rules);
        try (UdpSocket discard = b.udp().open().bind(9); UdpSocket echo = b.udp().open().bind(7);
                UdpSocket client = a.udp().open()) {
            client.send("dropped".getBytes(), TwoHostTest.B, 9);
            client.send("passed".getBytes(), TwoHostTest.B, 7);
            assertTrue(sim.runUntil(() -> echo.available() == 1, Duration.ofSeconds(5)));
            sim.run(Duration.ofMillis(100));
            assertEquals(0, discard.available());
            assertEquals(1, rules.hits(0));
            assertTrue(rules.hits(1) >= 1);
            assertEquals(1, b.ipv4().counters().get(Ipv4.Ipv4Counter.FILTERED_IN));
            echo.receive().close();
        }
        readOnly.assertUnchanged();
    }

    @Test
    void aRewritingFilterCopiesOnlyTheBytesItWritesAndNeverTheStorage() {
        // Redirect UDP port 9 to port 7 on input, fixing the UDP checksum: the rewrite goes through ptrRw.
        PacketFilter redirect = (packet, direction, ifp) -> {
            int hlen = (packet.byteAt(0) & 0xf) * 4;
            Ipv4Header ip = Ipv4Header.of(packet.ptr(0, hlen));
            if (direction != PacketFilter.Direction.IN || ip.protocol() != IpProtocol.UDP) {
                return PacketFilter.Verdict.PASS;
            }
            UdpHeader udp = UdpHeader.of(packet.ptr(hlen, UdpHeader.LENGTH));
            if (udp.destinationPort() != 9) {
                return PacketFilter.Verdict.PASS;
            }
            long pseudo = InternetChecksum.ipv4PseudoHeader(ip.sourceBits(), ip.destinationBits(), IpProtocol.UDP,
                    udp.length());
            UdpHeader writable = UdpHeader.of(packet.ptrRw(hlen, UdpHeader.LENGTH));
            writable.setDestinationPort(7).setChecksum(0);
            long sum = pseudo + InternetChecksum.sum(packet, hlen, packet.length() - hlen);
            UdpHeader.of(packet.ptrRw(hlen, UdpHeader.LENGTH)).setChecksum(InternetChecksum.finish(sum));
            return PacketFilter.Verdict.PASS;
        };
        b.ipv4().addFilter(redirect);
        try (UdpSocket echo = b.udp().open().bind(7); UdpSocket client = a.udp().open()) {
            client.send("redirected".getBytes(), TwoHostTest.B, 9);
            assertTrue(sim.runUntil(() -> echo.available() == 1, Duration.ofSeconds(5)), b.netstat());
            try (UdpSocket.Datagram d = echo.receive()) {
                assertArrayEquals("redirected".getBytes(), d.bytes());
                assertEquals(7, d.destinationPort());
            }
        }
        readOnly.assertUnchanged();
        assertTrue(b.ipv4().removeFilter(redirect));
    }

    @Test
    void outputFilterDropsSilently() {
        a.ipv4().addFilter(new RuleFilter().add(new RuleFilter.Rule(PacketFilter.Verdict.DROP,
                PacketFilter.Direction.OUT, null, 0, TwoHostTest.B, 32, IpProtocol.UDP, -1)));
        try (UdpSocket server = b.udp().open().bind(7); UdpSocket client = a.udp().open()) {
            assertEquals(UdpSocket.SendResult.SENT, client.send("x".getBytes(), TwoHostTest.B, 7));
            sim.run(Duration.ofSeconds(1));
            assertEquals(0, server.available());
            assertEquals(1, a.ipv4().counters().get(Ipv4.Ipv4Counter.FILTERED_OUT));
        }
    }

    @Test
    void ipv6HooksSeeWireAddressesAndCanDrop() {
        NetworkInterface ethA = a.interfaces().get(1);
        NetworkInterface ethB = b.interfaces().get(1);
        a.ipv6().enable(ethA);
        b.ipv6().enable(ethB);
        a.ipv6().addAddress(ethA, Ipv6TwoHostTest.A, 64);
        b.ipv6().addAddress(ethB, Ipv6TwoHostTest.B, 64);
        sim.run(Duration.ofSeconds(3));
        java.util.List<String> seen = new java.util.ArrayList<>();
        PacketFilter dropPort9 = (packet, direction, ifp) -> {
            org.jmbuf.wire.Ipv6Header ip = org.jmbuf.wire.Ipv6Header.of(packet.ptr(0, 40));
            seen.add(direction + " " + ip.source());
            if (ip.nextHeader() == IpProtocol.UDP && UdpHeader.of(packet.ptr(40, 8)).destinationPort() == 9) {
                return PacketFilter.Verdict.DROP;
            }
            return PacketFilter.Verdict.PASS;
        };
        b.ipv6().addFilter(dropPort9);
        b.ipv6().addFilter(new RuleFilter().add(RuleFilter.Rule.port(PacketFilter.Verdict.DROP, IpProtocol.UDP, 7)));
        try (UdpSocket nine = b.udp().open().bind(9); UdpSocket seven = b.udp().open().bind(7);
                UdpSocket client = a.udp().open()) {
            client.send("dropped".getBytes(), "2001:db8::2", 9);
            client.send("passes: the rule filter is for IPv4".getBytes(), "2001:db8::2", 7);
            assertTrue(sim.runUntil(() -> seven.available() == 1, Duration.ofSeconds(5)), b.netstat());
            sim.run(Duration.ofMillis(100));
            assertEquals(0, nine.available());
            seven.receive().close();
        }
        assertEquals(1, b.ipv6().counters().get(Ipv6.Ipv6Counter.FILTERED_IN));
        assertTrue(seen.contains("IN 2001:db8::1"), "addresses as on the wire: " + seen);
        assertTrue(seen.stream().anyMatch(x -> x.startsWith("OUT ")), "output is filtered too: " + seen);
        readOnly.assertUnchanged();
    }

    @Test
    void checksumHelperSanity() {
        // The pseudo-header helper used by the redirect filter agrees with UdpHeader's own check.
        Mbuf m = pool.devget(MemorySegment.ofArray(new byte[] {0, 1, 0, 2, 0, 9, 0, 0, 42}));
        try (m) {
            long pseudo = InternetChecksum.ipv4PseudoHeader(TwoHostTest.A.bits(), TwoHostTest.B.bits(), 17, 9);
            int c = InternetChecksum.finish(pseudo + InternetChecksum.sum(m, 0, 9));
            UdpHeader.of(m.ptrRw(0, 8)).setChecksum(c);
            assertTrue(UdpHeader.of(m.ptr(0, 9)).isChecksumValid(pseudo));
        }
    }
}
