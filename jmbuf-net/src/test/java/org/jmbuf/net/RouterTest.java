package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.IcmpMessage;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;
import org.jmbuf.wire.MacAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Three hosts: A on 192.0.2.0/24 (MTU 1500), router R, and B on 198.51.100.0/24 whose link has a
 * smaller MTU (576), so R must refragment. Every scenario runs on ordinary, read-only and segmented
 * deliveries.
 */
class RouterTest {
    static final Ipv4Address A = Ipv4Address.parse("192.0.2.1");
    static final Ipv4Address R1 = Ipv4Address.parse("192.0.2.254");
    static final Ipv4Address R2 = Ipv4Address.parse("198.51.100.254");
    static final Ipv4Address B = Ipv4Address.parse("198.51.100.2");

    static Stream<Arguments> deliveries() {
        return TwoHostTest.deliveries();
    }

    private final MbufPool pool = MbufPool.builder().build();
    private Simulation sim;
    private Host a;
    private Host r;
    private Host b;

    private void topology(SimulatedLink.Delivery delivery) {
        sim = new Simulation(pool, 11);
        SimulatedLink left = sim.link(1500, SimulatedLink.Conditions.PERFECT);
        SimulatedLink right = sim.link(576, SimulatedLink.Conditions.PERFECT);
        left.setDelivery(delivery);
        right.setDelivery(delivery);
        a = sim.host("a");
        r = sim.host("r");
        b = sim.host("b");
        a.addIpv4(a.attach(left.attach("eth0", MacAddress.parse("02:00:00:00:01:01"))), A, 24);
        r.addIpv4(r.attach(left.attach("eth0", MacAddress.parse("02:00:00:00:01:fe"))), R1, 24);
        r.addIpv4(r.attach(right.attach("eth1", MacAddress.parse("02:00:00:00:02:fe"))), R2, 24);
        b.addIpv4(b.attach(right.attach("eth0", MacAddress.parse("02:00:00:00:02:02"))), B, 24);
        a.setDefaultGateway(R1);
        b.setDefaultGateway(R2);
        r.ipv4().setForwarding(true);
    }

    @AfterEach
    void tearDown() {
        if (sim != null) {
            sim.close();
        }
    }

    private static List<byte[]> listen(Host host) {
        List<byte[]> messages = new ArrayList<>();
        host.icmp().setListener((source, message) -> messages.add(message.toByteArray()));
        return messages;
    }

    private static void assertReadOnlyUnchanged(SimulatedLink.Delivery delivery) {
        if (delivery instanceof TwoHostTest.ReadOnlyDelivery ro) {
            ro.assertUnchanged();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void pingsOfEverySizeCrossTheRouterAndTheSmallerMtu(String name, SimulatedLink.Delivery delivery) {
        topology(delivery);
        List<byte[]> replies = listen(a);
        for (int size : new int[] {56, 1000, 4000, 60000}) {
            byte[] payload = new byte[size];
            for (int i = 0; i < size; i++) {
                payload[i] = (byte) (i ^ size);
            }
            replies.clear();
            a.icmp().sendEcho(B, 7, size, payload);
            assertTrue(sim.runUntil(() -> !replies.isEmpty(), Duration.ofSeconds(10)),
                    "no reply to " + size + "\n" + r.netstat() + b.netstat());
            byte[] reply = replies.getFirst();
            assertEquals(IcmpMessage.ECHO_REPLY, reply[0]);
            assertArrayEquals(payload, Arrays.copyOfRange(reply, 8, reply.length), "payload of " + size);
        }
        assertTrue(r.ipv4().counters().get(Ipv4.Ipv4Counter.FORWARDED) > 0);
        assertTrue(r.ipv4().counters().get(Ipv4.Ipv4Counter.FRAGMENTS_CREATED) > 0, "R refragments for MTU 576");
        assertReadOnlyUnchanged(delivery);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void recordRouteIsRecordedByTheRouterAndEchoedBack(String name, SimulatedLink.Delivery delivery) {
        topology(delivery);
        List<byte[]> replies = listen(a);
        // Capture the whole reply packet (with its IP header) by watching what A's IPv4 delivers.
        List<byte[]> replyHeaders = new ArrayList<>();
        a.icmp().setListener((source, message) -> replies.add(message.toByteArray()));
        a.icmp().setRawListener((m, offset) -> replyHeaders.add(m.toByteArray()));
        a.icmp().sendEcho(B, 1, 1, new byte[32], Ipv4.DEFAULT_TTL, Icmp.recordRouteOption(9));
        assertTrue(sim.runUntil(() -> !replies.isEmpty(), Duration.ofSeconds(5)), r.netstat() + b.netstat());
        byte[] packet = replyHeaders.getLast();
        int headerLength = (packet[0] & 0xf) * 4;
        assertEquals(60, headerLength, "the reply carries the option back");
        assertEquals(7, packet[20]);
        int pointer = packet[22] & 0xff;
        List<Ipv4Address> route = new ArrayList<>();
        for (int at = 23; at + 4 <= 20 + pointer - 1; at += 4) {
            route.add(new Ipv4Address(java.nio.ByteBuffer.wrap(packet, at, 4).getInt()));
        }
        // A records itself leaving, R its way out to B, B on arrival and on departure, R its way back.
        assertEquals(List.of(A, R2, B, B, R1), route, "recorded route");
        assertTrue(Ipv4Header.of(java.lang.foreign.MemorySegment.ofArray(packet)).isChecksumValid());
        assertReadOnlyUnchanged(delivery);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void timestampsWithAddressesAreRecordedAndEchoedAndOverflowIsCounted(String name,
            SimulatedLink.Delivery delivery) {
        topology(delivery);
        java.time.InstantSource noon = java.time.InstantSource.fixed(java.time.Instant.parse("2026-11-21T12:00:00Z"));
        for (Host h : List.of(a, r, b)) {
            h.ipv4().setWallClock(noon);
        }
        List<byte[]> packets = new ArrayList<>();
        a.icmp().setRawListener((m, offset) -> packets.add(m.toByteArray()));
        // Internet Timestamp, flag 1 (address and timestamp), room for 4 pairs: 4 + 8 * 4 = 36 bytes.
        byte[] option = new byte[36];
        option[0] = 68;
        option[1] = 36;
        option[2] = 5;
        option[3] = 1;
        a.icmp().sendEcho(B, 1, 1, new byte[16], Ipv4.DEFAULT_TTL, option);
        assertTrue(sim.runUntil(() -> !packets.isEmpty(), Duration.ofSeconds(5)), r.netstat() + b.netstat());
        java.nio.ByteBuffer reply = java.nio.ByteBuffer.wrap(packets.getLast());
        assertEquals(56, (reply.get(0) & 0xf) * 4);
        assertEquals(68, reply.get(20));
        assertEquals(37, reply.get(22) & 0xff, "pointer past the four filled pairs");
        assertEquals(1, (reply.get(23) & 0xff) >>> 4, "R's entry on the way back overflowed");
        List<Ipv4Address> addresses = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            addresses.add(new Ipv4Address(reply.getInt(24 + 8 * i)));
            assertEquals(12 * 3600 * 1000, reply.getInt(28 + 8 * i), "milliseconds since midnight UT");
        }
        assertEquals(List.of(A, R2, B, B), addresses);
        assertReadOnlyUnchanged(delivery);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void ttlRunningOutAtTheRouterGivesTimeExceeded(String name, SimulatedLink.Delivery delivery) {
        topology(delivery);
        List<byte[]> messages = listen(a);
        a.icmp().sendEcho(B, 1, 1, new byte[8], 1, new byte[0]);
        assertTrue(sim.runUntil(() -> !messages.isEmpty(), Duration.ofSeconds(5)));
        assertEquals(IcmpMessage.TIME_EXCEEDED, messages.getFirst()[0]);
        assertEquals(1, r.ipv4().counters().get(Ipv4.Ipv4Counter.TTL_EXCEEDED));
        assertReadOnlyUnchanged(delivery);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void dontFragmentTooBigForTheNextLinkGivesFragmentationNeededWithTheMtu(String name,
            SimulatedLink.Delivery delivery) {
        topology(delivery);
        List<byte[]> messages = listen(a);
        try (UdpSocket socket = a.udp().open()) {
            a.ipv4().output(pool.devget(java.lang.foreign.MemorySegment.ofArray(udpDatagram(1000))), A, B,
                    org.jmbuf.wire.IpProtocol.UDP, 64, true);
            assertTrue(sim.runUntil(() -> !messages.isEmpty(), Duration.ofSeconds(5)), r.netstat());
        }
        byte[] error = messages.getFirst();
        assertEquals(IcmpMessage.DESTINATION_UNREACHABLE, error[0]);
        assertEquals(IcmpMessage.UNREACHABLE_NEED_FRAGMENTATION, error[1]);
        assertEquals(576, ((error[6] & 0xff) << 8) | (error[7] & 0xff));
        assertReadOnlyUnchanged(delivery);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void sourceRoutedPacketsAreRefusedByDefault(String name, SimulatedLink.Delivery delivery) {
        topology(delivery);
        List<byte[]> replies = listen(a);
        byte[] lsrr = {(byte) 131, 7, 4, (byte) 198, 51, 100, 2, 1};
        a.icmp().sendEcho(R1, 1, 1, new byte[8], 64, lsrr);
        sim.run(Duration.ofSeconds(2));
        assertTrue(replies.isEmpty());
        assertEquals(1, r.ipv4().counters().get(Ipv4.Ipv4Counter.SOURCE_ROUTE_REFUSED));
        assertReadOnlyUnchanged(delivery);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void looseSourceRouteIsFollowedAndTheReplyComesBackReversedWhenEnabled(String name,
            SimulatedLink.Delivery delivery) {
        topology(delivery);
        r.ipv4().setSourceRouting(true);
        b.ipv4().setSourceRouting(true);
        a.ipv4().setSourceRouting(true);
        List<byte[]> replies = listen(a);
        // To R1 first, then on to B: LSRR with one address (B), padded with End of Options.
        byte[] lsrr = {(byte) 131, 7, 4, (byte) 198, 51, 100, 2, 0};
        a.icmp().sendEcho(R1, 1, 1, "routed".getBytes(), 64, lsrr);
        assertTrue(sim.runUntil(() -> !replies.isEmpty(), Duration.ofSeconds(5)), r.netstat() + b.netstat());
        assertEquals(IcmpMessage.ECHO_REPLY, replies.getFirst()[0]);
        assertEquals(1, b.icmp().counters().get(Icmp.IcmpCounter.ECHO_REQUESTS));
        assertTrue(r.ipv4().counters().get(Ipv4.Ipv4Counter.FORWARDED) >= 2, "there and back through R");
        assertReadOnlyUnchanged(delivery);
    }

    /** A UDP datagram with a zero checksum (none) to port 9 and {@code size} bytes of payload. */
    private static byte[] udpDatagram(int size) {
        byte[] d = new byte[8 + size];
        d[2] = 0;
        d[3] = 9;
        d[4] = (byte) ((8 + size) >>> 8);
        d[5] = (byte) (8 + size);
        return d;
    }
}
