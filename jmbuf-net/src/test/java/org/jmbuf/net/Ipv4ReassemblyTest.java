package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.net.Ipv4.Ipv4Counter;
import org.jmbuf.net.Ipv4Reassembly.ReassemblyCounter;
import org.jmbuf.net.Icmp.IcmpCounter;
import org.jmbuf.wire.EtherType;
import org.jmbuf.wire.IcmpMessage;
import org.jmbuf.wire.InternetChecksum;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;
import org.jmbuf.wire.MacAddress;
import org.jmbuf.wire.UdpHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Adversarial IPv4 reassembly: hand-built fragments injected into host B (in order, reversed, shuffled,
 * overlapping, duplicated, oversized, misaligned, too many, past the limits, timing out, drained), and
 * fragmentation on output checked on the wire. Every injection runs through ordinary, read-only and
 * segmented storage. The packet builder and the two-host bench here are shared with {@link IcmpRulesTest}.
 */
class Ipv4ReassemblyTest {
    static final Ipv4Address A = Ipv4Address.parse("192.0.2.1");
    static final Ipv4Address B = Ipv4Address.parse("192.0.2.2");
    static final MacAddress MAC_A = MacAddress.parse("02:00:00:00:00:01");
    static final MacAddress MAC_B = MacAddress.parse("02:00:00:00:00:02");
    static final int SOURCE_PORT = 5555;
    static final int PORT = 7000;

    // ------------------------------------------------------------------------------------------------
    // Packet builder

    /** An Ethernet frame carrying an IPv4 packet whose every field can be chosen, valid or not. */
    static final class Packet {
        MacAddress ethDestination = MAC_B;
        MacAddress ethSource = MAC_A;
        int etherType = EtherType.IPV4;
        int version = 4;
        Integer ihlWords; // null: from the options
        byte[] options = new byte[0];
        int tos;
        Integer totalLength; // null: the real length
        int id = 1;
        boolean df;
        boolean mf;
        int offset; // bytes
        int ttl = 64;
        int protocol = IpProtocol.UDP;
        Ipv4Address source = A;
        Ipv4Address destination = B;
        int checksumXor; // non-zero: a bad checksum
        byte[] payload = new byte[0];
        Integer truncateTo; // cut the IP packet to this many bytes
        int frameMin; // pad the frame up to this length
        byte padByte = (byte) 0xAA;
        int[] patch = new int[0]; // index, value pairs written into the IP packet after the checksum

        Packet copy() {
            Packet p = new Packet();
            p.ethDestination = ethDestination;
            p.ethSource = ethSource;
            p.etherType = etherType;
            p.version = version;
            p.ihlWords = ihlWords;
            p.options = options.clone();
            p.tos = tos;
            p.totalLength = totalLength;
            p.id = id;
            p.df = df;
            p.mf = mf;
            p.offset = offset;
            p.ttl = ttl;
            p.protocol = protocol;
            p.source = source;
            p.destination = destination;
            p.checksumXor = checksumXor;
            p.payload = payload.clone();
            p.truncateTo = truncateTo;
            p.frameMin = frameMin;
            p.padByte = padByte;
            p.patch = patch.clone();
            return p;
        }

        Packet id(int v) {
            id = v;
            return this;
        }

        Packet offset(int bytes) {
            offset = bytes;
            return this;
        }

        Packet mf(boolean v) {
            mf = v;
            return this;
        }

        Packet df(boolean v) {
            df = v;
            return this;
        }

        Packet protocol(int v) {
            protocol = v;
            return this;
        }

        Packet source(Ipv4Address v) {
            source = v;
            return this;
        }

        Packet destination(Ipv4Address v) {
            destination = v;
            return this;
        }

        Packet ethDestination(MacAddress v) {
            ethDestination = v;
            return this;
        }

        Packet payload(byte[] v) {
            payload = v.clone();
            return this;
        }

        Packet options(int... bytes) {
            options = new byte[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                options[i] = (byte) bytes[i];
            }
            return this;
        }

        Packet version(int v) {
            version = v;
            return this;
        }

        Packet ihlWords(int v) {
            ihlWords = v;
            return this;
        }

        Packet totalLength(int v) {
            totalLength = v;
            return this;
        }

        Packet badChecksum() {
            checksumXor = 0x0001;
            return this;
        }

        Packet truncateTo(int v) {
            truncateTo = v;
            return this;
        }

        /** Writes {@code value} at {@code index} of the IP packet after the checksum is computed. */
        Packet patch(int index, int value) {
            patch = Arrays.copyOf(patch, patch.length + 2);
            patch[patch.length - 2] = index;
            patch[patch.length - 1] = value;
            return this;
        }

        Packet padTo(int frameLength) {
            frameMin = frameLength;
            return this;
        }

        /** The IP packet: header (with a right checksum unless told otherwise), then the payload. */
        byte[] ip() {
            if (options.length % 4 != 0) {
                throw new IllegalArgumentException("options must fill whole words");
            }
            int headerLength = Ipv4Header.MIN_LENGTH + options.length;
            byte[] out = new byte[headerLength + payload.length];
            MemorySegment s = MemorySegment.ofArray(out);
            new Ipv4Header().initialize(s)
                    .setVersionAndHeaderLength(headerLength)
                    .setTos(tos)
                    .setTotalLength(totalLength != null ? totalLength : out.length)
                    .setIdentification(id)
                    .setFlagsAndFragmentOffset((df ? Ipv4Header.DONT_FRAGMENT : 0)
                            | (mf ? Ipv4Header.MORE_FRAGMENTS : 0) | (offset >>> 3) & Ipv4Header.FRAGMENT_OFFSET_MASK)
                    .setTtl(ttl)
                    .setProtocol(protocol)
                    .setSource(source)
                    .setDestination(destination);
            System.arraycopy(options, 0, out, Ipv4Header.MIN_LENGTH, options.length);
            System.arraycopy(payload, 0, out, headerLength, payload.length);
            out[0] = (byte) (version << 4 | (ihlWords != null ? ihlWords : headerLength / 4));
            int covered = Math.min(out.length, Math.max(Ipv4Header.MIN_LENGTH, (out[0] & 0xf) * 4));
            out[10] = 0;
            out[11] = 0;
            int checksum = InternetChecksum.checksum(s, 0, covered) ^ checksumXor;
            out[10] = (byte) (checksum >>> 8);
            out[11] = (byte) checksum;
            for (int i = 0; i < patch.length; i += 2) {
                out[patch[i]] = (byte) patch[i + 1];
            }
            return truncateTo != null ? Arrays.copyOf(out, truncateTo) : out;
        }

        /** The Ethernet frame: header, IP packet, then padding up to {@link #frameMin}. */
        byte[] frame() {
            byte[] ip = ip();
            byte[] frame = new byte[Math.max(14 + ip.length, frameMin)];
            MemorySegment s = MemorySegment.ofArray(frame);
            ethDestination.write(s, 0);
            ethSource.write(s, 6);
            frame[12] = (byte) (etherType >>> 8);
            frame[13] = (byte) etherType;
            System.arraycopy(ip, 0, frame, 14, ip.length);
            Arrays.fill(frame, 14 + ip.length, frame.length, padByte);
            return frame;
        }
    }

    /** A UDP datagram (header and payload) with a right checksum. */
    static byte[] udp(Ipv4Address source, Ipv4Address destination, int sourcePort, int destinationPort,
            byte[] payload) {
        byte[] out = new byte[UdpHeader.LENGTH + payload.length];
        UdpHeader.of(MemorySegment.ofArray(out)).setSourcePort(sourcePort).setDestinationPort(destinationPort)
                .setLength(out.length).setChecksum(0);
        System.arraycopy(payload, 0, out, UdpHeader.LENGTH, payload.length);
        long sum = InternetChecksum.ipv4PseudoHeader(source.bits(), destination.bits(), IpProtocol.UDP, out.length)
                + InternetChecksum.sum(MemorySegment.ofArray(out));
        int checksum = InternetChecksum.finish(sum);
        UdpHeader.of(MemorySegment.ofArray(out)).setChecksum(checksum == 0 ? 0xffff : checksum);
        return out;
    }

    /** UDP from A:{@link #SOURCE_PORT} to B:{@code port}. */
    static byte[] udpAtoB(int port, byte[] payload) {
        return udp(A, B, SOURCE_PORT, port, payload);
    }

    /** An ICMP message with a right checksum. */
    static byte[] icmp(int type, int code, int restOfHeader, byte[] body) {
        byte[] out = new byte[IcmpMessage.HEADER_LENGTH + body.length];
        IcmpMessage.of(MemorySegment.ofArray(out)).setType(type).setCode(code).setRestOfHeader(restOfHeader)
                .setChecksum(0);
        System.arraycopy(body, 0, out, IcmpMessage.HEADER_LENGTH, body.length);
        IcmpMessage.of(MemorySegment.ofArray(out)).fillChecksum();
        return out;
    }

    static byte[] pattern(int length, int seed) {
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) {
            out[i] = (byte) (i * 31 + seed * 7 + (i >>> 8));
        }
        return out;
    }

    static byte[] filled(int length, int value) {
        byte[] out = new byte[length];
        Arrays.fill(out, (byte) value);
        return out;
    }

    /** A UDP packet template from A to B. */
    static Packet udpPacket() {
        return new Packet().protocol(IpProtocol.UDP);
    }

    /** The fragment of {@code data} (an IP payload) covering {@code [from, to)}. */
    static Packet piece(Packet template, byte[] data, int from, int to, boolean more) {
        return template.copy().offset(from).mf(more).payload(Arrays.copyOfRange(data, from, to));
    }

    /** {@code data} cut into fragments of {@code size} bytes (a multiple of 8), the last taking the rest. */
    static List<Packet> fragments(Packet template, byte[] data, int size) {
        List<Packet> out = new ArrayList<>();
        for (int from = 0; from < data.length; from += size) {
            int to = Math.min(from + size, data.length);
            out.add(piece(template, data, from, to, to < data.length));
        }
        return out;
    }

    static boolean isChecksumValid(byte[] icmpMessage) {
        return InternetChecksum.fold(InternetChecksum.sum(MemorySegment.ofArray(icmpMessage))) == 0xffff;
    }

    // ------------------------------------------------------------------------------------------------
    // Deliveries

    /**
     * Puts each frame in external storage of exactly its size, cut into pieces at the given offsets (each
     * piece its own storage, so the chain really is segmented: no piece has trailing space to merge into).
     * Read-only storage is remembered, to check that nothing ever writes it.
     */
    static class StorageDelivery implements SimulatedLink.Delivery {
        final String name;
        final boolean writable;
        final int[] cuts;
        final List<MemorySegment> storages = new ArrayList<>();
        final List<byte[]> originals = new ArrayList<>();
        final Arena arena = Arena.ofAuto();

        StorageDelivery(String name, boolean writable, int... cuts) {
            this.name = name;
            this.writable = writable;
            this.cuts = cuts;
        }

        @Override
        public Mbuf deliver(MbufPool pool, byte[] frame) {
            Mbuf m = null;
            int previous = 0;
            int[] ends = Arrays.copyOf(cuts, cuts.length + 1);
            ends[cuts.length] = frame.length;
            for (int cut : ends) {
                int at = Math.min(cut, frame.length);
                if (at <= previous) {
                    continue;
                }
                MemorySegment storage = arena.allocate(at - previous);
                storage.copyFrom(MemorySegment.ofArray(frame).asSlice(previous, at - previous));
                if (!writable) {
                    storages.add(storage);
                    originals.add(Arrays.copyOfRange(frame, previous, at));
                }
                Mbuf piece = pool.wrap(storage, writable, null);
                if (m == null) {
                    m = piece;
                } else {
                    m.cat(piece);
                }
                previous = at;
            }
            return m != null ? m : pool.getPacket();
        }

        void assertUnchanged() {
            for (int i = 0; i < storages.size(); i++) {
                assertArrayEquals(originals.get(i), storages.get(i).toArray(ValueLayout.JAVA_BYTE),
                        "read-only received storage " + i + " was written");
            }
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** Each frame whole, in one read-only external storage. */
    static final class ReadOnlyDelivery extends StorageDelivery {
        ReadOnlyDelivery() {
            super("read-only", false);
        }
    }

    /** Pieces in writable external storage of exactly their size. */
    static StorageDelivery segmented(int... cuts) {
        return new StorageDelivery("segmented " + Arrays.toString(cuts), true, cuts);
    }

    /** Pieces in read-only external storage of exactly their size. */
    static StorageDelivery readOnlySegmented(int... cuts) {
        return new StorageDelivery("read-only segmented " + Arrays.toString(cuts), false, cuts);
    }

    /** Pool clusters, as {@link TwoHostTest} cuts them (small pieces merge into the first segment's room). */
    static SimulatedLink.Delivery clusterPieces(int... cuts) {
        return new SimulatedLink.Delivery() {
            @Override
            public Mbuf deliver(MbufPool pool, byte[] frame) {
                Mbuf m = pool.getPacket();
                int previous = 0;
                for (int cut : cuts) {
                    int at = Math.min(cut, frame.length);
                    if (at > previous) {
                        append(pool, m, Arrays.copyOfRange(frame, previous, at));
                        previous = at;
                    }
                }
                append(pool, m, Arrays.copyOfRange(frame, previous, frame.length));
                return m;
            }

            private void append(MbufPool pool, Mbuf m, byte[] bytes) {
                if (bytes.length == 0) {
                    return;
                }
                try (Mbuf piece = pool.getCluster(false)) {
                    piece.copyBack(0, bytes);
                    m.cat(piece.copy(0));
                }
            }

            @Override
            public String toString() {
                return "cluster pieces " + Arrays.toString(cuts);
            }
        };
    }

    /**
     * Ordinary copies, one read-only storage, pool clusters, and exact pieces (writable and read-only)
     * cut inside the Ethernet, IP and transport headers.
     */
    static Stream<Arguments> deliveries() {
        return Stream.of(
                Arguments.of("ordinary", SimulatedLink.Delivery.COPY),
                Arguments.of("read-only", new ReadOnlyDelivery()),
                Arguments.of("cluster pieces 14|34|42|300", clusterPieces(14, 34, 42, 300)),
                Arguments.of("segmented 1|13|15|21|35|37|45|600", segmented(1, 13, 15, 21, 35, 37, 45, 600)),
                Arguments.of("read-only segmented 15|30|37|41|100", readOnlySegmented(15, 30, 37, 41, 100)));
    }

    // ------------------------------------------------------------------------------------------------
    // Bench

    /** Hosts A (192.0.2.1) and B (192.0.2.2) on one link; frames are injected into B's interface. */
    static final class Bench implements AutoCloseable {
        final MbufPool pool;
        final SimulatedLink.Delivery delivery;
        final Simulation sim;
        final SimulatedLink link;
        final Host a;
        final Host b;
        final EthernetInterface aIf;
        final EthernetInterface bIf;
        /** ICMP messages that reached A (echo replies, errors). */
        final List<byte[]> atA = new ArrayList<>();
        /** The IPv4 source of each message in {@link #atA}. */
        final List<Ipv4Address> atASources = new ArrayList<>();
        /** Every frame the link carried, as sent. */
        final List<byte[]> wire = new ArrayList<>();

        Bench(MbufPool pool, SimulatedLink.Delivery delivery, int mtu) {
            this.pool = pool;
            this.delivery = delivery;
            sim = new Simulation(pool, 11);
            link = sim.link(mtu, SimulatedLink.Conditions.PERFECT);
            link.setDelivery((p, frame) -> {
                wire.add(frame.clone());
                return delivery.deliver(p, frame);
            });
            a = sim.host("a");
            b = sim.host("b");
            aIf = a.attach(link.attach("eth0", MAC_A));
            a.addIpv4(aIf, A, 24);
            bIf = b.attach(link.attach("eth0", MAC_B));
            b.addIpv4(bIf, B, 24);
            a.icmp().setListener((source, message) -> {
                atA.add(message.toByteArray());
                atASources.add(source);
            });
        }

        /** Hands {@code frame} to B's interface in storage made by the delivery, without processing it. */
        void enqueue(byte[] frame) {
            if (delivery == SimulatedLink.Delivery.COPY) {
                InputInvarianceTest.assertInvariant(frame); // every input test packet, however stored
            }
            Mbuf m = delivery.deliver(pool, frame);
            m.setReceivingInterface(bIf.index());
            bIf.receive(m);
        }

        /** Hands {@code frame} to B and lets B process it, without letting time pass. */
        void inject(byte[] frame) {
            enqueue(frame);
            sim.run(Duration.ZERO);
        }

        void inject(Packet p) {
            inject(p.frame());
        }

        void injectAll(List<Packet> packets) {
            for (Packet p : packets) {
                inject(p);
            }
        }

        void run(Duration d) {
            sim.run(d);
        }

        long ip(Ipv4Counter c) {
            return b.ipv4().counters().get(c);
        }

        long reass(ReassemblyCounter c) {
            return b.ipv4().reassembly().counters().get(c);
        }

        long icmp(IcmpCounter c) {
            return b.icmp().counters().get(c);
        }

        String netstat() {
            return "\nB:\n" + b.netstat() + "\nA:\n" + a.netstat();
        }

        /** ICMP messages at A of {@code type}. */
        List<byte[]> atA(int type) {
            return atA.stream().filter(m -> (m[0] & 0xff) == type).toList();
        }

        /** Makes B and A know each other's link-layer address (a ping from A to B). */
        void resolveArp() {
            int before = atA.size();
            assertEquals(Ipv4.OutputResult.SENT, a.icmp().sendEcho(B, 1, 1, new byte[8]));
            assertTrue(sim.runUntil(() -> atA.size() > before, Duration.ofSeconds(5)), netstat());
            atA.clear();
            atASources.clear();
        }

        @Override
        public void close() {
            sim.close();
            if (delivery instanceof StorageDelivery sd) {
                sd.assertUnchanged();
            }
        }
    }

    private Bench bench;

    private Bench bench(SimulatedLink.Delivery delivery) {
        return bench(MbufPool.builder().build(), delivery, 1500);
    }

    private Bench bench(MbufPool pool, SimulatedLink.Delivery delivery, int mtu) {
        bench = new Bench(pool, delivery, mtu);
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

    private static void assertDelivered(UdpSocket server, byte[] payload, String what) {
        assertEquals(1, server.available(), what + ": datagrams waiting");
        try (UdpSocket.Datagram d = server.receive()) {
            assertArrayEquals(payload, d.bytes(), what + ": payload");
            assertEquals(A, d.source(), what + ": source");
            assertEquals(SOURCE_PORT, d.sourcePort(), what + ": source port");
            assertEquals(B, d.destination(), what + ": destination");
        }
    }

    /** Every reassembly drop counter is zero. */
    private static void assertNoReassemblyDrops(Bench t) {
        t.b.ipv4().reassembly().counters().snapshot().forEach((c, v) -> assertEquals(0L, v, c + t.netstat()));
    }

    // ------------------------------------------------------------------------------------------------
    // Reassembly

    @Test
    void segmentedDeliveriesReallySegment() {
        MbufPool pool = MbufPool.builder().build();
        byte[] frame = pattern(700, 1);
        try (Mbuf m = segmented(1, 13, 15, 21, 35, 37, 45, 600).deliver(pool, frame)) {
            assertEquals(9, m.segmentCount());
            assertArrayEquals(frame, m.toByteArray());
        }
        try (Mbuf m = readOnlySegmented(15, 30, 37, 41, 100).deliver(pool, frame)) {
            assertEquals(6, m.segmentCount());
            assertTrue(m.isReadOnly(0, frame.length));
            assertArrayEquals(frame, m.toByteArray());
        }
    }


    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void reassemblesInOrderReversedAndShuffled(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        int fragmentsSent = 0;
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            int id = 100;
            for (String order : List.of("in order", "reversed", "shuffled", "shuffled again")) {
                id++;
                byte[] payload = pattern(2990 + id, id); // odd lengths: the last fragment is odd
                List<Packet> fragments = new ArrayList<>(fragments(udpPacket().id(id), udpAtoB(PORT, payload), 512));
                switch (order) {
                    case "reversed" -> Collections.reverse(fragments);
                    case "shuffled", "shuffled again" -> Collections.shuffle(fragments, new Random(id));
                    default -> { }
                }
                for (Packet p : fragments) {
                    assertEquals(0, server.available(), order + ": delivered before the last fragment");
                    t.inject(p);
                    fragmentsSent++;
                }
                assertDelivered(server, payload, order);
                assertEquals(0, t.b.ipv4().reassembly().pending(), order);
                assertEquals(0, t.b.ipv4().reassembly().heldBytes(), order);
            }
        }
        assertEquals(4, t.ip(Ipv4Counter.REASSEMBLED), t.netstat());
        assertEquals(fragmentsSent, t.ip(Ipv4Counter.FRAGMENTS_RECEIVED), t.netstat());
        assertEquals(4, t.b.udp().counters().get(Udp.UdpCounter.DELIVERED));
        t.run(Ipv4Reassembly.TIMEOUT.plusSeconds(1)); // completed datagrams' timers are gone
        assertNoReassemblyDrops(t);
        assertTrue(t.atA.isEmpty());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void fragmentsWithHeadersOfDifferentLengths(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            byte[] payload = pattern(1400, 18);
            List<Packet> fragments = fragments(udpPacket().id(18), udpAtoB(PORT, payload), 304);
            // An unknown option with the copied flag in every fragment, of varying length; fragment 0 the longest.
            int[][] options = {{0x9e, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {}, {0x9e, 4, 1, 2}, {1, 1, 1, 0},
                {0x9e, 8, 0, 0, 0, 0, 0, 0}};
            for (int i = 0; i < fragments.size(); i++) {
                fragments.get(i).options(options[i % options.length]);
            }
            Collections.reverse(fragments);
            t.injectAll(fragments);
            assertDelivered(server, payload, "fragments with options");
            assertNoReassemblyDrops(t);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void fragmentsOfDifferentDatagramsInterleaved(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            byte[] p1 = pattern(1500, 1);
            byte[] p2 = pattern(1500, 2);
            List<Packet> f1 = fragments(udpPacket().id(77), udpAtoB(PORT, p1), 400);
            // Same id, other protocol: a different datagram (RFC 791 keys on source, destination, protocol, id).
            List<Packet> f2 = fragments(udpPacket().id(77).protocol(253), pattern(1508, 9), 400);
            // Same id and protocol, other source.
            Packet fromC = udpPacket().id(77).source(Ipv4Address.parse("192.0.2.3"));
            List<Packet> f3 = fragments(fromC, udp(fromC.source, B, SOURCE_PORT, PORT, p2), 400);
            for (int i = 0; i < f1.size(); i++) {
                t.inject(f2.get(i));
                t.inject(f3.get(f3.size() - 1 - i));
                t.inject(f1.get(i));
            }
            assertEquals(2, server.available(), t.netstat());
            try (UdpSocket.Datagram d = server.receive()) {
                assertEquals(Ipv4Address.parse("192.0.2.3"), d.source());
                assertArrayEquals(p2, d.bytes());
            }
            assertDelivered(server, p1, "interleaved");
            assertEquals(3, t.ip(Ipv4Counter.REASSEMBLED));
            assertEquals(1, t.ip(Ipv4Counter.NO_PROTOCOL));
            assertNoReassemblyDrops(t);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void overlappingFragmentsDropTheWholeDatagramForGood(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        // Against the fragments [0, 512) and [512, 1024) of a 2000-byte UDP datagram:
        int[][] overlaps = {
            {768, 1280, 1}, // starts inside [512, 1024)
            {256, 768, 1}, // ends inside [0, 512)
            {504, 1032, 1}, // contains [512, 1024)
            {520, 1016, 1}, // lies inside [512, 1024)
            {512, 1032, 1}, // same start, longer
            {0, 504, 1}, // same start, shorter
            {1016, 2000, 0}, // a last fragment reaching back into [512, 1024)
        };
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            int id = 500;
            for (int[] o : overlaps) {
                id++;
                String what = "overlap [" + o[0] + ", " + o[1] + ")";
                byte[] data = udpAtoB(PORT, pattern(1992, id));
                Packet template = udpPacket().id(id);
                long overlapsBefore = t.reass(ReassemblyCounter.OVERLAPS);
                t.inject(piece(template, data, 0, 512, true));
                t.inject(piece(template, data, 512, 1024, true));
                assertEquals(1, t.b.ipv4().reassembly().pending(), what);
                byte[] evil = filled(o[1] - o[0], 0xEE);
                t.inject(template.copy().offset(o[0]).mf(o[2] == 1).payload(evil));
                assertEquals(overlapsBefore + 1, t.reass(ReassemblyCounter.OVERLAPS), what + t.netstat());
                assertEquals(0, t.b.ipv4().reassembly().pending(), what + ": the whole datagram goes");
                assertEquals(0, t.b.ipv4().reassembly().heldBytes(), what);
                // The rest of the good fragments must not bring the datagram back.
                t.inject(piece(template, data, 1024, 1536, true));
                t.inject(piece(template, data, 1536, 2000, false));
                assertEquals(0, server.available(), what + ": resurrected");
                assertEquals(1, t.b.ipv4().reassembly().pending(), what);
                t.run(Ipv4Reassembly.TIMEOUT.plusSeconds(1));
                assertEquals(0, t.b.ipv4().reassembly().pending(), what);
            }
            assertEquals(0, server.available());
            assertEquals(0, t.ip(Ipv4Counter.REASSEMBLED));
            assertEquals(overlaps.length, t.reass(ReassemblyCounter.OVERLAPS));
            assertEquals(overlaps.length, t.reass(ReassemblyCounter.TIMED_OUT));
            // What timed out had no fragment 0: no Time Exceeded.
            assertEquals(0, t.icmp(IcmpCounter.ERRORS_SENT), t.netstat());
            assertTrue(t.atA.isEmpty());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void exactDuplicatesAreIgnoredAndTheFirstCopyWins(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            byte[] payload = pattern(1700, 3);
            byte[] data = udpAtoB(PORT, payload);
            Packet template = udpPacket().id(4242);
            Packet p0 = piece(template, data, 0, 512, true);
            Packet p1 = piece(template, data, 512, 1024, true);
            Packet p1Other = template.copy().offset(512).mf(true).payload(filled(512, 0x55));
            Packet p2 = piece(template, data, 1024, 1536, true);
            Packet last = piece(template, data, 1536, data.length, false);
            for (Packet p : List.of(last, p0, p0, p1, p1Other, last, p1)) {
                t.inject(p);
            }
            assertEquals(0, server.available());
            assertEquals(4, t.reass(ReassemblyCounter.DUPLICATES), t.netstat());
            t.inject(p2);
            assertDelivered(server, payload, "with duplicates");
            assertEquals(0, t.reass(ReassemblyCounter.OVERLAPS));
            assertEquals(0, t.b.ipv4().reassembly().pending());
            assertEquals(0, t.b.ipv4().reassembly().heldBytes());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void pingOfDeathIsDroppedAndTheLargestDatagramIsNot(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            // A lone last fragment at offset 65528 with 16 bytes: 20 + 65544 > 65535.
            t.inject(udpPacket().id(1).offset(65528).mf(false).payload(filled(16, 0x41)));
            assertEquals(1, t.reass(ReassemblyCounter.TOO_BIG), t.netstat());
            assertEquals(0, t.b.ipv4().reassembly().pending());
            // A queued datagram, then a fragment that would take it to 65536 bytes: the datagram goes.
            byte[] data = udpAtoB(PORT, pattern(1000, 1));
            t.inject(piece(udpPacket().id(2), data, 0, 512, true));
            assertEquals(1, t.b.ipv4().reassembly().pending());
            t.inject(udpPacket().id(2).offset(65504).mf(true).payload(filled(8, 0x41))); // 20 + 65512 fits
            assertEquals(1, t.b.ipv4().reassembly().pending());
            assertEquals(1, t.reass(ReassemblyCounter.TOO_BIG));
            t.inject(udpPacket().id(2).offset(65512).mf(false).payload(filled(4, 0x41))); // 20 + 65516 > 65535
            assertEquals(2, t.reass(ReassemblyCounter.TOO_BIG), t.netstat());
            assertEquals(0, t.b.ipv4().reassembly().pending());
            assertEquals(0, t.b.ipv4().reassembly().heldBytes());
            // The largest legal datagram, 65535 bytes, in fragments of 1480 bytes: delivered whole.
            byte[] largest = pattern(65535 - 20 - 8, 5);
            List<Packet> fragments = fragments(udpPacket().id(3), udpAtoB(PORT, largest), 1480);
            Collections.shuffle(fragments, new Random(3));
            t.injectAll(fragments);
            assertDelivered(server, largest, "65535-byte datagram");
            assertEquals(2, t.reass(ReassemblyCounter.TOO_BIG));
            assertEquals(0, server.available());
        }
    }

    /**
     * The 65535 limit applies to the reassembled datagram, whose header is fragment 0's: fragment 0 with 4
     * bytes of options and later fragments without them whose data ends at 65512 make 65536 bytes.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void pingOfDeathThroughFragmentZeroOptionsIsDropped(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            byte[] data = udpAtoB(PORT, pattern(65512 - 8, 7)); // UDP length 65512: each fragment alone fits
            List<Packet> fragments = fragments(udpPacket().id(9), data, 1480);
            fragments.getFirst().options(IpOptions.NOP, IpOptions.NOP, IpOptions.NOP, IpOptions.END); // 24-byte header
            t.injectAll(fragments);
            assertEquals(0, server.available(), "a datagram of 24 + 65512 = 65536 bytes was delivered" + t.netstat());
            assertEquals(1, t.reass(ReassemblyCounter.TOO_BIG), t.netstat());
            assertEquals(0, t.b.ipv4().reassembly().pending());
        }
    }

    /** Option bytes. */
    static final class IpOptions {
        static final int END = 0;
        static final int NOP = 1;

        private IpOptions() {
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void emptyFragmentsAreDropped(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            t.inject(udpPacket().id(1).offset(8).mf(true)); // middle, empty
            t.inject(udpPacket().id(2).offset(16).mf(false)); // last, empty
            t.inject(udpPacket().id(3).offset(0).mf(true)); // first, empty
            assertEquals(3, t.reass(ReassemblyCounter.BAD_FRAGMENT), t.netstat());
            assertEquals(0, t.b.ipv4().reassembly().pending(), "an empty fragment made a queue");
            // An empty fragment of a queued datagram changes nothing: the datagram still completes.
            byte[] payload = pattern(600, 4);
            byte[] data = udpAtoB(PORT, payload);
            t.inject(piece(udpPacket().id(4), data, 0, 512, true));
            t.inject(udpPacket().id(4).offset(512).mf(true));
            t.inject(udpPacket().id(4).offset(data.length & ~7).mf(false)); // an empty "last" fragment
            assertEquals(5, t.reass(ReassemblyCounter.BAD_FRAGMENT));
            assertEquals(1, t.b.ipv4().reassembly().pending());
            t.inject(piece(udpPacket().id(4), data, 512, data.length, false));
            assertDelivered(server, payload, "after empty fragments");
            assertEquals(0, t.reass(ReassemblyCounter.BAD_END));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void misalignedNonLastFragmentsAreDropped(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            byte[] payload = pattern(300, 6);
            byte[] data = udpAtoB(PORT, payload);
            int[] badLengths = {100, 7, 1, 9, 255};
            for (int n : badLengths) {
                t.inject(udpPacket().id(6).offset(0).mf(true).payload(Arrays.copyOf(data, n)));
            }
            t.inject(udpPacket().id(6).offset(104).mf(true).payload(Arrays.copyOfRange(data, 104, 204))); // 100
            assertEquals(badLengths.length + 1, t.reass(ReassemblyCounter.BAD_FRAGMENT), t.netstat());
            assertEquals(0, t.b.ipv4().reassembly().pending());
            // An odd last fragment is fine.
            t.inject(piece(udpPacket().id(6), data, 0, 104, true));
            t.inject(piece(udpPacket().id(6), data, 104, data.length, false)); // 204 bytes
            assertDelivered(server, payload, "odd last fragment");
            assertEquals(badLengths.length + 1, t.reass(ReassemblyCounter.BAD_FRAGMENT));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void conflictingLastFragmentsDropTheDatagram(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            byte[] payload = pattern(692, 8);
            byte[] data = udpAtoB(PORT, payload); // 700 bytes
            Packet template = udpPacket().id(8);
            Packet last = piece(template, data, 512, 700, false);
            t.inject(last);
            t.inject(last); // the same last fragment again: a duplicate, not a conflict
            t.inject(piece(template, data, 0, 512, true));
            assertEquals(1, t.reass(ReassemblyCounter.DUPLICATES));
            assertEquals(0, t.reass(ReassemblyCounter.BAD_END));
            assertDelivered(server, payload, "last fragment twice");

            // Now a second last fragment that disagrees about the end (and overlaps nothing).
            Packet t9 = udpPacket().id(9);
            t.inject(piece(t9, data, 0, 256, true));
            t.inject(piece(t9, data, 512, 700, false));
            t.inject(t9.copy().offset(1024).mf(false).payload(filled(76, 0x42)));
            assertEquals(1, t.reass(ReassemblyCounter.BAD_END), t.netstat());
            assertEquals(0, t.b.ipv4().reassembly().pending());
            t.inject(piece(t9, data, 256, 512, true)); // the missing piece: no resurrection
            assertEquals(0, server.available());
            assertEquals(1, t.b.ipv4().reassembly().pending());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void dataPastTheKnownEndDropsTheDatagram(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            byte[] data = udpAtoB(PORT, pattern(692, 10)); // ends at 700
            // A more-fragments piece after the last fragment, past its end.
            Packet t1 = udpPacket().id(21);
            t.inject(piece(t1, data, 0, 256, true));
            t.inject(piece(t1, data, 512, 700, false));
            t.inject(t1.copy().offset(1024).mf(true).payload(filled(512, 0x43)));
            assertEquals(1, t.reass(ReassemblyCounter.BAD_END), t.netstat());
            assertEquals(0, t.b.ipv4().reassembly().pending());
            // The last fragment after a piece that lies past where it says the datagram ends.
            Packet t2 = udpPacket().id(22);
            t.inject(t2.copy().offset(1024).mf(true).payload(filled(512, 0x43)));
            t.inject(piece(t2, data, 512, 700, false));
            assertEquals(2, t.reass(ReassemblyCounter.BAD_END), t.netstat());
            assertEquals(0, t.b.ipv4().reassembly().pending());
            // A more-fragments piece starting right at the end (overlapping nothing).
            Packet t3 = udpPacket().id(23);
            t.inject(piece(t3, data, 0, 256, true));
            t.inject(piece(t3, data, 512, 700, false));
            t.inject(t3.copy().offset(704).mf(true).payload(filled(8, 0x44))); // [704, 712)
            assertEquals(3, t.reass(ReassemblyCounter.BAD_END), t.netstat());
            assertEquals(0, t.b.ipv4().reassembly().pending());
            assertEquals(0, server.available());
            assertEquals(0, t.reass(ReassemblyCounter.OVERLAPS), "these are end errors, not overlaps");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void atMostMaxFragmentsPerDatagram(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        int max = Ipv4Reassembly.MAX_FRAGMENTS_PER_DATAGRAM;
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            // Exactly the maximum, 8 bytes each: delivered.
            byte[] payload = pattern(max * 8 - 8, 11);
            List<Packet> fragments = fragments(udpPacket().id(31), udpAtoB(PORT, payload), 8);
            assertEquals(max, fragments.size());
            Collections.shuffle(fragments, new Random(31));
            t.injectAll(fragments);
            assertDelivered(server, payload, max + " fragments");
            assertEquals(0, t.reass(ReassemblyCounter.QUEUE_FULL));
            // Six more than the maximum: the excess is refused and the datagram never completes.
            byte[] longer = pattern((max + 6) * 8 - 8, 12);
            List<Packet> tooMany = fragments(udpPacket().id(32), udpAtoB(PORT, longer), 8);
            t.injectAll(tooMany);
            assertEquals(6, t.reass(ReassemblyCounter.QUEUE_FULL), t.netstat());
            assertEquals(0, server.available());
            assertEquals(1, t.b.ipv4().reassembly().pending());
            assertTrue(t.b.ipv4().reassembly().heldBytes() >= max * 8 + 20, "held " + t.b.ipv4().reassembly().heldBytes());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void atMostMaxDatagramsAtOnce(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        int max = Ipv4Reassembly.MAX_DATAGRAMS;
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            List<byte[]> datagrams = new ArrayList<>();
            for (int id = 1; id <= max + 1; id++) {
                byte[] data = udpAtoB(PORT, pattern(8, id));
                datagrams.add(data);
                t.inject(piece(udpPacket().id(id), data, 0, 8, true));
            }
            assertEquals(max, t.b.ipv4().reassembly().pending());
            assertEquals(1, t.reass(ReassemblyCounter.LIMIT_REACHED), t.netstat());
            // A fragment of a datagram already queued is still taken.
            t.inject(piece(udpPacket().id(1), datagrams.getFirst(), 8, 16, false));
            assertDelivered(server, pattern(8, 1), "datagram 1 at the limit");
            assertEquals(max - 1, t.b.ipv4().reassembly().pending());
            // There is room again for the refused one.
            t.inject(piece(udpPacket().id(max + 1), datagrams.getLast(), 0, 8, true));
            t.inject(piece(udpPacket().id(max + 1), datagrams.getLast(), 8, 16, false));
            assertDelivered(server, pattern(8, max + 1), "the datagram first refused");
            assertEquals(1, t.reass(ReassemblyCounter.LIMIT_REACHED));
            assertEquals(max - 1, t.b.ipv4().reassembly().pending());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void atMostMaxBytesHeld(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        int size = 32000;
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            byte[] payload1 = pattern(size + 1000 - 8, 1);
            byte[] data1 = udpAtoB(PORT, payload1);
            int accepted = 0;
            for (int id = 1; id < 200 && t.reass(ReassemblyCounter.LIMIT_REACHED) == 0; id++) {
                byte[] data = id == 1 ? data1 : udpAtoB(PORT, pattern(size + 1000 - 8, id));
                t.inject(piece(udpPacket().id(id), data, 0, size, true));
                if (t.reass(ReassemblyCounter.LIMIT_REACHED) == 0) {
                    accepted++;
                }
            }
            int held = t.b.ipv4().reassembly().heldBytes();
            assertEquals(1, t.reass(ReassemblyCounter.LIMIT_REACHED), t.netstat());
            assertEquals(accepted, t.b.ipv4().reassembly().pending());
            assertTrue(accepted >= Ipv4Reassembly.MAX_BYTES / (size + 20) && accepted <= Ipv4Reassembly.MAX_BYTES / size,
                    accepted + " fragments of " + size + " bytes held");
            assertTrue(held <= Ipv4Reassembly.MAX_BYTES && held + size > Ipv4Reassembly.MAX_BYTES, "held " + held);
            // A big fragment of a queued datagram that would pass the limit is refused too...
            t.inject(udpPacket().id(1).offset(size).mf(true).payload(filled(size, 0x45)));
            assertEquals(2, t.reass(ReassemblyCounter.LIMIT_REACHED), t.netstat());
            assertEquals(held, t.b.ipv4().reassembly().heldBytes());
            // ...a small one that fits is taken and completes its datagram.
            t.inject(piece(udpPacket().id(1), data1, size, data1.length, false));
            assertDelivered(server, payload1, "datagram 1 at the byte limit");
            assertEquals(accepted - 1, t.b.ipv4().reassembly().pending());
            assertTrue(t.b.ipv4().reassembly().heldBytes() < held);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void timeoutSendsTimeExceededWhenFragmentZeroArrived(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        byte[] data = udpAtoB(PORT, pattern(1992, 13));
        Packet template = udpPacket().id(0x1357);
        Packet p0 = piece(template, data, 0, 512, true);
        t.inject(p0);
        t.run(Duration.ofSeconds(29));
        t.inject(piece(template, data, 1024, 1536, true)); // a late fragment does not extend the time
        t.run(Ipv4Reassembly.TIMEOUT.minusSeconds(29).minusMillis(1));
        assertEquals(1, t.b.ipv4().reassembly().pending(), "expired early");
        assertEquals(0, t.reass(ReassemblyCounter.TIMED_OUT));
        assertTrue(t.sim.runUntil(() -> !t.atA.isEmpty(), Duration.ofSeconds(1)), "no Time Exceeded" + t.netstat());
        assertEquals(1, t.reass(ReassemblyCounter.TIMED_OUT));
        assertEquals(0, t.b.ipv4().reassembly().pending());
        assertEquals(0, t.b.ipv4().reassembly().heldBytes());
        assertEquals(1, t.atA.size());
        byte[] message = t.atA.getFirst();
        assertEquals(IcmpMessage.TIME_EXCEEDED, message[0]);
        assertEquals(IcmpMessage.TIME_EXCEEDED_REASSEMBLY, message[1]);
        assertTrue(isChecksumValid(message));
        assertArrayEquals(Arrays.copyOf(p0.ip(), 20 + 8), Arrays.copyOfRange(message, 8, message.length),
                "Time Exceeded must quote fragment 0's header and first 8 data bytes");
        assertEquals(1, t.icmp(IcmpCounter.ERRORS_SENT));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void timeoutWithoutFragmentZeroSendsNothing(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        byte[] data = udpAtoB(PORT, pattern(1992, 14));
        List<Packet> fragments = fragments(udpPacket().id(0x2468), data, 512);
        t.injectAll(fragments.subList(1, fragments.size()));
        assertEquals(1, t.b.ipv4().reassembly().pending());
        t.run(Ipv4Reassembly.TIMEOUT.plusSeconds(5));
        assertEquals(1, t.reass(ReassemblyCounter.TIMED_OUT));
        assertEquals(0, t.b.ipv4().reassembly().pending());
        assertEquals(0, t.b.ipv4().reassembly().heldBytes());
        assertEquals(0, t.icmp(IcmpCounter.ERRORS_SENT), t.netstat());
        assertEquals(0, t.ip(Ipv4Counter.SENT), "B sent something");
        assertTrue(t.atA.isEmpty());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void poolReclaimDrainsTheQueues(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            List<List<Packet>> datagrams = new ArrayList<>();
            for (int id = 1; id <= 3; id++) {
                List<Packet> f = fragments(udpPacket().id(id), udpAtoB(PORT, pattern(1992, id)), 512);
                datagrams.add(f);
                t.injectAll(f.subList(0, 2));
            }
            assertEquals(3, t.b.ipv4().reassembly().pending());
            long drains = t.pool.stats().drains();
            t.pool.reclaim();
            assertEquals(drains + 1, t.pool.stats().drains());
            assertEquals(0, t.b.ipv4().reassembly().pending());
            assertEquals(0, t.b.ipv4().reassembly().heldBytes());
            assertEquals(3, t.reass(ReassemblyCounter.DRAINED));
            for (List<Packet> f : datagrams) {
                t.injectAll(f.subList(2, f.size()));
            }
            assertEquals(0, server.available(), "a drained datagram came back");
            assertEquals(3, t.b.ipv4().reassembly().pending());
        }
    }

    @Test
    void clusterShortageDrainsTheQueues() {
        MbufPool pool = MbufPool.builder().clusterLimit(8).build();
        Bench t = bench(pool, SimulatedLink.Delivery.COPY, 1500);
        int id = 0;
        long drains = pool.stats().drains();
        while (pool.stats().drains() == drains && id < 100) {
            id++;
            t.inject(piece(udpPacket().id(id), udpAtoB(PORT, pattern(2992, id)), 0, 1480, true));
        }
        assertTrue(id > 1 && id < 100, "no drain after " + id + " fragments" + t.netstat());
        assertEquals(id - 1, t.reass(ReassemblyCounter.DRAINED), t.netstat());
        assertEquals(1, t.b.ipv4().reassembly().pending(), "only the fragment that needed the cluster is left");
        assertEquals(1, pool.stats().clustersInUse());
    }

    @ParameterizedTest(name = "fragment 0 {0}")
    @MethodSource("zeroFirstOrLast")
    void readOnlyFirstFragmentIsCopiedNotWritten(String when, boolean zeroLast) {
        ReadOnlyDelivery readOnly = new ReadOnlyDelivery();
        // Only fragment 0 is read-only; the others are ordinary copies.
        SimulatedLink.Delivery delivery = (pool, frame) -> {
            boolean zero = frame.length > 21 && frame[12] == 8 && frame[13] == 0 && (frame[20] & 0x1f) == 0
                    && frame[21] == 0;
            return zero && readOnly.storages.isEmpty() ? readOnly.deliver(pool, frame)
                    : pool.devget(MemorySegment.ofArray(frame));
        };
        Bench t = bench(MbufPool.builder().build(), delivery, 1500);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            byte[] payload = pattern(1500, 15);
            List<Packet> fragments = new ArrayList<>(fragments(udpPacket().id(15), udpAtoB(PORT, payload), 512));
            if (zeroLast) {
                Collections.reverse(fragments);
            }
            t.injectAll(fragments);
            assertEquals(1, readOnly.storages.size());
            assertDelivered(server, payload, "read-only fragment 0");
            readOnly.assertUnchanged();
            assertEquals(0, t.reass(ReassemblyCounter.NO_BUFFERS));
        }
        readOnly.assertUnchanged();
    }

    static Stream<Arguments> zeroFirstOrLast() {
        return Stream.of(Arguments.of("first", false), Arguments.of("last", true));
    }

    /**
     * When completing a datagram needs a buffer the pool cannot give, the pool's drain hook runs inside
     * the reassembly: it must not free the datagram being completed under the code completing it.
     */
    @Test
    void drainDuringCompletionIsSafe() {
        MbufPool pool = MbufPool.builder().segmentLimit(2).build();
        ReadOnlyDelivery readOnly = new ReadOnlyDelivery();
        SimulatedLink.Delivery delivery = (p, frame) -> readOnly.storages.isEmpty() ? readOnly.deliver(p, frame)
                : p.devget(MemorySegment.ofArray(frame));
        Bench t = bench(pool, delivery, 1500);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            byte[] payload = pattern(100, 16);
            byte[] data = udpAtoB(PORT, payload);
            t.inject(piece(udpPacket().id(16), data, 0, 64, true)); // read-only: completing copies its header
            t.inject(piece(udpPacket().id(16), data, 64, data.length, false));
            if (server.available() == 1) {
                assertDelivered(server, payload, "completed under pressure");
            } else {
                assertEquals(0, server.available());
                assertEquals(1, t.reass(ReassemblyCounter.NO_BUFFERS) + t.reass(ReassemblyCounter.DRAINED),
                        t.netstat());
            }
            assertEquals(0, t.b.ipv4().reassembly().pending());
            readOnly.assertUnchanged();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("deliveries")
    void paddedShortFragmentsAreTrimmed(String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(delivery);
        try (UdpSocket server = t.b.udp().open().bind(PORT)) {
            byte[] payload = pattern(35, 17); // UDP 43 bytes: five 8-byte fragments and a 3-byte last one
            List<Packet> fragments = fragments(udpPacket().id(17), udpAtoB(PORT, payload), 8);
            for (Packet p : fragments) {
                p.padTo(60); // minimum Ethernet frame, padded with 0xAA
            }
            Collections.reverse(fragments);
            t.injectAll(fragments);
            assertDelivered(server, payload, "padded fragments");
            assertEquals(0, t.reass(ReassemblyCounter.BAD_FRAGMENT), t.netstat());
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Fragmentation on output

    static Stream<Arguments> optionOutputCases() {
        List<Arguments> out = new ArrayList<>();
        for (int mtu : new int[] {1500, 576, 68}) {
            deliveries().forEach(d -> out.add(Arguments.of(mtu, d.get()[0], d.get()[1])));
        }
        return out.stream();
    }

    /**
     * An echo request with a 40-byte Record Route option (not copied): the option goes in fragment 0
     * only, every fragment fits, and each non-last one carries as much as fits after its own header.
     */
    @ParameterizedTest(name = "MTU {0}, {1}")
    @MethodSource("optionOutputCases")
    void optionsWithoutTheCopiedFlagGoOnlyInFragmentZero(int mtu, String name, SimulatedLink.Delivery delivery) {
        Bench t = bench(MbufPool.builder().build(), delivery, mtu);
        t.resolveArp();
        t.wire.clear();
        byte[] payload = pattern(mtu == 68 ? 400 : 3000, mtu);
        byte[] option = Icmp.recordRouteOption(9);
        assertEquals(40, option.length);
        assertEquals(Ipv4.OutputResult.SENT, t.a.icmp().sendEcho(B, 0x77, 1, payload, Ipv4.DEFAULT_TTL, option));
        assertTrue(t.sim.runUntil(() -> !t.atA(IcmpMessage.ECHO_REPLY).isEmpty(), Duration.ofSeconds(5)),
                t.netstat());
        byte[] reply = t.atA(IcmpMessage.ECHO_REPLY).getFirst();
        assertArrayEquals(payload, Arrays.copyOfRange(reply, 8, reply.length));
        for (MacAddress from : List.of(MAC_A, MAC_B)) {
            List<byte[]> sent = t.wire.stream()
                    .filter(f -> MacAddress.read(MemorySegment.ofArray(f), 6).equals(from) && f[12] == 8 && f[13] == 0)
                    .toList();
            assertTrue(sent.size() > 1, "not fragmented");
            int next = 0;
            for (int i = 0; i < sent.size(); i++) {
                Ipv4Header h = Ipv4Header.of(MemorySegment.ofArray(sent.get(i)).asSlice(14));
                String what = from + " fragment " + i + ": " + h;
                assertTrue(h.isChecksumValid(), what);
                assertTrue(h.totalLength() <= mtu, what);
                assertEquals(i == 0 ? 60 : 20, h.headerLength(), what + ": the option must be in fragment 0 only");
                if (i == 0) {
                    assertEquals(7, h.options().get(ValueLayout.JAVA_BYTE, 0), what);
                }
                assertEquals(next, h.fragmentOffset(), what);
                int length = h.totalLength() - h.headerLength();
                if (i < sent.size() - 1) {
                    assertEquals((mtu - h.headerLength()) & ~7, length, what);
                }
                next += length;
            }
            assertEquals(8 + payload.length, next);
        }
        assertEquals(0, t.link.counters().get(SimulatedLink.LinkCounter.FRAMES_TOO_LONG));
    }

    static Stream<Arguments> outputCases() {
        List<Arguments> out = new ArrayList<>();
        int[][] cases = {{1500, 1472}, {1500, 1473}, {1500, 4000}, {576, 548}, {576, 549}, {576, 4000},
            {68, 40}, {68, 41}, {68, 1000}};
        for (int[] c : cases) {
            deliveries().forEach(d -> out.add(Arguments.of(c[0], c[1], d.get()[0], d.get()[1])));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "MTU {0}, {1} bytes, {2}")
    @MethodSource("outputCases")
    void udpBiggerThanTheMtuIsFragmentedAndReassembled(int mtu, int size, String name,
            SimulatedLink.Delivery delivery) {
        Bench t = bench(MbufPool.builder().build(), delivery, mtu);
        t.resolveArp();
        t.wire.clear();
        byte[] payload = pattern(size, size);
        try (UdpSocket server = t.b.udp().open().bind(PORT);
                UdpSocket client = t.a.udp().open().bind(SOURCE_PORT)) {
            assertEquals(UdpSocket.SendResult.SENT, client.send(payload, B, PORT));
            assertTrue(t.sim.runUntil(() -> server.available() == 1, Duration.ofSeconds(5)), t.netstat());
            assertDelivered(server, payload, "MTU " + mtu);
        }
        int room = (mtu - 20) & ~7;
        int ipPayload = size + 8;
        int expected = ipPayload + 20 <= mtu ? 1 : (ipPayload + room - 1) / room;
        List<byte[]> sent = t.wire.stream()
                .filter(f -> MacAddress.read(MemorySegment.ofArray(f), 6).equals(MAC_A) && f[12] == 8 && f[13] == 0)
                .toList();
        assertEquals(expected, sent.size(), "fragments on the wire");
        assertEquals(expected == 1 ? 0 : expected, t.a.ipv4().counters().get(Ipv4Counter.FRAGMENTS_CREATED));
        assertEquals(0, t.link.counters().get(SimulatedLink.LinkCounter.FRAMES_TOO_LONG));
        int next = 0;
        int id = -1;
        for (int i = 0; i < sent.size(); i++) {
            byte[] frame = sent.get(i);
            Ipv4Header h = Ipv4Header.of(MemorySegment.ofArray(frame).asSlice(14));
            String what = "fragment " + i + ": " + h;
            assertTrue(h.isChecksumValid(), what);
            assertEquals(frame.length - 14, h.totalLength(), what);
            assertTrue(h.totalLength() <= mtu, what + " exceeds MTU " + mtu);
            assertEquals(0, h.fragmentOffset() % 8, what);
            assertEquals(next, h.fragmentOffset(), what + ": offsets must be contiguous");
            int length = h.totalLength() - h.headerLength();
            boolean last = i == sent.size() - 1;
            assertEquals(!last, h.moreFragments(), what);
            if (!last) {
                assertEquals(room, length, what + ": a non-last fragment carries as much as fits, a multiple of 8");
            }
            if (id >= 0) {
                assertEquals(id, h.identification(), what);
            }
            id = h.identification();
            next += length;
        }
        assertEquals(ipPayload, next);
    }
}
