package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.Bytes;
import org.jmbuf.wire.InternetChecksum;
import org.jmbuf.wire.IpAddress;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.Ipv6Header;
import org.jmbuf.wire.TcpHeader;
import org.jmbuf.wire.TcpOptionCursor;

/**
 * A small packetdrill: one host under test on a {@link RawIpInterface}, and a scripted peer that injects
 * segments and expects the host's answers, segment by segment. Sequence numbers are relative, as in
 * packetdrill: what the peer sends is numbered from the peer's ISN ({@link #peerIsn}) and acknowledges
 * numbers relative to the host's ISN; what the host sends is numbered from the host's ISN (learnt from
 * the first SYN the host sends on the flow) and acknowledges numbers relative to the peer's ISN. Before
 * the host has sent a SYN its ISN counts as 0, so numbers are absolute (a reset from a closed port).
 *
 * <pre>{@code
 * TcpScript s = TcpScript.ipv4();
 * TcpListener l = s.listen(80);
 * s.inject(seg("S").seq(0).mss(1460));
 * s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
 * s.inject(seg(".").seq(1).ack(1));
 * }</pre>
 *
 * Flags are written as packetdrill writes them: {@code S} SYN, {@code F} FIN, {@code R} RST, {@code P}
 * PSH, {@code U} URG and {@code .} ACK. The host runs with delayed ACKs off, and without timestamps,
 * SACK and window scaling unless a test turns them on (so that segments are exact and small); every
 * segment the host sends has its IP addresses, ports and TCP checksum checked.
 */
final class TcpScript implements AutoCloseable {
    static final Ipv4Address LOCAL4 = Ipv4Address.parse("192.0.2.1");
    static final Ipv4Address PEER4 = Ipv4Address.parse("192.0.2.2");
    static final Ipv6Address LOCAL6 = Ipv6Address.parse("2001:db8::1");
    static final Ipv6Address PEER6 = Ipv6Address.parse("2001:db8::2");
    static final int MTU = 1500;
    /** A TSval wildcard in expectations (the host's clock is its own). */
    static final long ANY = -1;

    /** What the world of one host holds: shared by every flow of a script. */
    private static final class World {
        final MbufPool pool = MbufPool.builder().build();
        final Simulation sim = new Simulation(pool, 1);
        final Host host = sim.host("h");
        final Deque<byte[]> sent = new ArrayDeque<>();
        final List<byte[]> other = new ArrayList<>();
        final boolean v6;
        final RawIpInterface ifp;

        World(boolean v6) {
            this.v6 = v6;
            ifp = host.attach(new RawIpInterface("tun0", MTU, m -> {
                try (m) {
                    byte[] b = m.toByteArray();
                    boolean tcp = b.length > 0 && ((b[0] >>> 4 & 0xf) == 4 ? b.length >= 20 && b[9] == IpProtocol.TCP
                            : b.length >= 40 && b[6] == IpProtocol.TCP);
                    (tcp ? sent : other).add(b);
                }
            }));
            host.addIpv4(ifp, LOCAL4, 24);
            if (v6) {
                host.ipv6().enable(ifp);
                host.ipv6().addAddress(ifp, LOCAL6, 64);
                sim.run(Duration.ofSeconds(3)); // duplicate address detection: the address becomes usable
                other.clear();
            }
            host.tcp().settings().setDelayedAck(Duration.ZERO).setTimestamps(false).setSack(false)
                    .setWindowScaling(false);
        }
    }

    private final World world;
    private final int peerPort;
    private int localPort;
    /** The peer's initial sequence number, absolute. */
    final int peerIsn;
    private int localIsn;
    private boolean localIsnKnown;

    private TcpScript(World world, int peerPort, int localPort, int peerIsn) {
        this.world = world;
        this.peerPort = peerPort;
        this.localPort = localPort;
        this.peerIsn = peerIsn;
    }

    /** A host with 192.0.2.1/24; the peer is 192.0.2.2 port 40000, talking to the host's port 80. */
    static TcpScript ipv4() {
        return new TcpScript(new World(false), 40000, 80, 0x7fff_0000);
    }

    /** A host with 2001:db8::1/64 (and 192.0.2.1); the peer is 2001:db8::2 port 40000, to port 80. */
    static TcpScript ipv6() {
        return new TcpScript(new World(true), 40000, 80, 0x7fff_0000);
    }

    /**
     * Another flow of the same host and peer address, from {@code peerPort} to {@code localPort}, with its
     * own ISNs (the host's still to learn). Segments the host sends are shared: {@link #expect} takes the
     * next one whatever its flow, and checks that it belongs to this one.
     */
    TcpScript flow(int peerPort, int localPort, int peerIsn) {
        return new TcpScript(world, peerPort, localPort, peerIsn);
    }

    // ------------------------------------------------------------------ the host

    Host host() {
        return world.host;
    }

    MbufPool pool() {
        return world.pool;
    }

    TcpSettings settings() {
        return world.host.tcp().settings();
    }

    long counter(Tcp.TcpCounter c) {
        return world.host.tcp().counters().get(c);
    }

    boolean isIpv6() {
        return world.v6;
    }

    IpAddress local() {
        return world.v6 ? LOCAL6 : LOCAL4;
    }

    IpAddress peer() {
        return world.v6 ? PEER6 : PEER4;
    }

    int peerPort() {
        return peerPort;
    }

    int localPort() {
        return localPort;
    }

    /** The host's ISN as learnt from its SYN on this flow. */
    int localIsn() {
        assertTrue(localIsnKnown, "the host has sent no SYN on this flow yet");
        return localIsn;
    }

    /** The host listens on this flow's local port. */
    TcpListener listen(int backlog) {
        return world.host.tcp().listen(localPort, backlog);
    }

    /** The host connects to the peer's port; the flow's local port becomes the one the host chose. */
    TcpConnection connect() {
        TcpConnection c = world.host.tcp().connect(peer(), peerPort);
        localPort = c.localPort();
        return c;
    }

    /** Runs the host and its timers for {@code d} of simulated time. */
    void advance(Duration d) {
        world.sim.run(d);
    }

    void advanceMillis(long ms) {
        advance(Duration.ofMillis(ms));
    }

    /** Lets the host do what it has to do at this instant. */
    void settle() {
        world.sim.run(Duration.ZERO);
    }

    String netstat() {
        return world.host.netstat();
    }

    // ------------------------------------------------------------------ segments

    /** A segment to inject or expect, with packetdrill's flags: {@code "S"}, {@code "S."}, {@code "P."}, ... */
    static Seg seg(String flags) {
        return new Seg(flags);
    }

    /** An option as sent or seen (NOP and End of Option List are padding and never listed). */
    sealed interface Opt {
        record Mss(int mss) implements Opt { }

        record WScale(int shift) implements Opt { }

        record SackOk() implements Opt { }

        /** TSval ({@link #ANY} matches any) and TSecr. */
        record Ts(long val, long ecr) implements Opt { }

        /** Blocks as relative {left, right} pairs. */
        record Sack(List<Long> edges) implements Opt { }

        record Unknown(int kind, int length) implements Opt { }
    }

    /** A segment description: what the peer sends, or what the host is expected to send. */
    static final class Seg {
        final int flags;
        Long seq;
        Long ack;
        Integer win;
        final List<Opt> options = new ArrayList<>();
        boolean anyOptions;
        byte[] payload = new byte[0];
        byte[] rawOptions;
        Integer dataOffset;
        Integer truncateTo;
        boolean badChecksum;
        Integer srcPort;
        Integer dstPort;
        IpAddress dstAddress;

        Seg(String f) {
            int v = 0;
            for (char c : f.toCharArray()) {
                v |= switch (c) {
                    case 'S' -> TcpHeader.SYN;
                    case 'F' -> TcpHeader.FIN;
                    case 'R' -> TcpHeader.RST;
                    case 'P' -> TcpHeader.PSH;
                    case 'U' -> TcpHeader.URG;
                    case '.' -> TcpHeader.ACK;
                    default -> throw new IllegalArgumentException("flag " + c);
                };
            }
            flags = v;
        }

        Seg seq(long relative) {
            seq = relative;
            return this;
        }

        Seg ack(long relative) {
            ack = relative;
            return this;
        }

        Seg win(int window) {
            win = window;
            return this;
        }

        Seg mss(int mss) {
            options.add(new Opt.Mss(mss));
            return this;
        }

        Seg wscale(int shift) {
            options.add(new Opt.WScale(shift));
            return this;
        }

        Seg sackOk() {
            options.add(new Opt.SackOk());
            return this;
        }

        Seg ts(long val, long ecr) {
            options.add(new Opt.Ts(val, ecr));
            return this;
        }

        /** SACK blocks: left, right, left, right... relative to the ISN of the side whose data they cover. */
        Seg sack(long... edges) {
            List<Long> l = new ArrayList<>();
            for (long e : edges) {
                l.add(e);
            }
            options.add(new Opt.Sack(l));
            return this;
        }

        /** Expect: options are not checked. */
        Seg anyOptions() {
            anyOptions = true;
            return this;
        }

        Seg payload(String text) {
            return payload(text.getBytes(StandardCharsets.US_ASCII));
        }

        Seg payload(byte[] bytes) {
            payload = bytes.clone();
            return this;
        }

        /** {@code n} bytes of payload, byte i being {@code (byte) i}. */
        Seg data(int n) {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) {
                b[i] = (byte) i;
            }
            payload = b;
            return this;
        }

        /** Inject: these option bytes after the listed options, as they are (then padded with EOL). */
        Seg rawOptions(int... bytes) {
            rawOptions = new byte[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                rawOptions[i] = (byte) bytes[i];
            }
            return this;
        }

        /** Inject: this data offset field (in bytes, a multiple of 4 from 0 to 60) instead of the right one. */
        Seg dataOffset(int bytes) {
            dataOffset = bytes;
            return this;
        }

        /** Inject: only the first {@code n} bytes of the TCP segment (the checksum over those). */
        Seg truncate(int n) {
            truncateTo = n;
            return this;
        }

        /** Inject: a wrong checksum. */
        Seg badChecksum() {
            badChecksum = true;
            return this;
        }

        Seg srcPort(int port) {
            srcPort = port;
            return this;
        }

        Seg dstPort(int port) {
            dstPort = port;
            return this;
        }

        /** Inject: to this address instead of the host's (a broadcast or multicast address). */
        Seg to(IpAddress address) {
            dstAddress = address;
            return this;
        }

        int payloadLength() {
            return payload.length;
        }
    }

    /** A segment the host sent, numbers relative to this flow's ISNs. */
    record Sent(int flags, long seq, long ack, int window, List<Opt> options, byte[] payload, int absoluteSeq,
            int absoluteAck, int sourcePort, int destinationPort) {
        boolean has(int flag) {
            return (flags & flag) != 0;
        }

        /** The TSval of the segment's timestamp option. */
        long tsVal() {
            for (Opt o : options) {
                if (o instanceof Opt.Ts ts) {
                    return ts.val();
                }
            }
            throw new AssertionError("no timestamp option in " + this);
        }

        @Override
        public String toString() {
            return describe(flags, seq, ack, window, options, payload.length) + " ports " + sourcePort + ">"
                    + destinationPort;
        }
    }

    static String flagString(int flags) {
        StringBuilder b = new StringBuilder();
        if ((flags & TcpHeader.SYN) != 0) {
            b.append('S');
        }
        if ((flags & TcpHeader.FIN) != 0) {
            b.append('F');
        }
        if ((flags & TcpHeader.RST) != 0) {
            b.append('R');
        }
        if ((flags & TcpHeader.PSH) != 0) {
            b.append('P');
        }
        if ((flags & TcpHeader.URG) != 0) {
            b.append('U');
        }
        if ((flags & TcpHeader.ACK) != 0) {
            b.append('.');
        }
        return b.toString();
    }

    private static String describe(int flags, Object seq, Object ack, Object win, Object options, int len) {
        return flagString(flags) + " seq " + seq + " ack " + ack + " win " + win + " " + options + " len " + len;
    }

    // ------------------------------------------------------------------ inject

    /** Sends {@code s} from the peer and lets the host process it. */
    void inject(Seg s) {
        byte[] packet = build(s);
        Mbuf m = world.pool.devget(MemorySegment.ofArray(packet));
        world.ifp.receive(m);
        settle();
    }

    private byte[] build(Seg s) {
        byte[] options = options(s);
        int headerLength = 20 + options.length;
        int tcpLength = headerLength + s.payload.length;
        if (s.truncateTo != null) {
            tcpLength = s.truncateTo;
        }
        byte[] tcp = new byte[Math.max(headerLength + s.payload.length, tcpLength)];
        MemorySegment t = MemorySegment.ofArray(tcp);
        Bytes.setU16(t, 0, s.srcPort != null ? s.srcPort : peerPort);
        Bytes.setU16(t, 2, s.dstPort != null ? s.dstPort : localPort);
        Bytes.setU32(t, 4, peerIsn + (int) (s.seq != null ? s.seq : 0));
        Bytes.setU32(t, 8, (s.flags & TcpHeader.ACK) != 0 || s.ack != null
                ? localIsn + (int) (s.ack != null ? s.ack : 0) : 0);
        int offset = s.dataOffset != null ? s.dataOffset : headerLength;
        Bytes.setU16(t, 12, (offset / 4) << 12 | s.flags);
        Bytes.setU16(t, 14, s.win != null ? s.win : 65535);
        System.arraycopy(options, 0, tcp, 20, options.length);
        System.arraycopy(s.payload, 0, tcp, headerLength, s.payload.length);
        tcp = Arrays.copyOf(tcp, tcpLength);
        t = MemorySegment.ofArray(tcp);
        int ipLength = world.v6 ? Ipv6Header.MIN_LENGTH : Ipv4Header.MIN_LENGTH;
        byte[] packet = new byte[ipLength + tcpLength];
        MemorySegment p = MemorySegment.ofArray(packet);
        long pseudo;
        if (world.v6) {
            Ipv6Address to = s.dstAddress != null ? (Ipv6Address) s.dstAddress : LOCAL6;
            new Ipv6Header().wrap(p).setVersionClassAndFlow(0, 0).setPayloadLength(tcpLength)
                    .setNextHeader(IpProtocol.TCP).setHopLimit(64).setSource(PEER6).setDestination(to);
            pseudo = InternetChecksum.ipv6PseudoHeader(PEER6, to, IpProtocol.TCP, tcpLength);
        } else {
            Ipv4Address to = s.dstAddress != null ? (Ipv4Address) s.dstAddress : LOCAL4;
            new Ipv4Header().initialize(p).setTotalLength(packet.length).setTtl(64).setProtocol(IpProtocol.TCP)
                    .setSource(PEER4).setDestination(to).fillChecksum();
            pseudo = InternetChecksum.ipv4PseudoHeader(PEER4.bits(), to.bits(), IpProtocol.TCP, tcpLength);
        }
        if (tcpLength >= 18) {
            Bytes.setU16(t, 16, 0);
            int sum = InternetChecksum.finish(pseudo + InternetChecksum.sum(t, 0, tcpLength));
            Bytes.setU16(t, 16, s.badChecksum ? sum ^ 0x5a5a : sum);
        }
        System.arraycopy(tcp, 0, packet, ipLength, tcpLength);
        return packet;
    }

    /** The options as Linux lays them out (NOPs before 1-, 2- and 3-byte ones), padded with EOL. */
    private byte[] options(Seg s) {
        var b = new java.io.ByteArrayOutputStream();
        for (Opt o : s.options) {
            switch (o) {
                case Opt.Mss(int mss) -> b.writeBytes(new byte[] {2, 4, (byte) (mss >>> 8), (byte) mss});
                case Opt.WScale(int shift) -> b.writeBytes(new byte[] {1, 3, 3, (byte) shift});
                case Opt.SackOk() -> b.writeBytes(new byte[] {1, 1, 4, 2});
                case Opt.Ts(long val, long ecr) -> {
                    byte[] ts = new byte[12];
                    ts[0] = 1;
                    ts[1] = 1;
                    ts[2] = 8;
                    ts[3] = 10;
                    Bytes.setU32(MemorySegment.ofArray(ts), 4, (int) val);
                    Bytes.setU32(MemorySegment.ofArray(ts), 8, (int) ecr);
                    b.writeBytes(ts);
                }
                case Opt.Sack(List<Long> edges) -> {
                    byte[] sack = new byte[4 + 4 * edges.size()];
                    sack[0] = 1;
                    sack[1] = 1;
                    sack[2] = 5;
                    sack[3] = (byte) (2 + 4 * edges.size());
                    for (int i = 0; i < edges.size(); i++) {
                        Bytes.setU32(MemorySegment.ofArray(sack), 4 + 4 * i, localIsn + edges.get(i).intValue());
                    }
                    b.writeBytes(sack);
                }
                case Opt.Unknown(int kind, int length) -> {
                    byte[] u = new byte[length];
                    u[0] = (byte) kind;
                    u[1] = (byte) length;
                    b.writeBytes(u);
                }
            }
        }
        if (s.rawOptions != null) {
            b.writeBytes(s.rawOptions);
        }
        while (b.size() % 4 != 0) {
            b.write(0);
        }
        return b.toByteArray();
    }

    // ------------------------------------------------------------------ expect

    /** Whether the host has sent a segment not yet expected. */
    boolean hasSent() {
        settle();
        return !world.sent.isEmpty();
    }

    /** Takes the next segment the host sent, parsed and checked (addresses, ports, checksum), without matching it. */
    Sent next() {
        settle();
        byte[] b = world.sent.poll();
        assertNotNull(b, "the host sent nothing\n" + netstat());
        return parse(b);
    }

    /**
     * Takes the next segment the host sent and checks it against {@code e}: flags exactly; seq; ack (if the
     * host set ACK, or {@code e} gives one); the window if {@code e} gives one; the options (NOP and EOL
     * padding aside) exactly unless {@link Seg#anyOptions()}; and the payload (length and bytes).
     */
    Sent expect(Seg e) {
        Sent got = next();
        String want = describe(e.flags, e.seq, e.ack, e.win, e.anyOptions ? "*" : e.options, e.payload.length);
        String message = "expected " + want + "\n     got " + got;
        assertEquals(flagString(e.flags), flagString(got.flags()), message);
        if (e.seq != null) {
            assertEquals((long) e.seq, got.seq(), message);
        }
        if (e.ack != null || got.has(TcpHeader.ACK)) {
            assertNotNull(e.ack, "give the ACK number to expect: " + message);
            assertEquals((long) e.ack, got.ack(), message);
        }
        if (e.win != null) {
            assertEquals((int) e.win, got.window(), message);
        }
        if (!e.anyOptions) {
            assertEquals(e.options.size(), got.options().size(), message);
            for (int i = 0; i < e.options.size(); i++) {
                Opt want1 = e.options.get(i);
                Opt have = got.options().get(i);
                if (want1 instanceof Opt.Ts(long val, long ecr) && have instanceof Opt.Ts(long v2, long e2)) {
                    if (val != ANY) {
                        assertEquals(val, v2, message);
                    }
                    assertEquals(ecr, e2, message);
                } else {
                    assertEquals(want1, have, message);
                }
            }
        }
        assertEquals(e.payload.length, got.payload().length, message);
        assertArrayEquals(e.payload, got.payload(), message);
        return got;
    }

    /** Checks that the host has sent nothing (more). */
    void expectNothing() {
        settle();
        byte[] b = world.sent.peek();
        if (b != null) {
            fail("expected nothing, but the host sent " + parse(world.sent.poll()));
        }
    }

    private Sent parse(byte[] b) {
        MemorySegment p = MemorySegment.ofArray(b);
        int ipLength;
        long pseudo;
        int tcpLength;
        if (world.v6) {
            assertEquals(6, b[0] >>> 4 & 0xf, "IP version");
            Ipv6Header ip = Ipv6Header.of(p);
            assertEquals(LOCAL6, ip.source(), "source address");
            assertEquals(PEER6, ip.destination(), "destination address");
            assertEquals(IpProtocol.TCP, ip.nextHeader());
            ipLength = Ipv6Header.MIN_LENGTH;
            tcpLength = ip.payloadLength();
            assertEquals(b.length - ipLength, tcpLength, "IPv6 payload length");
            pseudo = InternetChecksum.ipv6PseudoHeader(LOCAL6, PEER6, IpProtocol.TCP, tcpLength);
        } else {
            assertEquals(4, b[0] >>> 4 & 0xf, "IP version");
            Ipv4Header ip = Ipv4Header.of(p);
            assertTrue(ip.isChecksumValid(), "IPv4 header checksum");
            assertEquals(LOCAL4, ip.source(), "source address");
            assertEquals(PEER4, ip.destination(), "destination address");
            ipLength = ip.headerLength();
            tcpLength = ip.totalLength() - ipLength;
            assertEquals(b.length, ip.totalLength(), "IPv4 total length");
            pseudo = InternetChecksum.ipv4PseudoHeader(LOCAL4.bits(), PEER4.bits(), IpProtocol.TCP, tcpLength);
        }
        TcpHeader tcp = TcpHeader.of(p.asSlice(ipLength, tcpLength));
        assertTrue(tcp.isChecksumValid(pseudo), "TCP checksum of " + tcp);
        int flags = tcp.flags();
        if ((flags & TcpHeader.SYN) != 0 && tcp.sourcePort() == localPort && tcp.destinationPort() == peerPort) {
            localIsn = tcp.sequenceNumber();
            localIsnKnown = true;
        }
        assertEquals(localPort, tcp.sourcePort(), "source port of " + tcp);
        assertEquals(peerPort, tcp.destinationPort(), "destination port of " + tcp);
        List<Opt> options = new ArrayList<>();
        TcpOptionCursor cursor = new TcpOptionCursor().reset(tcp.options());
        while (cursor.next()) {
            assertTrue(cursor.isWellFormed(), "well-formed option " + cursor.kind());
            options.add(switch (cursor.kind()) {
                case TcpOptionCursor.MSS -> new Opt.Mss(cursor.mss());
                case TcpOptionCursor.WINDOW_SCALE -> new Opt.WScale(Bytes.u8(cursor.data(), 0));
                case TcpOptionCursor.SACK_PERMITTED -> new Opt.SackOk();
                case TcpOptionCursor.TIMESTAMP -> new Opt.Ts(cursor.timestampValue() & 0xffffffffL,
                        cursor.timestampEchoReply() & 0xffffffffL);
                case TcpOptionCursor.SACK -> {
                    List<Long> edges = new ArrayList<>();
                    for (int i = 0; i < cursor.sackBlockCount(); i++) {
                        edges.add((long) (cursor.sackLeftEdge(i) - peerIsn));
                        edges.add((long) (cursor.sackRightEdge(i) - peerIsn));
                    }
                    yield new Opt.Sack(edges);
                }
                default -> new Opt.Unknown(cursor.kind(), cursor.length());
            });
        }
        byte[] payload = tcp.payload().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        int seq = tcp.sequenceNumber();
        int ack = tcp.acknowledgmentNumber();
        return new Sent(flags, (seq - localIsn) & 0xffffffffL, (ack - peerIsn) & 0xffffffffL, tcp.window(),
                options, payload, seq, ack, tcp.sourcePort(), tcp.destinationPort());
    }

    // ------------------------------------------------------------------ common openings

    /**
     * The host listens, the peer opens (SYN with {@code mss 1460}), the host answers, the peer ACKs: returns
     * the accepted connection, ESTABLISHED, and the listener in {@code listener[0]} if given.
     */
    TcpConnection passiveOpen(TcpListener[] listener) {
        TcpListener l = listen(8);
        if (listener != null) {
            listener[0] = l;
        }
        inject(seg("S").seq(0).win(65535).mss(1460));
        expect(seg("S.").seq(0).ack(1).win(65535).mss(isIpv6() ? 1440 : 1460));
        inject(seg(".").seq(1).ack(1).win(65535));
        expectNothing();
        TcpConnection c = l.accept();
        assertNotNull(c, "accepted");
        assertEquals(TcpState.ESTABLISHED, c.state());
        if (listener == null) {
            l.close();
        }
        return c;
    }

    /** The host connects, the peer answers with a SYN-ACK ({@code mss 1460}), the host ACKs: ESTABLISHED. */
    TcpConnection activeOpen() {
        TcpConnection c = connect();
        expect(seg("S").seq(0).win(65535).mss(isIpv6() ? 1440 : 1460));
        inject(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        expect(seg(".").seq(1).ack(1).win(65535));
        assertEquals(TcpState.ESTABLISHED, c.state());
        return c;
    }

    @Override
    public void close() {
        world.sim.close();
        world.sent.clear();
        assertTrue(world.pool.stats().isQuiescent(), () -> "pool in use after close: " + world.pool.stats()
                + "\n" + world.pool.leakReport());
    }

    /** The connections the host still has. */
    List<TcpConnection> connections() {
        return world.host.tcp().connections();
    }

    static String text(TcpConnection c) {
        byte[] b = new byte[c.readableBytes()];
        int n = c.read(b, 0, b.length);
        return new String(b, 0, Math.max(n, 0), StandardCharsets.US_ASCII);
    }
}
