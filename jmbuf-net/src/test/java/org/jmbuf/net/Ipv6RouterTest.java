package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.Icmpv6Message;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.Ipv6Header;
import org.jmbuf.wire.MacAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Three hosts speaking IPv6: A on 2001:db8:1::/64 (link MTU 1500), router R, and B on 2001:db8:2::/64
 * whose link has the IPv6 minimum MTU (1280). A router never fragments (RFC 8200 §5): R answers what does
 * not fit with Packet Too Big and A fragments at the source for the path MTU it learnt (RFC 8201). A and
 * B route through R by static default routes to R's link-local addresses, given as text with their zones.
 * Every scenario runs on every delivery of {@link Ipv6TwoHostTest}; read-only storage is checked unchanged.
 */
class Ipv6RouterTest {
    static final MacAddress MAC_A = MacAddress.parse("02:00:00:00:01:01");
    static final MacAddress MAC_R1 = MacAddress.parse("02:00:00:00:01:fe");
    static final MacAddress MAC_R2 = MacAddress.parse("02:00:00:00:02:fe");
    static final MacAddress MAC_B = MacAddress.parse("02:00:00:00:02:02");
    static final Ipv6Address A = Ipv6Address.parse("2001:db8:1::1");
    static final Ipv6Address R1 = Ipv6Address.parse("2001:db8:1::fe");
    static final Ipv6Address R2 = Ipv6Address.parse("2001:db8:2::fe");
    static final Ipv6Address B = Ipv6Address.parse("2001:db8:2::2");
    static final int SMALL_MTU = Ipv6.MINIMUM_MTU;

    static Stream<Arguments> deliveries() {
        return Ipv6TwoHostTest.deliveries();
    }

    /** Every delivery with static routes, then with everything learnt from R's Router Advertisements. */
    static Stream<Arguments> deliveriesAndRouting() {
        return Stream.concat(
                Ipv6TwoHostTest.deliveries().map(x -> Arguments.of(x.get()[0] + ", static", x.get()[1], false)),
                Ipv6TwoHostTest.deliveries().map(x -> Arguments.of(x.get()[0] + ", advertised", x.get()[1], true)));
    }

    /** The addresses A and B form from R's prefixes (EUI-64 of their MACs, RFC 4862 §5.5.3). */
    static final Ipv6Address A_AUTO = Ipv6Address.parse("2001:db8:1::ff:fe00:101");
    static final Ipv6Address B_AUTO = Ipv6Address.parse("2001:db8:2::ff:fe00:202");

    private final MbufPool pool = MbufPool.builder().build();
    private Simulation sim;
    private Host a;
    private Host r;
    private Host b;
    private NetworkInterface ethA;
    private NetworkInterface r0;
    private NetworkInterface r1;
    private NetworkInterface ethB;
    private SimulatedLink.Delivery delivery;
    /** A's and B's global addresses. */
    private Ipv6Address addressA;
    private Ipv6Address addressB;
    /** Every frame delivered on B's link, as it crossed it. */
    private final List<byte[]> onRight = new ArrayList<>();

    private void topology(SimulatedLink.Delivery delivery) {
        topology(delivery, false);
    }

    /**
     * Builds the three hosts. With {@code advertised}, A and B get nothing but IPv6 on their interfaces and
     * learn their addresses, default router and (for B) link MTU from R's Router Advertisements.
     */
    private void topology(SimulatedLink.Delivery delivery, boolean advertised) {
        this.delivery = delivery;
        sim = new Simulation(pool, 23);
        SimulatedLink left = sim.link(1500, SimulatedLink.Conditions.PERFECT);
        SimulatedLink right = sim.link(SMALL_MTU, SimulatedLink.Conditions.PERFECT);
        left.setDelivery(delivery);
        right.setDelivery((p, frame) -> {
            onRight.add(frame.clone());
            return delivery.deliver(p, frame);
        });
        a = sim.host("a");
        r = sim.host("r");
        b = sim.host("b");
        ethA = a.attach(left.attach("eth0", MAC_A));
        r0 = r.attach(left.attach("eth0", MAC_R1));
        r1 = r.attach(right.attach("eth1", MAC_R2));
        ethB = b.attach(right.attach("eth0", MAC_B));
        r.ipv6().setForwarding(true);
        r.ipv6().addAddress(r0, R1, 64);
        r.ipv6().addAddress(r1, R2, 64);
        if (advertised) {
            a.ipv6().enable(ethA);
            b.ipv6().enable(ethB);
            r.nd().advertise(r0, R1, 64);
            r.nd().advertise(r1, R2, 64);
            addressA = A_AUTO;
            addressB = B_AUTO;
            assertTrue(sim.runUntil(() -> Ipv6TwoHostTest.preferred(ethA, A_AUTO)
                    && Ipv6TwoHostTest.preferred(ethB, B_AUTO) && allPreferred(ethA, r0, r1, ethB),
                    Duration.ofSeconds(10)), a.netstat() + r.netstat());
            return;
        }
        addressA = A;
        addressB = B;
        a.ipv6().addAddress(ethA, A, 64);
        b.ipv6().addAddress(ethB, B, 64);
        // R's link-local addresses (EUI-64 of its MACs) as each host's socket layer names them.
        a.ipv6().addRoute(new Ipv6.Route(Ipv6Address.UNSPECIFIED, 0, ethA,
                Ipv6Scope.parse(a, "fe80::ff:fe00:1fe%eth0").embedded()));
        b.ipv6().addRoute(new Ipv6.Route(Ipv6Address.UNSPECIFIED, 0, ethB,
                Ipv6Scope.parse(b, "fe80::ff:fe00:2fe%eth0").embedded()));
        assertEquals(Ipv6Scope.embed(Ipv6Address.parse("fe80::ff:fe00:1fe"), r0.index()), r.nd().linkLocal(r0));
        assertTrue(sim.runUntil(() -> allPreferred(ethA, r0, r1, ethB), Duration.ofSeconds(5)));
    }

    private static boolean allPreferred(NetworkInterface... interfaces) {
        for (NetworkInterface ifp : interfaces) {
            for (NetworkInterface.Ipv6Assignment x : ifp.ipv6Addresses()) {
                if (x.state() != NetworkInterface.Ipv6State.PREFERRED) {
                    return false;
                }
            }
        }
        return true;
    }

    @AfterEach
    void tearDown() {
        if (sim != null) {
            sim.close();
        }
    }

    /** A message heard by a host's ICMPv6 listener. */
    record Heard(Ipv6Address source, byte[] message) {
        int type() {
            return message[0] & 0xff;
        }

        int code() {
            return message[1] & 0xff;
        }

        long word() {
            return java.nio.ByteBuffer.wrap(message, 4, 4).getInt() & 0xffff_ffffL;
        }

        /** The IPv6 header an error quotes. */
        Ipv6Header quoted() {
            return Ipv6Header.of(MemorySegment.ofArray(Arrays.copyOfRange(message, 8, 8 + Ipv6Header.MIN_LENGTH)));
        }
    }

    private static List<Heard> listen(Host host) {
        List<Heard> heard = new ArrayList<>();
        host.icmpv6().setListener((source, message) -> heard.add(new Heard(source, message.toByteArray())));
        return heard;
    }

    private static List<Heard> ofType(List<Heard> heard, int type) {
        return heard.stream().filter(h -> h.type() == type).toList();
    }

    private void assertUnchanged() {
        if (delivery instanceof TwoHostTest.ReadOnlyDelivery ro) {
            assertFalse(ro.storages.isEmpty());
            ro.assertUnchanged();
        }
    }

    private long counter(Host host, Ipv6.Ipv6Counter c) {
        return host.ipv6().counters().get(c);
    }

    /** The IPv6 packets (without Ethernet header) that crossed B's link from R's MAC. */
    private List<byte[]> forwardedToB() {
        List<byte[]> packets = new ArrayList<>();
        for (byte[] frame : onRight) {
            MacAddress source = MacAddress.read(MemorySegment.ofArray(frame), 6);
            if (source.equals(MAC_R2) && frame[12] == (byte) 0x86 && frame[13] == (byte) 0xdd) {
                packets.add(Arrays.copyOfRange(frame, 14, frame.length));
            }
        }
        return packets;
    }

    private static byte[] payload(int size) {
        byte[] p = new byte[size];
        for (int i = 0; i < size; i++) {
            p[i] = (byte) (i * 7 + size);
        }
        return p;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveriesAndRouting")
    void pingsCrossTheRouterAndTheFirstTooBigOneTeachesThePathMtu(String name, SimulatedLink.Delivery delivery,
            boolean advertised) {
        topology(delivery, advertised);
        Ipv6Address A = addressA;
        Ipv6Address B = addressB;
        List<Heard> heard = listen(a);
        int sequence = 0;
        for (int size : new int[] {56, 1000}) {
            heard.clear();
            assertEquals(Ipv6.OutputResult.SENT, a.icmpv6().sendEcho(B, 5, ++sequence, payload(size)));
            assertTrue(sim.runUntil(() -> !ofType(heard, Icmpv6Message.ECHO_REPLY).isEmpty(), Duration.ofSeconds(5)),
                    "no reply to " + size + "\n" + r.netstat() + b.netstat());
            byte[] reply = ofType(heard, Icmpv6Message.ECHO_REPLY).getFirst().message();
            assertArrayEquals(payload(size), Arrays.copyOfRange(reply, 8, reply.length), "ping6 of " + size);
        }
        assertEquals(-1, a.ipv6().learntPathMtu(B));
        assertEquals(0, counter(r, Ipv6.Ipv6Counter.FORWARD_TOO_BIG));
        // The request crossed R with its hop limit decremented once, unfragmented.
        int requests = 0;
        for (byte[] packet : forwardedToB()) {
            Ipv6Header ip = Ipv6Header.of(MemorySegment.ofArray(packet));
            if (ip.destination().equals(B) && ip.nextHeader() == IpProtocol.ICMPV6
                    && (packet[Ipv6Header.MIN_LENGTH] & 0xff) == Icmpv6Message.ECHO_REQUEST) {
                assertEquals(Ipv6.DEFAULT_HOP_LIMIT - 1, ip.hopLimit());
                assertEquals(A, ip.source());
                requests++;
            }
        }
        assertEquals(2, requests);

        // 60000 bytes: A fragments for its own link (1500); R cannot forward them onto 1280 and says so.
        heard.clear();
        int size = 60000;
        assertEquals(Ipv6.OutputResult.SENT, a.icmpv6().sendEcho(B, 5, ++sequence, payload(size)));
        assertTrue(sim.runUntil(() -> !ofType(heard, Icmpv6Message.PACKET_TOO_BIG).isEmpty(), Duration.ofSeconds(5)),
                r.netstat());
        sim.run(Duration.ofSeconds(2));
        assertTrue(ofType(heard, Icmpv6Message.ECHO_REPLY).isEmpty(), "the request cannot have arrived whole");
        Heard ptb = ofType(heard, Icmpv6Message.PACKET_TOO_BIG).getFirst();
        assertEquals(0, ptb.code());
        assertEquals(SMALL_MTU, ptb.word(), "the MTU of R's next link");
        assertEquals(R1, ptb.source(), "from R's address on A's side");
        assertEquals(A, ptb.quoted().source());
        assertEquals(B, ptb.quoted().destination());
        assertEquals(Ipv6.DEFAULT_HOP_LIMIT, ptb.quoted().hopLimit(), "quoted as it arrived at R");
        assertEquals(SMALL_MTU, a.ipv6().learntPathMtu(B));
        // 60008 bytes of ICMPv6 in 1448-byte pieces: 41 too big for the next link, the last (640) fits.
        assertEquals(41, counter(r, Ipv6.Ipv6Counter.FORWARD_TOO_BIG));
        assertEquals(41, a.icmpv6().counters().get(Icmpv6.Icmpv6Counter.PACKET_TOO_BIG_RECEIVED));

        // The next pings of that size are fragmented at the source for 1280 and get through.
        for (int i = 0; i < 2; i++) {
            heard.clear();
            long fragmentsBefore = counter(a, Ipv6.Ipv6Counter.FRAGMENTS_CREATED);
            assertEquals(Ipv6.OutputResult.SENT, a.icmpv6().sendEcho(B, 5, ++sequence, payload(size)));
            assertTrue(sim.runUntil(() -> !ofType(heard, Icmpv6Message.ECHO_REPLY).isEmpty(), Duration.ofSeconds(5)),
                    r.netstat() + b.netstat());
            byte[] reply = ofType(heard, Icmpv6Message.ECHO_REPLY).getFirst().message();
            assertEquals(8 + size, reply.length);
            assertArrayEquals(payload(size), Arrays.copyOfRange(reply, 8, reply.length), "ping6 of " + size);
            assertTrue(ofType(heard, Icmpv6Message.PACKET_TOO_BIG).isEmpty());
            // 60008 bytes in (1280 - 40 - 8) & ~7 = 1232-byte pieces.
            assertEquals(49, counter(a, Ipv6.Ipv6Counter.FRAGMENTS_CREATED) - fragmentsBefore);
        }
        assertEquals(41, counter(r, Ipv6.Ipv6Counter.FORWARD_TOO_BIG));
        for (byte[] packet : forwardedToB()) {
            assertTrue(packet.length <= SMALL_MTU, "R sent " + packet.length + " bytes onto a 1280 link");
        }
        assertEquals(0, counter(r, Ipv6.Ipv6Counter.FRAGMENTED), "routers never fragment");
        assertEquals(0, counter(r, Ipv6.Ipv6Counter.REASSEMBLED), "nor reassemble what they forward");
        assertTrue(counter(r, Ipv6.Ipv6Counter.FORWARDED) >= 2 * (2 + 2 * 49));
        assertUnchanged();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void hopLimitOneGivesTimeExceededFromTheRouterAndTwoGetsThrough(String name, SimulatedLink.Delivery delivery) {
        topology(delivery);
        List<Heard> heard = listen(a);
        a.ipv6().setDefaultHopLimit(1);
        a.icmpv6().sendEcho(B, 1, 1, new byte[16]);
        assertTrue(sim.runUntil(() -> !heard.isEmpty(), Duration.ofSeconds(5)), r.netstat());
        Heard error = heard.getFirst();
        assertEquals(Icmpv6Message.TIME_EXCEEDED, error.type());
        assertEquals(Icmpv6Message.TIME_EXCEEDED_HOP_LIMIT, error.code());
        assertEquals(R1, error.source());
        assertEquals(1, error.quoted().hopLimit());
        assertEquals(B, error.quoted().destination());
        assertEquals(1, counter(r, Ipv6.Ipv6Counter.HOP_LIMIT_EXCEEDED));
        assertEquals(0, counter(r, Ipv6.Ipv6Counter.FORWARDED));
        assertEquals(0, b.icmpv6().counters().get(Icmpv6.Icmpv6Counter.ECHO_REQUESTS));

        heard.clear();
        a.ipv6().setDefaultHopLimit(2);
        a.icmpv6().sendEcho(B, 1, 2, new byte[16]);
        assertTrue(sim.runUntil(() -> !heard.isEmpty(), Duration.ofSeconds(5)), r.netstat());
        assertEquals(Icmpv6Message.ECHO_REPLY, heard.getFirst().type(), "arrives at B with hop limit 1");
        assertEquals(1, counter(r, Ipv6.Ipv6Counter.HOP_LIMIT_EXCEEDED));
        assertUnchanged();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void noRouteGivesDestinationUnreachableFromTheRouter(String name, SimulatedLink.Delivery delivery) {
        topology(delivery);
        List<Heard> heard = listen(a);
        Ipv6Address nowhere = Ipv6Address.parse("2001:db8:3::1");
        assertEquals(Ipv6.OutputResult.SENT, a.icmpv6().sendEcho(nowhere, 1, 1, new byte[16]));
        assertTrue(sim.runUntil(() -> !heard.isEmpty(), Duration.ofSeconds(5)), r.netstat());
        Heard error = heard.getFirst();
        assertEquals(Icmpv6Message.DESTINATION_UNREACHABLE, error.type());
        assertEquals(Icmpv6Message.UNREACHABLE_NO_ROUTE, error.code());
        assertEquals(R1, error.source());
        assertEquals(nowhere, error.quoted().destination());
        assertEquals(1, counter(r, Ipv6.Ipv6Counter.CANT_FORWARD));
        assertEquals(0, counter(r, Ipv6.Ipv6Counter.FORWARDED));
        assertUnchanged();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void linkLocalSourceBeyondItsLinkGivesBeyondScope(String name, SimulatedLink.Delivery delivery) {
        topology(delivery);
        List<Heard> heard = listen(a);
        Ipv6Address linkLocalA = a.nd().linkLocal(ethA);
        Mbuf echo = pool.devget(MemorySegment.ofArray(new byte[] {(byte) Icmpv6Message.ECHO_REQUEST, 0, 0, 0, 0, 1, 0, 1}));
        assertEquals(Ipv6.OutputResult.SENT, a.ipv6().output(echo, linkLocalA, B, IpProtocol.ICMPV6, 64, 2));
        assertTrue(sim.runUntil(() -> !heard.isEmpty(), Duration.ofSeconds(5)), r.netstat());
        Heard error = heard.getFirst();
        assertEquals(Icmpv6Message.DESTINATION_UNREACHABLE, error.type());
        assertEquals(Icmpv6Message.UNREACHABLE_BEYOND_SCOPE, error.code());
        assertEquals(Ipv6Scope.embed(Ipv6Address.parse("fe80::ff:fe00:1fe"), ethA.index()), error.source(),
                "from R's link-local address, back on the only link the source can be reached on");
        assertEquals(1, counter(r, Ipv6.Ipv6Counter.BEYOND_SCOPE));
        assertEquals(0, counter(r, Ipv6.Ipv6Counter.FORWARDED));
        assertEquals(0, b.icmpv6().counters().get(Icmpv6.Icmpv6Counter.ECHO_REQUESTS));
        assertUnchanged();
    }

    /**
     * Frames a host on A's link could send to R's MAC: a link-local destination that is not R's (B's
     * link-local address, reachable only on R's other link), and an unspecified source. Neither is
     * forwarded, nor answered.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void linkLocalDestinationsAndUnspecifiedSourcesAreNeverForwarded(String name, SimulatedLink.Delivery delivery) {
        topology(delivery);
        List<Heard> heard = listen(a);
        Ipv6Address linkLocalB = Ipv6Scope.clear(b.nd().linkLocal(ethB));
        inject(A, linkLocalB);
        assertEquals(1, counter(r, Ipv6.Ipv6Counter.LINK_LOCAL_NOT_FORWARDED));
        inject(Ipv6Address.UNSPECIFIED, B);
        assertEquals(1, counter(r, Ipv6.Ipv6Counter.UNSPECIFIED_NOT_FORWARDED));
        sim.run(Duration.ofSeconds(1));
        assertEquals(0, counter(r, Ipv6.Ipv6Counter.FORWARDED));
        assertEquals(0, b.icmpv6().counters().get(Icmpv6.Icmpv6Counter.ECHO_REQUESTS));
        assertEquals(0, r.icmpv6().counters().get(Icmpv6.Icmpv6Counter.ERRORS_SENT));
        assertTrue(heard.isEmpty());
        // The same frame to a global destination crosses: the test frame itself is good.
        inject(A, B);
        assertTrue(sim.runUntil(() -> !heard.isEmpty(), Duration.ofSeconds(5)), r.netstat() + b.netstat());
        assertEquals(Icmpv6Message.ECHO_REPLY, heard.getFirst().type());
        assertEquals(2, counter(r, Ipv6.Ipv6Counter.FORWARDED), "the request and its reply");
        assertUnchanged();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void aHostThatDoesNotForwardDropsPacketsForOthers(String name, SimulatedLink.Delivery delivery) {
        topology(delivery);
        r.ipv6().setForwarding(false);
        List<Heard> heard = listen(a);
        long notForUs = counter(r, Ipv6.Ipv6Counter.NOT_FOR_US);
        a.icmpv6().sendEcho(B, 1, 1, new byte[16]);
        sim.run(Duration.ofSeconds(2));
        assertTrue(heard.isEmpty());
        assertEquals(1, counter(r, Ipv6.Ipv6Counter.NOT_FOR_US) - notForUs);
        assertEquals(0, counter(r, Ipv6.Ipv6Counter.FORWARDED));
        assertTrue(forwardedToB().stream().noneMatch(p -> (p[6] & 0xff) == IpProtocol.ICMPV6 && (p[40] & 0xff)
                == Icmpv6Message.ECHO_REQUEST));
        assertUnchanged();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveriesAndRouting")
    void udpCrossesTheRouterOnceThePathMtuIsLearnt(String name, SimulatedLink.Delivery delivery, boolean advertised) {
        topology(delivery, advertised);
        Ipv6Address A = addressA;
        Ipv6Address B = addressB;
        List<Heard> heard = listen(a);
        byte[] data = payload(3000);
        try (UdpSocket server = b.udp().open().bind(7); UdpSocket client = a.udp().open()) {
            assertEquals(UdpSocket.SendResult.SENT, client.send(data, B, 7));
            assertTrue(sim.runUntil(() -> a.ipv6().learntPathMtu(B) == SMALL_MTU, Duration.ofSeconds(5)),
                    r.netstat());
            assertFalse(ofType(heard, Icmpv6Message.PACKET_TOO_BIG).isEmpty());
            sim.run(Duration.ofSeconds(1));
            assertEquals(0, server.available(), "the first datagram was too big for B's link");
            assertEquals(UdpSocket.SendResult.SENT, client.send(data, B, 7));
            assertTrue(sim.runUntil(() -> server.available() == 1, Duration.ofSeconds(5)), r.netstat() + b.netstat());
            try (UdpSocket.Datagram d = server.receive()) {
                assertArrayEquals(data, d.bytes());
                assertEquals(A, d.source());
                assertEquals(client.localPort(), d.sourcePort());
                assertNull(d.zone());
            }
        }
        assertEquals(1, b.ipv6().counters().get(Ipv6.Ipv6Counter.REASSEMBLED));
        assertUnchanged();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void routerAdvertisementsGiveTheHostsAddressesARouterAndTheLinkMtu(String name, SimulatedLink.Delivery delivery) {
        topology(delivery, true);
        Ipv6Address routerOnA = Ipv6Scope.parse(a, "fe80::ff:fe00:1fe%eth0").embedded();
        Ipv6Address routerOnB = Ipv6Scope.parse(b, "fe80::ff:fe00:2fe%eth0").embedded();
        assertEquals(List.of(new NeighborDiscovery.Router(ethA, routerOnA)), a.nd().routers());
        assertEquals(List.of(new NeighborDiscovery.Router(ethB, routerOnB)), b.nd().routers());
        assertEquals(List.of(new Ipv6.Route(Ipv6Address.parse("2001:db8:1::"), 64, ethA, null)), a.nd().prefixes());
        assertEquals(List.of(new Ipv6.Route(Ipv6Address.parse("2001:db8:2::"), 64, ethB, null)), b.nd().prefixes());
        assertEquals(1500, a.nd().linkMtu(ethA));
        assertEquals(SMALL_MTU, b.nd().linkMtu(ethB));
        assertEquals(List.of(new NeighborDiscovery.AdvertisedPrefix(Ipv6Address.parse("2001:db8:1::"), 64)),
                r.nd().advertised(r0));
        // R learnt nothing from RAs (it is the router) and sent none of its own solicitations.
        assertTrue(r.nd().routers().isEmpty());
        assertEquals(0, r.nd().counters().get(NeighborDiscovery.NdCounter.RS_SENT));
        assertTrue(r.nd().counters().get(NeighborDiscovery.NdCounter.RA_SENT) >= 2);
        assertEquals(0, r.nd().counters().get(NeighborDiscovery.NdCounter.INVALID));
        assertThrows(IllegalStateException.class, () -> a.nd().advertise(ethA, A_AUTO, 64), "hosts do not advertise");
        assertThrows(IllegalArgumentException.class,
                () -> r.nd().advertise(r0, Ipv6Address.parse("fe80::"), 64), "link-local prefixes are not advertised");

        // A solicitation to all routers (ff02::2, which a router joins) is answered within MAX_RA_DELAY_TIME
        // once MIN_DELAY_BETWEEN_RAS has passed since the last advertisement, to all nodes.
        sim.run(NeighborDiscovery.MIN_DELAY_BETWEEN_RAS);
        long sent = r.nd().counters().get(NeighborDiscovery.NdCounter.RA_SENT);
        long heardByA = a.nd().counters().get(NeighborDiscovery.NdCounter.RA_RECEIVED);
        byte[] rs = {(byte) Icmpv6Message.ROUTER_SOLICITATION, 0, 0, 0, 0, 0, 0, 0};
        inject(MacAddress.parse("33:33:00:00:00:02"), Ipv6Address.UNSPECIFIED, Ipv6Address.ALL_ROUTERS, 255, rs);
        assertTrue(sim.runUntil(() -> r.nd().counters().get(NeighborDiscovery.NdCounter.RA_SENT) > sent,
                NeighborDiscovery.MAX_RA_DELAY_TIME), r.netstat());
        sim.run(Duration.ofMillis(10));
        assertEquals(heardByA + 1, a.nd().counters().get(NeighborDiscovery.NdCounter.RA_RECEIVED));
        // From the unspecified address a source link-layer option is invalid (RFC 4861 §6.1.1).
        byte[] withOption = {(byte) Icmpv6Message.ROUTER_SOLICITATION, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 0, 0, 0, 1, 1};
        inject(MacAddress.parse("33:33:00:00:00:02"), Ipv6Address.UNSPECIFIED, Ipv6Address.ALL_ROUTERS, 255,
                withOption);
        assertEquals(1, r.nd().counters().get(NeighborDiscovery.NdCounter.INVALID));
        assertUnchanged();
    }

    /**
     * Hands R, on A's link, an echo request from {@code source} to {@code destination} in a frame from
     * A's MAC to R's, through the scenario's delivery.
     */
    private void inject(Ipv6Address source, Ipv6Address destination) {
        inject(MAC_R1, source, destination, 64, new byte[] {(byte) Icmpv6Message.ECHO_REQUEST, 0, 0, 0, 0, 9, 0, 1, 'x', 'y'});
    }

    /** Hands R, on A's link, the ICMPv6 message {@code echo} (checksum filled) in a frame from A's MAC. */
    private void inject(MacAddress to, Ipv6Address source, Ipv6Address destination, int hopLimit, byte[] echo) {
        byte[] frame = new byte[14 + Ipv6Header.MIN_LENGTH + echo.length];
        MemorySegment s = MemorySegment.ofArray(frame);
        to.write(s, 0);
        MAC_A.write(s, 6);
        frame[12] = (byte) 0x86;
        frame[13] = (byte) 0xdd;
        Ipv6Header.of(s.asSlice(14)).setVersionClassAndFlow(0, 0).setPayloadLength(echo.length)
                .setNextHeader(IpProtocol.ICMPV6).setHopLimit(hopLimit).setSource(source).setDestination(destination);
        System.arraycopy(echo, 0, frame, 14 + Ipv6Header.MIN_LENGTH, echo.length);
        long sum = org.jmbuf.wire.InternetChecksum.ipv6PseudoHeader(source, destination, IpProtocol.ICMPV6,
                echo.length) + org.jmbuf.wire.InternetChecksum.sum(s.asSlice(14 + Ipv6Header.MIN_LENGTH));
        int checksum = org.jmbuf.wire.InternetChecksum.finish(sum);
        frame[14 + Ipv6Header.MIN_LENGTH + 2] = (byte) (checksum >>> 8);
        frame[14 + Ipv6Header.MIN_LENGTH + 3] = (byte) checksum;
        Mbuf m = delivery.deliver(pool, frame);
        m.setReceivingInterface(r0.index());
        r0.receive(m);
        sim.run(Duration.ofMillis(50));
    }
}
