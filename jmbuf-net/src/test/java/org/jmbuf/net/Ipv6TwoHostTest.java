package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.Icmpv6Message;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.MacAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Two hosts on one simulated Ethernet speaking IPv6: Neighbor Discovery, duplicate address detection,
 * link-local and global ping6 (small and fragmented), each with ordinary, read-only and oddly segmented
 * received packets.
 */
class Ipv6TwoHostTest {
    static final MacAddress MAC_A = MacAddress.parse("02:00:00:00:00:01");
    static final MacAddress MAC_B = MacAddress.parse("02:00:00:00:00:02");
    static final Ipv6Address A = Ipv6Address.parse("2001:db8::1");
    static final Ipv6Address B = Ipv6Address.parse("2001:db8::2");

    static Stream<Arguments> deliveries() {
        return Stream.of(
                Arguments.of("ordinary", SimulatedLink.Delivery.COPY),
                Arguments.of("read-only", new TwoHostTest.ReadOnlyDelivery()),
                Arguments.of("segmented 1|13|15|21|35", TwoHostTest.segmented(1, 13, 15, 21, 35)),
                Arguments.of("segmented 14|34|42|55|61", TwoHostTest.segmented(14, 34, 42, 55, 61)),
                Arguments.of("segmented 7|19|53|57|63|71", TwoHostTest.segmented(7, 19, 53, 57, 63, 71)));
    }

    private final MbufPool pool = MbufPool.builder().build();
    private Simulation sim;
    private Host a;
    private Host b;
    private NetworkInterface ethA;
    private NetworkInterface ethB;
    private SimulatedLink link;

    private void topology(SimulatedLink.Delivery delivery) {
        sim = new Simulation(pool, 11);
        link = sim.link(1500, SimulatedLink.Conditions.PERFECT);
        link.setDelivery(delivery);
        a = sim.host("a");
        b = sim.host("b");
        ethA = a.attach(link.attach("eth0", MAC_A));
        ethB = b.attach(link.attach("eth0", MAC_B));
        a.ipv6().enable(ethA);
        b.ipv6().enable(ethB);
    }

    private void globals() {
        a.ipv6().addAddress(ethA, A, 64);
        b.ipv6().addAddress(ethB, B, 64);
        assertTrue(sim.runUntil(() -> preferred(ethA, A) && preferred(ethB, B) && preferred(ethA, a.nd().linkLocal(ethA))
                && preferred(ethB, b.nd().linkLocal(ethB)), Duration.ofSeconds(5)));
    }

    @AfterEach
    void tearDown() {
        if (sim != null) {
            sim.close();
        }
    }

    static boolean preferred(NetworkInterface ifp, Ipv6Address address) {
        NetworkInterface.Ipv6Assignment x = ifp.ipv6Assignment(address);
        return x != null && x.state() == NetworkInterface.Ipv6State.PREFERRED;
    }

    static List<byte[]> replies(Host host) {
        List<byte[]> replies = new ArrayList<>();
        host.icmpv6().setListener((source, message) -> {
            if (Byte.toUnsignedInt(message.byteAt(0)) == Icmpv6Message.ECHO_REPLY) {
                replies.add(message.toByteArray());
            }
        });
        return replies;
    }

    private static void assertUnchanged(SimulatedLink.Delivery delivery) {
        if (delivery instanceof TwoHostTest.ReadOnlyDelivery ro) {
            assertFalse(ro.storages.isEmpty());
            ro.assertUnchanged();
        }
    }

    @Test
    void linkLocalAddressIsEui64AndTentativeUntilDad() {
        topology(SimulatedLink.Delivery.COPY);
        Ipv6Address ll = a.nd().linkLocal(ethA);
        assertEquals(Ipv6Address.parse("fe80:" + Integer.toHexString(ethA.index()) + "::ff:fe00:1"), ll);
        assertEquals("fe80::ff:fe00:1%eth0", Ipv6Scope.format(a, ll));
        assertEquals(NetworkInterface.Ipv6State.TENTATIVE, ethA.ipv6Assignment(ll).state());
        assertEquals(Ipv6.OutputResult.NO_SOURCE, a.icmpv6().sendEcho(b.nd().linkLocal(ethB), 1, 1, new byte[4]));
        assertTrue(sim.runUntil(() -> preferred(ethA, ll), Duration.ofSeconds(3)));
        assertEquals(1, a.nd().counters().get(NeighborDiscovery.NdCounter.DAD_NS_SENT));
        assertEquals(0, a.nd().counters().get(NeighborDiscovery.NdCounter.DUPLICATES_DETECTED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void linkLocalPingBothWaysResolvesNeighbours(String name, SimulatedLink.Delivery delivery) {
        topology(delivery);
        Ipv6Address llA = a.nd().linkLocal(ethA);
        Ipv6Address llB = b.nd().linkLocal(ethB);
        assertTrue(sim.runUntil(() -> preferred(ethA, llA) && preferred(ethB, llB), Duration.ofSeconds(5)));
        List<byte[]> atA = replies(a);
        List<byte[]> atB = replies(b);
        byte[] payload = "link-local ping6".getBytes();
        // b's link-local address as a's socket layer sees it: fe80::ff:fe00:2%eth0 on a.
        Ipv6Address target = Ipv6Scope.parse(a, "fe80::ff:fe00:2%eth0").embedded();
        assertEquals(Ipv6.OutputResult.SENT, a.icmpv6().sendEcho(target, 0x1234, 1, payload));
        assertTrue(sim.runUntil(() -> atA.size() == 1, Duration.ofSeconds(5)), a.netstat() + b.netstat());
        assertArrayEquals(payload, Arrays.copyOfRange(atA.getFirst(), 8, atA.getFirst().length));
        assertEquals(0x12, atA.getFirst()[4]);
        assertEquals(NeighborDiscovery.NeighborState.REACHABLE, a.nd().state(ethA, llB));
        assertEquals(MAC_B, a.nd().lookup(ethA, llB));
        assertEquals(1, a.nd().counters().get(NeighborDiscovery.NdCounter.NS_SENT)
                - a.nd().counters().get(NeighborDiscovery.NdCounter.DAD_NS_SENT));
        assertTrue(b.nd().counters().get(NeighborDiscovery.NdCounter.NA_SENT) >= 1);
        // b learnt a from the solicitation's source link-layer option: no solicitation needed back.
        assertEquals(MAC_A, b.nd().lookup(ethB, llA));
        assertEquals(Ipv6.OutputResult.SENT,
                b.icmpv6().sendEcho(Ipv6Scope.parse(b, "fe80::ff:fe00:1%" + ethB.index()).embedded(), 7, 2, payload));
        assertTrue(sim.runUntil(() -> atB.size() == 1, Duration.ofSeconds(5)), a.netstat() + b.netstat());
        assertArrayEquals(payload, Arrays.copyOfRange(atB.getFirst(), 8, atB.getFirst().length));
        assertEquals(1, b.icmpv6().counters().get(Icmpv6.Icmpv6Counter.ECHO_REPLIES_SENT));
        assertEquals(1, a.icmpv6().counters().get(Icmpv6.Icmpv6Counter.ECHO_REPLIES_SENT));
        assertEquals(0, a.icmpv6().counters().get(Icmpv6.Icmpv6Counter.BAD_CHECKSUM)
                + b.icmpv6().counters().get(Icmpv6.Icmpv6Counter.BAD_CHECKSUM));
        assertUnchanged(delivery);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void globalPingAfterDad(String name, SimulatedLink.Delivery delivery) {
        topology(delivery);
        a.ipv6().addAddress(ethA, A, 64);
        b.ipv6().addAddress(ethB, B, 64);
        assertEquals(NetworkInterface.Ipv6State.TENTATIVE, ethB.ipv6Assignment(B).state());
        assertTrue(sim.runUntil(() -> preferred(ethA, A) && preferred(ethB, B), Duration.ofSeconds(5)));
        List<byte[]> atA = replies(a);
        byte[] payload = new byte[100];
        Arrays.fill(payload, (byte) 0x5a);
        assertEquals(Ipv6.OutputResult.SENT, a.icmpv6().sendEcho(B, 1, 1, payload));
        assertTrue(sim.runUntil(() -> atA.size() == 1, Duration.ofSeconds(5)), a.netstat() + b.netstat());
        assertArrayEquals(payload, Arrays.copyOfRange(atA.getFirst(), 8, atA.getFirst().length));
        assertEquals(MAC_B, a.nd().lookup(ethA, B));
        assertTrue(a.ipv6().isOurs(A));
        assertFalse(a.ipv6().isOurs(B));
        assertUnchanged(delivery);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void largePingsAreFragmentedAndReassembled(String name, SimulatedLink.Delivery delivery) {
        topology(delivery);
        globals();
        List<byte[]> atA = replies(a);
        for (int size : new int[] {4000, 60000}) {
            byte[] payload = new byte[size];
            for (int i = 0; i < size; i++) {
                payload[i] = (byte) (i * 13 + size);
            }
            atA.clear();
            assertEquals(Ipv6.OutputResult.SENT, a.icmpv6().sendEcho(B, 9, size & 0xffff, payload));
            assertTrue(sim.runUntil(() -> atA.size() == 1, Duration.ofSeconds(5)), a.netstat() + b.netstat());
            assertEquals(8 + size, atA.getFirst().length);
            assertArrayEquals(payload, Arrays.copyOfRange(atA.getFirst(), 8, 8 + size), "ping6 of " + size);
        }
        // 4000: 3 fragments each way; 60000: 41 each way (1448 payload bytes per fragment at MTU 1500).
        assertEquals(3 + 42, a.ipv6().counters().get(Ipv6.Ipv6Counter.FRAGMENTS_CREATED));
        assertEquals(2, b.ipv6().counters().get(Ipv6.Ipv6Counter.REASSEMBLED));
        assertEquals(2, a.ipv6().counters().get(Ipv6.Ipv6Counter.REASSEMBLED));
        assertEquals(0, b.ipv6().reassembly().pending());
        assertEquals(0, b.ipv6().reassembly().heldBytes());
        assertUnchanged(delivery);
    }

    @Test
    void dadDetectsADuplicateAlreadyInUse() {
        topology(SimulatedLink.Delivery.COPY);
        a.ipv6().addAddress(ethA, A, 64);
        assertTrue(sim.runUntil(() -> preferred(ethA, A), Duration.ofSeconds(5)));
        b.ipv6().addAddress(ethB, A, 64);
        sim.run(Duration.ofSeconds(5));
        assertEquals(NetworkInterface.Ipv6State.DUPLICATED, ethB.ipv6Assignment(A).state());
        assertEquals(1, b.nd().counters().get(NeighborDiscovery.NdCounter.DUPLICATES_DETECTED));
        assertEquals(NetworkInterface.Ipv6State.PREFERRED, ethA.ipv6Assignment(A).state());
        assertFalse(b.ipv6().isOurs(A));
        // b has no usable global address: its selected source is the link-local one, never the duplicate.
        assertNotEquals(A, b.ipv6().selectSource(ethB, B));
    }

    @Test
    void dadDetectsSimultaneousTentativeAddresses() {
        topology(SimulatedLink.Delivery.COPY);
        a.ipv6().addAddress(ethA, A, 64);
        b.ipv6().addAddress(ethB, A, 64);
        sim.run(Duration.ofSeconds(5));
        // Whoever solicits first makes the other see a DAD probe for its tentative address (RFC 4862
        // §5.4.3); the second never solicits. If both probes cross, both are duplicated.
        assertTrue(a.nd().counters().get(NeighborDiscovery.NdCounter.DUPLICATES_DETECTED)
                + b.nd().counters().get(NeighborDiscovery.NdCounter.DUPLICATES_DETECTED) >= 1);
        assertFalse(preferred(ethA, A) && preferred(ethB, A), "both hosts use " + A);
    }

    @Test
    void unansweredResolutionReportsAddressUnreachable() {
        topology(SimulatedLink.Delivery.COPY);
        globals();
        List<byte[]> errors = new ArrayList<>();
        a.icmpv6().setListener((source, message) -> errors.add(message.toByteArray()));
        Ipv6Address nobody = Ipv6Address.parse("2001:db8::99");
        assertEquals(Ipv6.OutputResult.SENT, a.icmpv6().sendEcho(nobody, 1, 1, new byte[8]));
        assertTrue(sim.runUntil(() -> errors.size() == 1, Duration.ofSeconds(10)), a.netstat());
        assertEquals(Icmpv6Message.DESTINATION_UNREACHABLE, errors.getFirst()[0]);
        assertEquals(Icmpv6Message.UNREACHABLE_ADDRESS, errors.getFirst()[1]);
        assertEquals(NeighborDiscovery.MAX_MULTICAST_SOLICIT,
                a.nd().counters().get(NeighborDiscovery.NdCounter.NS_SENT)
                        - a.nd().counters().get(NeighborDiscovery.NdCounter.DAD_NS_SENT));
        assertEquals(1, a.nd().counters().get(NeighborDiscovery.NdCounter.RESOLUTION_FAILED));
        assertNull(a.nd().state(ethA, nobody));
    }

    @Test
    void noRouteOffLinkWithoutARouter() {
        topology(SimulatedLink.Delivery.COPY);
        globals();
        assertEquals(Ipv6.OutputResult.NO_ROUTE,
                a.icmpv6().sendEcho(Ipv6Address.parse("2001:db8:ffff::1"), 1, 1, new byte[8]));
        assertEquals(Ipv6.OutputResult.NO_ROUTE,
                a.icmpv6().sendEcho(Ipv6Address.parse("fe80::2"), 1, 1, new byte[8]), "link-local without a zone");
        assertEquals(2, a.ipv6().counters().get(Ipv6.Ipv6Counter.NO_ROUTE));
    }

    @Test
    void pingToOwnAddressesLoopsBack() {
        topology(SimulatedLink.Delivery.COPY);
        globals();
        List<byte[]> atA = replies(a);
        assertEquals(Ipv6.OutputResult.SENT, a.icmpv6().sendEcho(A, 1, 1, new byte[8]));
        assertEquals(Ipv6.OutputResult.SENT, a.icmpv6().sendEcho(Ipv6Address.LOOPBACK, 1, 2, new byte[8]));
        assertEquals(Ipv6.OutputResult.SENT, a.icmpv6().sendEcho(a.nd().linkLocal(ethA), 1, 3, new byte[8]));
        assertTrue(sim.runUntil(() -> atA.size() == 3, Duration.ofSeconds(1)), a.netstat());
    }
}
