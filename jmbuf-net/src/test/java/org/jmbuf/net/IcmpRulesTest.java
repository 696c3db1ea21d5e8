package org.jmbuf.net;

import static org.jmbuf.net.Ipv4ReassemblyTest.*;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.net.Icmp.IcmpCounter;
import org.jmbuf.net.Ipv4.Ipv4Counter;
import org.jmbuf.net.Ipv4Reassembly.ReassemblyCounter;
import org.jmbuf.net.Udp.UdpCounter;
import org.jmbuf.wire.IcmpMessage;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.MacAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ICMP error rules (RFC 792, RFC 1122 §3.2.2, RFC 1812 §4.3.2.7) and the IPv4 input checks (RFC 1122
 * §3.2.1): when an error is sent, what it carries, when it must not be sent, the rate limit, broadcast
 * echo, and one hand-built packet per input drop counter. Every packet runs through ordinary, read-only
 * and segmented storage (deliveries and builder from {@link Ipv4ReassemblyTest}).
 */
class IcmpRulesTest {
    static final Ipv4Address SUBNET_BROADCAST = Ipv4Address.parse("192.0.2.255");
    static final Ipv4Address ALL_HOSTS = Ipv4Address.parse("224.0.0.1");
    static final int UNBOUND = 9;
    static final int UNKNOWN_PROTOCOL = 253; // RFC 3692 experimentation

    private Bench bench;

    private Bench bench(SimulatedLink.Delivery delivery) {
        return bench(MbufPool.builder().build(), delivery);
    }

    private Bench bench(MbufPool pool, SimulatedLink.Delivery delivery) {
        bench = new Bench(pool, delivery, 1500);
        return bench;
    }

    /**
     * A test that leaked (and failed for it) leaves its pool reachable only weakly; collect it so the
     * leak check does not blame the tests after it.
     */
    @BeforeEach
    void collectPoolsLeakedByEarlierTests() {
        if (MbufPool.instances().stream().anyMatch(p -> !p.stats().isQuiescent())) {
            System.gc();
        }
    }

    @AfterEach
    void tearDown() {
        if (bench != null) {
            bench.close();
        }
    }

    static Stream<Arguments> deliveries() {
        return Ipv4ReassemblyTest.deliveries();
    }

    /** UDP from {@code source} to {@code destination}:{@code port}, checksum right for those addresses. */
    static Packet udpFrom(Ipv4Address source, Ipv4Address destination, int port, byte[] payload) {
        return udpPacket().source(source).destination(destination)
                .payload(udp(source, destination, SOURCE_PORT, port, payload));
    }

    static Packet unknownProtocol() {
        return new Packet().protocol(UNKNOWN_PROTOCOL).payload(pattern(30, 1));
    }

    static Packet icmpPacket(byte[] message) {
        return new Packet().protocol(IpProtocol.ICMP).payload(message);
    }

    /** Lets a second pass and checks that B sent no ICMP error and A received none. */
    private static void assertNoErrorSent(Bench t) {
        t.run(Duration.ofSeconds(1));
        assertEquals(0, t.icmp(IcmpCounter.ERRORS_SENT), "B sent an ICMP error" + t.netstat());
        assertTrue(t.atA.isEmpty(), "A received ICMP " + t.atA.stream().map(m -> m[0] + "/" + m[1]).toList());
    }

    /** Waits for {@code n} ICMP messages of {@code type} at A and returns the last. */
    private static byte[] awaitAtA(Bench t, int type, int n) {
        assertTrue(t.sim.runUntil(() -> t.atA(type).size() >= n, Duration.ofSeconds(2)),
                "no ICMP type " + type + " at A" + t.netstat());
        List<byte[]> messages = t.atA(type);
        assertEquals(n, messages.size());
        return messages.getLast();
    }

    /** Checks an ICMP error: type, code, checksum, the quote of {@code offending}'s header and 8 bytes. */
    private static void assertError(byte[] message, int type, int code, byte[] offendingIp) {
        assertEquals(type, message[0] & 0xff, "type");
        assertEquals(code, message[1] & 0xff, "code");
        assertTrue(isChecksumValid(message), "ICMP checksum");
        int headerLength = (offendingIp[0] & 0xf) * 4;
        int quoted = Math.min(offendingIp.length, headerLength + Icmp.RETURNED_PAYLOAD);
        assertArrayEquals(Arrays.copyOf(offendingIp, quoted), Arrays.copyOfRange(message, 8, message.length),
                "an error carries the offending header and the first 8 bytes of its data");
    }

    // ------------------------------------------------------------------------------------------------
    // When not to send

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void noErrorAboutAnIcmpError(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        byte[] quote = Arrays.copyOf(udpPacket().payload(udpAtoB(UNBOUND, pattern(40, 1))).ip(), 28);
        int[] errorTypes = {IcmpMessage.DESTINATION_UNREACHABLE, IcmpMessage.SOURCE_QUENCH, IcmpMessage.REDIRECT,
            IcmpMessage.TIME_EXCEEDED, IcmpMessage.PARAMETER_PROBLEM};
        // Each error arrives with a malformed option, which would earn a Parameter Problem.
        for (int type : errorTypes) {
            t.inject(icmpPacket(icmp(type, 0, 0, quote)).id(type).options(0x44, 12, 5, 0));
        }
        assertEquals(errorTypes.length, t.ip(Ipv4Counter.BAD_OPTIONS), t.netstat());
        assertEquals(errorTypes.length, t.icmp(IcmpCounter.ERROR_ABOUT_ERROR), t.netstat());
        assertNoErrorSent(t);
        // Fragment 0 of an ICMP error that never completes: no Time Exceeded either.
        t.inject(piece(new Packet().protocol(IpProtocol.ICMP).id(77),
                icmp(IcmpMessage.DESTINATION_UNREACHABLE, 3, 0, pattern(600, 2)), 0, 256, true));
        t.run(Ipv4Reassembly.TIMEOUT.plusSeconds(1));
        assertEquals(1, t.reass(ReassemblyCounter.TIMED_OUT));
        assertEquals(errorTypes.length + 1, t.icmp(IcmpCounter.ERROR_ABOUT_ERROR), t.netstat());
        assertNoErrorSent(t);
        // Informational messages are not errors: the same malformed option earns a Parameter Problem.
        int[] informational = {IcmpMessage.ECHO_REQUEST, IcmpMessage.ECHO_REPLY, IcmpMessage.TIMESTAMP};
        for (int type : informational) {
            Packet p = icmpPacket(icmp(type, 0, 0x00010001, pattern(12, type))).id(100 + type).options(0x44, 12, 5, 0);
            t.inject(p);
            assertError(awaitAtA(t, IcmpMessage.PARAMETER_PROBLEM, t.atA.size() + 1), IcmpMessage.PARAMETER_PROBLEM, 0,
                    p.ip());
        }
        assertEquals(informational.length, t.icmp(IcmpCounter.ERRORS_SENT));
        assertEquals(errorTypes.length + 1, t.icmp(IcmpCounter.ERROR_ABOUT_ERROR));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void noErrorAboutADatagramToABroadcastOrMulticastAddress(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        MacAddress allHostsMac = MacAddress.ofMulticast(ALL_HOSTS);
        t.inject(unknownProtocol().destination(SUBNET_BROADCAST).ethDestination(MacAddress.BROADCAST));
        t.inject(unknownProtocol().destination(Ipv4Address.BROADCAST).ethDestination(MacAddress.BROADCAST));
        t.inject(udpFrom(A, SUBNET_BROADCAST, UNBOUND, pattern(10, 1)).options(7, 7, 3, 0, 0, 0, 0, 0)
                .ethDestination(MacAddress.BROADCAST));
        assertEquals(3, t.icmp(IcmpCounter.ERROR_TO_BROADCAST), t.netstat());
        t.inject(udpFrom(A, SUBNET_BROADCAST, UNBOUND, pattern(10, 2)).ethDestination(MacAddress.BROADCAST));
        t.inject(udpFrom(A, Ipv4Address.BROADCAST, UNBOUND, pattern(10, 3)).ethDestination(MacAddress.BROADCAST));
        assertEquals(2, t.b.udp().counters().get(UdpCounter.NO_PORT_BROADCAST), t.netstat());
        t.inject(unknownProtocol().destination(ALL_HOSTS).ethDestination(allHostsMac));
        t.inject(udpFrom(A, ALL_HOSTS, UNBOUND, pattern(10, 4)).ethDestination(allHostsMac));
        // A broadcast datagram whose reassembly times out with fragment 0: no Time Exceeded.
        byte[] data = udp(A, SUBNET_BROADCAST, SOURCE_PORT, UNBOUND, pattern(1000, 5));
        t.inject(piece(udpPacket().id(5).destination(SUBNET_BROADCAST).ethDestination(MacAddress.BROADCAST), data, 0,
                512, true));
        t.run(Ipv4Reassembly.TIMEOUT.plusSeconds(1));
        assertEquals(1, t.reass(ReassemblyCounter.TIMED_OUT), t.netstat());
        assertTrue(t.icmp(IcmpCounter.ERROR_TO_BROADCAST) >= 4, t.netstat());
        assertEquals(0, t.b.udp().counters().get(UdpCounter.NO_PORT));
        assertNoErrorSent(t);
        assertEquals(0, t.ip(Ipv4Counter.SENT));
    }

    /** RFC 1122 §3.2.2: no error about "a datagram sent as a link-layer broadcast" either. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void noErrorAboutALinkLayerBroadcast(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        t.inject(udpPacket().payload(udpAtoB(UNBOUND, pattern(10, 1))).ethDestination(MacAddress.BROADCAST));
        t.inject(unknownProtocol().ethDestination(MacAddress.BROADCAST));
        t.inject(udpPacket().payload(udpAtoB(UNBOUND, pattern(10, 1))).ethDestination(MacAddress.ofMulticast(ALL_HOSTS)));
        assertNoErrorSent(t);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void noErrorAboutANonFirstFragment(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        int[] badRecordRoute = {7, 7, 3, 0, 0, 0, 0, 0};
        t.inject(udpPacket().id(40).offset(512).mf(true).options(badRecordRoute).payload(pattern(512, 1)));
        t.inject(udpPacket().id(41).offset(512).mf(false).options(badRecordRoute).payload(pattern(100, 2)));
        assertEquals(2, t.ip(Ipv4Counter.BAD_OPTIONS), t.netstat());
        assertEquals(2, t.icmp(IcmpCounter.ERROR_ABOUT_FRAGMENT), t.netstat());
        assertNoErrorSent(t);
        // Fragment 0 with the same option does earn a Parameter Problem.
        Packet first = udpPacket().id(42).offset(0).mf(true).options(badRecordRoute)
                .payload(Arrays.copyOf(udpAtoB(UNBOUND, pattern(600, 3)), 512));
        t.inject(first);
        byte[] message = awaitAtA(t, IcmpMessage.PARAMETER_PROBLEM, 1);
        assertError(message, IcmpMessage.PARAMETER_PROBLEM, 0, first.ip());
        assertEquals(22, message[4] & 0xff);
        assertEquals(2, t.icmp(IcmpCounter.ERROR_ABOUT_FRAGMENT));
        assertEquals(1, t.icmp(IcmpCounter.ERRORS_SENT));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void noErrorToASourceThatIsNotOneHost(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        Ipv4Address any = Ipv4Address.ANY;
        t.inject(unknownProtocol().source(any));
        t.inject(udpFrom(any, B, UNBOUND, pattern(10, 1)));
        t.inject(udpFrom(any, B, UNBOUND, pattern(10, 2)).options(7, 7, 3, 0, 0, 0, 0, 0));
        assertEquals(3, t.icmp(IcmpCounter.ERROR_BAD_SOURCE), t.netstat());
        assertEquals(1, t.ip(Ipv4Counter.NO_PROTOCOL));
        assertEquals(1, t.b.udp().counters().get(UdpCounter.NO_PORT));
        t.inject(unknownProtocol().source(Ipv4Address.BROADCAST));
        t.inject(unknownProtocol().source(Ipv4Address.parse("224.0.0.5")));
        t.inject(unknownProtocol().source(Ipv4Address.parse("127.0.0.1")));
        t.inject(udpFrom(Ipv4Address.BROADCAST, B, UNBOUND, pattern(10, 3)));
        assertEquals(4, t.ip(Ipv4Counter.BAD_SOURCE), t.netstat());
        assertNoErrorSent(t);
        assertEquals(0, t.ip(Ipv4Counter.SENT));
    }

    /**
     * RFC 1122 §3.2.1.3: {@code {<Network-number>, -1}} must never be a source, and a host must silently
     * discard a datagram whose source is invalid; the BAD_SOURCE counter says "broadcast ... source".
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void directedBroadcastSourceIsDiscarded(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            t.inject(udpFrom(SUBNET_BROADCAST, B, PORT, pattern(10, 1)));
            assertEquals(0, server.available(), "a datagram from the subnet broadcast address was delivered");
            assertEquals(1, t.ip(Ipv4Counter.BAD_SOURCE), t.netstat());
            assertNoErrorSent(t);
        }
    }

    /** RFC 1122 §3.2.1.3 (g): 127/8 must not appear outside a host; FreeBSD drops it in ip_input. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void loopbackDestinationFromTheWireIsDiscarded(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        Ipv4Address loopback = Ipv4Address.parse("127.0.0.1");
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            t.inject(udpFrom(A, loopback, PORT, pattern(10, 1)));
            t.inject(udpFrom(A, loopback, UNBOUND, pattern(10, 2)));
            assertEquals(0, server.available(), "a datagram to 127.0.0.1 from Ethernet was delivered");
            assertEquals(0, t.ip(Ipv4Counter.DELIVERED), t.netstat());
            assertNoErrorSent(t);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // What errors carry

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void portUnreachableCarriesTheOffendingHeaderAndEightBytes(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        Packet withOptions = udpPacket().id(0x4321).options(0x94, 4, 0, 0).payload(udpAtoB(UNBOUND, pattern(100, 1)));
        t.inject(withOptions);
        byte[] message = awaitAtA(t, IcmpMessage.DESTINATION_UNREACHABLE, 1);
        assertEquals(8 + 24 + 8, message.length);
        assertError(message, IcmpMessage.DESTINATION_UNREACHABLE, IcmpMessage.UNREACHABLE_PORT, withOptions.ip());
        assertArrayEquals(new byte[4], Arrays.copyOfRange(message, 4, 8), "unused word");
        assertEquals(B, t.atASources.getLast());
        // A datagram with no data after the UDP header: the quote is all of it.
        Packet bare = udpPacket().id(0x4322).payload(udpAtoB(UNBOUND, new byte[0]));
        t.inject(bare);
        message = awaitAtA(t, IcmpMessage.DESTINATION_UNREACHABLE, 2);
        assertEquals(8 + 20 + 8, message.length);
        assertError(message, IcmpMessage.DESTINATION_UNREACHABLE, IcmpMessage.UNREACHABLE_PORT, bare.ip());
        assertEquals(2, t.b.udp().counters().get(UdpCounter.NO_PORT));
        assertEquals(2, t.icmp(IcmpCounter.ERRORS_SENT));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void protocolUnreachableForAnUnknownProtocol(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        Packet p = unknownProtocol().id(0x5151);
        t.inject(p);
        byte[] message = awaitAtA(t, IcmpMessage.DESTINATION_UNREACHABLE, 1);
        assertError(message, IcmpMessage.DESTINATION_UNREACHABLE, IcmpMessage.UNREACHABLE_PROTOCOL, p.ip());
        assertEquals(1, t.ip(Ipv4Counter.NO_PROTOCOL));
        assertEquals(0, t.ip(Ipv4Counter.DELIVERED));
        // Reassembled first: the quote is the reassembled header (fragment 0's, MF cleared, full length).
        byte[] data = pattern(1000, 2);
        t.injectAll(fragments(unknownProtocol().id(0x5152), data, 512));
        message = awaitAtA(t, IcmpMessage.DESTINATION_UNREACHABLE, 2);
        byte[] whole = unknownProtocol().id(0x5152).payload(data).ip();
        assertError(message, IcmpMessage.DESTINATION_UNREACHABLE, IcmpMessage.UNREACHABLE_PROTOCOL, whole);
    }

    static Stream<Arguments> badOptions() {
        Object[][] cases = {
            {"timestamp length runs past the header", new int[] {0x44, 12, 5, 0}, 21},
            {"length runs past the header after NOPs", new int[] {1, 1, 0x44, 8}, 23},
            {"option length below 2", new int[] {0x94, 1, 0, 0}, 21},
            {"option length 0", new int[] {0x44, 0, 0, 0}, 21},
            {"no room for a length byte", new int[] {1, 1, 1, 0x94}, 23},
            {"record route pointer 3", new int[] {7, 7, 3, 0, 0, 0, 0, 0}, 22},
            {"record route pointer 0", new int[] {7, 7, 0, 0, 0, 0, 0, 0}, 22},
            {"loose source route pointer 0", new int[] {0x83, 7, 0, 0, 0, 0, 0, 0}, 22},
            {"strict source route pointer 1", new int[] {0x89, 7, 1, 0, 0, 0, 0, 0}, 22},
            {"record route after a NOP, pointer 2", new int[] {1, 7, 7, 2, 0, 0, 0, 0}, 23},
            {"record route of length 2 (no pointer byte)", new int[] {7, 2, 0, 0}, 21},
            {"loose source route of length 2 at the end", new int[] {1, 1, 0x83, 2}, 23},
            {"timestamp of length 3", new int[] {0x44, 3, 5, 0}, 21},
            {"timestamp pointer 4", new int[] {0x44, 8, 4, 0, 0, 0, 0, 0}, 22},
            {"timestamp flag 2", new int[] {0x44, 8, 5, 2, 0, 0, 0, 0}, 23},
            {"two source routes", new int[] {0x83, 3, 4, 0x89, 3, 4, 0, 0}, 23},
        };
        List<Arguments> out = new ArrayList<>();
        for (Object[] c : cases) {
            deliveries().forEach(d -> out.add(Arguments.of(c[0], c[1], c[2], d.get()[0], d.get()[1])));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} -> pointer {2}, {3}")
    @MethodSource("badOptions")
    void parameterProblemPointsAtTheBadOption(String what, int[] options, int pointer, String name,
            SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            Packet p = udpPacket().id(0x6161).options(options).payload(udpAtoB(PORT, pattern(20, 1)));
            t.inject(p);
            assertEquals(0, server.available(), "delivered despite malformed options");
            assertEquals(1, t.ip(Ipv4Counter.BAD_OPTIONS), t.netstat());
            byte[] message = awaitAtA(t, IcmpMessage.PARAMETER_PROBLEM, 1);
            assertError(message, IcmpMessage.PARAMETER_PROBLEM, IcmpMessage.PARAMETER_PROBLEM_POINTER, p.ip());
            assertEquals(pointer, message[4] & 0xff, "pointer");
            assertArrayEquals(new byte[3], Arrays.copyOfRange(message, 5, 8), "unused bytes");
        }
    }

    static Stream<Arguments> goodOptions() {
        Object[][] cases = {
            {"record route, empty", new int[] {7, 7, 4, 0, 0, 0, 0, 0}},
            {"record route, full", new int[] {7, 7, 8, 192, 0, 2, 9, 0}},
            {"router alert", new int[] {0x94, 4, 0, 0}},
            {"NOPs", new int[] {1, 1, 1, 1}},
            {"end of list, then anything", new int[] {0, 0x44, 1, 0}},
            {"unknown option", new int[] {0x9e, 4, 1, 2}},
        };
        List<Arguments> out = new ArrayList<>();
        for (Object[] c : cases) {
            deliveries().forEach(d -> out.add(Arguments.of(c[0], c[1], d.get()[0], d.get()[1])));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}, {2}")
    @MethodSource("goodOptions")
    void wellFormedOptionsPass(String what, int[] options, String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            byte[] payload = pattern(20, 1);
            t.inject(udpPacket().options(options).payload(udpAtoB(PORT, payload)));
            assertEquals(0, t.ip(Ipv4Counter.BAD_OPTIONS), t.netstat());
            assertEquals(1, server.available(), t.netstat());
            try (UdpSocket.Datagram d = server.receive()) {
                assertArrayEquals(payload, d.bytes());
            }
            assertNoErrorSent(t);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Rate limit, broadcast echo

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void errorsAreRateLimited(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        t.resolveArp();
        int id = 0;
        int perSecond = Icmp.ERRORS_PER_SECOND;
        for (int i = 0; i < perSecond + 50; i++) {
            t.inject(udpPacket().id(++id).payload(udpAtoB(UNBOUND, pattern(4, i))));
        }
        assertEquals(perSecond, t.icmp(IcmpCounter.ERRORS_SENT), t.netstat());
        assertEquals(50, t.icmp(IcmpCounter.RATE_LIMITED));
        t.run(Duration.ofMillis(100)); // a tenth of a second: room for a tenth of the rate
        assertEquals(perSecond, t.atA(IcmpMessage.DESTINATION_UNREACHABLE).size());
        for (int i = 0; i < 20; i++) {
            t.inject(udpPacket().id(++id).payload(udpAtoB(UNBOUND, pattern(4, i))));
        }
        assertEquals(perSecond + perSecond / 10, t.icmp(IcmpCounter.ERRORS_SENT), t.netstat());
        assertEquals(50 + 20 - perSecond / 10, t.icmp(IcmpCounter.RATE_LIMITED));
        t.run(Duration.ofSeconds(10)); // the bucket holds one second's worth, no more
        for (int i = 0; i < perSecond + 50; i++) {
            t.inject(udpPacket().id(++id).payload(udpAtoB(UNBOUND, pattern(4, i))));
        }
        assertEquals(2 * perSecond + perSecond / 10, t.icmp(IcmpCounter.ERRORS_SENT), t.netstat());
        assertEquals(100 + 20 - perSecond / 10, t.icmp(IcmpCounter.RATE_LIMITED));
        t.run(Duration.ofMillis(100));
        assertEquals(2 * perSecond + perSecond / 10, t.atA(IcmpMessage.DESTINATION_UNREACHABLE).size());
        assertEquals(id, t.b.udp().counters().get(UdpCounter.NO_PORT));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void echoRequestsToBroadcastAreIgnored(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        byte[] echo = icmp(IcmpMessage.ECHO_REQUEST, 0, 0x00070001, pattern(16, 1));
        t.inject(icmpPacket(echo).destination(SUBNET_BROADCAST).ethDestination(MacAddress.BROADCAST));
        t.inject(icmpPacket(echo).destination(Ipv4Address.BROADCAST).ethDestination(MacAddress.BROADCAST));
        assertEquals(2, t.icmp(IcmpCounter.ECHO_REQUESTS), t.netstat());
        assertEquals(2, t.icmp(IcmpCounter.BROADCAST_ECHO_IGNORED));
        t.inject(icmpPacket(echo).destination(ALL_HOSTS).ethDestination(MacAddress.ofMulticast(ALL_HOSTS)));
        t.run(Duration.ofSeconds(1));
        assertEquals(0, t.icmp(IcmpCounter.ECHO_REPLIES_SENT), t.netstat());
        assertTrue(t.atA.isEmpty());
        assertEquals(0, t.ip(Ipv4Counter.SENT));
        // The same request to B itself is answered.
        t.inject(icmpPacket(echo));
        byte[] reply = awaitAtA(t, IcmpMessage.ECHO_REPLY, 1);
        assertArrayEquals(Arrays.copyOfRange(echo, 4, echo.length), Arrays.copyOfRange(reply, 4, reply.length));
        assertTrue(isChecksumValid(reply));
        assertEquals(1, t.icmp(IcmpCounter.ECHO_REPLIES_SENT));
    }

    // ------------------------------------------------------------------------------------------------
    // IPv4 input checks

    static Stream<Arguments> inputChecks() {
        Map<String, Object[]> cases = new java.util.LinkedHashMap<>();
        Supplier<Packet> base = () -> udpPacket().payload(udpAtoB(PORT, pattern(20, 1))); // 48 bytes
        cases.put("no IP bytes at all", new Object[] {base.get().truncateTo(0), Ipv4Counter.TOO_SHORT});
        cases.put("19 bytes", new Object[] {base.get().truncateTo(19), Ipv4Counter.TOO_SHORT});
        cases.put("version 6", new Object[] {base.get().version(6), Ipv4Counter.BAD_VERSION});
        cases.put("version 0", new Object[] {base.get().version(0), Ipv4Counter.BAD_VERSION});
        cases.put("header length 16", new Object[] {base.get().ihlWords(4), Ipv4Counter.BAD_HEADER_LENGTH});
        cases.put("header length 0", new Object[] {base.get().ihlWords(0), Ipv4Counter.BAD_HEADER_LENGTH});
        cases.put("header length 60 in 48 bytes", new Object[] {base.get().ihlWords(15), Ipv4Counter.BAD_HEADER_LENGTH});
        cases.put("header length 24 in 22 bytes",
                new Object[] {base.get().ihlWords(6).truncateTo(22), Ipv4Counter.BAD_HEADER_LENGTH});
        cases.put("bad checksum", new Object[] {base.get().badChecksum(), Ipv4Counter.BAD_CHECKSUM});
        cases.put("bad checksum, an option byte changed",
                new Object[] {base.get().options(1, 1, 1, 1).patch(21, 0), Ipv4Counter.BAD_CHECKSUM});
        cases.put("total length 19", new Object[] {base.get().totalLength(19), Ipv4Counter.BAD_TOTAL_LENGTH});
        cases.put("total length 0", new Object[] {base.get().totalLength(0), Ipv4Counter.BAD_TOTAL_LENGTH});
        cases.put("total length 20 with a 24-byte header",
                new Object[] {base.get().options(1, 1, 1, 1).totalLength(20), Ipv4Counter.BAD_TOTAL_LENGTH});
        cases.put("total length one past the packet", new Object[] {base.get().totalLength(49), Ipv4Counter.TOO_SHORT});
        cases.put("total length 65535", new Object[] {base.get().totalLength(65535), Ipv4Counter.TOO_SHORT});
        cases.put("limited broadcast source",
                new Object[] {udpFrom(Ipv4Address.BROADCAST, B, PORT, pattern(20, 1)), Ipv4Counter.BAD_SOURCE});
        cases.put("multicast source",
                new Object[] {udpFrom(Ipv4Address.parse("224.0.0.5"), B, PORT, pattern(20, 1)), Ipv4Counter.BAD_SOURCE});
        cases.put("loopback source",
                new Object[] {udpFrom(Ipv4Address.parse("127.0.0.1"), B, PORT, pattern(20, 1)), Ipv4Counter.BAD_SOURCE});
        cases.put("not for us, same subnet",
                new Object[] {udpFrom(A, Ipv4Address.parse("192.0.2.99"), PORT, pattern(20, 1)), Ipv4Counter.NOT_FOR_US});
        cases.put("not for us, other network",
                new Object[] {udpFrom(A, Ipv4Address.parse("198.51.100.7"), PORT, pattern(20, 1)),
                    Ipv4Counter.NOT_FOR_US});
        cases.put("not for us, another subnet's broadcast",
                new Object[] {udpFrom(A, Ipv4Address.parse("203.0.113.255"), PORT, pattern(20, 1))
                        .ethDestination(MacAddress.BROADCAST), Ipv4Counter.NOT_FOR_US});
        List<Arguments> out = new ArrayList<>();
        cases.forEach((what, c) -> deliveries().forEach(
                d -> out.add(Arguments.of(what, c[0], c[1], d.get()[0], d.get()[1]))));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} -> {2}, {3}")
    @MethodSource("inputChecks")
    void everyInputCheckHasItsDropCounter(String what, Packet packet, Ipv4Counter counter, String name,
            SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            t.inject(packet);
            assertEquals(0, server.available(), "delivered");
            t.b.ipv4().counters().snapshot().forEach((c, v) -> {
                long expected = c == Ipv4Counter.RECEIVED || c == counter ? 1 : 0;
                assertEquals(expected, v, c + t.netstat());
            });
            assertEquals(0, t.b.udp().counters().get(UdpCounter.RECEIVED));
            assertNoErrorSent(t);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void ethernetPaddingIsTrimmed(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            byte[] payload = pattern(4, 1);
            t.inject(udpPacket().payload(udpAtoB(PORT, payload)).padTo(60));
            assertEquals(1, server.available(), t.netstat());
            try (UdpSocket.Datagram d = server.receive()) {
                assertArrayEquals(payload, d.bytes());
            }
            // An echo request: its checksum covers only the total length, and so does the reply.
            byte[] echo = icmp(IcmpMessage.ECHO_REQUEST, 0, 0x00090001, pattern(4, 2));
            t.inject(icmpPacket(echo).padTo(60));
            byte[] reply = awaitAtA(t, IcmpMessage.ECHO_REPLY, 1);
            assertEquals(echo.length, reply.length, "the reply echoes the padding");
            assertArrayEquals(Arrays.copyOfRange(echo, 4, echo.length), Arrays.copyOfRange(reply, 4, reply.length));
            assertEquals(0, t.icmp(IcmpCounter.BAD_CHECKSUM));
            // An error quotes up to the total length, not into the padding.
            Packet tiny = new Packet().protocol(UNKNOWN_PROTOCOL).payload(new byte[] {1, 2}).padTo(60);
            t.inject(tiny);
            byte[] message = awaitAtA(t, IcmpMessage.DESTINATION_UNREACHABLE, 1);
            assertEquals(8 + 22, message.length, "the error quotes the padding");
            assertError(message, IcmpMessage.DESTINATION_UNREACHABLE, IcmpMessage.UNREACHABLE_PROTOCOL, tiny.ip());
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Input when the pool is exhausted

    /**
     * A UDP datagram or an echo request whose transport header straddles two segments needs a buffer to
     * read the header; when the pool has none, the packet must be dropped and counted, not thrown out of
     * the host's poll (which would also leak it).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("transports")
    void headerSplitAcrossSegmentsWithTheSegmentPoolExhausted(String what, boolean udp) {
        MbufPool pool = MbufPool.builder().segmentLimit(64).build();
        // Exact pieces cut in the middle of the UDP or ICMP header: reading it needs a new segment.
        Bench t = bench(pool, segmented(14 + 20 + 4));
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            byte[] payload = pattern(30, 1);
            Packet p = udp ? udpPacket().payload(udpAtoB(PORT, payload))
                    : icmpPacket(icmp(IcmpMessage.ECHO_REQUEST, 0, 0x00010001, payload));
            t.enqueue(p.frame());
            List<Mbuf> hog = new ArrayList<>();
            try {
                while (true) {
                    hog.add(pool.getPacket());
                }
            } catch (NoBufferSpaceException expected) {
                // the pool is exhausted
            }
            long failures = pool.stats().failures();
            try {
                assertDoesNotThrow(() -> t.sim.run(Duration.ZERO), "input threw on a pool shortage");
            } finally {
                hog.forEach(Mbuf::free);
            }
            assertTrue(pool.stats().failures() > failures, "the input path never needed a buffer: test is void");
            assertEquals(0, server.available());
            assertEquals(0, t.icmp(IcmpCounter.ECHO_REPLIES_SENT));
            // The stack still works afterwards.
            t.inject(p);
            if (udp) {
                assertEquals(1, server.available(), t.netstat());
                server.receive().close();
            } else {
                awaitAtA(t, IcmpMessage.ECHO_REPLY, 1);
            }
        }
    }

    static Stream<Arguments> transports() {
        return Stream.of(Arguments.of("UDP", true), Arguments.of("ICMP echo", false));
    }
}
