package org.jmbuf.net;

import static org.jmbuf.net.TcpScript.ANY;
import static org.jmbuf.net.TcpScript.seg;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TCP input hardening and option handling, packet by packet:
 * <ul>
 * <li>malformed headers (RFC 9293 §3.1, §3.10.7.1): shorter than 20 bytes, a data offset below 5 words
 * or past the segment, a bad checksum (MUST-2, MUST-3); SYN with FIN or RST; port 0; each dropped with its
 * own counter and without an answer;</li>
 * <li>malformed options (§3.1, MUST-7, RFC 7323 §2.2, RFC 2018 §2): a length below 2 or past the header,
 * and MSS, Window Scale, SACK-Permitted, Timestamps or SACK of the wrong size, dropped (BAD_OPTIONS);
 * unknown options ignored (MUST-6);</li>
 * <li>a reset for a segment to a closed port (§3.10.7.1, RST generation: {@code <SEQ=SEG.ACK><CTL=RST>}
 * or {@code <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>}), none for a reset, over IPv4 and IPv6;</li>
 * <li>the MSS (§3.7.1): a floor against tiny MSS options, the defaults 536 (IPv4) and 1220 (IPv6) when
 * the SYN has none, never more than our own link allows;</li>
 * <li>window scaling (RFC 7323 §2.2, §2.3): never applied to a SYN's own window, either way; a shift
 * above 14 used as 14; no scaling unless both SYNs carry the option;</li>
 * <li>the SACK blocks we send (RFC 2018 §4): the block of the latest arrival first, then the others,
 * at most 4 (3 with timestamps), gone when the holes fill;</li>
 * <li>timestamps (RFC 7323 §3, §4.3, §5.3): echoed from the SYN on, TS.Recent updated only for
 * segments in order, PAWS dropping an old one with an ACK (PAWS_DROPS);</li>
 * <li>the bounded SYN backlog with SYN cookies (RFC 4987 §3.6): beyond the backlog, a SYN-ACK carrying
 * only MSS whose valid ACK makes a connection, a forged one a reset; without cookies, a silent drop;</li>
 * <li>the bounded out-of-order queue: beyond its limit segments are dropped (REASSEMBLY_OVERFLOW) and the
 * data must be sent again;</li>
 * <li>no buffer left in the pool after any of it, aborts and closing the host with data queued
 * included (issue 5, acceptance 4).</li>
 * </ul>
 */
class TcpHardeningTest {
    private TcpScript s;

    @AfterEach
    void tearDown() {
        if (s != null) {
            s.close();
        }
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + 3);
        }
        return b;
    }

    // ================================================================== malformed headers

    /** A SYN to a listener that must be dropped with {@code counter} and answered with nothing. */
    private void assertSynDropped(TcpScript.Seg bad, Tcp.TcpCounter counter) {
        try (TcpListener l = s.listen(4)) {
            s.inject(bad);
            s.expectNothing();
            assertEquals(1, s.counter(counter), s.netstat());
            assertEquals(0, l.halfOpen());
            assertEquals(0, s.counter(Tcp.TcpCounter.SYN_RECEIVED));
            // the listener is fine: a good SYN gets its SYN-ACK
            s.inject(seg("S").seq(0).mss(1460));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(s.isIpv6() ? 1440 : 1460));
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void badChecksumIsDropped(boolean ipv6) {
        s = ipv6 ? TcpScript.ipv6() : TcpScript.ipv4();
        assertSynDropped(seg("S").seq(0).mss(1460).badChecksum(), Tcp.TcpCounter.BAD_CHECKSUM);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 8, 12, 19})
    void segmentShorterThanTheHeaderIsDropped(int length) {
        s = TcpScript.ipv4();
        assertSynDropped(seg("S").seq(0).truncate(length), Tcp.TcpCounter.TOO_SHORT);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 16, 24, 60})
    void dataOffsetBelowFiveWordsOrPastTheSegmentIsDropped(int offset) {
        s = TcpScript.ipv4();
        assertSynDropped(seg("S").seq(0).dataOffset(offset), Tcp.TcpCounter.BAD_HEADER_LENGTH);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SF", "SR", "SFR", "SR."})
    void synWithFinOrRstIsDropped(String flags) {
        s = TcpScript.ipv4();
        assertSynDropped(seg(flags).seq(0).mss(1460), Tcp.TcpCounter.BAD_FLAGS);
    }

    @Test
    void sourcePortZeroIsDropped() {
        s = TcpScript.ipv4();
        assertSynDropped(seg("S").seq(0).mss(1460).srcPort(0), Tcp.TcpCounter.BAD_ADDRESS);
    }

    /**
     * A SYN to a broadcast (IPv4) or multicast (IPv6) address: dropped as BAD_ADDRESS, never answered
     * with a SYN-ACK or a reset (RFC 1122 §4.2.3.10; RFC 9293 §3.9.1.1, MUST-57).
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void synToBroadcastOrMulticastIsDropped(boolean ipv6) {
        s = ipv6 ? TcpScript.ipv6() : TcpScript.ipv4();
        org.jmbuf.wire.IpAddress group = ipv6 ? org.jmbuf.wire.Ipv6Address.ALL_NODES
                : org.jmbuf.wire.Ipv4Address.parse("192.0.2.255");
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).mss(1460).to(group));
            s.inject(seg("S").seq(0).mss(1460).to(group).dstPort(81)); // a closed port: no reset either
            s.expectNothing();
            assertEquals(2, s.counter(Tcp.TcpCounter.BAD_ADDRESS), s.netstat());
            assertEquals(0, l.halfOpen());
            assertEquals(0, s.counter(Tcp.TcpCounter.RESETS_SENT));
        }
    }

    /** A bad checksum on data for an established connection: the data is not taken, nothing is answered. */
    @Test
    void badChecksumDataIsNotDelivered() {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        s.inject(seg("P.").seq(1).ack(1).payload("corrupt").badChecksum());
        s.expectNothing();
        assertEquals(0, c.readableBytes());
        assertEquals(1, s.counter(Tcp.TcpCounter.BAD_CHECKSUM));
        s.inject(seg("P.").seq(1).ack(1).payload("right"));
        s.expect(seg(".").seq(1).ack(6));
        assertEquals("right", TcpScript.text(c));
    }

    // ================================================================== malformed options

    @ParameterizedTest
    @ValueSource(strings = {
        "02",                 // MSS kind with no length byte (then EOL padding: length 0)
        "0201",               // length 1
        "0208 05b4",          // length 8 runs past a 4-byte options area
        "0203 05",            // MSS of 3 bytes
        "0205 05b4 00",       // MSS of 5 bytes
        "0304 0700",          // Window Scale of 4 bytes
        "0402",               // fine on its own, but:
        "0403 00",            // SACK-Permitted of 3 bytes
        "0808 0000 0001 0000", // Timestamps of 8 bytes
        "050a 0000 0001 0000 0002", // SACK of 10 bytes is fine ... see below
        "0509 0000 0001 0000 02",   // SACK of 9 bytes
        "fe00"                // unknown kind with length 0
    })
    void malformedOptionsAreRejected(String hex) {
        s = TcpScript.ipv4();
        int[] raw = parseHex(hex);
        boolean wellFormed = hex.equals("0402") || hex.startsWith("050a");
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).mss(1460).rawOptions(raw));
            if (wellFormed) {
                s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
                assertEquals(0, s.counter(Tcp.TcpCounter.BAD_OPTIONS));
            } else {
                s.expectNothing();
                assertEquals(1, s.counter(Tcp.TcpCounter.BAD_OPTIONS), s.netstat());
                assertEquals(0, l.halfOpen());
            }
        }
    }

    private static int[] parseHex(String hex) {
        String h = hex.replace(" ", "");
        int[] r = new int[h.length() / 2];
        for (int i = 0; i < r.length; i++) {
            r[i] = Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        }
        return r;
    }

    /** Unknown options are ignored (RFC 9293 §3.1, MUST-6), wherever they are. */
    @Test
    void unknownOptionsAreIgnored() {
        s = TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).rawOptions(0xfd, 6, 1, 2, 3, 4, 2, 4, 0x03, 0xe8));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.inject(seg(".").seq(1).ack(1).rawOptions(0x99, 2));
            TcpConnection c = l.accept();
            assertNotNull(c);
            assertEquals(1000, c.sendMss(), "the MSS after the unknown option counted");
            assertEquals(0, s.counter(Tcp.TcpCounter.BAD_OPTIONS));
        }
    }

    /** A malformed SACK option on an established connection: the segment is dropped, data and all. */
    @Test
    void malformedOptionOnDataIsDropped() {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        s.inject(seg("P.").seq(1).ack(1).payload("abc").rawOptions(5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0));
        s.expectNothing();
        assertEquals(1, s.counter(Tcp.TcpCounter.BAD_OPTIONS));
        assertEquals(0, c.readableBytes());
        assertEquals(TcpState.ESTABLISHED, c.state());
    }

    // ================================================================== closed ports

    /** A SYN to a closed port: {@code <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>}, window 0, no options. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void synToClosedPortIsReset(boolean ipv6) {
        s = ipv6 ? TcpScript.ipv6() : TcpScript.ipv4();
        s.inject(seg("S").seq(0).mss(1460).sackOk());
        s.expect(seg("R.").seq(0).ack(1).win(0));
        assertEquals(1, s.counter(Tcp.TcpCounter.NO_PORT));
        assertEquals(1, s.counter(Tcp.TcpCounter.RESETS_SENT));
        s.expectNothing();
    }

    /** An ACK to a closed port: {@code <SEQ=SEG.ACK><CTL=RST>}. */
    @Test
    void ackToClosedPortIsReset() {
        s = TcpScript.ipv4();
        s.inject(seg("P.").seq(10).ack(123456).payload("data"));
        s.expect(seg("R").seq(123456).win(0));
        assertEquals(1, s.counter(Tcp.TcpCounter.NO_PORT));
    }

    /** Data and FIN without ACK to a closed port: the ACK covers the data and the FIN. */
    @Test
    void dataAndFinWithoutAckToClosedPortIsReset() {
        s = TcpScript.ipv4();
        s.inject(seg("PF").seq(10).payload("12345"));
        s.expect(seg("R.").seq(0).ack(16).win(0));
    }

    /** A RST to a closed port is never answered (§3.10.7.1: "an incoming segment containing a RST is discarded"). */
    @ParameterizedTest
    @ValueSource(strings = {"R", "R."})
    void resetToClosedPortIsNotAnswered(String flags) {
        s = TcpScript.ipv4();
        s.inject(seg(flags).seq(10).ack(20));
        s.expectNothing();
        assertEquals(0, s.counter(Tcp.TcpCounter.RESETS_SENT));
    }

    /** A SYN-ACK to a listening port (no connection of ours): {@code <SEQ=SEG.ACK><CTL=RST>} (§3.10.7.2). */
    @Test
    void synAckToListenerIsReset() {
        s = TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S.").seq(0).ack(777).mss(1460));
            s.expect(seg("R").seq(777).win(0));
            assertEquals(0, l.halfOpen());
        }
    }

    /** A listener ignores a RST, and a FIN or data without ACK (§3.10.7.2). */
    @ParameterizedTest
    @ValueSource(strings = {"R", "R.", "F", "P"})
    void listenerIgnoresResetsAndSegmentsWithoutAck(String flags) {
        s = TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg(flags).seq(0).ack(flags.contains(".") ? 5 : 0).payload(flags.equals("P") ? "x" : ""));
            s.expectNothing();
            assertEquals(0, l.halfOpen());
        }
    }

    /** A listener answers a stray ACK (no half-open connection, no valid cookie) with a reset. */
    @Test
    void strayAckToListenerIsReset() {
        s = TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg(".").seq(1).ack(4242));
            s.expect(seg("R").seq(4242).win(0));
            assertEquals(0, l.halfOpen());
        }
    }

    // ================================================================== MSS

    /** A tiny MSS option is raised to the floor ({@link TcpSettings#minMss()}, 216): segments are not cut smaller. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 32, 215})
    void mssFloor(int offered) {
        s = TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).mss(offered));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.inject(seg(".").seq(1).ack(1));
            TcpConnection c = l.accept();
            assertEquals(216, c.sendMss());
            c.setNoDelay(true);
            byte[] data = bytes(500);
            c.write(data);
            s.expect(seg(".").seq(1).ack(1).payload(Arrays.copyOfRange(data, 0, 216)));
            s.expect(seg(".").seq(217).ack(1).payload(Arrays.copyOfRange(data, 216, 432)));
            s.expect(seg("P.").seq(433).ack(1).payload(Arrays.copyOfRange(data, 432, 500)));
            s.expectNothing();
        }
    }

    /** The MSS is never more than our link allows: an MSS of 9000 from the peer leaves us at 1460. */
    @Test
    void mssCappedByOurLink() {
        s = TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).mss(9000));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.inject(seg(".").seq(1).ack(1));
            assertEquals(1460, l.accept().sendMss());
        }
    }

    /** Without an MSS option the MSS is 536 over IPv4 and 1220 over IPv6 (§3.7.1, RFC 8200 §8.3). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void mssDefaultWhenAbsent(boolean ipv6) {
        s = ipv6 ? TcpScript.ipv6() : TcpScript.ipv4();
        int mss = ipv6 ? 1220 : 536;
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(ipv6 ? 1440 : 1460));
            s.inject(seg(".").seq(1).ack(1));
            TcpConnection c = l.accept();
            assertEquals(mss, c.sendMss());
            byte[] data = bytes(mss + 100);
            c.setNoDelay(true);
            c.write(data);
            s.expect(seg(".").seq(1).ack(1).payload(Arrays.copyOfRange(data, 0, mss)));
            s.expect(seg("P.").seq(1 + mss).ack(1).payload(Arrays.copyOfRange(data, mss, mss + 100)));
        }
    }

    /** The same default on an active open whose SYN-ACK has no MSS option. */
    @Test
    void mssDefaultOnActiveOpen() {
        s = TcpScript.ipv4();
        TcpConnection c = s.connect();
        s.expect(seg("S").seq(0).win(65535).mss(1460));
        s.inject(seg("S.").seq(0).ack(1));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        assertEquals(536, c.sendMss());
    }

    // ================================================================== window scaling

    /**
     * Active open: the SYN-ACK's window (1000) is taken as it is, not shifted by the scale the SYN-ACK
     * announces (7); only later windows are (RFC 7323 §2.2: "The window field in a segment where the SYN
     * bit is set MUST NOT be scaled").
     */
    @Test
    void synAckWindowIsNeverScaled() {
        s = TcpScript.ipv4();
        s.settings().setWindowScaling(true);
        TcpConnection c = s.connect();
        s.expect(seg("S").seq(0).win(65535).mss(1460).wscale(1));
        s.inject(seg("S.").seq(0).ack(1).win(1000).mss(1460).wscale(7));
        s.expect(seg(".").seq(1).ack(1).win(32768));
        assertEquals(1000, c.sendWindow());
        assertEquals(7, c.sendWindowScale());
        assertEquals(1, c.receiveWindowScale());
        byte[] data = bytes(3000);
        c.write(data);
        s.expect(seg(".").seq(1).ack(1).payload(Arrays.copyOf(data, 1000)));
        s.expectNothing();
        s.inject(seg(".").seq(1).ack(1001).win(100));
        assertEquals(12800, c.sendWindow());
        s.expect(seg(".").seq(1001).ack(1).payload(Arrays.copyOfRange(data, 1000, 2460)));
        s.expectNothing(); // Nagle: the small rest waits for the ACK
        s.inject(seg(".").seq(1).ack(2461).win(100));
        s.expect(seg("P.").seq(2461).ack(1).payload(Arrays.copyOfRange(data, 2460, 3000)));
    }

    /**
     * Passive open: the SYN's window (1000) is not scaled; the ACK that completes the handshake has its
     * window scaled (1000 &lt;&lt; 7). Our SYN-ACK's window is the plain 65535 even with a 1 MB buffer
     * (scale 5), and our later windows are shifted by 5.
     */
    @Test
    void synWindowIsNeverScaledEitherWay() {
        s = TcpScript.ipv4();
        s.settings().setWindowScaling(true).setReceiveBuffer(1 << 20);
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).win(1000).mss(1460).wscale(7));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460).wscale(5));
            s.inject(seg(".").seq(1).ack(1).win(1000));
            TcpConnection c = l.accept();
            assertEquals(128_000, c.sendWindow());
            assertEquals(5, c.receiveWindowScale());
            s.inject(seg("P.").seq(1).ack(1).win(1000).payload("x"));
            s.expect(seg(".").seq(1).ack(2).win((1 << 20) >> 5));
            c.close();
        }
    }

    /** A shift above 14 is used as 14 (RFC 7323 §2.3). */
    @Test
    void windowScaleAbove14IsUsedAs14() {
        s = TcpScript.ipv4();
        s.settings().setWindowScaling(true);
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).win(1000).mss(1460).wscale(15));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460).wscale(1));
            s.inject(seg(".").seq(1).ack(1).win(1));
            TcpConnection c = l.accept();
            assertEquals(14, c.sendWindowScale());
            assertEquals(1 << 14, c.sendWindow());
        }
    }

    /** Scaling needs both SYNs: the peer sends none, so our SYN-ACK has none and nothing is scaled. */
    @Test
    void noScalingWithoutThePeersOption() {
        s = TcpScript.ipv4();
        s.settings().setWindowScaling(true).setReceiveBuffer(1 << 20);
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).win(1000).mss(1460));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.inject(seg(".").seq(1).ack(1).win(1000));
            TcpConnection c = l.accept();
            assertEquals(1000, c.sendWindow());
            assertEquals(0, c.receiveWindowScale());
            assertEquals(0, c.sendWindowScale());
            s.inject(seg("P.").seq(1).ack(1).win(1000).payload("x"));
            // one byte unread: the right edge stays where it was (receiver SWS avoidance, §3.8.6.2.2)
            s.expect(seg(".").seq(1).ack(2).win(65534));
            c.close();
        }
    }

    /** Active open where the peer ignores our Window Scale: neither side scales. */
    @Test
    void activeOpenWithoutThePeersWindowScale() {
        s = TcpScript.ipv4();
        s.settings().setWindowScaling(true).setReceiveBuffer(1 << 20);
        TcpConnection c = s.connect();
        s.expect(seg("S").seq(0).win(65535).mss(1460).wscale(5));
        s.inject(seg("S.").seq(0).ack(1).win(2000).mss(1460));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        assertEquals(0, c.receiveWindowScale());
        assertEquals(0, c.sendWindowScale());
        assertEquals(2000, c.sendWindow());
        s.inject(seg(".").seq(1).ack(1).win(3000));
        assertEquals(3000, c.sendWindow());
    }

    /** Active open with a 1 MB buffer (our SYN offers scale 5), the peer declining window scaling. */
    private TcpConnection declinedScaling() {
        s = TcpScript.ipv4();
        s.settings().setWindowScaling(true).setReceiveBuffer(1 << 20);
        TcpConnection c = s.connect();
        s.expect(seg("S").seq(0).win(65535).mss(1460).wscale(5));
        s.inject(seg("S.").seq(0).ack(1).win(2000).mss(1460));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        assertEquals(0, c.receiveWindowScale());
        return c;
    }

    /**
     * We advertised 65535 (the peer declined scaling), so RCV.WND is 65535: a RST at RCV.NXT + 70000 is
     * outside it and must be dropped silently (RFC 5961 §3.2), not challenged.
     */
    @Test
    void declinedScalingResetOutsideTheAdvertisedWindowIsDropped() {
        TcpConnection c = declinedScaling();
        s.inject(seg("R").seq(70_000));
        s.expectNothing();
        assertEquals(0, s.counter(Tcp.TcpCounter.CHALLENGE_ACKS));
        assertEquals(TcpState.ESTABLISHED, c.state());
    }

    /**
     * Likewise data at RCV.NXT + 70000 is beyond the window we advertised: not acceptable (RFC 9293
     * §3.10.7.4), ACKed and dropped (OUT_OF_WINDOW), not queued out of order.
     */
    @Test
    void declinedScalingDataOutsideTheAdvertisedWindowIsNotQueued() {
        TcpConnection c = declinedScaling();
        s.inject(seg(".").seq(70_000).ack(1).data(100));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        assertEquals(1, s.counter(Tcp.TcpCounter.OUT_OF_WINDOW));
        assertEquals(0, s.counter(Tcp.TcpCounter.OUT_OF_ORDER_SEGMENTS));
        assertEquals(TcpState.ESTABLISHED, c.state());
    }

    // ================================================================== SACK blocks we send

    private TcpConnection sackConnection(boolean timestamps) {
        s = TcpScript.ipv4();
        s.settings().setSack(true).setTimestamps(timestamps);
        TcpListener l = s.listen(4);
        if (timestamps) {
            s.inject(seg("S").seq(0).mss(1460).sackOk().ts(100, 0));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460).sackOk().ts(ANY, 100));
        } else {
            s.inject(seg("S").seq(0).mss(1460).sackOk());
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460).sackOk());
        }
        if (timestamps) {
            s.inject(seg(".").seq(1).ack(1).ts(101, 0)); // once agreed, every segment carries them (RFC 7323 §3.2)
        } else {
            s.inject(seg(".").seq(1).ack(1));
        }
        TcpConnection c = l.accept();
        l.close();
        assertTrue(c.isSackEnabled());
        return c;
    }

    /** RFC 2018 §4: each duplicate ACK reports the block of the latest arrival first; the blocks go as holes fill. */
    @Test
    void sackBlocksWeSend() {
        TcpConnection c = sackConnection(false);
        s.inject(seg(".").seq(101).ack(1).data(100));
        s.expect(seg(".").seq(1).ack(1).sack(101, 201));
        s.inject(seg(".").seq(301).ack(1).data(100));
        s.expect(seg(".").seq(1).ack(1).sack(301, 401, 101, 201));
        s.inject(seg(".").seq(501).ack(1).data(100));
        s.expect(seg(".").seq(1).ack(1).sack(501, 601, 301, 401, 101, 201));
        s.inject(seg(".").seq(201).ack(1).data(100)); // joins 101-201 and 301-401
        s.expect(seg(".").seq(1).ack(1).sack(101, 401, 501, 601));
        s.inject(seg(".").seq(1).ack(1).data(100));
        s.expect(seg(".").seq(1).ack(401).sack(501, 601));
        s.inject(seg(".").seq(401).ack(1).data(100));
        s.expect(seg(".").seq(1).ack(601));
        assertEquals(600, c.readableBytes());
        assertEquals(4, s.counter(Tcp.TcpCounter.OUT_OF_ORDER_SEGMENTS));
        c.close();
    }

    /**
     * RFC 2018 §4: after the first block (the latest arrival), "the SACK option SHOULD be filled out by
     * repeating the most recently reported SACK blocks": arrivals at 501, 101, 301 give 301, 101, 501.
     */
    @Test
    void sackBlocksAfterTheFirstAreTheMostRecentlyReported() {
        sackConnection(false);
        s.inject(seg(".").seq(501).ack(1).data(100));
        s.expect(seg(".").seq(1).ack(1).sack(501, 601));
        s.inject(seg(".").seq(101).ack(1).data(100));
        s.expect(seg(".").seq(1).ack(1).sack(101, 201, 501, 601));
        s.inject(seg(".").seq(301).ack(1).data(100));
        s.expect(seg(".").seq(1).ack(1).sack(301, 401, 101, 201, 501, 601));
    }

    /** At most 4 blocks without timestamps, 3 with them (40 bytes of options). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void sackBlocksAreBoundedByOptionSpace(boolean timestamps) {
        sackConnection(timestamps);
        long ts = 101;
        for (int i = 0; i < 5; i++) {
            TcpScript.Seg d = seg(".").seq(101 + 200 * i).ack(1).data(100);
            if (timestamps) {
                d.ts(ts++, 0);
            }
            s.inject(d);
            TcpScript.Sent ack = s.next();
            assertEquals(1, ack.ack());
            TcpScript.Opt.Sack sack = (TcpScript.Opt.Sack) ack.options().stream()
                    .filter(o -> o instanceof TcpScript.Opt.Sack).findFirst().orElseThrow();
            int blocks = sack.edges().size() / 2;
            assertEquals(Math.min(i + 1, timestamps ? 3 : 4), blocks, ack.toString());
            assertEquals(101 + 200 * i, sack.edges().get(0), "the latest arrival first: " + ack);
            assertEquals(201 + 200 * i, sack.edges().get(1), ack.toString());
        }
    }

    /** Without SACK-Permitted in the peer's SYN, no SACK blocks are sent. */
    @Test
    void noSackBlocksWithoutPermission() {
        s = TcpScript.ipv4();
        s.settings().setSack(true);
        TcpConnection c = s.passiveOpen(null);
        assertFalse(c.isSackEnabled());
        s.inject(seg(".").seq(101).ack(1).data(100));
        s.expect(seg(".").seq(1).ack(1));
    }

    // ================================================================== timestamps and PAWS

    /**
     * Timestamps (RFC 7323): the SYN-ACK echoes the SYN's TSval; every segment then carries the option
     * with TSecr = TS.Recent; our TSval follows our clock in milliseconds; a segment whose TSval is older
     * than TS.Recent is dropped by PAWS (§5.3 R1) with an ACK, its data not taken.
     */
    @Test
    void timestampsAndPaws() {
        s = TcpScript.ipv4();
        s.settings().setTimestamps(true);
        TcpListener l = s.listen(4);
        s.inject(seg("S").seq(0).mss(1460).ts(1000, 0));
        long t0 = s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460).ts(ANY, 1000)).tsVal();
        s.inject(seg(".").seq(1).ack(1).ts(1001, t0));
        TcpConnection c = l.accept();
        l.close();
        assertTrue(c.isTimestampsEnabled());
        assertEquals(1460 - 12, c.sendMss());
        s.inject(seg("P.").seq(1).ack(1).ts(1002, t0).payload("abc"));
        s.expect(seg(".").seq(1).ack(4).ts(t0, 1002));
        s.advanceMillis(100);
        s.inject(seg("P.").seq(4).ack(1).ts(900, t0).payload("old")); // an old duplicate from a previous wrap
        s.expect(seg(".").seq(1).ack(4).ts(t0 + 100, 1002));
        assertEquals(1, s.counter(Tcp.TcpCounter.PAWS_DROPS));
        assertEquals(3, c.readableBytes());
        s.inject(seg("P.").seq(4).ack(1).ts(1003, t0).payload("new"));
        s.expect(seg(".").seq(1).ack(7).ts(t0 + 100, 1003));
        assertEquals("abcnew", TcpScript.text(c));
        c.write("reply".getBytes());
        s.expect(seg("P.").seq(1).ack(7).ts(t0 + 100, 1003).payload("reply"));
    }

    /**
     * TS.Recent is taken only from a segment covering RCV.NXT (RFC 7323 §4.3): a later TSval on an
     * out-of-order segment is not echoed.
     */
    @Test
    void tsRecentOnlyFromInOrderSegments() {
        s = TcpScript.ipv4();
        s.settings().setTimestamps(true);
        TcpListener l = s.listen(4);
        s.inject(seg("S").seq(0).mss(1460).ts(1000, 0));
        long t0 = s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460).ts(ANY, 1000)).tsVal();
        s.inject(seg(".").seq(1).ack(1).ts(1001, t0));
        TcpConnection c = l.accept();
        l.close();
        s.inject(seg("P.").seq(101).ack(1).ts(5000, t0).data(10));
        s.expect(seg(".").seq(1).ack(1).ts(t0, 1001));
        s.inject(seg("P.").seq(1).ack(1).ts(1002, t0).data(100));
        s.expect(seg(".").seq(1).ack(111).ts(t0, 1002));
        assertEquals(110, c.readableBytes());
        c.close();
    }

    /** MSS and Window Scale options count only on a SYN (§3.7.1, RFC 7323 §2.2): later ones are ignored. */
    @Test
    void mssAndWindowScaleOnNonSynAreIgnored() {
        s = TcpScript.ipv4();
        s.settings().setWindowScaling(true);
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).win(1000).mss(1000).wscale(2));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460).wscale(1));
            s.inject(seg(".").seq(1).ack(1).win(1000).mss(300).wscale(9));
            TcpConnection c = l.accept();
            assertEquals(1000, c.sendMss());
            assertEquals(2, c.sendWindowScale());
            assertEquals(4000, c.sendWindow());
        }
    }

    /** Without the option in the peer's SYN, no timestamps are sent, even with them enabled. */
    @Test
    void noTimestampsWithoutThePeersOption() {
        s = TcpScript.ipv4();
        s.settings().setTimestamps(true);
        TcpConnection c = s.passiveOpen(null);
        assertFalse(c.isTimestampsEnabled());
        c.write("x".getBytes());
        s.expect(seg("P.").seq(1).ack(1).payload("x"));
    }

    // ================================================================== SYN backlog and cookies

    /**
     * With a SYN backlog of 2, the third SYN gets a SYN cookie: a SYN-ACK with only an MSS option (no
     * Window Scale, SACK-Permitted or timestamps, which a cookie cannot remember) and no half-open
     * connection; the ACK that returns the cookie makes an ESTABLISHED connection without options; a
     * forged ACK is reset.
     */
    @Test
    void synBacklogOverflowAnsweredWithCookies() {
        s = TcpScript.ipv4();
        s.settings().setSynBacklog(2).setWindowScaling(true).setSack(true).setTimestamps(true);
        TcpListener l = s.listen(8);
        TcpScript a = s;
        TcpScript b = s.flow(40001, 80, 0x1000_0000);
        TcpScript d = s.flow(40002, 80, 0x2000_0000);
        TcpScript e = s.flow(40003, 80, 0x3000_0000);
        for (TcpScript f : new TcpScript[] {a, b}) {
            f.inject(seg("S").seq(0).mss(1460).sackOk().ts(7, 0).wscale(2));
            f.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460).wscale(1).sackOk().ts(ANY, 7));
        }
        assertEquals(2, l.halfOpen());
        d.inject(seg("S").seq(0).mss(1460).sackOk().ts(7, 0).wscale(2));
        d.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        assertEquals(2, l.halfOpen(), "a cookie keeps no state");
        assertEquals(1, s.counter(Tcp.TcpCounter.SYN_COOKIES_SENT));
        assertEquals(3, s.counter(Tcp.TcpCounter.SYN_RECEIVED));

        d.inject(seg(".").seq(1).ack(1).win(1000));
        d.expectNothing();
        assertEquals(1, s.counter(Tcp.TcpCounter.SYN_COOKIES_ACCEPTED));
        TcpConnection c = l.accept();
        assertNotNull(c);
        assertEquals(40002, c.remotePort());
        assertEquals(TcpState.ESTABLISHED, c.state());
        assertFalse(c.isSackEnabled());
        assertFalse(c.isTimestampsEnabled());
        assertEquals(0, c.sendWindowScale());
        assertEquals(1000, c.sendWindow());
        assertEquals(1460, c.sendMss());
        d.inject(seg("P.").seq(1).ack(1).payload("hi"));
        d.expect(seg(".").seq(1).ack(3));
        assertEquals("hi", TcpScript.text(c));
        c.write("ho".getBytes());
        d.expect(seg("P.").seq(1).ack(3).payload("ho"));

        e.inject(seg(".").seq(1).ack(12345)); // a forged cookie
        e.expect(seg("R").seq(12345).win(0));
        assertEquals(1, s.counter(Tcp.TcpCounter.SYN_COOKIES_REJECTED));
        assertNull(l.accept());
        l.close();
    }

    /** A cookie expires: its ACK more than two 64-second periods later is rejected with a reset. */
    @Test
    void staleCookieIsRejected() {
        s = TcpScript.ipv4();
        s.settings().setSynBacklog(1);
        TcpListener l = s.listen(8);
        TcpScript b = s.flow(40001, 80, 0x1000_0000);
        s.inject(seg("S").seq(0).mss(1460));
        s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        b.inject(seg("S").seq(0).mss(1460));
        b.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        assertEquals(1, s.counter(Tcp.TcpCounter.SYN_COOKIES_SENT));
        s.inject(seg("R").seq(1)); // frees the half-open slot, no retransmissions to expect
        s.advance(java.time.Duration.ofSeconds(129));
        b.inject(seg(".").seq(1).ack(1));
        b.expect(seg("R").seq(1).win(0));
        assertEquals(1, s.counter(Tcp.TcpCounter.SYN_COOKIES_REJECTED));
        assertEquals(0, s.counter(Tcp.TcpCounter.SYN_COOKIES_ACCEPTED));
        assertNull(l.accept());
        l.close();
    }

    /** A cookie still valid 60 s later makes its connection; the MSS is the cookie table's value below the peer's (1000 → 536). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void cookieRemembersTheMssRoundedDown(boolean ipv6) {
        s = ipv6 ? TcpScript.ipv6() : TcpScript.ipv4();
        int ours = ipv6 ? 1440 : 1460;
        s.settings().setSynBacklog(1);
        TcpListener l = s.listen(8);
        TcpScript b = s.flow(40001, 80, 0x1000_0000);
        s.inject(seg("S").seq(0).mss(1460));
        s.expect(seg("S.").seq(0).ack(1).win(65535).mss(ours));
        b.inject(seg("S").seq(0).mss(1000));
        b.expect(seg("S.").seq(0).ack(1).win(65535).mss(ours));
        s.inject(seg("R").seq(1));
        s.advance(java.time.Duration.ofSeconds(60));
        b.inject(seg("P.").seq(1).ack(1).payload("data with the cookie"));
        b.expect(seg(".").seq(1).ack(21));
        TcpConnection c = l.accept();
        assertNotNull(c);
        assertEquals(536, c.sendMss());
        assertEquals("data with the cookie", TcpScript.text(c));
        l.close();
    }

    /** A cookie is bound to the peer's ISN: the right cookie with another sequence number is rejected. */
    @Test
    void cookieWithWrongSequenceNumberIsRejected() {
        s = TcpScript.ipv4();
        s.settings().setSynBacklog(1);
        TcpListener l = s.listen(8);
        TcpScript b = s.flow(40001, 80, 0x1000_0000);
        s.inject(seg("S").seq(0).mss(1460));
        s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        b.inject(seg("S").seq(0).mss(1460));
        b.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        b.inject(seg(".").seq(2).ack(1));
        b.expect(seg("R").seq(1).win(0));
        assertEquals(1, s.counter(Tcp.TcpCounter.SYN_COOKIES_REJECTED));
        assertNull(l.accept());
        l.close();
    }

    /** Without cookies, a SYN beyond the backlog is dropped silently (the peer will retry). */
    @Test
    void synBacklogOverflowWithoutCookiesDrops() {
        s = TcpScript.ipv4();
        s.settings().setSynBacklog(2).setSynCookies(false);
        TcpListener l = s.listen(8);
        TcpScript b = s.flow(40001, 80, 0x1000_0000);
        TcpScript d = s.flow(40002, 80, 0x2000_0000);
        s.inject(seg("S").seq(0).mss(1460));
        s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        b.inject(seg("S").seq(0).mss(1460));
        b.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        d.inject(seg("S").seq(0).mss(1460));
        d.expectNothing();
        assertEquals(1, s.counter(Tcp.TcpCounter.SYN_BACKLOG_FULL));
        assertEquals(2, l.halfOpen());
        // one completes: room again
        s.inject(seg(".").seq(1).ack(1));
        assertEquals(1, l.halfOpen());
        d.inject(seg("S").seq(0).mss(1460));
        d.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        assertEquals(2, l.halfOpen());
        l.close();
    }

    /** A full accept queue: further SYNs are dropped (ACCEPT_QUEUE_FULL), not answered. */
    @Test
    void fullAcceptQueueDropsSyns() {
        s = TcpScript.ipv4();
        TcpListener l = s.listen(1);
        s.inject(seg("S").seq(0).mss(1460));
        s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        s.inject(seg(".").seq(1).ack(1));
        assertEquals(1, l.pending());
        TcpScript b = s.flow(40001, 80, 0x1000_0000);
        b.inject(seg("S").seq(0).mss(1460));
        b.expectNothing();
        assertEquals(1, s.counter(Tcp.TcpCounter.ACCEPT_QUEUE_FULL));
        l.close();
        s.expect(seg("R.").seq(1).ack(1).win(0)); // the connection never accepted is reset
    }

    // ================================================================== out-of-order queue

    /**
     * With room for 3 out-of-order segments, the 4th and 5th are dropped (REASSEMBLY_OVERFLOW) but still
     * ACKed; once the hole fills, exactly the queued data is delivered and the rest must come again.
     */
    @Test
    void outOfOrderQueueIsBounded() {
        s = TcpScript.ipv4();
        s.settings().setReassemblyLimit(3);
        TcpConnection c = s.passiveOpen(null);
        byte[] data = bytes(600);
        for (int i = 1; i <= 5; i++) {
            int at = 100 * i;
            s.inject(seg(".").seq(1 + at).ack(1).payload(Arrays.copyOfRange(data, at, at + 10)));
            s.expect(seg(".").seq(1).ack(1));
        }
        assertEquals(5, s.counter(Tcp.TcpCounter.OUT_OF_ORDER_SEGMENTS));
        assertEquals(2, s.counter(Tcp.TcpCounter.REASSEMBLY_OVERFLOW));
        s.inject(seg(".").seq(1).ack(1).payload(Arrays.copyOfRange(data, 0, 100)));
        s.expect(seg(".").seq(1).ack(111));
        s.inject(seg(".").seq(111).ack(1).payload(Arrays.copyOfRange(data, 110, 200)));
        s.expect(seg(".").seq(1).ack(211));
        s.inject(seg(".").seq(211).ack(1).payload(Arrays.copyOfRange(data, 210, 300)));
        s.expect(seg(".").seq(1).ack(311));
        s.inject(seg(".").seq(311).ack(1).payload(Arrays.copyOfRange(data, 310, 400)));
        s.expect(seg(".").seq(1).ack(401)); // the segment at 401 was dropped: it must come again
        s.inject(seg(".").seq(401).ack(1).payload(Arrays.copyOfRange(data, 400, 600)));
        s.expect(seg(".").seq(1).ack(601));
        byte[] got = new byte[600];
        assertEquals(600, c.read(got, 0, 600));
        assertArrayEquals(data, got);
    }

    // ================================================================== receive window

    /**
     * Data beyond the window is trimmed to it; at a zero window a one-byte probe is ACKed but not taken;
     * reading opens the window and sends a window update (RFC 9293 §3.8.6, §3.10.7.4).
     */
    @Test
    void receiveWindowIsEnforced() {
        s = TcpScript.ipv4();
        s.settings().setReceiveBuffer(1000);
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).mss(1460));
            s.expect(seg("S.").seq(0).ack(1).win(1000).mss(1460));
            s.inject(seg(".").seq(1).ack(1));
            TcpConnection c = l.accept();
            byte[] data = bytes(1500);
            s.inject(seg("P.").seq(1).ack(1).payload(data));
            s.expect(seg(".").seq(1).ack(1001).win(0));
            assertEquals(1000, c.readableBytes());
            s.inject(seg(".").seq(1001).ack(1).payload(Arrays.copyOfRange(data, 1000, 1001)));
            s.expect(seg(".").seq(1).ack(1001).win(0));
            assertEquals(1000, c.readableBytes());
            byte[] got = new byte[1000];
            assertEquals(1000, c.read(got, 0, 1000));
            assertArrayEquals(Arrays.copyOf(data, 1000), got);
            s.expect(seg(".").seq(1).ack(1001).win(1000));
            assertEquals(1, s.counter(Tcp.TcpCounter.WINDOW_UPDATES));
        }
    }

    /** Data entirely before RCV.NXT is ACKed and counted (DUPLICATE_DATA_BYTES); a partial overlap keeps only the new part. */
    @Test
    void duplicateAndOverlappingData() {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        s.inject(seg("P.").seq(1).ack(1).payload("abcdef"));
        s.expect(seg(".").seq(1).ack(7));
        s.inject(seg("P.").seq(1).ack(1).payload("abcdef"));
        s.expect(seg(".").seq(1).ack(7));
        assertEquals(6, s.counter(Tcp.TcpCounter.DUPLICATE_DATA_BYTES));
        s.inject(seg("P.").seq(4).ack(1).payload("defghi"));
        s.expect(seg(".").seq(1).ack(10));
        assertEquals(9, s.counter(Tcp.TcpCounter.DUPLICATE_DATA_BYTES));
        assertEquals("abcdefghi", TcpScript.text(c));
    }

    // ================================================================== buffers back in the pool

    /** abort() frees everything, data waiting to be read included (its javadoc: "frees everything"). */
    @Test
    void abortFreesEverything() {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        s.inject(seg("P.").seq(1).ack(1).payload("unread"));
        s.expect(seg(".").seq(1).ack(7));
        s.inject(seg("P.").seq(100).ack(1).payload("out of order"));
        s.expect(seg(".").seq(1).ack(7));
        c.write("unsent and unacknowledged".getBytes());
        s.expect(seg("P.").seq(1).ack(7).anyOptions().payload("unsent and unacknowledged"));
        c.abort();
        s.expect(seg("R.").seq(26).ack(7).win(0));
        assertTrue(s.pool().stats().isQuiescent(), () -> "in use after abort(): " + s.pool().leakReport());
    }

    /** Closing the host frees every connection's buffers: unread, out-of-order and unacknowledged data. */
    @Test
    void hostCloseFreesEverything() {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        s.inject(seg("P.").seq(1).ack(1).payload("unread"));
        s.expect(seg(".").seq(1).ack(7));
        s.inject(seg("P.").seq(100).ack(1).payload("out of order"));
        s.expect(seg(".").seq(1).ack(7));
        c.write("unacknowledged".getBytes());
        s.expect(seg("P.").seq(1).ack(7).payload("unacknowledged"));
        TcpScript t = s;
        s = null;
        t.close(); // asserts the pool is quiescent
    }

    /** An orderly close on both sides, data having gone both ways, leaves nothing in the pool. */
    @Test
    void orderlyCloseFreesEverything() {
        s = TcpScript.ipv4();
        s.settings().setMsl(java.time.Duration.ofSeconds(1));
        TcpConnection c = s.passiveOpen(null);
        s.inject(seg("P.").seq(1).ack(1).payload("ping"));
        s.expect(seg(".").seq(1).ack(5));
        assertEquals("ping", TcpScript.text(c));
        c.write("pong".getBytes());
        s.expect(seg("P.").seq(1).ack(5).payload("pong"));
        c.close();
        s.expect(seg("F.").seq(5).ack(5));
        s.inject(seg("F.").seq(5).ack(6));
        s.expect(seg(".").seq(6).ack(6));
        s.advance(java.time.Duration.ofSeconds(2));
        assertEquals(TcpState.CLOSED, c.state());
        assertTrue(s.pool().stats().isQuiescent(), () -> s.pool().leakReport());
    }
}
