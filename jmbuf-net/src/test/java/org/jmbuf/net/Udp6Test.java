package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.Icmpv6Message;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv6Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * UDP over IPv6: link-local with zones given as text, global, port unreachable, dual-stack sockets,
 * on every delivery of {@link Ipv6TwoHostTest}.
 */
class Udp6Test {
    private final MbufPool pool = MbufPool.builder().build();
    private Simulation sim;
    private Host a;
    private Host b;
    private NetworkInterface ethA;
    private NetworkInterface ethB;

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> deliveries() {
        return Ipv6TwoHostTest.deliveries();
    }

    private void topology(SimulatedLink.Delivery delivery) {
        topology(delivery, SimulatedLink.Conditions.PERFECT);
    }

    private void topology(SimulatedLink.Delivery delivery, SimulatedLink.Conditions conditions) {
        sim = new Simulation(pool, 13);
        SimulatedLink link = sim.link(1500, conditions);
        link.setDelivery(delivery);
        a = sim.host("a");
        b = sim.host("b");
        ethA = a.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_A));
        ethB = b.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_B));
        a.addIpv4(ethA, TwoHostTest.A, 24);
        b.addIpv4(ethB, TwoHostTest.B, 24);
        a.ipv6().enable(ethA);
        b.ipv6().enable(ethB);
        a.ipv6().addAddress(ethA, Ipv6TwoHostTest.A, 64);
        b.ipv6().addAddress(ethB, Ipv6TwoHostTest.B, 64);
        assertTrue(sim.runUntil(() -> Ipv6TwoHostTest.preferred(ethA, Ipv6TwoHostTest.A)
                && Ipv6TwoHostTest.preferred(ethB, Ipv6TwoHostTest.B)
                && Ipv6TwoHostTest.preferred(ethA, a.nd().linkLocal(ethA))
                && Ipv6TwoHostTest.preferred(ethB, b.nd().linkLocal(ethB)), Duration.ofSeconds(5)));
    }

    @AfterEach
    void tearDown() {
        if (sim != null) {
            sim.close();
        }
    }

    private static void assertUnchanged(SimulatedLink.Delivery delivery) {
        if (delivery instanceof TwoHostTest.ReadOnlyDelivery ro) {
            ro.assertUnchanged();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void linkLocalExchangeWithZonesAsText(String name, SimulatedLink.Delivery delivery) {
        topology(delivery);
        String bLinkLocal = Ipv6Scope.format(b, b.nd().linkLocal(ethB)); // "fe80::...%eth0"
        assertTrue(bLinkLocal.endsWith("%eth0"), bLinkLocal);
        try (UdpSocket server = b.udp().open().bind(7); UdpSocket client = a.udp().open()) {
            client.connect(bLinkLocal, 7);
            assertEquals(UdpSocket.SendResult.SENT, client.send("over link-local".getBytes()));
            assertTrue(sim.runUntil(() -> server.available() == 1, Duration.ofSeconds(5)), b.netstat());
            try (UdpSocket.Datagram d = server.receive()) {
                assertArrayEquals("over link-local".getBytes(), d.bytes());
                Ipv6Address plain = Ipv6Scope.clear(a.nd().linkLocal(ethA));
                assertEquals(plain, d.source(), "the source carries no zone bytes");
                assertEquals(ethB, d.zone());
                assertEquals(plain + "%eth0", d.sourceText());
                // Answer through the zone the datagram came from.
                assertEquals(UdpSocket.SendResult.SENT, server.send("back".getBytes(), d.sourceText(), d.sourcePort()));
            }
            assertTrue(sim.runUntil(() -> client.available() == 1, Duration.ofSeconds(5)));
            try (UdpSocket.Datagram back = client.receive()) {
                assertArrayEquals("back".getBytes(), back.bytes());
            }
        }
        assertUnchanged(delivery);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void globalExchangeDualStackAndPortUnreachable(String name, SimulatedLink.Delivery delivery) {
        topology(delivery);
        List<byte[]> errors = new ArrayList<>();
        a.icmpv6().setListener((source, message) -> {
            if (Byte.toUnsignedInt(message.byteAt(0)) == Icmpv6Message.DESTINATION_UNREACHABLE) {
                errors.add(message.toByteArray());
            }
        });
        try (UdpSocket server = b.udp().open().bind(7); UdpSocket client = a.udp().open()) {
            client.send("six".getBytes(), "2001:db8::2", 7);
            client.send("four".getBytes(), Ipv4Address.parse("192.0.2.2"), 7);
            byte[] big = new byte[5000];
            java.util.Arrays.fill(big, (byte) 0x66);
            client.send(big, "2001:db8::2", 7);
            assertTrue(sim.runUntil(() -> server.available() == 3, Duration.ofSeconds(5)), b.netstat());
            List<String> got = new ArrayList<>();
            for (UdpSocket.Datagram next = server.receive(); next != null; next = server.receive()) {
                try (UdpSocket.Datagram d = next) {
                    got.add(d.source() + " " + d.bytes().length);
                    assertNull(d.zone());
                }
            }
            got.sort(null); // IPv4 waits for ARP while IPv6 goes straight on: the order is not part of the contract
            assertEquals(List.of("192.0.2.1 4", "2001:db8::1 3", "2001:db8::1 5000"), got);
            client.send("nobody".getBytes(), "2001:db8::2", 9);
            assertTrue(sim.runUntil(() -> errors.size() == 1, Duration.ofSeconds(5)), b.netstat());
            assertEquals(Icmpv6Message.UNREACHABLE_PORT, errors.getFirst()[1]);
            assertEquals(1, b.udp().counters().get(Udp.UdpCounter.NO_PORT));
        }
        assertUnchanged(delivery);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void lossDuplicationAndReorderingDoNotChangeWhatArrives(String name, SimulatedLink.Delivery delivery) {
        topology(delivery, new SimulatedLink.Conditions(Duration.ofMillis(1), Duration.ofMillis(5), 0.05, 0.2));
        try (UdpSocket server = b.udp().open().bind(9000); UdpSocket client = a.udp().open()) {
            // Resolve the neighbour first, retrying through loss.
            for (int i = 0; i < 20 && server.available() == 0; i++) {
                client.send(new byte[] {0}, "2001:db8::2", 9000);
                sim.run(Duration.ofSeconds(2));
            }
            while (server.available() > 0) {
                server.receive().close();
            }
            int sent = 200;
            for (int i = 0; i < sent; i++) {
                byte[] payload = new byte[100 + i * 37 % 3000]; // up to 3100 bytes: some fragment
                java.util.Arrays.fill(payload, (byte) i);
                client.send(payload, "2001:db8::2", 9000);
            }
            sim.run(Duration.ofSeconds(2));
            int received = 0;
            for (UdpSocket.Datagram next = server.receive(); next != null; next = server.receive()) {
                try (UdpSocket.Datagram d = next) {
                    byte[] bytes = d.bytes();
                    int i = bytes[0] & 0xff;
                    assertEquals(100 + i * 37 % 3000, bytes.length, "datagram " + i);
                    for (byte x : bytes) {
                        assertEquals((byte) i, x, "datagram " + i);
                    }
                    received++;
                }
            }
            assertTrue(received > sent / 2, "only " + received + " of " + sent + " arrived\n" + b.netstat());
        }
        assertUnchanged(delivery);
    }

    @org.junit.jupiter.api.Test
    void noPortUnreachableForADatagramThatCameAsALinkLayerBroadcast() {
        // Frames carrying IPv6 UDP reach B addressed to the Ethernet broadcast address (RFC 4443 §2.4 e.5).
        topology((pool, frame) -> {
            if (frame.length > 54 && frame[12] == (byte) 0x86 && frame[13] == (byte) 0xdd && frame[20] == 17) {
                frame = frame.clone();
                java.util.Arrays.fill(frame, 0, 6, (byte) 0xff);
            }
            return SimulatedLink.Delivery.COPY.deliver(pool, frame);
        });
        List<byte[]> errors = new ArrayList<>();
        a.icmpv6().setListener((source, message) -> errors.add(message.toByteArray()));
        try (UdpSocket seven = b.udp().open().bind(7); UdpSocket client = a.udp().open()) {
            client.send("to nobody".getBytes(), "2001:db8::2", 9);
            client.send("to somebody".getBytes(), "2001:db8::2", 7);
            assertTrue(sim.runUntil(() -> seven.available() == 1, Duration.ofSeconds(5)), b.netstat());
            seven.receive().close();
            sim.run(Duration.ofMillis(200));
        }
        assertTrue(errors.isEmpty(), "no error about a link-layer broadcast");
        assertEquals(1, b.udp().counters().get(Udp.UdpCounter.NO_PORT));
        assertEquals(1, b.icmpv6().counters().get(Icmpv6.Icmpv6Counter.ERROR_TO_MULTICAST));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void zonesAreRequiredAndChecked(String name, SimulatedLink.Delivery delivery) {
        topology(delivery);
        try (UdpSocket client = a.udp().open()) {
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                    () -> client.send(new byte[1], "fe80::1", 7));
            assertTrue(missing.getMessage().contains("zone"), missing.getMessage());
            assertThrows(IllegalArgumentException.class, () -> client.send(new byte[1], "fe80::1%eth9", 7));
            assertEquals(UdpSocket.SendResult.NO_ROUTE, client.send(new byte[1], Ipv6Address.parse("fe80::1"), 7));
        }
    }
}
