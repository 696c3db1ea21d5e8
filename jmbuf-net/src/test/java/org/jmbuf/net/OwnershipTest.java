package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.jmbuf.buf.MbufOwner;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.MacAddress;
import org.junit.jupiter.api.Test;

/** Each protocol claims what it holds (MBUFTRACE), so the pool can say who holds how much. */
class OwnershipTest {
    private static MbufOwner owner(MbufPool pool, String name, String description) {
        return pool.owners().stream().filter(o -> o.name().equals(name) && o.description().equals(description))
                .findFirst().orElseThrow();
    }

    @Test
    void socketQueuesAndArpHoldQueuesAreChargedToTheirProtocols() {
        MbufPool pool = MbufPool.builder().build();
        try (Simulation sim = new Simulation(pool, 1)) {
            SimulatedLink link = sim.link(1500, SimulatedLink.Conditions.PERFECT);
            Host a = sim.host("a");
            Host b = sim.host("b");
            a.addIpv4(a.attach(link.attach("eth0", MacAddress.parse("02:00:00:00:00:01"))), TwoHostTest.A, 24);
            b.addIpv4(b.attach(link.attach("eth0", MacAddress.parse("02:00:00:00:00:02"))), TwoHostTest.B, 24);
            MbufOwner udpQueues = owner(pool, "udp", "b: socket receive queues");
            MbufOwner arpHold = owner(pool, "arp", "a: hold queues");
            try (UdpSocket server = b.udp().open().bind(7); UdpSocket client = a.udp().open()) {
                for (int i = 0; i < 3; i++) {
                    client.send(new byte[100], TwoHostTest.B, 7);
                }
                assertTrue(arpHold.segments() >= 3, "held while ARP resolves: " + arpHold);
                assertTrue(sim.runUntil(() -> server.available() == 3, Duration.ofSeconds(5)));
                assertEquals(0, arpHold.segments(), "released once resolved");
                assertTrue(udpQueues.segments() >= 3, "queued on the socket: " + udpQueues);
            }
            assertEquals(0, udpQueues.segments(), "freed when the socket closed");
            // A neighbour that never answers: held, then dropped after the retries.
            try (UdpSocket client = a.udp().open()) {
                client.send(new byte[10], org.jmbuf.wire.Ipv4Address.parse("192.0.2.77"), 7);
                assertEquals(1, arpHold.segments());
                sim.run(Duration.ofSeconds(10));
                assertEquals(0, arpHold.segments());
                assertEquals(1, a.arp().counters().get(Arp.ArpCounter.TIMEOUT_DROPPED));
            }
        }
    }
}
