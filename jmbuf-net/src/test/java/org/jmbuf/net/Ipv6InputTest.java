package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.Icmpv6Message;
import org.jmbuf.wire.InternetChecksum;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.Ipv6Header;
import org.jmbuf.wire.MacAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Adversarial IPv6 packets injected into host b (as if sent by a): every extension-header rule of RFC
 * 8200, every reassembly rule (RFC 5722, 6946, 7112), the ICMPv6 error rules of RFC 4443 §2.4, Router
 * Advertisement processing and KAME scope embedding on read-only storage. Each checks counters and the
 * errors a receives.
 */
@org.junit.jupiter.params.ParameterizedClass(name = "{0}")
@org.junit.jupiter.params.provider.ValueSource(strings = {"ordinary", "read-only"})
class Ipv6InputTest {
    /** The whole suite runs twice: injected frames in pool storage, then in read-only external storage. */
    @org.junit.jupiter.params.Parameter
    String storage;

    private final TwoHostTest.ReadOnlyDelivery readOnly = new TwoHostTest.ReadOnlyDelivery();

    static final MacAddress MAC_A = Ipv6TwoHostTest.MAC_A;
    static final MacAddress MAC_B = Ipv6TwoHostTest.MAC_B;
    static final Ipv6Address A = Ipv6TwoHostTest.A;
    static final Ipv6Address B = Ipv6TwoHostTest.B;
    static final Ipv6Address ALL_NODES = Ipv6Address.ALL_NODES;

    private final MbufPool pool = MbufPool.builder().build();
    private Simulation sim;
    private Host a;
    private Host b;
    private NetworkInterface ethA;
    private NetworkInterface ethB;
    private final List<byte[]> atA = new ArrayList<>();
    private long repliesBefore;

    @BeforeEach
    void setUp() {
        sim = new Simulation(pool, 5);
        SimulatedLink link = sim.link(1500, SimulatedLink.Conditions.PERFECT);
        a = sim.host("a");
        b = sim.host("b");
        ethA = a.attach(link.attach("eth0", MAC_A));
        ethB = b.attach(link.attach("eth0", MAC_B));
        a.ipv6().addAddress(ethA, A, 64);
        b.ipv6().addAddress(ethB, B, 64);
        assertTrue(sim.runUntil(() -> Ipv6TwoHostTest.preferred(ethA, A) && Ipv6TwoHostTest.preferred(ethB, B)
                && Ipv6TwoHostTest.preferred(ethA, a.nd().linkLocal(ethA))
                && Ipv6TwoHostTest.preferred(ethB, b.nd().linkLocal(ethB)), Duration.ofSeconds(5)));
        a.icmpv6().setListener((source, message) -> {
            if (Icmpv6Message.isError(Byte.toUnsignedInt(message.byteAt(0)))) {
                atA.add(message.toByteArray());
            }
        });
        a.icmpv6().sendEcho(B, 1, 1, new byte[4]); // both neighbour caches learn each other
        assertTrue(sim.runUntil(() -> a.icmpv6().counters().get(Icmpv6.Icmpv6Counter.ECHO_REPLIES_RECEIVED) == 1,
                Duration.ofSeconds(5)));
        repliesBefore = b.icmpv6().counters().get(Icmpv6.Icmpv6Counter.ECHO_REPLIES_SENT);
    }

    @AfterEach
    void tearDown() {
        sim.close();
        readOnly.assertUnchanged(); // no input path wrote a received byte
    }

    // ------------------------------------------------------------------ packet building

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] ipv6(Ipv6Address source, Ipv6Address destination, int next, byte[] payload) {
        byte[] p = new byte[40 + payload.length];
        Ipv6Header.of(MemorySegment.ofArray(p)).setVersionClassAndFlow(0, 0).setPayloadLength(payload.length)
                .setNextHeader(next).setHopLimit(64).setSource(source).setDestination(destination);
        System.arraycopy(payload, 0, p, 40, payload.length);
        return p;
    }

    /** An ICMPv6 message of {@code type} with its checksum for {@code source} to {@code destination}. */
    static byte[] icmp(Ipv6Address source, Ipv6Address destination, int type, int code, byte[] body) {
        byte[] m = new byte[4 + body.length];
        m[0] = (byte) type;
        m[1] = (byte) code;
        System.arraycopy(body, 0, m, 4, body.length);
        long sum = InternetChecksum.ipv6PseudoHeader(source, destination, IpProtocol.ICMPV6, m.length)
                + InternetChecksum.sum(MemorySegment.ofArray(m));
        int checksum = InternetChecksum.finish(sum);
        m[2] = (byte) (checksum >> 8);
        m[3] = (byte) checksum;
        return m;
    }

    static byte[] echo(Ipv6Address source, Ipv6Address destination, int sequence, int dataLength) {
        byte[] body = new byte[4 + dataLength];
        body[0] = 0x42;
        body[3] = (byte) sequence;
        for (int i = 4; i < body.length; i++) {
            body[i] = (byte) i;
        }
        return icmp(source, destination, Icmpv6Message.ECHO_REQUEST, 0, body);
    }

    /** A generic extension header (Hop-by-Hop, Destination Options) holding {@code options}, padded with PadN. */
    static byte[] options(int next, int... options) {
        int length = (2 + options.length + 7) / 8 * 8;
        byte[] h = new byte[length];
        h[0] = (byte) next;
        h[1] = (byte) (length / 8 - 1);
        for (int i = 0; i < options.length; i++) {
            h[2 + i] = (byte) options[i];
        }
        int pad = length - 2 - options.length;
        if (pad == 1) {
            h[length - 1] = 0; // Pad1
        } else if (pad > 1) {
            h[2 + options.length] = 1; // PadN
            h[3 + options.length] = (byte) (pad - 2);
        }
        return h;
    }

    static byte[] routing(int next, int type, int segmentsLeft) {
        byte[] h = new byte[24];
        h[0] = (byte) next;
        h[1] = 2;
        h[2] = (byte) type;
        h[3] = (byte) segmentsLeft;
        return h;
    }

    static byte[] fragment(int next, int offset, boolean more, int identification) {
        int word = offset | (more ? 1 : 0);
        return new byte[] {(byte) next, 0, (byte) (word >> 8), (byte) word, (byte) (identification >> 24),
                (byte) (identification >> 16), (byte) (identification >> 8), (byte) identification};
    }

    private void inject(byte[] packet) {
        inject(MAC_B, packet);
    }

    private void inject(MacAddress destination, byte[] packet) {
        byte[] frame = new byte[14 + packet.length];
        MemorySegment s = MemorySegment.ofArray(frame);
        destination.write(s, 0);
        MAC_A.write(s, 6);
        frame[12] = (byte) 0x86;
        frame[13] = (byte) 0xdd;
        System.arraycopy(packet, 0, frame, 14, packet.length);
        if ("ordinary".equals(storage)) {
            InputInvarianceTest.assertInvariant(frame); // every input test packet, however stored
        }
        Mbuf m = "read-only".equals(storage) ? readOnly.deliver(pool, frame) : pool.devget(s);
        m.setReceivingInterface(ethB.index());
        ethB.receive(m);
        sim.run(Duration.ofMillis(50));
    }

    private long ip(Ipv6.Ipv6Counter c) {
        return b.ipv6().counters().get(c);
    }

    private long frag(Ipv6Reassembly.ReassemblyCounter c) {
        return b.ipv6().reassembly().counters().get(c);
    }

    private long icmp6(Icmpv6.Icmpv6Counter c) {
        return b.icmpv6().counters().get(c);
    }

    private static int pointer(byte[] error) {
        return MemorySegment.ofArray(error).get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 4);
    }

    private void assertOneError(int type, int code, int pointer) {
        assertEquals(1, atA.size(), "errors at a\n" + b.netstat());
        byte[] e = atA.getFirst();
        assertEquals(type, Byte.toUnsignedInt(e[0]), "type");
        assertEquals(code, e[1], "code");
        assertEquals(pointer, pointer(e), "pointer");
        atA.clear();
    }

    private long echoReplies() {
        return b.icmpv6().counters().get(Icmpv6.Icmpv6Counter.ECHO_REPLIES_SENT) - repliesBefore;
    }

    // ------------------------------------------------------------------ fixed header

    @Test
    void fixedHeaderChecks() {
        byte[] good = ipv6(A, B, IpProtocol.ICMPV6, echo(A, B, 1, 8));
        inject(good);
        assertEquals(1, echoReplies());
        byte[] v4 = good.clone();
        v4[0] = 0x40;
        inject(v4);
        assertEquals(1, ip(Ipv6.Ipv6Counter.BAD_VERSION));
        inject(Arrays.copyOf(good, 30));
        byte[] longer = good.clone();
        longer[5] += 8; // payload length past the packet
        inject(longer);
        assertEquals(2, ip(Ipv6.Ipv6Counter.TOO_SHORT));
        inject(concat(good, new byte[10])); // link-layer padding is trimmed
        assertEquals(2, echoReplies());
        inject(ipv6(Ipv6Address.parse("ff02::1"), B, IpProtocol.ICMPV6, echo(A, B, 1, 8)));
        assertEquals(1, ip(Ipv6.Ipv6Counter.BAD_SOURCE));
        inject(ipv6(Ipv6Address.parse("fe80:7::1"), B, IpProtocol.ICMPV6, echo(A, B, 1, 8)));
        inject(ipv6(Ipv6Address.LOOPBACK, B, IpProtocol.ICMPV6, echo(A, B, 1, 8)));
        assertEquals(2, ip(Ipv6.Ipv6Counter.BAD_SCOPE));
        long notForUs = ip(Ipv6.Ipv6Counter.NOT_FOR_US); // a's DAD probes to other solicited-node groups
        inject(ipv6(A, Ipv6Address.parse("2001:db8::77"), IpProtocol.ICMPV6, echo(A, B, 1, 8)));
        assertEquals(notForUs + 1, ip(Ipv6.Ipv6Counter.NOT_FOR_US));
        byte[] bad = good.clone();
        bad[45] ^= 1;
        inject(bad);
        assertEquals(1, icmp6(Icmpv6.Icmpv6Counter.BAD_CHECKSUM));
        assertTrue(atA.isEmpty(), "no errors for these");
        assertEquals(2, echoReplies());
    }

    @Test
    void unknownNextHeaderIsParameterProblemCode1() {
        inject(ipv6(A, B, 200, new byte[8]));
        assertEquals(1, ip(Ipv6.Ipv6Counter.NO_PROTOCOL));
        assertOneError(Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_NEXT_HEADER, 6);
        inject(ipv6(A, B, IpProtocol.IPV6_DESTINATION, concat(options(200), new byte[8])));
        assertOneError(Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_NEXT_HEADER, 40);
        inject(ipv6(A, B, IpProtocol.IPV6_NO_NEXT, new byte[0]));
        assertEquals(1, ip(Ipv6.Ipv6Counter.NO_NEXT_HEADER));
        assertTrue(atA.isEmpty());
    }

    // ------------------------------------------------------------------ extension headers

    @Test
    void hopByHopOnlyRightAfterTheFixedHeader() {
        byte[] e = echo(A, B, 1, 8);
        inject(ipv6(A, B, IpProtocol.HOP_BY_HOP, concat(options(IpProtocol.ICMPV6, 5, 2, 0, 0), e)));
        assertEquals(1, echoReplies(), "Router Alert in Hop-by-Hop is fine");
        atA.clear();
        inject(ipv6(A, B, IpProtocol.IPV6_DESTINATION,
                concat(options(IpProtocol.HOP_BY_HOP), options(IpProtocol.ICMPV6), e)));
        assertEquals(1, ip(Ipv6.Ipv6Counter.HOP_BY_HOP_NOT_FIRST));
        assertOneError(Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_NEXT_HEADER, 40);
        assertEquals(1, echoReplies());
    }

    @Test
    void optionActionBits() {
        byte[] e = echo(A, B, 1, 8);
        // 00: skip.
        inject(ipv6(A, B, IpProtocol.IPV6_DESTINATION, concat(options(IpProtocol.ICMPV6, 0x1e, 1, 0), e)));
        assertEquals(1, echoReplies());
        atA.clear();
        // 01: discard silently.
        inject(ipv6(A, B, IpProtocol.IPV6_DESTINATION, concat(options(IpProtocol.ICMPV6, 0x5e, 1, 0), e)));
        assertEquals(1, ip(Ipv6.Ipv6Counter.UNKNOWN_OPTION));
        assertTrue(atA.isEmpty());
        // 10: discard and report, pointer at the option (after a PadN of 4 bytes).
        inject(ipv6(A, B, IpProtocol.HOP_BY_HOP, concat(options(IpProtocol.ICMPV6, 1, 2, 0, 0, 0x9e, 0), e)));
        assertOneError(Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_OPTION, 46);
        // 11: discard and report (unicast destination).
        inject(ipv6(A, B, IpProtocol.IPV6_DESTINATION, concat(options(IpProtocol.ICMPV6, 0xde, 0), e)));
        assertOneError(Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_OPTION, 42);
        // To a multicast destination: 11 is not reported, 10 is (RFC 4443 §2.4 (e.3)).
        MacAddress allNodes = MacAddress.ofMulticast(ALL_NODES);
        byte[] m = echo(A, ALL_NODES, 1, 8);
        inject(allNodes, ipv6(A, ALL_NODES, IpProtocol.IPV6_DESTINATION, concat(options(IpProtocol.ICMPV6, 0xde, 0), m)));
        assertTrue(atA.isEmpty());
        inject(allNodes, ipv6(A, ALL_NODES, IpProtocol.IPV6_DESTINATION, concat(options(IpProtocol.ICMPV6, 0x9e, 0), m)));
        assertOneError(Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_OPTION, 42);
        assertEquals(5, ip(Ipv6.Ipv6Counter.UNKNOWN_OPTION));
        // Malformed: an option running past the header.
        inject(ipv6(A, B, IpProtocol.IPV6_DESTINATION, concat(options(IpProtocol.ICMPV6, 0x1e, 9), e)));
        assertEquals(1, ip(Ipv6.Ipv6Counter.BAD_OPTIONS));
        assertOneError(Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_HEADER, 43);
        assertEquals(1, echoReplies());
    }

    @Test
    void routingHeaders() {
        byte[] e = echo(A, B, 1, 8);
        inject(ipv6(A, B, IpProtocol.IPV6_ROUTING, concat(routing(IpProtocol.ICMPV6, 0, 0), e)));
        assertEquals(1, echoReplies(), "type 0 with no segments left is ignored");
        atA.clear();
        inject(ipv6(A, B, IpProtocol.IPV6_ROUTING, concat(routing(IpProtocol.ICMPV6, 0, 1), e)));
        assertEquals(1, ip(Ipv6.Ipv6Counter.ROUTING_TYPE_0));
        assertOneError(Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_HEADER, 42);
        inject(ipv6(A, B, IpProtocol.IPV6_ROUTING, concat(routing(IpProtocol.ICMPV6, 77, 0), e)));
        assertEquals(2, echoReplies(), "unknown type with no segments left is ignored");
        atA.clear();
        inject(ipv6(A, B, IpProtocol.HOP_BY_HOP,
                concat(options(IpProtocol.IPV6_ROUTING), routing(IpProtocol.ICMPV6, 77, 3), e)));
        assertEquals(1, ip(Ipv6.Ipv6Counter.BAD_ROUTING));
        assertOneError(Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_HEADER, 50);
    }

    @Test
    void headerChainIsBounded() {
        byte[] e = echo(A, B, 1, 8);
        byte[] chain = e;
        for (int i = 0; i < Ipv6.MAX_EXTENSION_HEADERS; i++) {
            chain = concat(options(i == 0 ? IpProtocol.ICMPV6 : IpProtocol.IPV6_DESTINATION), chain);
        }
        inject(ipv6(A, B, IpProtocol.IPV6_DESTINATION, chain));
        assertEquals(1, echoReplies(), "16 headers pass");
        inject(ipv6(A, B, IpProtocol.IPV6_DESTINATION, concat(options(IpProtocol.IPV6_DESTINATION), chain)));
        assertEquals(1, ip(Ipv6.Ipv6Counter.TOO_MANY_HEADERS));
        byte[] big = new byte[1280];
        big[0] = (byte) IpProtocol.ICMPV6;
        big[1] = (byte) (1280 / 8 - 1);
        big[2] = 1;
        big[3] = (byte) 253; // PadN over most of it
        for (int i = 258; i < 1280; i += 257) {
            big[i] = 1;
            big[i + 1] = (byte) Math.min(255, 1280 - i - 2);
        }
        inject(ipv6(A, B, IpProtocol.IPV6_DESTINATION, concat(big, e)));
        assertEquals(1, ip(Ipv6.Ipv6Counter.CHAIN_TOO_LONG));
        inject(ipv6(A, B, IpProtocol.IPV6_DESTINATION, new byte[4])); // header cut short
        assertEquals(1, ip(Ipv6.Ipv6Counter.TOO_SHORT));
        assertEquals(1, echoReplies());
    }

    // ------------------------------------------------------------------ reassembly

    /** An echo request of {@code dataLength} bytes cut at {@code cuts} into fragments (header chain not included). */
    private static List<byte[]> fragments(byte[] upper, int identification, int... cuts) {
        List<byte[]> out = new ArrayList<>();
        int previous = 0;
        for (int i = 0; i <= cuts.length; i++) {
            int end = i < cuts.length ? cuts[i] : upper.length;
            out.add(ipv6(A, B, IpProtocol.IPV6_FRAGMENT, concat(fragment(IpProtocol.ICMPV6, previous,
                    i < cuts.length, identification), Arrays.copyOfRange(upper, previous, end))));
            previous = end;
        }
        return out;
    }

    @Test
    void fragmentsReassembleInAnyOrderAndAtomicFragmentsNeedNoQueue() {
        byte[] e = echo(A, B, 1, 100);
        List<byte[]> f = fragments(e, 1, 32, 64);
        inject(f.get(2));
        inject(f.get(0));
        assertEquals(1, b.ipv6().reassembly().pending());
        inject(f.get(1));
        assertEquals(1, echoReplies());
        assertEquals(1, ip(Ipv6.Ipv6Counter.REASSEMBLED));
        assertEquals(0, b.ipv6().reassembly().pending());
        inject(ipv6(A, B, IpProtocol.IPV6_FRAGMENT, concat(fragment(IpProtocol.ICMPV6, 0, false, 2), e)));
        assertEquals(2, echoReplies());
        assertEquals(1, ip(Ipv6.Ipv6Counter.ATOMIC_FRAGMENTS));
        assertEquals(0, b.ipv6().reassembly().pending(), "an atomic fragment is not queued (RFC 6946)");
    }

    @Test
    void overlappingFragmentsDropThePacket() {
        byte[] e = echo(A, B, 1, 100);
        List<byte[]> f = fragments(e, 3, 32, 64);
        inject(f.get(0));
        inject(f.get(0)); // exact duplicate: dropped alone
        assertEquals(1, frag(Ipv6Reassembly.ReassemblyCounter.DUPLICATES));
        assertEquals(1, b.ipv6().reassembly().pending());
        inject(ipv6(A, B, IpProtocol.IPV6_FRAGMENT, concat(fragment(IpProtocol.ICMPV6, 24, true, 3),
                Arrays.copyOfRange(e, 24, 48))));
        assertEquals(1, frag(Ipv6Reassembly.ReassemblyCounter.OVERLAPS));
        assertEquals(0, b.ipv6().reassembly().pending(), "RFC 5722: the whole packet is dropped");
        inject(f.get(1));
        inject(f.get(2));
        assertEquals(0, echoReplies());
        assertTrue(atA.isEmpty());
    }

    @Test
    void badFragmentLengthAndSize() {
        byte[] e = echo(A, B, 1, 100);
        inject(ipv6(A, B, IpProtocol.IPV6_FRAGMENT, concat(fragment(IpProtocol.ICMPV6, 0, true, 4),
                Arrays.copyOfRange(e, 0, 30))));
        assertEquals(1, frag(Ipv6Reassembly.ReassemblyCounter.BAD_LENGTH));
        assertOneError(Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_HEADER, 4);
        inject(ipv6(A, B, IpProtocol.IPV6_FRAGMENT, concat(fragment(IpProtocol.ICMPV6, 65528, false, 4),
                new byte[16])));
        assertEquals(1, frag(Ipv6Reassembly.ReassemblyCounter.TOO_BIG));
        assertOneError(Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_HEADER, 42);
        assertEquals(0, b.ipv6().reassembly().pending());
    }

    @Test
    void firstFragmentWithIncompleteHeaderChainIsRefused() {
        byte[] e = echo(A, B, 1, 100);
        int[] option = new int[36];
        option[0] = 0x1e;
        option[1] = 34;
        byte[] destination = options(IpProtocol.ICMPV6, option); // 40 bytes
        assertEquals(40, destination.length);
        byte[] chain = concat(destination, e);
        inject(ipv6(A, B, IpProtocol.IPV6_FRAGMENT, concat(fragment(IpProtocol.IPV6_DESTINATION, 0, true, 5),
                Arrays.copyOfRange(chain, 0, 24))));
        assertEquals(1, frag(Ipv6Reassembly.ReassemblyCounter.INCOMPLETE_CHAIN));
        assertOneError(Icmpv6Message.PARAMETER_PROBLEM, Ipv6Reassembly.PARAMETER_PROBLEM_INCOMPLETE_CHAIN, 0);
        // The chain and the ICMPv6 header inside the first fragment: accepted and reassembled.
        inject(ipv6(A, B, IpProtocol.IPV6_FRAGMENT, concat(fragment(IpProtocol.IPV6_DESTINATION, 0, true, 6),
                Arrays.copyOfRange(chain, 0, 48))));
        inject(ipv6(A, B, IpProtocol.IPV6_FRAGMENT, concat(fragment(IpProtocol.IPV6_DESTINATION, 48, false, 6),
                Arrays.copyOfRange(chain, 48, chain.length))));
        assertEquals(1, echoReplies());
    }

    @Test
    void timeoutSendsTimeExceededOnlyIfFragmentZeroArrived() {
        byte[] e = echo(A, B, 1, 100);
        inject(fragments(e, 7, 32).get(0));
        inject(fragments(e, 8, 32).get(1));
        assertEquals(2, b.ipv6().reassembly().pending());
        sim.run(Ipv6Reassembly.TIMEOUT.plusSeconds(1));
        assertEquals(2, frag(Ipv6Reassembly.ReassemblyCounter.TIMED_OUT));
        assertEquals(0, b.ipv6().reassembly().pending());
        assertOneError(Icmpv6Message.TIME_EXCEEDED, Icmpv6Message.TIME_EXCEEDED_REASSEMBLY, 0);
    }

    @Test
    void drainHookFreesQueues() {
        byte[] e = echo(A, B, 1, 100);
        inject(fragments(e, 9, 32).get(0));
        inject(fragments(e, 10, 32).get(0));
        assertTrue(b.ipv6().reassembly().heldBytes() > 0);
        pool.reclaim();
        assertEquals(2, frag(Ipv6Reassembly.ReassemblyCounter.DRAINED));
        assertEquals(0, b.ipv6().reassembly().pending());
        assertEquals(0, b.ipv6().reassembly().heldBytes());
    }

    // ------------------------------------------------------------------ ICMPv6 error rules

    @Test
    void neverAnErrorAboutAnErrorOrToABadSource() {
        byte[] unreachable = icmp(A, B, Icmpv6Message.DESTINATION_UNREACHABLE, 0, new byte[4 + 48]);
        inject(ipv6(A, B, IpProtocol.IPV6_DESTINATION, concat(options(IpProtocol.ICMPV6, 0xde, 0), unreachable)));
        assertEquals(1, icmp6(Icmpv6.Icmpv6Counter.ERROR_ABOUT_ERROR));
        inject(ipv6(Ipv6Address.UNSPECIFIED, B, 200, new byte[8]));
        assertEquals(1, icmp6(Icmpv6.Icmpv6Counter.ERROR_BAD_SOURCE));
        inject(MacAddress.ofMulticast(ALL_NODES), ipv6(A, ALL_NODES, 200, new byte[8]));
        assertEquals(1, icmp6(Icmpv6.Icmpv6Counter.ERROR_TO_MULTICAST));
        assertTrue(atA.isEmpty());
        assertEquals(0, icmp6(Icmpv6.Icmpv6Counter.ERRORS_SENT));
    }

    @Test
    void errorsAreRateLimited() {
        for (int i = 0; i < Icmpv6.ERRORS_PER_SECOND + 20; i++) {
            byte[] frame = ipv6(A, B, 200, new byte[8]);
            byte[] f = new byte[14 + frame.length];
            MemorySegment s = MemorySegment.ofArray(f);
            MAC_B.write(s, 0);
            MAC_A.write(s, 6);
            f[12] = (byte) 0x86;
            f[13] = (byte) 0xdd;
            System.arraycopy(frame, 0, f, 14, frame.length);
            ethB.receive(pool.devget(s));
        }
        b.poll();
        b.poll();
        assertEquals(Icmpv6.ERRORS_PER_SECOND, icmp6(Icmpv6.Icmpv6Counter.ERRORS_SENT));
        assertEquals(20, icmp6(Icmpv6.Icmpv6Counter.RATE_LIMITED));
        sim.run(Duration.ofSeconds(2));
        inject(ipv6(A, B, 200, new byte[8]));
        assertEquals(Icmpv6.ERRORS_PER_SECOND + 1, icmp6(Icmpv6.Icmpv6Counter.ERRORS_SENT), "tokens come back");
    }

    @Test
    void packetTooBigAndPortUnreachable() {
        try (Mbuf toMulticast = pool.devget(MemorySegment.ofArray(ipv6(B, Ipv6Scope.embed(ALL_NODES, ethA.index()),
                IpProtocol.UDP, new byte[16])))) {
            // Sent by a about a multicast packet from b: Packet Too Big is allowed (RFC 4443 §2.4 (e.3)).
            Ipv6Scope.embedInPacket(toMulticast, 0, ethA.index());
            a.icmpv6().error(toMulticast, Icmpv6Message.PACKET_TOO_BIG, 0, 1280, false);
            a.icmpv6().error(toMulticast, Icmpv6Message.DESTINATION_UNREACHABLE, Icmpv6Message.UNREACHABLE_PORT, 0,
                    false);
        }
        assertEquals(1, a.icmpv6().counters().get(Icmpv6.Icmpv6Counter.ERRORS_SENT));
        assertEquals(1, a.icmpv6().counters().get(Icmpv6.Icmpv6Counter.ERROR_TO_MULTICAST));
        List<byte[]> atB = new ArrayList<>();
        b.icmpv6().setListener((source, message) -> atB.add(message.toByteArray()));
        try (Mbuf udp = pool.devget(MemorySegment.ofArray(ipv6(B, A, IpProtocol.UDP, new byte[16])))) {
            a.icmpv6().error(udp, Icmpv6Message.DESTINATION_UNREACHABLE, Icmpv6Message.UNREACHABLE_PORT, 0, false);
        }
        assertTrue(sim.runUntil(() -> atB.size() == 2, Duration.ofSeconds(1)), b.netstat());
        assertEquals(Icmpv6Message.PACKET_TOO_BIG, Byte.toUnsignedInt(atB.get(0)[0]));
        assertEquals(1280, pointer(atB.get(0)));
        assertEquals(Icmpv6Message.DESTINATION_UNREACHABLE, atB.get(1)[0]);
        assertEquals(Icmpv6Message.UNREACHABLE_PORT, atB.get(1)[1]);
        // The quoted packet carries no zone.
        assertEquals(ALL_NODES, Ipv6Address.read(MemorySegment.ofArray(atB.get(0)), 8 + 24));
        assertEquals(1, b.icmpv6().counters().get(Icmpv6.Icmpv6Counter.PACKET_TOO_BIG_RECEIVED));
    }

    // ------------------------------------------------------------------ router advertisements

    private byte[] routerAdvertisement(Ipv6Address router, int lifetime, int prefixFlags, long valid) {
        byte[] body = new byte[12 + 8 + 8 + 32];
        body[0] = 64; // cur hop limit
        body[2] = (byte) (lifetime >> 8);
        body[3] = (byte) lifetime;
        int o = 12;
        body[o] = 1; // source link-layer address
        body[o + 1] = 1;
        MacAddress.parse("02:00:00:00:00:99").write(MemorySegment.ofArray(body), o + 2);
        o += 8;
        body[o] = 5; // MTU 1400
        body[o + 1] = 1;
        body[o + 6] = (byte) (1400 >> 8);
        body[o + 7] = (byte) 1400;
        o += 8;
        body[o] = 3; // prefix information 2001:db8:1::/64
        body[o + 1] = 4;
        body[o + 2] = 64;
        body[o + 3] = (byte) prefixFlags;
        MemorySegment s = MemorySegment.ofArray(body);
        s.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), o + 4, (int) valid);
        s.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), o + 8, (int) valid);
        Ipv6Address.parse("2001:db8:1::").write(s, o + 16);
        byte[] p = ipv6(router, ALL_NODES, IpProtocol.ICMPV6,
                icmp(router, ALL_NODES, Icmpv6Message.ROUTER_ADVERTISEMENT, 0, body));
        p[7] = (byte) 255;
        return p;
    }

    @Test
    void routerAdvertisementAddsPrefixRouterMtuAndAddress() {
        Ipv6Address router = Ipv6Address.parse("fe80::99");
        byte[] ra = routerAdvertisement(router, 1800, 0xc0, 3600);
        byte[] lowHopLimit = ra.clone();
        lowHopLimit[7] = 64;
        inject(MacAddress.ofMulticast(ALL_NODES), lowHopLimit);
        assertEquals(1, b.nd().counters().get(NeighborDiscovery.NdCounter.INVALID), "hop limit must be 255");
        assertTrue(b.nd().prefixes().isEmpty());
        inject(MacAddress.ofMulticast(ALL_NODES), ra);
        Ipv6Address prefix = Ipv6Address.parse("2001:db8:1::");
        assertEquals(List.of(new Ipv6.Route(prefix, 64, ethB, null)), b.nd().prefixes());
        assertTrue(b.ipv6().routes().contains(new Ipv6.Route(prefix, 64, ethB, null)));
        assertEquals(List.of(new NeighborDiscovery.Router(ethB, Ipv6Scope.embed(router, ethB.index()))),
                b.nd().routers());
        assertEquals(MacAddress.parse("02:00:00:00:00:99"), b.nd().lookup(ethB, Ipv6Scope.embed(router, ethB.index())));
        assertEquals(1400, b.ipv6().pathMtu(ethB, Ipv6Address.parse("2001:db8:1::5")));
        Ipv6Address slaac = Ipv6Address.parse("2001:db8:1:0:0:ff:fe00:2");
        assertEquals(NetworkInterface.Ipv6State.TENTATIVE, ethB.ipv6Assignment(slaac).state());
        assertTrue(sim.runUntil(() -> Ipv6TwoHostTest.preferred(ethB, slaac), Duration.ofSeconds(3)));
        assertEquals(1, b.nd().counters().get(NeighborDiscovery.NdCounter.ADDRESSES_AUTOCONFIGURED));
        // The prefix and the router expire with their lifetimes.
        sim.run(Duration.ofSeconds(3601));
        assertTrue(b.nd().prefixes().isEmpty());
        assertTrue(b.nd().routers().isEmpty());
        assertFalse(b.ipv6().routes().contains(new Ipv6.Route(prefix, 64, ethB, null)));
    }

    @Test
    void routerAdvertisementFromAGlobalSourceIsIgnored() {
        inject(MacAddress.ofMulticast(ALL_NODES), routerAdvertisement(A, 1800, 0xc0, 3600));
        assertEquals(1, b.nd().counters().get(NeighborDiscovery.NdCounter.INVALID));
        assertTrue(b.nd().prefixes().isEmpty());
        assertTrue(b.nd().routers().isEmpty());
    }

    // ------------------------------------------------------------------ scope

    @Test
    void scopeEmbeddingOnReadOnlyStorageCopiesOnWrite() {
        byte[] packet = ipv6(Ipv6Address.parse("fe80::1"), Ipv6Address.parse("fe80::2"), IpProtocol.IPV6_NO_NEXT,
                new byte[8]);
        MemorySegment storage = Arena.ofAuto().allocate(packet.length);
        storage.copyFrom(MemorySegment.ofArray(packet));
        try (Mbuf m = pool.wrap(storage, false, null)) {
            assertTrue(m.isReadOnly(0, 40));
            assertTrue(Ipv6Scope.embedInPacket(m, 0, 3));
            Ipv6Header ip = Ipv6Header.of(m.ptr(0, 40));
            assertEquals(Ipv6Address.parse("fe80:3::1"), ip.source());
            assertEquals(Ipv6Address.parse("fe80:3::2"), ip.destination());
            assertFalse(Ipv6Scope.embedInPacket(m, 0, 3), "already embedded: nothing to write");
            Ipv6Scope.clearInPacket(m, 0);
            assertEquals(Ipv6Address.parse("fe80::1"), Ipv6Header.of(m.ptr(0, 40)).source());
        }
        assertArrayEquals(packet, storage.toArray(ValueLayout.JAVA_BYTE), "the read-only storage was written");
    }

    @Test
    void zoneTextParsing() {
        Ipv6Scope.Zoned byName = Ipv6Scope.parse(b, "fe80::1%eth0");
        assertEquals(ethB, byName.ifp());
        assertEquals(Ipv6Address.parse("fe80:" + ethB.index() + "::1"), byName.embedded());
        assertEquals(ethB, Ipv6Scope.parse(b, "fe80::1%" + ethB.index()).ifp());
        assertEquals(ethB, Ipv6Scope.parse(b, "ff02::1%eth0").ifp());
        assertNull(Ipv6Scope.parse(b, "2001:db8::1").ifp());
        assertThrows(IllegalArgumentException.class, () -> Ipv6Scope.parse(b, "fe80::1"), "no zone");
        assertThrows(IllegalArgumentException.class, () -> Ipv6Scope.parse(b, "fe80::1%eth9"), "unknown name");
        assertThrows(IllegalArgumentException.class, () -> Ipv6Scope.parse(b, "fe80::1%42"), "unknown index");
        assertThrows(IllegalArgumentException.class, () -> Ipv6Scope.parse(b, "fe80::1%"), "empty zone");
        assertThrows(IllegalArgumentException.class, () -> Ipv6Scope.parse(b, "2001:db8::1%eth0"), "global");
        assertEquals(Ipv6Address.parse("ff32:30:2001:db8::1"), Ipv6Scope.embed(Ipv6Address.parse("ff32:30:2001:db8::1"), 4),
                "prefix-based multicast keeps its bytes 2-3");
    }
}
