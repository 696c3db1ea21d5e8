package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.MacAddress;
import org.junit.jupiter.api.Test;

/**
 * The outcome of receiving a frame must not depend on how the frame is stored: every frame of a corpus
 * is delivered to a fresh host as an ordinary copy, as read-only external storage, split into two
 * segments at every byte offset, and as random chains of 3 to 6 segments (some of them shared with
 * another live chain, hence read-only); what the host sends, delivers to sockets and counts must be the
 * same every time, and read-only storage must be unchanged afterwards.
 */
class InputInvarianceTest {
    static final Ipv4Address A = Ipv4Address.parse("192.0.2.1");
    static final Ipv4Address B = Ipv4Address.parse("192.0.2.2");
    static final MacAddress MAC_A = MacAddress.parse("02:00:00:00:00:01");
    static final MacAddress MAC_B = MacAddress.parse("02:00:00:00:00:02");
    static final org.jmbuf.wire.Ipv6Address A6 = org.jmbuf.wire.Ipv6Address.parse("2001:db8::1");
    static final org.jmbuf.wire.Ipv6Address B6 = org.jmbuf.wire.Ipv6Address.parse("2001:db8::2");

    /** Everything observable about one delivery. */
    record Outcome(List<String> sent, List<String> delivered, String counters) { }

    /** Delivers {@code frame} (made into a chain by {@code make}) to a fresh host B and observes it. */
    static Outcome receive(byte[] frame, Function<MbufPool, Mbuf> make) {
        return receive(MbufPool.builder().build(), frame, make);
    }

    /** As {@link #receive(byte[], Function)}, allocating from {@code pool} (which must be left quiescent). */
    static Outcome receive(MbufPool pool, byte[] frame, Function<MbufPool, Mbuf> make) {
        Simulation sim = new Simulation(pool, 1);
        List<String> sent = new ArrayList<>();
        List<String> delivered = new ArrayList<>();
        try (sim) {
            Host b = sim.host("b");
            boolean[] recording = {false};
            EthernetInterface eth = b.attach(new EthernetInterface("eth0", MAC_B, 1500, m -> {
                try (m) {
                    if (recording[0]) {
                        sent.add(HexFormat.of().formatHex(m.toByteArray()));
                    }
                }
            }));
            b.addIpv4(eth, B, 24);
            if (frame.length > 13 && frame[12] == (byte) 0x86 && frame[13] == (byte) 0xdd) {
                b.ipv6().enable(eth);
                b.ipv6().addAddress(eth, B6, 64);
                sim.run(Duration.ofSeconds(3)); // duplicate address detection completes: the addresses are usable
            }
            recording[0] = true;
            try (UdpSocket echo = b.udp().open().bind(7)) {
                Mbuf m = make.apply(pool);
                m.setReceivingInterface(eth.index());
                eth.receive(m);
                sim.run(Duration.ofSeconds(40)); // long enough for reassembly timeouts
                for (UdpSocket.Datagram next = echo.receive(); next != null; next = echo.receive()) {
                    try (UdpSocket.Datagram d = next) {
                        delivered.add(d.source() + ":" + d.sourcePort() + " " + HexFormat.of().formatHex(d.bytes()));
                    }
                }
            }
            return new Outcome(sent, delivered, b.netstat());
        }
    }

    /** A corpus recorded from real exchanges between two hosts (ARP, ping, fragments, UDP, errors). */
    static List<byte[]> recordedCorpus() {
        List<byte[]> frames = new ArrayList<>();
        MbufPool pool = MbufPool.builder().build();
        try (Simulation sim = new Simulation(pool, 5)) {
            SimulatedLink link = sim.link(1500, SimulatedLink.Conditions.PERFECT);
            link.setDelivery((p, frame) -> {
                frames.add(frame.clone());
                return SimulatedLink.Delivery.COPY.deliver(p, frame);
            });
            Host a = sim.host("a");
            Host b = sim.host("b");
            NetworkInterface ethA = a.attach(link.attach("eth0", MAC_A));
            NetworkInterface ethB = b.attach(link.attach("eth0", MAC_B));
            a.addIpv4(ethA, A, 24);
            b.addIpv4(ethB, B, 24);
            a.ipv6().enable(ethA);
            b.ipv6().enable(ethB);
            a.ipv6().addAddress(ethA, A6, 64);
            b.ipv6().addAddress(ethB, B6, 64);
            sim.run(Duration.ofSeconds(3));
            try (UdpSocket server = b.udp().open().bind(7); UdpSocket client = a.udp().open()) {
                a.icmp().sendEcho(B, 1, 1, "ping".getBytes());
                byte[] big = new byte[3000];
                Arrays.fill(big, (byte) 0x5a);
                a.icmp().sendEcho(B, 1, 2, big);
                client.send("to the echo port".getBytes(), B, 7);
                client.send("to nobody".getBytes(), B, 9);
                a.icmpv6().sendEcho(B6, 1, 3, "ping6".getBytes());
                a.icmpv6().sendEcho(B6, 1, 4, big);
                a.icmpv6().sendEcho(b.nd().linkLocal(ethB), 1, 5, "link-local".getBytes());
                client.send("six to the echo port".getBytes(), B6, 7);
                client.send("six to nobody".getBytes(), B6, 9);
                sim.run(Duration.ofSeconds(1));
                for (UdpSocket.Datagram d = server.receive(); d != null; d = server.receive()) {
                    d.close();
                }
            }
        }
        return frames;
    }

    /** Hand-made malformed frames: truncations and lies in length fields of a recorded UDP frame. */
    static List<byte[]> malformedCorpus(byte[] udpFrame) {
        List<byte[]> frames = new ArrayList<>();
        for (int cut : new int[] {13, 14, 20, 33, 34, 41, 42, udpFrame.length - 1}) {
            frames.add(Arrays.copyOf(udpFrame, cut));
        }
        byte[] badTotalLength = udpFrame.clone();
        badTotalLength[16] = (byte) 0xff;
        frames.add(badTotalLength);
        byte[] badUdpLength = udpFrame.clone();
        badUdpLength[38] = (byte) 0x7f;
        frames.add(badUdpLength);
        byte[] padded = Arrays.copyOf(udpFrame, udpFrame.length + 17);
        frames.add(padded);
        return frames;
    }

    private static Mbuf splitAt(MbufPool pool, byte[] frame, int... cuts) {
        Mbuf m = pool.getPacket();
        int previous = 0;
        int[] all = Arrays.copyOf(cuts, cuts.length + 1);
        all[cuts.length] = frame.length;
        for (int cut : all) {
            try (Mbuf piece = pool.getCluster(false)) {
                piece.copyBack(0, Arrays.copyOfRange(frame, previous, cut));
                m.cat(piece.copy(0)); // the copy shares the cluster: the piece is read-only
            }
            previous = cut;
        }
        return m;
    }

    private static final java.util.Set<String> CHECKED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Checks, once per distinct frame, that {@code frame} has the same outcome in a fresh host however it is
     * stored: as read-only storage (left unchanged), split in two at every byte offset (for long frames:
     * every offset in the first 256 bytes, where the headers are, and every 16th after), and as 5 random
     * chains of 3 to 6 segments. The adversarial suites call it for every frame they inject, so every input
     * test packet is checked.
     */
    static void assertInvariant(byte[] frame) {
        if (!CHECKED.add(HexFormat.of().formatHex(frame))) {
            return;
        }
        MbufPool shared = MbufPool.builder().build(); // one pool for every delivery of this frame
        Function<Function<MbufPool, Mbuf>, Outcome> receive = make -> receive(shared, frame, make);
        Outcome expected = receive.apply(pool -> pool.devget(MemorySegment.ofArray(frame)));
        String what = HexFormat.of().formatHex(frame, 0, Math.min(frame.length, 48));
        Arena arena = Arena.ofAuto();
        MemorySegment storage = arena.allocate(Math.max(1, frame.length));
        storage.copyFrom(MemorySegment.ofArray(frame));
        assertEquals(expected, receive.apply(pool -> pool.wrap(storage.asSlice(0, frame.length), false, null)),
                "read-only: " + what);
        assertEquals(HexFormat.of().formatHex(frame),
                HexFormat.of().formatHex(storage.asSlice(0, frame.length).toArray(ValueLayout.JAVA_BYTE)),
                "read-only storage was written: " + what);
        for (int cut = 1; cut < frame.length; cut += cut < 64 ? 1 : 64) {
            int at = cut;
            assertEquals(expected, receive.apply(pool -> splitAt(pool, frame, at)), "split at " + at + ": " + what);
        }
        SplittableRandom random = new SplittableRandom(frame.length);
        for (int round = 0; round < 3 && frame.length > 6; round++) {
            int[] cuts = random.ints(2 + random.nextInt(4), 1, frame.length).sorted().distinct().toArray();
            assertEquals(expected, receive.apply(pool -> splitAt(pool, frame, cuts)),
                    "chain cut at " + Arrays.toString(cuts) + ": " + what);
        }
    }

    @Test
    void everyFrameHasTheSameOutcomeHoweverItIsStored() {
        List<byte[]> corpus = new ArrayList<>(recordedCorpus());
        byte[] udpFrame = corpus.stream().filter(f -> f.length > 42 && f[12] == 8 && f[13] == 0 && f[23] == 17)
                .findFirst().orElseThrow();
        corpus.addAll(malformedCorpus(udpFrame));
        assertTrue(corpus.stream().filter(f -> f[12] == (byte) 0x86 && f[13] == (byte) 0xdd).count() >= 10,
                "the corpus has IPv6 traffic");
        assertTrue(corpus.size() > 15, "corpus of " + corpus.size());
        SplittableRandom random = new SplittableRandom(42);
        int deliveries = 0;
        for (byte[] frame : corpus) {
            Outcome expected = receive(frame, pool -> pool.devget(MemorySegment.ofArray(frame)));
            String what = HexFormat.of().formatHex(frame, 0, Math.min(frame.length, 48));

            Arena arena = Arena.ofAuto();
            MemorySegment storage = arena.allocate(Math.max(1, frame.length));
            storage.copyFrom(MemorySegment.ofArray(frame));
            assertEquals(expected, receive(frame, pool -> pool.wrap(storage.asSlice(0, frame.length), false, null)),
                    "read-only: " + what);
            assertEquals(HexFormat.of().formatHex(frame),
                    HexFormat.of().formatHex(storage.asSlice(0, frame.length).toArray(ValueLayout.JAVA_BYTE)),
                    "read-only storage was written: " + what);
            deliveries++;

            for (int cut = 1; cut < frame.length; cut++) {
                int at = cut;
                assertEquals(expected, receive(frame, pool -> splitAt(pool, frame, at)), "split at " + at + ": " + what);
                deliveries++;
            }
            for (int round = 0; round < 20 && frame.length > 6; round++) {
                int pieces = 3 + random.nextInt(4);
                int[] cuts = random.ints(pieces - 1, 1, frame.length).sorted().distinct().toArray();
                assertEquals(expected, receive(frame, pool -> splitAt(pool, frame, cuts)),
                        "chain cut at " + Arrays.toString(cuts) + ": " + what);
                deliveries++;
            }
        }
        assertTrue(deliveries > 1000, deliveries + " deliveries");
    }
}
