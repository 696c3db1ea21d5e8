package org.jmbuf.net;

import static org.jmbuf.net.TcpScript.seg;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every transition of RFC 9293's state diagram (§3.3.2, Figure 5), segment by segment in the style of
 * packetdrill ({@link TcpScript}): the three-way handshake both ways (§3.5, Figure 6) and simultaneous open
 * (Figure 8), a listener's half-open connection reset back to LISTEN (§3.5.1, §3.10.7.4), CLOSE in
 * SYN-SENT and SYN-RECEIVED (§3.10.4), the orderly close on both sides and the simultaneous close (§3.6,
 * Figures 12 and 13) with TIME-WAIT lasting 2 MSL of a configured MSL and re-ACKing a retransmitted FIN
 * (§3.10.7.4, TIME-WAIT), a refused connection (§3.10.7.3), RST in every synchronized state (§3.10.7.4,
 * second check, with RFC 1337 for TIME-WAIT), SYN retransmission with exponential backoff and giving up
 * (RFC 6298 §5, RFC 1122 §4.2.3.5), and half-close (§3.6: data still flows towards a side that has sent
 * its FIN). Each case runs over IPv4; the handshakes run over IPv6 too.
 */
class TcpStateMachineTest {
    private TcpScript s;

    @AfterEach
    void tearDown() {
        if (s != null) {
            s.close();
        }
    }

    // ================================================================== opening

    /** CLOSED → SYN-SENT → ESTABLISHED (Figure 6, left side). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void activeOpen(boolean ipv6) {
        s = ipv6 ? TcpScript.ipv6() : TcpScript.ipv4();
        TcpConnection c = s.connect();
        assertEquals(TcpState.SYN_SENT, c.state());
        s.expect(seg("S").seq(0).win(65535).mss(ipv6 ? 1440 : 1460));
        s.expectNothing();
        s.inject(seg("S.").seq(0).ack(1).win(65535).mss(1000));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        assertEquals(TcpState.ESTABLISHED, c.state());
        assertEquals(1000, c.sendMss());
        assertEquals(1, s.counter(Tcp.TcpCounter.CONNECTS));
        assertEquals(1, s.counter(Tcp.TcpCounter.ESTABLISHED));
        s.expectNothing();
    }

    /** LISTEN → SYN-RECEIVED → ESTABLISHED (Figure 6, right side). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void passiveOpen(boolean ipv6) {
        s = ipv6 ? TcpScript.ipv6() : TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).win(65535).mss(1000));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(ipv6 ? 1440 : 1460));
            assertEquals(1, l.halfOpen());
            assertNull(l.accept(), "not accepted before the handshake completes");
            s.inject(seg(".").seq(1).ack(1));
            s.expectNothing();
            assertEquals(0, l.halfOpen());
            TcpConnection c = l.accept();
            assertNotNull(c);
            assertEquals(TcpState.ESTABLISHED, c.state());
            assertEquals(s.peer(), c.remoteAddress());
            assertEquals(40000, c.remotePort());
            assertEquals(1000, c.sendMss());
            c.abort();
        }
    }

    /** Data on the ACK that completes the handshake is kept for the accepted connection. */
    @Test
    void passiveOpenWithDataOnTheThirdSegment() {
        s = TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).mss(1460));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.inject(seg("P.").seq(1).ack(1).payload("GET /"));
            s.expect(seg(".").seq(1).ack(6));
            TcpConnection c = l.accept();
            assertEquals("GET /", TcpScript.text(c));
            c.abort();
        }
    }

    /**
     * CLOSED → SYN-SENT → SYN-RECEIVED → ESTABLISHED: simultaneous open (Figure 8). Our SYN crosses the
     * peer's; we answer its SYN with a SYN-ACK carrying our original ISN, and the peer's SYN-ACK (line 6)
     * brings us to ESTABLISHED.
     */
    @Test
    void simultaneousOpen() {
        s = TcpScript.ipv4();
        TcpConnection c = s.connect();
        s.expect(seg("S").seq(0).win(65535).mss(1460));
        s.inject(seg("S").seq(0).win(65535).mss(1460));
        s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        assertEquals(TcpState.SYN_RECEIVED, c.state());
        s.inject(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        assertEquals(TcpState.ESTABLISHED, c.state(), "Figure 8 line 6: the peer's SYN-ACK completes the open");
        if (s.hasSent()) {
            s.expect(seg(".").seq(1).ack(1));
        }
        s.expectNothing();
    }

    /** Simultaneous open where the peer's SYN-ACK is lost and its ACK arrives: SYN-RECEIVED → ESTABLISHED. */
    @Test
    void simultaneousOpenCompletedByAnAck() {
        s = TcpScript.ipv4();
        TcpConnection c = s.connect();
        s.expect(seg("S").seq(0).win(65535).mss(1460));
        s.inject(seg("S").seq(0).mss(1460));
        s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        s.inject(seg(".").seq(1).ack(1));
        assertEquals(TcpState.ESTABLISHED, c.state());
        s.expectNothing();
        assertEquals(1, c.write("x".getBytes()));
        s.expect(seg("P.").seq(1).ack(1).payload("x"));
    }

    /** SYN-RECEIVED → LISTEN: a reset for a passively opened half-open connection (§3.10.7.4, second check). */
    @Test
    void resetInSynReceivedReturnsToListen() {
        s = TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).mss(1460));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            assertEquals(1, l.halfOpen());
            s.inject(seg("R").seq(1));
            s.expectNothing();
            assertEquals(0, l.halfOpen());
            assertTrue(s.connections().isEmpty());
            assertNull(l.accept());
            // still listening: the same peer may open again
            s.inject(seg("S").seq(5000).mss(1460));
            s.expect(seg("S.").ack(5001).win(65535).mss(1460));
            assertEquals(1, l.halfOpen());
        }
    }

    /**
     * SYN-RECEIVED → LISTEN on a SYN with a new sequence number (RFC 9293 §3.10.7.4, fourth check,
     * SYN-RECEIVED: "If the connection was initiated with a passive OPEN, then return this connection to
     * the LISTEN state and return"): the half-open connection is forgotten, nothing is sent.
     */
    @Test
    void newSynInSynReceivedReturnsToListen() {
        s = TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).mss(1460));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.inject(seg("S").seq(10).mss(1460));
            s.expectNothing();
            assertEquals(0, l.halfOpen());
            assertTrue(s.connections().isEmpty());
        }
    }

    /** A SYN-ACK that acknowledges something other than our SYN, in SYN-RECEIVED: a reset (§3.10.7.4, fifth check). */
    @Test
    void badAckInSynReceivedIsAnsweredWithReset() {
        s = TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).mss(1460));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.inject(seg(".").seq(1).ack(77));
            s.expect(seg("R").seq(77).win(0));
            assertEquals(1, l.halfOpen(), "the half-open connection stays");
            assertNull(l.accept());
        }
    }

    /** A retransmitted SYN in SYN-RECEIVED (our SYN-ACK lost): the SYN-ACK goes again, same ISN. */
    @Test
    void retransmittedSynInSynReceivedGetsTheSynAckAgain() {
        s = TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).mss(1460));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.inject(seg("S").seq(0).mss(1460));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.inject(seg(".").seq(1).ack(1));
            assertNotNull(l.accept());
        }
    }

    /** The listener retransmits its SYN-ACK after the initial RTO (1 s) and again after 2 s more. */
    @Test
    void synAckIsRetransmittedWithBackoff() {
        s = TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).mss(1460));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.advanceMillis(999);
            s.expectNothing();
            s.advanceMillis(1);
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.advanceMillis(1999);
            s.expectNothing();
            s.advanceMillis(1);
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.inject(seg(".").seq(1).ack(1));
            assertNotNull(l.accept());
        }
    }

    /**
     * SYN-RECEIVED → FIN-WAIT-1 (§3.10.4, CLOSE in SYN-RECEIVED: "If no SENDs have been issued and there is
     * no pending data to send, then form a FIN segment and send it, and enter FIN-WAIT-1 state"). A
     * connection of ours is in SYN-RECEIVED only after a simultaneous open.
     */
    @Test
    void closeInSynReceivedSendsFin() {
        s = TcpScript.ipv4();
        TcpConnection c = s.connect();
        s.expect(seg("S").seq(0).win(65535).mss(1460));
        s.inject(seg("S").seq(0).mss(1460));
        s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        assertEquals(TcpState.SYN_RECEIVED, c.state());
        c.close();
        assertEquals(TcpState.FIN_WAIT_1, c.state());
        s.expect(seg("F.").seq(1).ack(1));
        s.inject(seg(".").seq(1).ack(2));
        assertEquals(TcpState.FIN_WAIT_2, c.state());
        s.inject(seg("F.").seq(1).ack(2));
        s.expect(seg(".").seq(2).ack(2));
        assertEquals(TcpState.TIME_WAIT, c.state());
    }

    /**
     * After CLOSE in SYN-RECEIVED, our SYN-ACK is still unacknowledged: when the retransmission timer runs
     * out, the SYN-ACK must go again (RFC 9293 §3.8.1; RFC 6298 §5.4: retransmit the earliest segment not
     * acknowledged), else the peer, which never saw our SYN, can never synchronize.
     */
    @Test
    void synAckIsRetransmittedAfterCloseInSynReceived() {
        s = TcpScript.ipv4();
        TcpConnection c = s.connect();
        s.expect(seg("S").seq(0).win(65535).mss(1460));
        s.inject(seg("S").seq(0).mss(1460));
        s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        c.close();
        s.expect(seg("F.").seq(1).ack(1));
        s.advance(Duration.ofSeconds(1)); // one RTO
        s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
    }

    /**
     * SYN-RECEIVED → CLOSED on RST for a connection that came from SYN-SENT (simultaneous open): "the
     * connection was refused" (§3.10.7.4, second check).
     */
    @Test
    void resetInSynReceivedAfterSimultaneousOpenRefuses() {
        s = TcpScript.ipv4();
        TcpConnection c = s.connect();
        s.expect(seg("S").seq(0).win(65535).mss(1460));
        s.inject(seg("S").seq(0).mss(1460));
        s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
        s.inject(seg("R").seq(1));
        assertEquals(TcpState.CLOSED, c.state());
        assertEquals(TcpConnection.Failure.REFUSED, c.failure());
        s.expectNothing();
    }

    /** A listener's half-open connection gives up after synRetries SYN-ACK retransmissions: back to LISTEN alone. */
    @Test
    void halfOpenConnectionGivesUp() {
        s = TcpScript.ipv4();
        s.settings().setSynRetries(2);
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).mss(1460));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.advanceMillis(1000);
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.advanceMillis(2000);
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            assertEquals(1, l.halfOpen());
            s.advanceMillis(4000);
            assertEquals(0, l.halfOpen());
            assertTrue(s.connections().isEmpty());
            assertEquals(1, s.counter(Tcp.TcpCounter.TIMEOUT_DROPS));
            if (s.hasSent()) {
                s.expect(seg("R.").seq(1).ack(1).win(0));
            }
            s.expectNothing();
            s.inject(seg(".").seq(1).ack(1)); // too late: the listener knows no such connection
            s.expect(seg("R").seq(1).win(0));
            assertNull(l.accept());
        }
    }

    /** The handshake's last ACK carrying the peer's FIN: ESTABLISHED and at once CLOSE-WAIT. */
    @Test
    void finOnTheThirdSegment() {
        s = TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg("S").seq(0).mss(1460));
            s.expect(seg("S.").seq(0).ack(1).win(65535).mss(1460));
            s.inject(seg("F.").seq(1).ack(1));
            s.expect(seg(".").seq(1).ack(2));
            TcpConnection c = l.accept();
            assertEquals(TcpState.CLOSE_WAIT, c.state());
            assertEquals(-1, c.read(new byte[1], 0, 1));
            c.close();
            s.expect(seg("F.").seq(1).ack(2));
            s.inject(seg(".").seq(2).ack(2));
            assertEquals(TcpState.CLOSED, c.state());
        }
    }

    /** In a synchronized state a segment without ACK is dropped (§3.10.7.4, fifth check), its data not taken. */
    @Test
    void dataWithoutAckIsDropped() {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        s.inject(seg("P").seq(1).payload("noack"));
        s.expectNothing();
        assertEquals(0, c.readableBytes());
        assertEquals(TcpState.ESTABLISHED, c.state());
    }

    /** FIN-WAIT-2 after close() lasts at most finWait2Timeout (the peer may never send its FIN). */
    @Test
    void finWait2TimesOutAfterClose() {
        s = TcpScript.ipv4();
        s.settings().setFinWait2Timeout(Duration.ofSeconds(20));
        TcpConnection c = s.passiveOpen(null);
        c.close();
        s.expect(seg("F.").seq(1).ack(1));
        s.inject(seg(".").seq(1).ack(2));
        assertEquals(TcpState.FIN_WAIT_2, c.state());
        s.advanceMillis(19_999);
        assertEquals(TcpState.FIN_WAIT_2, c.state());
        s.advanceMillis(1);
        assertEquals(TcpState.CLOSED, c.state());
        assertTrue(s.connections().isEmpty());
        s.expectNothing();
    }

    /** Data arriving for a socket the user closed resets the connection (RFC 1122 §4.2.2.13; RFC 9293 §3.6). */
    @Test
    void dataAfterCloseResets() {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        c.close();
        s.expect(seg("F.").seq(1).ack(1));
        s.inject(seg(".").seq(1).ack(2));
        s.inject(seg("P.").seq(1).ack(2).payload("late"));
        s.expect(seg("R.").seq(2).ack(1).win(0));
        assertEquals(TcpState.CLOSED, c.state());
    }

    /** SYN-SENT → CLOSED on CLOSE (§3.10.4): nothing sent; a late SYN-ACK then finds no connection and gets a reset. */
    @Test
    void closeInSynSent() {
        s = TcpScript.ipv4();
        TcpConnection c = s.connect();
        s.expect(seg("S").seq(0).win(65535).mss(1460));
        c.close();
        assertEquals(TcpState.CLOSED, c.state());
        assertNull(c.failure());
        s.expectNothing();
        assertTrue(s.connections().isEmpty());
        s.advance(Duration.ofSeconds(10));
        s.expectNothing(); // no SYN retransmission either
        s.inject(seg("S.").seq(0).ack(1).mss(1460));
        s.expect(seg("R").seq(1).win(0));
    }

    /** SYN-SENT → CLOSED on RST+ACK acknowledging our SYN: connection refused (§3.10.7.3). */
    @Test
    void refusedInSynSent() {
        s = TcpScript.ipv4();
        TcpConnection c = s.connect();
        s.expect(seg("S").seq(0).win(65535).mss(1460));
        s.inject(seg("R.").seq(0).ack(1).win(0));
        assertEquals(TcpState.CLOSED, c.state());
        assertEquals(TcpConnection.Failure.REFUSED, c.failure());
        assertEquals(1, s.counter(Tcp.TcpCounter.CONNECT_REFUSED));
        assertEquals(-1, c.read(new byte[1], 0, 1));
        s.expectNothing();
        s.advance(Duration.ofSeconds(10));
        s.expectNothing();
    }

    /** In SYN-SENT a RST without ACK, or with an ACK that is not for our SYN, is dropped (§3.10.7.3). */
    @Test
    void unacceptableResetsInSynSentAreIgnored() {
        s = TcpScript.ipv4();
        TcpConnection c = s.connect();
        s.expect(seg("S").seq(0).win(65535).mss(1460));
        s.inject(seg("R").seq(0));
        s.inject(seg("R.").seq(0).ack(2));
        s.inject(seg("R.").seq(0).ack(0));
        assertEquals(TcpState.SYN_SENT, c.state());
        s.expectNothing();
        s.inject(seg("S.").seq(0).ack(1).mss(1460));
        s.expect(seg(".").seq(1).ack(1));
        assertEquals(TcpState.ESTABLISHED, c.state());
    }

    /** In SYN-SENT an ACK for something we never sent gets {@code <SEQ=SEG.ACK><CTL=RST>} (§3.10.7.3, first check). */
    @Test
    void badAckInSynSentIsAnsweredWithReset() {
        s = TcpScript.ipv4();
        TcpConnection c = s.connect();
        s.expect(seg("S").seq(0).win(65535).mss(1460));
        s.inject(seg("S.").seq(0).ack(1000).mss(1460));
        s.expect(seg("R").seq(1000).win(0));
        assertEquals(TcpState.SYN_SENT, c.state());
    }

    /** The SYN is retransmitted at 1, 3 and 7 s (RTO doubling), and the connection gives up after synRetries. */
    @Test
    void synRetransmissionAndGiveUp() {
        s = TcpScript.ipv4();
        s.settings().setSynRetries(3);
        TcpConnection c = s.connect();
        s.expect(seg("S").seq(0).win(65535).mss(1460));
        long[] gaps = {1000, 2000, 4000};
        for (long gap : gaps) {
            s.advanceMillis(gap - 1);
            s.expectNothing();
            s.advanceMillis(1);
            s.expect(seg("S").seq(0).win(65535).mss(1460));
            assertEquals(TcpState.SYN_SENT, c.state());
        }
        s.advanceMillis(7999);
        assertEquals(TcpState.SYN_SENT, c.state());
        s.advanceMillis(1);
        assertEquals(TcpState.CLOSED, c.state());
        assertEquals(TcpConnection.Failure.TIMED_OUT, c.failure());
        assertEquals(3, s.counter(Tcp.TcpCounter.RETRANSMIT_TIMEOUTS));
        assertEquals(1, s.counter(Tcp.TcpCounter.TIMEOUT_DROPS));
        s.expectNothing(); // nothing to reset: the peer never answered
        assertTrue(s.connections().isEmpty());
    }

    // ================================================================== closing

    /** ESTABLISHED → FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED after exactly 2 MSL (Figure 12, left side). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void activeCloseThroughTimeWait(boolean ipv6) {
        s = ipv6 ? TcpScript.ipv6() : TcpScript.ipv4();
        s.settings().setMsl(Duration.ofSeconds(5));
        TcpConnection c = s.passiveOpen(null);
        c.shutdownOutput();
        assertEquals(TcpState.FIN_WAIT_1, c.state());
        s.expect(seg("F.").seq(1).ack(1));
        s.inject(seg(".").seq(1).ack(2));
        assertEquals(TcpState.FIN_WAIT_2, c.state());
        s.expectNothing();
        s.inject(seg("F.").seq(1).ack(2));
        s.expect(seg(".").seq(2).ack(2));
        assertEquals(TcpState.TIME_WAIT, c.state());
        assertEquals(-1, c.read(new byte[1], 0, 1));
        s.advanceMillis(9999);
        assertEquals(TcpState.TIME_WAIT, c.state());
        assertEquals(1, s.connections().size());
        s.advanceMillis(1);
        assertEquals(TcpState.CLOSED, c.state());
        assertNull(c.failure());
        assertTrue(s.connections().isEmpty());
        s.expectNothing();
        c.close();
    }

    /** TIME-WAIT answers a retransmitted FIN with an ACK and restarts the 2 MSL timeout (§3.10.7.4, TIME-WAIT). */
    @Test
    void timeWaitReAcksRetransmittedFin() {
        s = TcpScript.ipv4();
        s.settings().setMsl(Duration.ofSeconds(5));
        TcpConnection c = s.passiveOpen(null);
        c.shutdownOutput();
        s.expect(seg("F.").seq(1).ack(1));
        s.inject(seg("F.").seq(1).ack(2));
        s.expect(seg(".").seq(2).ack(2));
        assertEquals(TcpState.TIME_WAIT, c.state());
        s.advanceMillis(6000);
        s.inject(seg("F.").seq(1).ack(2)); // our ACK was lost: the peer sends its FIN again
        s.expect(seg(".").seq(2).ack(2));
        assertEquals(TcpState.TIME_WAIT, c.state());
        s.advanceMillis(9999);
        assertEquals(TcpState.TIME_WAIT, c.state(), "2 MSL counted again from the retransmitted FIN");
        s.advanceMillis(1);
        assertEquals(TcpState.CLOSED, c.state());
        s.expectNothing();
    }

    /** FIN-WAIT-1 → CLOSING → TIME-WAIT: simultaneous close (Figure 13). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void simultaneousClose(boolean ipv6) {
        s = ipv6 ? TcpScript.ipv6() : TcpScript.ipv4();
        s.settings().setMsl(Duration.ofSeconds(5));
        TcpConnection c = s.passiveOpen(null);
        c.shutdownOutput();
        s.expect(seg("F.").seq(1).ack(1));
        s.inject(seg("F.").seq(1).ack(1)); // the peer's FIN crossed ours
        s.expect(seg(".").seq(2).ack(2));
        assertEquals(TcpState.CLOSING, c.state());
        s.inject(seg(".").seq(2).ack(2));
        assertEquals(TcpState.TIME_WAIT, c.state());
        s.expectNothing();
        s.advance(Duration.ofSeconds(10));
        assertEquals(TcpState.CLOSED, c.state());
    }

    /** FIN-WAIT-1 → TIME-WAIT: the peer's FIN acknowledges ours (the diagonal of Figure 5). */
    @Test
    void finAckInFinWait1GoesStraightToTimeWait() {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        c.shutdownOutput();
        s.expect(seg("F.").seq(1).ack(1));
        s.inject(seg("F.").seq(1).ack(2));
        s.expect(seg(".").seq(2).ack(2));
        assertEquals(TcpState.TIME_WAIT, c.state());
    }

    /** ESTABLISHED → CLOSE-WAIT → LAST-ACK → CLOSED (Figure 12, right side). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void passiveClose(boolean ipv6) {
        s = ipv6 ? TcpScript.ipv6() : TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        s.inject(seg("F.").seq(1).ack(1));
        s.expect(seg(".").seq(1).ack(2));
        assertEquals(TcpState.CLOSE_WAIT, c.state());
        assertEquals(-1, c.read(new byte[1], 0, 1), "end of stream");
        c.close();
        assertEquals(TcpState.LAST_ACK, c.state());
        s.expect(seg("F.").seq(1).ack(2));
        s.inject(seg(".").seq(2).ack(2));
        assertEquals(TcpState.CLOSED, c.state());
        assertNull(c.failure());
        assertTrue(s.connections().isEmpty());
        s.expectNothing();
    }

    /** LAST-ACK retransmits its FIN after the RTO until it is acknowledged. */
    @Test
    void lastAckRetransmitsFin() {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        s.inject(seg("F.").seq(1).ack(1));
        s.expect(seg(".").seq(1).ack(2));
        c.close();
        s.expect(seg("F.").seq(1).ack(2));
        s.advance(Duration.ofSeconds(1));
        s.expect(seg("F.").seq(1).ack(2));
        s.inject(seg(".").seq(2).ack(2));
        assertEquals(TcpState.CLOSED, c.state());
    }

    /** Half-close: after our FIN the peer's data still arrives and is ACKed (FIN-WAIT-2 receives, §3.6). */
    @Test
    void halfCloseOurSide() {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        c.shutdownOutput();
        s.expect(seg("F.").seq(1).ack(1));
        s.inject(seg(".").seq(1).ack(2));
        assertEquals(TcpState.FIN_WAIT_2, c.state());
        s.inject(seg("P.").seq(1).ack(2).payload("hello"));
        s.expect(seg(".").seq(2).ack(6));
        s.inject(seg("P.").seq(6).ack(2).payload(" world"));
        s.expect(seg(".").seq(2).ack(12));
        assertEquals("hello world", TcpScript.text(c));
        assertThrows(IllegalStateException.class, () -> c.write(new byte[1]));
        s.inject(seg("F.").seq(12).ack(2));
        s.expect(seg(".").seq(2).ack(13));
        assertEquals(TcpState.TIME_WAIT, c.state());
        assertEquals(-1, c.read(new byte[1], 0, 1));
    }

    /** Half-close: after the peer's FIN we still send data (CLOSE-WAIT sends, §3.6), then close. */
    @Test
    void halfCloseTheirSide() {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        s.inject(seg("F.").seq(1).ack(1));
        s.expect(seg(".").seq(1).ack(2));
        assertEquals(TcpState.CLOSE_WAIT, c.state());
        assertEquals(3, c.write("abc".getBytes()));
        s.expect(seg("P.").seq(1).ack(2).payload("abc"));
        s.inject(seg(".").seq(2).ack(4));
        c.close();
        s.expect(seg("F.").seq(4).ack(2));
        s.inject(seg(".").seq(2).ack(5));
        assertEquals(TcpState.CLOSED, c.state());
        assertNull(c.failure());
    }

    /** A FIN that follows queued data goes out with (or after) the last data segment. */
    @Test
    void finFollowsData() {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        c.write("bye".getBytes());
        s.expect(seg("P.").seq(1).ack(1).payload("bye"));
        c.close();
        s.expect(seg("F.").seq(4).ack(1));
        s.inject(seg(".").seq(1).ack(4)); // the data, not the FIN
        assertEquals(TcpState.FIN_WAIT_1, c.state());
        s.inject(seg("F.").seq(1).ack(5));
        s.expect(seg(".").seq(5).ack(2));
        assertEquals(TcpState.TIME_WAIT, c.state());
    }

    // ================================================================== resets

    /** The synchronized states a test can put a connection in. */
    enum Reach { ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT }

    /** Brings a fresh connection to {@code state}; returns the peer's next sequence number. */
    private long reach(TcpConnection c, Reach state) {
        switch (state) {
            case ESTABLISHED -> {
                return 1;
            }
            case FIN_WAIT_1 -> {
                c.shutdownOutput();
                s.expect(seg("F.").seq(1).ack(1));
                return 1;
            }
            case FIN_WAIT_2 -> {
                c.shutdownOutput();
                s.expect(seg("F.").seq(1).ack(1));
                s.inject(seg(".").seq(1).ack(2));
                return 1;
            }
            case CLOSE_WAIT -> {
                s.inject(seg("F.").seq(1).ack(1));
                s.expect(seg(".").seq(1).ack(2));
                return 2;
            }
            case CLOSING -> {
                c.shutdownOutput();
                s.expect(seg("F.").seq(1).ack(1));
                s.inject(seg("F.").seq(1).ack(1));
                s.expect(seg(".").seq(2).ack(2));
                return 2;
            }
            case LAST_ACK -> {
                s.inject(seg("F.").seq(1).ack(1));
                s.expect(seg(".").seq(1).ack(2));
                c.shutdownOutput();
                s.expect(seg("F.").seq(1).ack(2));
                return 2;
            }
            case TIME_WAIT -> {
                c.shutdownOutput();
                s.expect(seg("F.").seq(1).ack(1));
                s.inject(seg("F.").seq(1).ack(2));
                s.expect(seg(".").seq(2).ack(2));
                return 2;
            }
        }
        throw new AssertionError(state);
    }

    /**
     * A RST at RCV.NXT in each synchronized state (§3.10.7.4, second check): ESTABLISHED, FIN-WAIT-1,
     * FIN-WAIT-2 and CLOSE-WAIT report "connection reset"; CLOSING and LAST-ACK just close; TIME-WAIT
     * ignores it (RFC 1337, TIME-WAIT assassination). Nothing is sent in answer.
     */
    @ParameterizedTest
    @EnumSource(Reach.class)
    void resetInEachSynchronizedState(Reach state) {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        long rcvNxt = reach(c, state);
        assertEquals(state.name(), c.state().name());
        s.inject(seg("R").seq(rcvNxt).win(0));
        s.expectNothing();
        switch (state) {
            case ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT -> {
                assertEquals(TcpState.CLOSED, c.state());
                assertEquals(TcpConnection.Failure.RESET, c.failure());
                assertEquals(-1, c.read(new byte[1], 0, 1));
                assertThrows(IllegalStateException.class, () -> c.write(new byte[1]));
            }
            case CLOSING, LAST_ACK -> {
                assertEquals(TcpState.CLOSED, c.state());
                assertTrue(s.connections().isEmpty());
            }
            case TIME_WAIT -> assertEquals(TcpState.TIME_WAIT, c.state(), "RFC 1337: TIME-WAIT ignores RST");
        }
        if (state != Reach.TIME_WAIT) {
            assertTrue(s.connections().isEmpty());
            assertEquals(1, s.counter(Tcp.TcpCounter.RESETS_RECEIVED));
        }
        s.advance(Duration.ofSeconds(5));
        s.expectNothing();
    }

    /** abort() in a synchronized state sends {@code <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>} (§3.10.5). */
    @Test
    void abortSendsReset() {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        s.inject(seg("P.").seq(1).ack(1).payload("abc"));
        s.expect(seg(".").seq(1).ack(4));
        c.abort();
        s.expect(seg("R.").seq(1).ack(4).win(0));
        assertEquals(TcpConnection.Failure.ABORTED, c.failure());
        assertTrue(s.connections().isEmpty());
        c.close(); // (abort() should free the unread data by itself: see TcpHardeningTest.abortFreesEverything)
    }

    /** close() with unread data resets the connection instead of a FIN (RFC 1122 §4.2.2.13). */
    @Test
    void closeWithUnreadDataResets() {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        s.inject(seg("P.").seq(1).ack(1).payload("unread"));
        s.expect(seg(".").seq(1).ack(7));
        c.close();
        s.expect(seg("R.").seq(1).ack(7).win(0));
        assertEquals(TcpState.CLOSED, c.state());
    }

    /** A SYN with an old sequence number does not reopen a TIME-WAIT pair: it is ACKed, TIME-WAIT stays. */
    @Test
    void oldSynDoesNotReopenTimeWait() {
        s = TcpScript.ipv4();
        TcpListener[] l = new TcpListener[1];
        TcpConnection c = s.passiveOpen(l);
        c.shutdownOutput();
        s.expect(seg("F.").seq(1).ack(1));
        s.inject(seg("F.").seq(1).ack(2));
        s.expect(seg(".").seq(2).ack(2));
        s.inject(seg("S").seq(0).mss(1460));
        s.expect(seg(".").seq(2).ack(2));
        assertEquals(TcpState.TIME_WAIT, c.state());
        assertEquals(0, l[0].halfOpen());
        l[0].close();
    }

    /** The peer's FIN out of order, after a hole: queued, and acted on (CLOSE-WAIT) only when the hole fills. */
    @Test
    void outOfOrderFin() {
        s = TcpScript.ipv4();
        TcpConnection c = s.passiveOpen(null);
        s.inject(seg("F.").seq(11).ack(1).payload("world"));
        s.expect(seg(".").seq(1).ack(1));
        assertEquals(TcpState.ESTABLISHED, c.state());
        s.inject(seg("P.").seq(1).ack(1).payload("hello12345"));
        s.expect(seg(".").seq(1).ack(17));
        assertEquals(TcpState.CLOSE_WAIT, c.state());
        assertEquals("hello12345world", TcpScript.text(c));
        assertEquals(-1, c.read(new byte[1], 0, 1));
    }

    /** Our ACK of the SYN-ACK was lost: the peer's retransmitted SYN-ACK, in ESTABLISHED, is ACKed again. */
    @Test
    void retransmittedSynAckIsAckedAgain() {
        s = TcpScript.ipv4();
        TcpConnection c = s.activeOpen();
        s.inject(seg("S.").seq(0).ack(1).mss(1460));
        s.expect(seg(".").seq(1).ack(1).win(65535));
        assertEquals(TcpState.ESTABLISHED, c.state());
    }

    /**
     * ESTABLISHED → CLOSED when data goes unacknowledged: retransmitted at 1 s and 3 s (RTO doubling,
     * RFC 6298 §5.5), given up after dataRetries (RFC 1122 §4.2.3.5, R2) with a reset to the peer.
     */
    @Test
    void dataRetransmissionAndGiveUp() {
        s = TcpScript.ipv4();
        s.settings().setDataRetries(2);
        TcpConnection c = s.passiveOpen(null);
        c.write("lost".getBytes());
        s.expect(seg("P.").seq(1).ack(1).payload("lost"));
        s.advanceMillis(999);
        s.expectNothing();
        s.advanceMillis(1);
        s.expect(seg("P.").seq(1).ack(1).payload("lost"));
        s.advanceMillis(1999);
        s.expectNothing();
        s.advanceMillis(1);
        s.expect(seg("P.").seq(1).ack(1).payload("lost"));
        s.advanceMillis(3999);
        assertEquals(TcpState.ESTABLISHED, c.state());
        s.advanceMillis(1);
        assertEquals(TcpState.CLOSED, c.state());
        assertEquals(TcpConnection.Failure.TIMED_OUT, c.failure());
        s.expect(seg("R.").seq(5).ack(1).win(0));
        assertEquals(2, s.counter(Tcp.TcpCounter.RETRANSMIT_TIMEOUTS));
    }

    /** A new SYN with a higher sequence number reopens a TIME-WAIT pair (RFC 9293 §3.6.1, RFC 6191). */
    @Test
    void newSynReopensTimeWait() {
        s = TcpScript.ipv4();
        TcpListener[] l = new TcpListener[1];
        TcpConnection c = s.passiveOpen(l);
        c.shutdownOutput();
        s.expect(seg("F.").seq(1).ack(1));
        s.inject(seg("F.").seq(1).ack(2));
        s.expect(seg(".").seq(2).ack(2));
        assertEquals(TcpState.TIME_WAIT, c.state());
        s.inject(seg("S").seq(100_000).mss(1460));
        TcpScript.Sent synAck = s.next();
        assertEquals("S.", TcpScript.flagString(synAck.flags()));
        assertEquals(100_001, synAck.ack());
        assertEquals(TcpState.CLOSED, c.state());
        assertEquals(1, l[0].halfOpen());
        l[0].close();
    }
}
