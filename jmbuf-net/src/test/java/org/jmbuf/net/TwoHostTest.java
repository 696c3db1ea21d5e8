package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.IcmpMessage;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.MacAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Two hosts on one simulated Ethernet: ARP, ping (small and fragmented), UDP, and ICMP errors, each
 * run with ordinary, read-only and oddly segmented received packets (the outcomes must not differ).
 */
class TwoHostTest {
    static final Ipv4Address A = Ipv4Address.parse("192.0.2.1");
    static final Ipv4Address B = Ipv4Address.parse("192.0.2.2");

    /** A delivery that puts each received frame in read-only external storage and remembers it. */
    static final class ReadOnlyDelivery implements SimulatedLink.Delivery {
        final List<MemorySegment> storages = new ArrayList<>();
        final List<byte[]> originals = new ArrayList<>();
        final Arena arena = Arena.ofAuto();

        @Override
        public Mbuf deliver(MbufPool pool, byte[] frame) {
            MemorySegment storage = arena.allocate(frame.length);
            storage.copyFrom(MemorySegment.ofArray(frame));
            storages.add(storage);
            originals.add(frame.clone());
            return pool.wrap(storage, false, null);
        }

        void assertUnchanged() {
            for (int i = 0; i < storages.size(); i++) {
                assertArrayEquals(originals.get(i), storages.get(i).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                        "received frame " + i + " was written");
            }
        }
    }

    /** Splits each received frame into segments at the given cut points (clamped to the frame). */
    static SimulatedLink.Delivery segmented(int... cuts) {
        return (pool, frame) -> {
            Mbuf m = pool.getPacket();
            int previous = 0;
            for (int cut : cuts) {
                int at = Math.min(cut, frame.length);
                if (at > previous) {
                    try (Mbuf piece = pool.getCluster(false)) {
                        piece.copyBack(0, Arrays.copyOfRange(frame, previous, at));
                        m.cat(piece.copy(0));
                    }
                    previous = at;
                }
            }
            try (Mbuf piece = pool.getCluster(false)) {
                piece.copyBack(0, Arrays.copyOfRange(frame, previous, frame.length));
                m.cat(piece.copy(0));
            }
            return m;
        };
    }

    static Stream<Arguments> deliveries() {
        return Stream.of(
                Arguments.of("ordinary", SimulatedLink.Delivery.COPY),
                Arguments.of("read-only", new ReadOnlyDelivery()),
                Arguments.of("segmented 1|13|15|21|35", segmented(1, 13, 15, 21, 35)),
                Arguments.of("segmented 14|34|42", segmented(14, 34, 42)));
    }

    private final MbufPool pool = MbufPool.builder().build();
    private Simulation sim;
    private Host a;
    private Host b;
    private SimulatedLink link;

    private void topology(SimulatedLink.Delivery delivery, int mtu, SimulatedLink.Conditions conditions) {
        sim = new Simulation(pool, 7);
        link = sim.link(mtu, conditions);
        link.setDelivery(delivery);
        a = sim.host("a");
        b = sim.host("b");
        a.addIpv4(a.attach(link.attach("eth0", MacAddress.parse("02:00:00:00:00:01"))), A, 24);
        b.addIpv4(b.attach(link.attach("eth0", MacAddress.parse("02:00:00:00:00:02"))), B, 24);
    }

    @AfterEach
    void tearDown() {
        if (sim != null) {
            sim.close();
        }
    }

    private List<byte[]> pingReplies(Host from) {
        List<byte[]> replies = new ArrayList<>();
        from.icmp().setListener((source, message) -> {
            if (message.byteAt(0) == IcmpMessage.ECHO_REPLY) {
                replies.add(message.toByteArray());
            }
        });
        return replies;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void pingResolvesArpAndIsAnswered(String name, SimulatedLink.Delivery delivery) {
        topology(delivery, 1500, SimulatedLink.Conditions.PERFECT);
        List<byte[]> replies = pingReplies(a);
        byte[] payload = "0123456789abcdef".getBytes();
        assertEquals(Ipv4.OutputResult.SENT, a.icmp().sendEcho(B, 0x1234, 1, payload));
        assertTrue(sim.runUntil(() -> replies.size() == 1, Duration.ofSeconds(5)), a.netstat() + b.netstat());
        byte[] reply = replies.getFirst();
        assertEquals(8 + payload.length, reply.length);
        assertArrayEquals(payload, Arrays.copyOfRange(reply, 8, reply.length));
        assertEquals(0x12, reply[4]);
        assertEquals(0x34, reply[5]);
        assertEquals(1, b.arp().counters().get(Arp.ArpCounter.REQUESTS_RECEIVED));
        assertEquals(1, a.arp().counters().get(Arp.ArpCounter.REPLIES_RECEIVED));
        assertEquals(MacAddress.parse("02:00:00:00:00:02"), a.arp().lookup(a.interfaces().get(1), B));
        if (delivery instanceof ReadOnlyDelivery ro) {
            ro.assertUnchanged();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void largePingsAreFragmentedAndReassembled(String name, SimulatedLink.Delivery delivery) {
        topology(delivery, 1500, SimulatedLink.Conditions.PERFECT);
        List<byte[]> replies = pingReplies(a);
        for (int size : new int[] {4000, 60000}) {
            byte[] payload = new byte[size];
            for (int i = 0; i < size; i++) {
                payload[i] = (byte) (i * 7 + size);
            }
            replies.clear();
            assertEquals(Ipv4.OutputResult.SENT, a.icmp().sendEcho(B, 1, size, payload));
            assertTrue(sim.runUntil(() -> replies.size() == 1, Duration.ofSeconds(5)), a.netstat() + b.netstat());
            assertArrayEquals(payload, Arrays.copyOfRange(replies.getFirst(), 8, 8 + size), "ping of " + size);
        }
        assertTrue(b.ipv4().counters().get(Ipv4.Ipv4Counter.REASSEMBLED) >= 2);
        assertTrue(a.ipv4().counters().get(Ipv4.Ipv4Counter.FRAGMENTS_CREATED) >= 3 + 41);
        assertEquals(0, b.ipv4().reassembly().pending());
        if (delivery instanceof ReadOnlyDelivery ro) {
            ro.assertUnchanged();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void udpExchangeAndPortUnreachable(String name, SimulatedLink.Delivery delivery) {
        topology(delivery, 1500, SimulatedLink.Conditions.PERFECT);
        try (UdpSocket server = b.udp().open().bind(7); UdpSocket client = a.udp().open().connect(B, 7)) {
            client.send("hello".getBytes());
            assertTrue(sim.runUntil(() -> server.available() == 1, Duration.ofSeconds(5)));
            try (UdpSocket.Datagram d = server.receive()) {
                assertArrayEquals("hello".getBytes(), d.bytes());
                assertEquals(A, d.source());
                assertEquals(client.localPort(), d.sourcePort());
                server.send(d.payload().copy(0), d.source(), d.sourcePort());
            }
            assertTrue(sim.runUntil(() -> client.available() == 1, Duration.ofSeconds(5)));
            try (UdpSocket.Datagram echo = client.receive()) {
                assertArrayEquals("hello".getBytes(), echo.bytes());
            }
            List<byte[]> errors = new ArrayList<>();
            a.icmp().setListener((source, message) -> errors.add(message.toByteArray()));
            client.send("nobody".getBytes(), B, 9);
            assertTrue(sim.runUntil(() -> errors.size() == 1, Duration.ofSeconds(5)), b.netstat());
            assertEquals(IcmpMessage.DESTINATION_UNREACHABLE, errors.getFirst()[0]);
            assertEquals(IcmpMessage.UNREACHABLE_PORT, errors.getFirst()[1]);
            assertEquals(1, b.udp().counters().get(Udp.UdpCounter.NO_PORT));
        }
        if (delivery instanceof ReadOnlyDelivery ro) {
            ro.assertUnchanged();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void lossDuplicationAndReorderingDoNotChangeWhatArrives(String name, SimulatedLink.Delivery delivery) {
        topology(delivery, 1500, new SimulatedLink.Conditions(Duration.ofMillis(1), Duration.ofMillis(5), 0.1, 0.2));
        try (UdpSocket server = b.udp().open().bind(9000); UdpSocket client = a.udp().open().connect(B, 9000)) {
            // Resolve ARP first, retrying through loss.
            for (int i = 0; i < 20 && a.arp().lookup(a.interfaces().get(1), B) == null; i++) {
                client.send(new byte[] {0});
                sim.run(Duration.ofSeconds(1));
            }
            while (server.available() > 0) {
                server.receive().close();
            }
            int sent = 200;
            for (int i = 0; i < sent; i++) {
                byte[] payload = new byte[100 + i * 13 % 2500];
                Arrays.fill(payload, (byte) i);
                payload[0] = (byte) i;
                client.send(payload);
            }
            sim.run(Duration.ofSeconds(2));
            int received = 0;
            for (UdpSocket.Datagram next = server.receive(); next != null; next = server.receive()) {
                try (UdpSocket.Datagram d = next) {
                    byte[] bytes = d.bytes();
                    int i = bytes[0] & 0xff;
                    assertEquals(100 + i * 13 % 2500, bytes.length);
                    for (byte x : bytes) {
                        assertEquals((byte) i, x);
                    }
                    received++;
                }
            }
            assertTrue(received > sent / 2, "only " + received + " of " + sent + " arrived\n" + b.netstat());
            assertTrue(link.counters().get(SimulatedLink.LinkCounter.FRAMES_LOST) > 0);
            assertTrue(link.counters().get(SimulatedLink.LinkCounter.FRAMES_DUPLICATED) > 0);
        }
        if (delivery instanceof ReadOnlyDelivery ro) {
            ro.assertUnchanged();
        }
    }
}
