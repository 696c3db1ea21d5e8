package org.jmbuf.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.net.Host;
import org.jmbuf.net.NetworkInterface;
import org.jmbuf.net.RawIpInterface;
import org.jmbuf.net.Simulation;
import org.jmbuf.net.UdpSocket;
import org.jmbuf.wire.InternetChecksum;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.Ipv6Header;
import org.jmbuf.wire.UdpHeader;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Group 9: the stack ({@code org.jmbuf.net}) from device to socket queue, on hosts with raw IP interfaces
 * (no link-layer header, no ARP or neighbour discovery in the path).
 *
 * <p>Every received packet is a {@code copyPacket} ({@code m_copypacket}) of a template whose bytes are
 * read-only external storage ({@code MEXTADD} of native memory, {@link MbufPool#wrap}), as a zero-copy
 * driver hands over a ring slot or a mapped capture: the copy shares the storage, so the stack must never
 * write it. One operation is one packet (or, for reassembly, one whole datagram) handed to
 * {@link NetworkInterface#receive}, processed by {@link Host#poll()}, and taken off the socket and freed
 * (or, for forwarding, sent out of the other interface, whose driver frees it). No Netty counterpart
 * exists; the numbers say how many packets per second one core can take in. The UDP rows take each datagram
 * with {@link UdpSocket#receive(UdpSocket.Source)}, the call that allocates nothing, but
 * {@code udpInput_ipv4Datagram}, which shows what {@link UdpSocket#receive()} adds.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Dio.netty.leakDetection.level=disabled"})
public class StackBench {
    static final Ipv4Address PEER4 = Ipv4Address.parse("198.51.100.2");
    static final Ipv4Address US4 = Ipv4Address.parse("198.51.100.1");
    static final Ipv4Address FAR4 = Ipv4Address.parse("203.0.113.2");
    static final Ipv6Address PEER6 = Ipv6Address.parse("2001:db8::2");
    static final Ipv6Address US6 = Ipv6Address.parse("2001:db8::1");
    static final int PORT = 9;
    /** The largest UDP payload over IPv4: 65535 - 20 - 8 bytes, cut into 45 fragments at an MTU of 1500. */
    static final int LARGEST_DATAGRAM = 65_507;
    /** The IP payload bytes of every fragment but the last: 1500 - 20, a multiple of 8. */
    static final int FRAGMENT_PAYLOAD = 1480;

    /** A simulation with one host whose raw IP interface {@code tun0} is up; subclasses add the rest. */
    public abstract static class OneHost {
        Simulation simulation;
        Host host;
        RawIpInterface tun;
        Arena arena;
        /** Packets the host sent out of {@code tun0} (freed on arrival: nobody is at the other end). */
        long sent;

        /** Builds the host with {@code tun0} at 198.51.100.1/24, and 2001:db8::1/64 once it is preferred. */
        void build(boolean ipv6) {
            arena = Arena.ofShared();
            simulation = new Simulation(Packets.POOL, 1);
            host = simulation.host("bench");
            tun = host.attach(new RawIpInterface("tun0", 1500, this::discard));
            host.addIpv4(tun, US4, 24);
            if (ipv6) {
                host.ipv6().addAddress(tun, US6, 64);
                boolean preferred = simulation.runUntil(() -> tun.ipv6Assignment(US6) != null
                        && tun.ipv6Assignment(US6).state() == NetworkInterface.Ipv6State.PREFERRED,
                        Duration.ofSeconds(10));
                if (!preferred) {
                    throw new IllegalStateException("duplicate address detection did not finish: " + host.netstat());
                }
            }
        }

        void discard(Mbuf m) {
            sent++;
            m.free();
        }

        /** Read-only external storage holding {@code bytes}, as a zero-copy driver would hand it over. */
        Mbuf template(byte[] bytes) {
            MemorySegment storage = arena.allocate(bytes.length, 64).copyFrom(MemorySegment.ofArray(bytes));
            return Packets.POOL.wrap(storage, false, null);
        }

        void close() {
            simulation.close();
            arena.close();
        }
    }

    /** A UDP socket bound to port 9 on both families, and templates of IPv4 and IPv6 packets of {@code size} bytes. */
    @State(Scope.Thread)
    public static class Receiver extends OneHost {
        /** The IP packet's length, headers included. */
        @Param({"64", "1500"})
        public int size;
        UdpSocket socket;
        /** The caller-owned holder every {@link UdpSocket#receive(UdpSocket.Source)} fills. */
        final UdpSocket.Source source = new UdpSocket.Source();
        Mbuf ipv4;
        Mbuf ipv6;

        @Setup(Level.Trial)
        public void setUp() {
            build(true);
            socket = host.udp().open().bind(PORT);
            ipv4 = template(udp4(size, PEER4, US4));
            ipv6 = template(udp6(size, PEER6, US6));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            ipv4.free();
            ipv6.free();
            socket.close();
            close();
        }
    }

    /** The 45 fragments of a 65,507-byte UDP datagram, and a socket bound to port 9. */
    @State(Scope.Thread)
    public static class Fragments extends OneHost {
        UdpSocket socket;
        Mbuf[] fragments;

        @Setup(Level.Trial)
        public void setUp() {
            build(false);
            socket = host.udp().open().bind(PORT);
            byte[] datagram = udp4(Ipv4Header.MIN_LENGTH + UdpHeader.LENGTH + LARGEST_DATAGRAM, PEER4, US4);
            int payload = datagram.length - Ipv4Header.MIN_LENGTH;
            int count = (payload + FRAGMENT_PAYLOAD - 1) / FRAGMENT_PAYLOAD;
            fragments = new Mbuf[count];
            for (int i = 0; i < count; i++) {
                int from = i * FRAGMENT_PAYLOAD;
                int length = Math.min(FRAGMENT_PAYLOAD, payload - from);
                byte[] fragment = new byte[Ipv4Header.MIN_LENGTH + length];
                System.arraycopy(datagram, Ipv4Header.MIN_LENGTH + from, fragment, Ipv4Header.MIN_LENGTH, length);
                boolean more = from + length < payload;
                ipv4Header(fragment, PEER4, US4, IpProtocol.UDP, 64, (more ? 0x2000 : 0) | from / 8);
                fragments[i] = template(fragment);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            for (Mbuf f : fragments) {
                f.free();
            }
            socket.close();
            close();
        }
    }

    /**
     * A router: {@code tun0} at 198.51.100.1/24, {@code tun1} at 203.0.113.1/24, forwarding on, and a
     * template of a {@code size}-byte IPv4 packet from 198.51.100.2 to 203.0.113.2 with a TTL of 64.
     */
    @State(Scope.Thread)
    public static class Router extends OneHost {
        @Param({"64", "1500"})
        public int size;
        Mbuf packet;

        @Setup(Level.Trial)
        public void setUp() {
            build(false);
            RawIpInterface out = host.attach(new RawIpInterface("tun1", 1500, this::discard));
            host.addIpv4(out, Ipv4Address.parse("203.0.113.1"), 24);
            host.ipv4().setForwarding(true);
            packet = template(udp4(size, PEER4, FAR4));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            packet.free();
            close();
        }
    }

    /** IPv4 + UDP, device to socket queue: returns the payload length the socket delivered. */
    @Benchmark
    public int udpInput_ipv4(Receiver r) {
        return receiveOne(r, r.ipv4);
    }

    /** IPv6 + UDP, device to socket queue: returns the payload length the socket delivered. */
    @Benchmark
    public int udpInput_ipv6(Receiver r) {
        return receiveOne(r, r.ipv6);
    }

    /**
     * IPv4 + UDP as {@link #udpInput_ipv4}, the datagram taken with {@link UdpSocket#receive()}, which makes
     * a {@link UdpSocket.Datagram} and its two address records: what that convenience costs.
     */
    @Benchmark
    public int udpInput_ipv4Datagram(Receiver r) {
        r.tun.receive(r.ipv4.copyPacket());
        r.host.poll();
        try (UdpSocket.Datagram d = r.socket.receive()) {
            return d.payload().length();
        }
    }

    /**
     * One packet in, its datagram taken with {@link UdpSocket#receive(UdpSocket.Source)}, which allocates
     * nothing (the source lands in the state's holder): returns the payload length.
     */
    private static int receiveOne(Receiver r, Mbuf template) {
        r.tun.receive(template.copyPacket());
        r.host.poll();
        Mbuf payload = r.socket.receive(r.source);
        int length = payload.length();
        payload.free();
        return length;
    }

    /** 45 fragments in, one reassembled 65,507-byte datagram out of the socket (one operation = one datagram). */
    @Benchmark
    public int reassembly_ipv4Udp64k(Fragments f) {
        for (Mbuf fragment : f.fragments) {
            f.tun.receive(fragment.copyPacket());
        }
        f.host.poll();
        try (UdpSocket.Datagram d = f.socket.receive()) {
            return d.payload().length();
        }
    }

    /**
     * One packet forwarded: in on {@code tun0}, TTL decremented (its header copied on write, since the
     * storage is read-only), out of {@code tun1}. Returns how many packets have left so far.
     */
    @Benchmark
    public long forward_ipv4(Router r) {
        r.tun.receive(r.packet.copyPacket());
        r.host.poll();
        return r.sent;
    }

    /** An IPv4 packet of {@code size} bytes carrying a UDP datagram from {@code source}:7 to {@code destination}:9. */
    static byte[] udp4(int size, Ipv4Address source, Ipv4Address destination) {
        byte[] b = payload(size);
        int length = size - Ipv4Header.MIN_LENGTH;
        MemorySegment udp = MemorySegment.ofArray(b).asSlice(Ipv4Header.MIN_LENGTH);
        UdpHeader.of(udp).setSourcePort(7).setDestinationPort(PORT).setLength(length)
                .fillChecksum(InternetChecksum.ipv4PseudoHeader(source.bits(), destination.bits(), IpProtocol.UDP,
                        length));
        ipv4Header(b, source, destination, IpProtocol.UDP, 64, 0);
        return b;
    }

    /** An IPv6 packet of {@code size} bytes carrying a UDP datagram from {@code source}:7 to {@code destination}:9. */
    static byte[] udp6(int size, Ipv6Address source, Ipv6Address destination) {
        byte[] b = payload(size);
        int length = size - Ipv6Header.MIN_LENGTH;
        MemorySegment bytes = MemorySegment.ofArray(b);
        Ipv6Header.of(bytes).setVersionClassAndFlow(0, 0).setPayloadLength(length).setNextHeader(IpProtocol.UDP)
                .setHopLimit(64).setSource(source).setDestination(destination);
        UdpHeader.of(bytes.asSlice(Ipv6Header.MIN_LENGTH)).setSourcePort(7).setDestinationPort(PORT)
                .setLength(length)
                .fillChecksum(InternetChecksum.ipv6PseudoHeader(source, destination, IpProtocol.UDP, length));
        return b;
    }

    /** Writes a 20-byte IPv4 header over the start of {@code b}, its total length {@code b.length}. */
    private static void ipv4Header(byte[] b, Ipv4Address source, Ipv4Address destination, int protocol, int ttl,
            int flagsAndOffset) {
        new Ipv4Header().initialize(MemorySegment.ofArray(b)).setTotalLength(b.length).setIdentification(0x1234)
                .setFlagsAndFragmentOffset(flagsAndOffset).setTtl(ttl).setProtocol(protocol).setSource(source)
                .setDestination(destination).fillChecksum();
    }

    private static byte[] payload(int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }
}
