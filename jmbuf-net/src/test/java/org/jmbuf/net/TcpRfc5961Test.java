package org.jmbuf.net;

import static org.jmbuf.net.TcpScript.seg;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * RFC 5961 (improving TCP's robustness to blind in-window attacks), case by case, packet by packet:
 * <ul>
 * <li>§3.2, RST: a RST exactly at RCV.NXT resets; a RST elsewhere in the window gets a challenge ACK
 * ({@code <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>}) and the connection stays; a RST outside the window is
 * dropped silently.</li>
 * <li>§4.2, SYN: a SYN in a synchronized state, whatever its sequence number, gets a challenge ACK and
 * the connection stays.</li>
 * <li>§5.2, ACK: an ACK for data not yet sent (SEG.ACK &gt; SND.NXT, counter ACK_TOO_FAR) or older than
 * SND.UNA - MAX.SND.WND (ACK_TOO_OLD) is dropped, data included, and answered with an ACK.</li>
 * <li>§7, throttling: challenge ACKs are limited per second host-wide
 * ({@link TcpSettings#setChallengeAcksPerSecond}), the excess counted in CHALLENGE_ACKS_SUPPRESSED.</li>
 * </ul>
 * Each over IPv4 on a connection opened passively, the peer's window 65535 and ours 65535 (no scaling).
 */
class TcpRfc5961Test {
    private TcpScript s;

    @AfterEach
    void tearDown() {
        if (s != null) {
            s.close();
        }
    }

    private TcpConnection open() {
        s = TcpScript.ipv4();
        return s.passiveOpen(null);
    }

    // ================================================================== §3 RST

    /** §3.2 case 1: a RST whose sequence number is exactly RCV.NXT resets the connection. */
    @Test
    void resetAtRcvNxtResets() {
        TcpConnection c = open();
        s.inject(seg("P.").seq(1).ack(1).payload("abc"));
        s.expect(seg(".").seq(1).ack(4));
        s.inject(seg("R").seq(4));
        s.expectNothing();
        assertEquals(TcpState.CLOSED, c.state());
        assertEquals(TcpConnection.Failure.RESET, c.failure());
        assertEquals(1, s.counter(Tcp.TcpCounter.RESETS_RECEIVED));
        assertEquals(0, s.counter(Tcp.TcpCounter.CHALLENGE_ACKS));
        assertEquals("abc", TcpScript.text(c), "what arrived before the reset can still be read");
        c.close();
    }

    /**
     * §3.2 case 3: a RST in the window but not at RCV.NXT gets a challenge ACK and changes nothing; the
     * legitimate peer then answers the challenge with a RST at exactly RCV.NXT, which resets (§3.2's
     * "the RST will be accepted" flow).
     */
    @ParameterizedTest
    @ValueSource(longs = {2, 100, 65535})
    void resetInWindowButNotAtRcvNxtGetsChallengeAck(long seq) {
        TcpConnection c = open();
        s.inject(seg("R").seq(seq));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        s.expectNothing();
        assertEquals(TcpState.ESTABLISHED, c.state());
        assertEquals(1, s.counter(Tcp.TcpCounter.CHALLENGE_ACKS));
        assertEquals(0, s.counter(Tcp.TcpCounter.RESETS_RECEIVED));
        // the connection still works
        s.inject(seg("P.").seq(1).ack(1).payload("ok"));
        s.expect(seg(".").seq(1).ack(3));
        assertEquals("ok", TcpScript.text(c));
        // the real peer answers the challenge ACK with a RST at RCV.NXT
        s.inject(seg("R").seq(3));
        assertEquals(TcpState.CLOSED, c.state());
        assertEquals(TcpConnection.Failure.RESET, c.failure());
    }

    /** The same three RST cases over IPv6. */
    @Test
    void resetCasesOverIpv6() {
        s = TcpScript.ipv6();
        TcpConnection c = s.passiveOpen(null);
        s.inject(seg("R").seq(70_000));
        s.expectNothing();
        s.inject(seg("R").seq(50));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        assertEquals(TcpState.ESTABLISHED, c.state());
        s.inject(seg("S").seq(1).mss(1440));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        s.inject(seg("R").seq(1));
        assertEquals(TcpState.CLOSED, c.state());
        assertEquals(TcpConnection.Failure.RESET, c.failure());
        assertEquals(2, s.counter(Tcp.TcpCounter.CHALLENGE_ACKS));
    }

    /**
     * §3.2 holds "in all states except SYN-SENT", SYN-RECEIVED included: an in-window RST not at RCV.NXT
     * on a half-open connection gets a challenge ACK and the half-open connection stays.
     */
    @Test
    void resetInWindowInSynReceivedGetsChallengeAck() {
        s = TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).mss(1460));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.inject(seg("R").seq(100));
            s.expect(seg(".").seq(1).ack(1).win(65535));
            assertEquals(1, l.halfOpen());
            assertEquals(1, s.counter(Tcp.TcpCounter.CHALLENGE_ACKS));
            s.inject(seg(".").seq(1).ack(1));
            assertNotNull(l.accept());
        }
    }

    /** A RST with the ACK bit in the window but not at RCV.NXT: likewise a challenge ACK. */
    @Test
    void resetAckInWindowGetsChallengeAck() {
        TcpConnection c = open();
        s.inject(seg("R.").seq(500).ack(1));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        assertEquals(TcpState.ESTABLISHED, c.state());
    }

    /** §3.2 case 2: a RST outside the window (before RCV.NXT, at or past RCV.NXT+RCV.WND) is dropped silently. */
    @ParameterizedTest
    @ValueSource(longs = {0, -1000, 65536, 70000, 1L << 31})
    void resetOutsideTheWindowIsDroppedSilently(long seq) {
        TcpConnection c = open();
        s.inject(seg("R").seq(seq));
        s.expectNothing();
        assertEquals(TcpState.ESTABLISHED, c.state());
        assertEquals(0, s.counter(Tcp.TcpCounter.CHALLENGE_ACKS));
        assertEquals(0, s.counter(Tcp.TcpCounter.RESETS_RECEIVED));
        assertEquals(0, s.counter(Tcp.TcpCounter.CHALLENGE_ACKS_SUPPRESSED));
    }

    /** The reset checks hold in the other synchronized states too: FIN-WAIT-2 and CLOSE-WAIT. */
    @Test
    void resetChecksInFinWait2AndCloseWait() {
        TcpConnection c = open();
        c.shutdownOutput();
        s.expect(seg("F.").seq(1).ack(1));
        s.inject(seg(".").seq(1).ack(2));
        assertEquals(TcpState.FIN_WAIT_2, c.state());
        s.inject(seg("R").seq(10));
        s.expect(seg(".").seq(2).ack(1));
        assertEquals(TcpState.FIN_WAIT_2, c.state());
        s.inject(seg("R").seq(1));
        assertEquals(TcpState.CLOSED, c.state());

        TcpScript t = s.flow(40001, 81, 0x1234_5678);
        try (TcpListener l = t.listen(2)) {
            t.inject(seg("S").seq(0).mss(1460));
            t.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            t.inject(seg("F.").seq(1).ack(1));
            t.expect(seg(".").seq(1).ack(2));
            TcpConnection d = l.accept();
            assertEquals(TcpState.CLOSE_WAIT, d.state());
            t.inject(seg("R").seq(10));
            t.expect(seg(".").seq(1).ack(2));
            assertEquals(TcpState.CLOSE_WAIT, d.state());
            t.inject(seg("R").seq(2));
            assertEquals(TcpState.CLOSED, d.state());
            d.close();
        }
    }

    // ================================================================== §4 SYN

    /** §4.2: a SYN in ESTABLISHED, in the window, gets a challenge ACK; the connection stays (no reset, unlike RFC 793). */
    @ParameterizedTest
    @ValueSource(strings = {"S", "S."})
    void synInWindowGetsChallengeAck(String flags) {
        TcpConnection c = open();
        s.inject(seg(flags).seq(1).ack(1).mss(1460));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        s.expectNothing();
        assertEquals(TcpState.ESTABLISHED, c.state());
        assertEquals(1, s.counter(Tcp.TcpCounter.CHALLENGE_ACKS));
        s.inject(seg("S").seq(1000).mss(1460));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        assertEquals(TcpState.ESTABLISHED, c.state());
        assertEquals(2, s.counter(Tcp.TcpCounter.CHALLENGE_ACKS));
    }

    /** §4.2 in the other synchronized states: FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT. */
    @Test
    void synInClosingStatesGetsChallengeAck() {
        TcpConnection c = open();
        s.inject(seg("F.").seq(1).ack(1));
        s.expect(seg(".").seq(1).ack(2));
        assertEquals(TcpState.CLOSE_WAIT, c.state());
        s.inject(seg("S").seq(2).mss(1460));
        s.expect(seg(".").seq(1).ack(2));
        assertEquals(TcpState.CLOSE_WAIT, c.state());

        TcpScript t = s.flow(40001, 81, 0x0abc_0000);
        try (TcpListener l = t.listen(2)) {
            t.inject(seg("S").seq(0).mss(1460));
            t.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            t.inject(seg(".").seq(1).ack(1));
            TcpConnection d = l.accept();
            d.shutdownOutput();
            t.expect(seg("F.").seq(1).ack(1));
            t.inject(seg("S").seq(1).mss(1460));
            t.expect(seg(".").seq(2).ack(1));
            assertEquals(TcpState.FIN_WAIT_1, d.state());
            t.inject(seg(".").seq(1).ack(2));
            t.inject(seg("S").seq(1).mss(1460));
            t.expect(seg(".").seq(2).ack(1));
            assertEquals(TcpState.FIN_WAIT_2, d.state());
        }
    }

    /**
     * §4.2: "If the SYN bit is set, irrespective of the sequence number, TCP MUST send an ACK (also
     * referred to as challenge ACK)", and §7 throttles all challenge ACKs: with one allowed a second, a
     * SYN in the window takes it, and a SYN outside the window must then get nothing.
     */
    @Test
    void synOutsideTheWindowGetsARateLimitedChallengeAck() {
        TcpConnection c = open();
        s.settings().setChallengeAcksPerSecond(1);
        s.inject(seg("S").seq(100).mss(1460));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        s.inject(seg("S").seq(200_000).mss(1460));
        s.expectNothing();
        assertEquals(TcpState.ESTABLISHED, c.state());
        assertEquals(1, s.counter(Tcp.TcpCounter.CHALLENGE_ACKS));
        assertEquals(1, s.counter(Tcp.TcpCounter.CHALLENGE_ACKS_SUPPRESSED));
    }

    /** A SYN outside the window gets an ACK and leaves the connection as it is (not a reset, not a new connection). */
    @Test
    void synOutsideTheWindowGetsAnAck() {
        TcpConnection c = open();
        s.inject(seg("S").seq(200_000).mss(1460));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        assertEquals(TcpState.ESTABLISHED, c.state());
        assertEquals(1, s.connections().size());
    }

    // ================================================================== §7 throttling

    /** §7: with 2 challenge ACKs a second, 5 in-window RSTs at one instant get 2; half a second later, one more. */
    @Test
    void challengeAcksAreRateLimited() {
        TcpConnection c = open();
        s.settings().setChallengeAcksPerSecond(2);
        for (int i = 0; i < 5; i++) {
            s.inject(seg("R").seq(100 + i));
        }
        s.expect(seg(".").seq(1).ack(1).win(65535));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        s.expectNothing();
        assertEquals(2, s.counter(Tcp.TcpCounter.CHALLENGE_ACKS));
        assertEquals(3, s.counter(Tcp.TcpCounter.CHALLENGE_ACKS_SUPPRESSED));
        s.advanceMillis(500);
        s.inject(seg("S").seq(1).mss(1460));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        s.inject(seg("R").seq(200));
        s.expectNothing();
        assertEquals(3, s.counter(Tcp.TcpCounter.CHALLENGE_ACKS));
        assertEquals(4, s.counter(Tcp.TcpCounter.CHALLENGE_ACKS_SUPPRESSED));
        assertEquals(TcpState.ESTABLISHED, c.state());
        // a RST at RCV.NXT is never throttled
        s.inject(seg("R").seq(1));
        assertEquals(TcpState.CLOSED, c.state());
    }

    // ================================================================== §5 ACK

    /** §5.2: an ACK for data we never sent is dropped, with its data, and answered with an ACK. */
    @Test
    void ackForDataNotYetSentIsDropped() {
        TcpConnection c = open();
        s.inject(seg(".").seq(1).ack(1000));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        assertEquals(1, s.counter(Tcp.TcpCounter.ACK_TOO_FAR));
        s.inject(seg("P.").seq(1).ack(5000).payload("evil"));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        assertEquals(2, s.counter(Tcp.TcpCounter.ACK_TOO_FAR));
        assertEquals(0, c.readableBytes(), "data with an unacceptable ACK is not taken");
        assertEquals(TcpState.ESTABLISHED, c.state());
        s.inject(seg("P.").seq(1).ack(1).payload("good"));
        s.expect(seg(".").seq(1).ack(5));
        assertEquals("good", TcpScript.text(c));
    }

    /** §5.2 with data in flight: SEG.ACK up to SND.NXT is fine, one beyond is too far. */
    @Test
    void ackJustBeyondSndNxtIsTooFar() {
        TcpConnection c = open();
        c.write("12345".getBytes());
        s.expect(seg("P.").seq(1).ack(1).payload("12345"));
        s.inject(seg(".").seq(1).ack(7));
        s.expect(seg(".").seq(6).ack(1));
        assertEquals(1, s.counter(Tcp.TcpCounter.ACK_TOO_FAR));
        assertEquals(5, c.unacknowledgedBytes());
        s.inject(seg(".").seq(1).ack(6));
        s.expectNothing();
        assertEquals(0, c.unacknowledgedBytes());
    }

    /**
     * §5.2: with SND.UNA at 3001 and MAX.SND.WND 1000, an ACK of 2000 (below SND.UNA - MAX.SND.WND) is
     * dropped with its data and answered with an ACK; an ACK of 2001 is acceptable (an old duplicate).
     */
    @Test
    void ackOlderThanTheMaximumWindowIsDropped() {
        s = TcpScript.ipv4();
        TcpListener l = s.listen(2);
        s.inject(seg("S").seq(0).win(1000).mss(1000));
        s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        s.inject(seg(".").seq(1).ack(1).win(1000));
        TcpConnection c = l.accept();
        l.close();
        byte[] data = new byte[3000];
        Arrays.fill(data, (byte) 'x');
        assertEquals(3000, c.write(data));
        s.expect(seg(".").seq(1).ack(1).payload(Arrays.copyOf(data, 1000)));
        s.expectNothing();
        s.inject(seg(".").seq(1).ack(1001).win(1000));
        s.expect(seg(".").seq(1001).ack(1).payload(Arrays.copyOf(data, 1000)));
        s.inject(seg(".").seq(1).ack(2001).win(1000));
        s.expect(seg("P.").seq(2001).ack(1).payload(Arrays.copyOf(data, 1000)));
        s.inject(seg(".").seq(1).ack(3001).win(1000));
        s.expectNothing();
        assertEquals(0, c.unacknowledgedBytes());

        s.inject(seg(".").seq(1).ack(2000).win(1000));
        s.expect(seg(".").seq(3001).ack(1));
        assertEquals(1, s.counter(Tcp.TcpCounter.ACK_TOO_OLD));
        s.inject(seg("P.").seq(1).ack(1500).win(1000).payload("old"));
        s.expect(seg(".").seq(3001).ack(1));
        assertEquals(2, s.counter(Tcp.TcpCounter.ACK_TOO_OLD));
        assertEquals(0, c.readableBytes(), "data with a too old ACK is not taken");
        s.inject(seg("P.").seq(1).ack(2001).win(1000).payload("new"));
        s.expect(seg(".").seq(3001).ack(4));
        assertEquals(2, s.counter(Tcp.TcpCounter.ACK_TOO_OLD));
        assertEquals("new", TcpScript.text(c));
        assertEquals(TcpState.ESTABLISHED, c.state());
    }

    /** §5.2 holds in CLOSE-WAIT too: an ACK beyond SND.NXT is answered and dropped. */
    @Test
    void ackTooFarInCloseWait() {
        TcpConnection c = open();
        s.inject(seg("F.").seq(1).ack(1));
        s.expect(seg(".").seq(1).ack(2));
        s.inject(seg(".").seq(2).ack(99));
        s.expect(seg(".").seq(1).ack(2));
        assertEquals(1, s.counter(Tcp.TcpCounter.ACK_TOO_FAR));
        assertEquals(TcpState.CLOSE_WAIT, c.state());
        s.advance(Duration.ofSeconds(1));
        s.expectNothing();
    }
}
