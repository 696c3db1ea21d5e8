package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufOwner;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv6Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The socket's receive queue and its two ways out: {@link UdpSocket#receive(UdpSocket.Source)}, which fills a
 * caller's holder, and {@link UdpSocket#receive()}, which makes a record; the limit and its drops, the order
 * kept while the ring grows and wraps, and {@code close()} freeing what is queued. Two hosts on a simulated
 * Ethernet with IPv4 and IPv6 (global and link-local).
 */
class UdpSocketTest {
    private final MbufPool pool = MbufPool.builder().build();
    private Simulation sim;
    private Host a;
    private Host b;
    private NetworkInterface ethA;
    private NetworkInterface ethB;

    @BeforeEach
    void topology() {
        sim = new Simulation(pool, 5);
        SimulatedLink link = sim.link(1500, SimulatedLink.Conditions.PERFECT);
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
        sim.close();
    }

    /** Sends {@code payload} and runs the simulation until {@code server} has {@code expected} datagrams waiting. */
    private void sendAndWait(UdpSocket client, byte[] payload, String to, UdpSocket server, int expected) {
        assertEquals(UdpSocket.SendResult.SENT, client.send(payload, to, 7));
        assertTrue(sim.runUntil(() -> server.available() == expected, Duration.ofSeconds(5)), b.netstat());
    }

    @Test
    void receiveIntoASourceReportsAnIpv4SenderWithoutARecord() {
        try (UdpSocket server = b.udp().open().bind(7); UdpSocket client = a.udp().open()) {
            UdpSocket.Source from = new UdpSocket.Source();
            assertEquals(4, from.version());
            assertEquals(Ipv4Address.ANY, from.address(), "a new holder holds 0.0.0.0 port 0");
            assertEquals(0, from.port());
            assertNull(server.receive(from), "nothing waiting");
            sendAndWait(client, "four".getBytes(), "192.0.2.2", server, 1);
            try (Mbuf payload = server.receive(from)) {
                assertArrayEquals("four".getBytes(), payload.toByteArray());
            }
            assertEquals(4, from.version());
            assertEquals(TwoHostTest.A.bits(), from.ipv4Bits());
            assertEquals(TwoHostTest.A, from.address());
            assertEquals(client.localPort(), from.port(), "an ephemeral port (above 32767) survives the queue");
            assertTrue(from.port() > 0x7fff);
            assertNull(from.zone());
            assertEquals("192.0.2.1 port " + client.localPort(), from.toString());
            assertThrows(IllegalStateException.class, from::ipv6High);
            assertThrows(IllegalStateException.class, from::ipv6Low);
            assertNull(server.receive(from), "nothing waiting");
            assertEquals(TwoHostTest.A, from.address(), "a receive that finds nothing leaves the holder as it was");
            assertEquals(0, server.available());
        }
    }

    @Test
    void receiveIntoASourceReportsAGlobalIpv6Sender() {
        try (UdpSocket server = b.udp().open().bind(7); UdpSocket client = a.udp().open()) {
            UdpSocket.Source from = new UdpSocket.Source();
            sendAndWait(client, "six".getBytes(), "2001:db8::2", server, 1);
            try (Mbuf payload = server.receive(from)) {
                assertArrayEquals("six".getBytes(), payload.toByteArray());
            }
            assertEquals(6, from.version());
            assertEquals(Ipv6TwoHostTest.A.high(), from.ipv6High());
            assertEquals(Ipv6TwoHostTest.A.low(), from.ipv6Low());
            assertEquals(Ipv6TwoHostTest.A, from.address());
            assertEquals(client.localPort(), from.port());
            assertNull(from.zone(), "a global address has no zone");
            assertThrows(IllegalStateException.class, from::ipv4Bits);
        }
    }

    @Test
    void receiveIntoASourceReportsTheZoneOfALinkLocalSender() {
        String bLinkLocal = Ipv6Scope.format(b, b.nd().linkLocal(ethB));
        Ipv6Address aLinkLocal = Ipv6Scope.clear(a.nd().linkLocal(ethA));
        try (UdpSocket server = b.udp().open().bind(7); UdpSocket client = a.udp().open()) {
            UdpSocket.Source from = new UdpSocket.Source();
            sendAndWait(client, "link".getBytes(), bLinkLocal, server, 1);
            try (Mbuf payload = server.receive(from)) {
                assertArrayEquals("link".getBytes(), payload.toByteArray());
            }
            assertEquals(aLinkLocal, from.address(), "the address carries no zone bytes");
            assertEquals(aLinkLocal.high(), from.ipv6High());
            assertSame(ethB, from.zone(), "the zone is the interface the datagram came in on");
            assertEquals(aLinkLocal + "%eth0 port " + client.localPort(), from.toString());
            // The record says the same, destination included.
            sendAndWait(client, "again".getBytes(), bLinkLocal, server, 1);
            try (UdpSocket.Datagram d = server.receive()) {
                assertEquals(aLinkLocal, d.source());
                assertSame(ethB, d.zone());
                assertEquals(client.localPort(), d.sourcePort());
                assertEquals(Ipv6Scope.clear(b.nd().linkLocal(ethB)), d.destination());
                assertEquals(7, d.destinationPort());
            }
        }
    }

    @Test
    void theRecordCarriesBothAddressesAndPortsOfEitherFamily() {
        try (UdpSocket server = b.udp().open().bind(7); UdpSocket client = a.udp().open()) {
            sendAndWait(client, "4".getBytes(), "192.0.2.2", server, 1);
            sendAndWait(client, "6".getBytes(), "2001:db8::2", server, 2);
            try (UdpSocket.Datagram four = server.receive(); UdpSocket.Datagram six = server.receive()) {
                assertEquals(new UdpSocket.Datagram(TwoHostTest.A, client.localPort(), TwoHostTest.B, 7, null,
                        four.payload()), four);
                assertEquals(new UdpSocket.Datagram(Ipv6TwoHostTest.A, client.localPort(), Ipv6TwoHostTest.B, 7,
                        null, six.payload()), six);
                assertEquals("192.0.2.1", four.sourceText());
            }
            assertNull(server.receive());
        }
    }

    @Test
    void aFullQueueDropsAndCountsAndKeepsTheOrderWhileItGrowsAndWraps() {
        int limit = UdpSocket.DEFAULT_QUEUE_LIMIT;
        try (UdpSocket server = b.udp().open().bind(7); UdpSocket client = a.udp().open()) {
            sendAndWait(client, new byte[] {-1}, "192.0.2.2", server, 1); // ARP resolved: none held from now on
            server.receive().close();
            for (int sent = 0; sent < limit + 10; sent++) {
                client.send(new byte[] {(byte) sent, (byte) (sent >> 8)}, TwoHostTest.B, 7);
                if (sent % 10 == 9) {
                    sim.run(Duration.ofMillis(10)); // in batches, within the interface's input queue
                }
            }
            sim.run(Duration.ofMillis(10));
            assertEquals(limit, server.available());
            assertEquals(10, server.drops());
            assertEquals(10, b.udp().counters().get(Udp.UdpCounter.SOCKET_FULL));
            // Take a few, then queue a few more past the end of the ring: they come out last, in order.
            UdpSocket.Source from = new UdpSocket.Source();
            int expected = 0;
            for (int i = 0; i < 7; i++, expected++) {
                try (Mbuf m = server.receive(from)) {
                    assertEquals(expected, index(m.toByteArray()));
                }
            }
            for (int i = 0; i < 7; i++) {
                client.send(new byte[] {(byte) (1000 + i), (byte) ((1000 + i) >> 8)}, TwoHostTest.B, 7);
            }
            sim.run(Duration.ofMillis(10));
            assertEquals(limit, server.available());
            assertEquals(10, server.drops(), "room was made for exactly these");
            for (; expected < limit; expected++) {
                try (Mbuf m = expected % 2 == 0 ? server.receive(from) : server.receive().payload()) {
                    assertEquals(expected, index(m.toByteArray()), "datagram " + expected);
                }
            }
            for (int i = 0; i < 7; i++) {
                try (Mbuf m = server.receive(from)) {
                    assertEquals(1000 + i, index(m.toByteArray()));
                }
            }
            assertNull(server.receive(from));
            assertEquals(TwoHostTest.A, from.address());
        }
    }

    private static int index(byte[] payload) {
        return (payload[0] & 0xff) | (payload[1] & 0xff) << 8;
    }

    @Test
    void closeFreesEveryQueuedDatagram() {
        MbufOwner queues = pool.owners().stream().filter(o -> o.name().equals("udp")
                && o.description().equals("b: socket receive queues")).findFirst().orElseThrow();
        UdpSocket server = b.udp().open().bind(7);
        try (UdpSocket client = a.udp().open()) {
            sendAndWait(client, new byte[100], "192.0.2.2", server, 1);
            for (int i = 2; i <= 40; i++) { // past the ring's first capacity: it grows on the way
                sendAndWait(client, new byte[100], i % 2 == 0 ? "2001:db8::2" : "192.0.2.2", server, i);
            }
        }
        assertTrue(queues.segments() >= 40, "queued on the socket: " + queues);
        server.close();
        assertEquals(0, queues.segments(), "freed when the socket closed");
        assertThrows(IllegalStateException.class, () -> server.receive(new UdpSocket.Source()));
        assertThrows(IllegalStateException.class, server::receive);
        server.close(); // idempotent
    }
}
