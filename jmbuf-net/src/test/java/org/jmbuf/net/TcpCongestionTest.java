package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.net.Tcp.TcpCounter;
import org.jmbuf.wire.TcpHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Congestion control and timers, one deterministic scenario at a time: two IPv4 hosts on a link with a
 * fixed 5 ms one-way delay and no jitter (frames arrive in the order sent, RTT 10 ms), where a
 * {@link Tap} loses exactly the frames a test picks and logs every segment. Each test states what RFC 5681
 * (slow start, fast retransmit, delayed ACKs), RFC 6582 (NewReno), RFC 6675 (SACK recovery), RFC 6298
 * (RTO and its backoff) and RFC 9293 (Nagle, zero-window probing) predict, and checks the counters, the
 * congestion state sampled after every instant of simulated time, and the segments on the wire. Every test
 * ends with an orderly close and checks that the pool has nothing in use with the hosts still running.
 */
class TcpCongestionTest {
    private static final Duration DELAY = Duration.ofMillis(5);
    private static final int PORT = 80;

    private final MbufPool pool = MbufPool.builder().build();
    private Simulation sim;
    private Host a;
    private Host b;
    private Tap tap;
    private TcpConnection client;
    private TcpConnection server;
    private TcpListener listener;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private boolean serverReads = true;
    private byte[] sent = new byte[0];
    private int written;
    /** Per instant: client cwnd, ssthresh, rto, and counters, recorded when a counter of interest changes. */
    private final List<long[]> samples = new ArrayList<>();
    /** Every instant: time, client cwnd, ssthresh, RTO. */
    private final List<long[]> trace = new ArrayList<>();

    @AfterEach
    void tearDown() {
        if (sim != null) {
            sim.close();
        }
    }

    // ================================================================== harness

    private void topology(Consumer<TcpSettings> settings) {
        topology(settings, false);
    }

    /**
     * Two hosts, a connection from a to b, and (if {@code warmUp}) one small exchange first, so that b's
     * first window update (its SYN-ACK could offer only 64 KiB unscaled) is out of the way.
     */
    private void topology(Consumer<TcpSettings> settings, boolean warmUp) {
        sim = new Simulation(pool, 5);
        SimulatedLink link = sim.link(1500, new SimulatedLink.Conditions(DELAY, Duration.ZERO, 0, 0));
        tap = new Tap(sim.clock(), 1_000_000);
        link.setDelivery(tap);
        a = sim.host("a");
        b = sim.host("b");
        NetworkInterface ethA = a.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_A));
        NetworkInterface ethB = b.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_B));
        a.addIpv4(ethA, TwoHostTest.A, 24);
        b.addIpv4(ethB, TwoHostTest.B, 24);
        for (Host h : List.of(a, b)) {
            TcpSettings s = h.tcp().settings();
            s.setMsl(Duration.ofMillis(500)).setSendBuffer(4 << 20).setReceiveBuffer(1 << 20);
            settings.accept(s);
        }
        listener = b.tcp().listen(PORT, 4);
        listener.onAcceptable(l -> {
            server = l.accept();
            server.setHandler(new TcpConnection.Handler() {
                @Override
                public void readable(TcpConnection c) {
                    drain();
                }
            });
            drain();
        });
        client = a.tcp().connect(TwoHostTest.B, PORT);
        client.setHandler(new TcpConnection.Handler() {
            @Override
            public void writable(TcpConnection c) {
                push();
            }
        });
        assertTrue(sim.runUntil(() -> server != null && client.state() == TcpState.ESTABLISHED, Duration.ofSeconds(5)));
        sim.run(Duration.ofMillis(100)); // the handshake's last ACK and any delayed ACK settle
        if (warmUp) {
            send(1000);
            runUntilDelivered(Duration.ofSeconds(5));
            sim.run(Duration.ofMillis(200));
        }
        tap.reset();
        tap.logging = true;
    }

    private void drain() {
        if (!serverReads || server == null) {
            return;
        }
        byte[] buf = new byte[8192];
        int n;
        while ((n = server.read(buf, 0, buf.length)) > 0) {
            received.write(buf, 0, n);
        }
    }

    /** Queues {@code n} more random bytes to send from a to b. */
    private void send(int n) {
        byte[] more = new byte[n];
        new Random(sent.length + 17L).nextBytes(more);
        byte[] all = java.util.Arrays.copyOf(sent, sent.length + n);
        System.arraycopy(more, 0, all, sent.length, n);
        sent = all;
        push();
    }

    private void push() {
        while (written < sent.length && client.writableBytes() > 0) {
            written += client.write(sent, written, sent.length - written);
        }
    }

    private long count(Host h, TcpCounter c) {
        return h.tcp().counters().get(c);
    }

    /** Runs until b has read everything a wrote, sampling a's congestion state whenever its counters move. */
    private void runUntilDelivered(Duration limit) {
        long[] last = {-1, -1, -1};
        boolean done = sim.runUntil(() -> {
            long[] now = {count(a, TcpCounter.FAST_RETRANSMITS), count(a, TcpCounter.RETRANSMIT_TIMEOUTS),
                    count(a, TcpCounter.NEWRENO_PARTIAL_ACKS)};
            trace.add(new long[] {sim.clock().nanoTime(), client.congestionWindow(), client.slowStartThreshold(),
                    client.rtoNanos()});
            if (!java.util.Arrays.equals(now, last)) {
                samples.add(new long[] {sim.clock().nanoTime(), client.congestionWindow(), client.slowStartThreshold(),
                        client.rtoNanos(), now[0], now[1], now[2], count(a, TcpCounter.DUPLICATE_ACKS)});
                System.arraycopy(now, 0, last, 0, 3);
            }
            return received.size() == sent.length && client.unacknowledgedBytes() == 0;
        }, limit);
        assertTrue(done, () -> "not delivered: " + received.size() + "/" + sent.length + "\n" + a.netstat()
                + b.netstat() + "\n" + tail());
        assertArrayEquals(sent, received.toByteArray());
    }

    private String tail() {
        List<Tap.Seg> log = tap.log;
        StringBuilder out = new StringBuilder();
        for (Tap.Seg s : log.subList(Math.max(0, log.size() - 60), log.size())) {
            out.append(s).append('\n');
        }
        return out.toString();
    }

    /** Closes both sides in order, waits for both hosts to forget them, and checks the pool is idle. */
    private void closeAndCheckPool() {
        client.close();
        assertTrue(sim.runUntil(() -> server.isEndOfStream(), Duration.ofSeconds(120)));
        server.close();
        listener.close();
        assertTrue(sim.runUntil(() -> a.tcp().connections().isEmpty() && b.tcp().connections().isEmpty(),
                Duration.ofSeconds(120)), () -> a.tcp().connections() + " " + b.tcp().connections());
        assertNull(client.failure());
        assertNull(server.failure());
        assertTrue(pool.stats().isQuiescent(), () -> pool.stats() + pool.leakReport());
    }

    /** Drops a's data frames whose number (1-based, counting a's data frames on the wire) is in {@code which}. */
    private static Predicate<Tap.Seg> dropDataFrames(int... which) {
        int[] n = {0};
        return s -> {
            if (!s.fromA() || s.length() == 0) {
                return false;
            }
            n[0]++;
            for (int w : which) {
                if (w == n[0]) {
                    return true;
                }
            }
            return false;
        };
    }

    private List<Tap.Seg> dataFromA() {
        return tap.log.stream().filter(s -> s.fromA() && s.length() > 0).toList();
    }

    /** Sequence number relative to the first data frame a sent in the test. */
    private long rel(long seq) {
        return (seq - dataFromA().getFirst().seq()) & 0xffffffffL;
    }

    private String describe() {
        StringBuilder out = new StringBuilder("samples (t, cwnd, ssthresh, rto, fast, rto#, partial, dupacks):\n");
        for (long[] s : samples) {
            out.append(java.util.Arrays.toString(s)).append('\n');
        }
        return out + a.netstat();
    }

    /** The index in the log of the first retransmission (a data frame from a at or below an earlier one). */
    private int firstRetransmission(List<Tap.Seg> data) {
        long max = -1;
        for (int i = 0; i < data.size(); i++) {
            long end = rel(data.get(i).seq()) + data.get(i).length();
            if (end <= max) {
                return i;
            }
            max = Math.max(max, end);
        }
        return -1;
    }

    // ================================================================== tests

    /**
     * RFC 5681 §3.2 with one lost segment: exactly three duplicate ACKs (DupThresh) reach the sender
     * before its one fast retransmit, ssthresh becomes max(FlightSize / 2, 2 SMSS), no timeout, one
     * segment retransmitted; for SACK (RFC 6675 §5, cwnd = ssthresh on entering recovery) and NewReno (RFC
     * 6582 §3.2 step 2, cwnd = ssthresh + 3 SMSS).
     */
    @ParameterizedTest(name = "sack={0}")
    @ValueSource(booleans = {true, false})
    void oneLossOneFastRetransmit(boolean sack) {
        topology(s -> s.setSack(sack));
        tap.drop = dropDataFrames(30);
        send(400_000);
        runUntilDelivered(Duration.ofSeconds(30));
        String why = describe();
        assertEquals(1, count(a, TcpCounter.FAST_RETRANSMITS), why);
        assertEquals(0, count(a, TcpCounter.RETRANSMIT_TIMEOUTS), why);
        assertEquals(1, count(a, TcpCounter.RETRANSMITTED_SEGMENTS), why);
        assertEquals(sack ? 1 : 0, count(a, TcpCounter.SACK_RECOVERY_EPISODES), why);
        assertEquals(0, count(a, TcpCounter.NEWRENO_PARTIAL_ACKS), why);

        List<Tap.Seg> data = dataFromA();
        int r = firstRetransmission(data);
        assertTrue(r > 0, why);
        Tap.Seg retransmission = data.get(r);
        long lostSeq = retransmission.seq();
        assertEquals(lostSeq, data.get(29).seq(), "the lost segment is the one retransmitted");
        long sndMax = 0;
        for (Tap.Seg s : data.subList(0, r)) {
            sndMax = Math.max(sndMax, rel(s.seq()) + s.length());
        }
        long flight = sndMax - rel(lostSeq);
        long mss = client.sendMss();
        long[] atRecovery = samples.stream().filter(x -> x[4] == 1).findFirst().orElseThrow();
        long ssthresh = Math.max(flight / 2, 2 * mss);
        assertEquals(ssthresh, atRecovery[2], "ssthresh = max(FlightSize/2, 2*SMSS), FlightSize " + flight + "\n" + why);
        // the duplicate ACKs processed in the instant of the fast retransmit (they arrive together)
        long dupAcks = atRecovery[7];
        assertTrue(dupAcks >= 3, why);
        if (sack) {
            assertEquals(ssthresh, atRecovery[1], "cwnd = ssthresh entering SACK recovery\n" + why);
        } else {
            // RFC 6582 §3.2 steps 2-3: cwnd = ssthresh + 3 SMSS at the third, + 1 SMSS per further duplicate:
            // the retransmission went out on the third duplicate ACK, not before or after
            assertEquals(ssthresh + 3 * mss + (dupAcks - 3) * mss, atRecovery[1], "NewReno window inflation\n" + why);
        }
        assertEquals(ssthresh, client.slowStartThreshold(), why);
        // congestion avoidance afterwards (RFC 5681 §3.1): at most one SMSS more per round trip (10 ms),
        // and growing
        long rtt = 2 * DELAY.toNanos();
        long after = atRecovery[0] + 3 * rtt;
        List<long[]> ca = trace.stream().filter(x -> x[0] > after && x[1] >= x[2]).toList();
        assertTrue(ca.size() > 10, why);
        for (int i = 0; i < ca.size(); i++) {
            for (int j = i + 1; j < ca.size() && ca.get(j)[0] - ca.get(i)[0] <= rtt; j++) {
                assertTrue(ca.get(j)[1] - ca.get(i)[1] <= mss, "cwnd grew by " + (ca.get(j)[1] - ca.get(i)[1])
                        + " within one RTT at " + ca.get(i)[0] + "\n" + why);
            }
        }
        assertTrue(ca.getLast()[1] > ca.getFirst()[1], "cwnd grows in congestion avoidance\n" + why);
        closeAndCheckPool();
    }

    /**
     * Two segments lost in one window: NewReno repairs the second on the partial ACK (RFC 6582 §3.2 step
     * 5: NEWRENO_PARTIAL_ACKS 1) and SACK recovery (RFC 6675 §5, NextSeg) retransmits both; either way one
     * fast retransmit, two segments retransmitted, no timeout.
     */
    @ParameterizedTest(name = "sack={0}")
    @ValueSource(booleans = {true, false})
    void twoLossesInOneWindow(boolean sack) {
        topology(s -> s.setSack(sack));
        tap.drop = dropDataFrames(30, 34);
        send(400_000);
        runUntilDelivered(Duration.ofSeconds(30));
        String why = describe();
        assertEquals(1, count(a, TcpCounter.FAST_RETRANSMITS), why);
        assertEquals(0, count(a, TcpCounter.RETRANSMIT_TIMEOUTS), why);
        assertEquals(2, count(a, TcpCounter.RETRANSMITTED_SEGMENTS), why);
        assertEquals(sack ? 0 : 1, count(a, TcpCounter.NEWRENO_PARTIAL_ACKS), why);
        assertEquals(sack ? 1 : 0, count(a, TcpCounter.SACK_RECOVERY_EPISODES), why);
        List<Tap.Seg> data = dataFromA();
        int r = firstRetransmission(data);
        List<Long> retransmitted = new ArrayList<>();
        long max = -1;
        for (Tap.Seg s : data) {
            long end = rel(s.seq()) + s.length();
            if (end <= max) {
                retransmitted.add(s.seq());
            }
            max = Math.max(max, end);
        }
        assertEquals(List.of(data.get(29).seq(), data.get(33).seq()), retransmitted, why);
        assertTrue(r > 0);
        closeAndCheckPool();
    }

    /**
     * The fast retransmission is itself lost: only the retransmission timer repairs it (RFC 6298 §5.4-5.6):
     * one timeout, after which cwnd is 1 SMSS (RFC 5681 §3.1, the loss window), ssthresh max(FlightSize/2,
     * 2 SMSS) and the RTO twice what it was (§5.5, backoff); then the transfer completes.
     */
    @ParameterizedTest(name = "sack={0}")
    @ValueSource(booleans = {true, false})
    void lostRetransmissionTimesOut(boolean sack) {
        topology(s -> s.setSack(sack));
        long[] lostSeq = {-1};
        int[] n = {0};
        int[] drops = {0};
        tap.drop = s -> {
            if (!s.fromA() || s.length() == 0) {
                return false;
            }
            if (++n[0] == 30) {
                lostSeq[0] = s.seq();
            }
            if (s.seq() == lostSeq[0] && drops[0] < 2) {
                drops[0]++;
                return true;
            }
            return false;
        };
        send(400_000);
        runUntilDelivered(Duration.ofSeconds(60));
        String why = describe();
        assertEquals(2, drops[0], why);
        assertEquals(1, count(a, TcpCounter.FAST_RETRANSMITS), why);
        assertEquals(1, count(a, TcpCounter.RETRANSMIT_TIMEOUTS), why);
        long mss = client.sendMss();
        long[] before = samples.stream().filter(x -> x[5] == 0).reduce((x, y) -> y).orElseThrow();
        long[] after = samples.stream().filter(x -> x[5] == 1).findFirst().orElseThrow();
        assertEquals(mss, after[1], "cwnd = 1 SMSS after the timeout\n" + why);
        assertEquals(2 * before[3], after[3], "RTO doubled\n" + why);
        assertTrue(after[2] >= 2 * mss, why);
        closeAndCheckPool();
    }

    /**
     * RFC 6675 §5.1: after a retransmission timeout RecoveryPoint is HighData and "a new recovery phase
     * MUST NOT be initiated until HighACK is greater than or equal to the new value of RecoveryPoint" (as
     * RFC 6582 §3.2 step 2 for NewReno). Two holes (data frames 30 and 40); every retransmission of both is
     * lost until the timeout, and 40 once more after it; the SACK blocks that then come back with the
     * duplicate ACK must not start a second SACK recovery: one fast retransmit in all.
     */
    @ParameterizedTest(name = "sack={0}")
    @ValueSource(booleans = {true, false})
    void noNewRecoveryBeforeRecoveryPointAfterTimeout(boolean sack) {
        topology(s -> s.setSack(sack));
        long[] seqs = {-1, -1};
        int[] n = {0};
        int[] afterTimeout = {0};
        tap.drop = s -> {
            if (!s.fromA() || s.length() == 0) {
                return false;
            }
            n[0]++;
            if (n[0] == 30) {
                seqs[0] = s.seq();
            } else if (n[0] == 40) {
                seqs[1] = s.seq();
            }
            boolean timedOut = count(a, TcpCounter.RETRANSMIT_TIMEOUTS) > 0;
            if (!timedOut) {
                return s.seq() == seqs[0] || s.seq() == seqs[1];
            }
            return s.seq() == seqs[1] && afterTimeout[0]++ == 0;
        };
        send(100_000);
        runUntilDelivered(Duration.ofSeconds(60));
        String why = describe() + "\n" + tail();
        assertTrue(afterTimeout[0] >= 1, "the retransmission after the timeout was lost\n" + why);
        assertEquals(2, count(a, TcpCounter.RETRANSMIT_TIMEOUTS), "the second timeout repairs it\n" + why);
        // a duplicate ACK with SACK blocks covering everything above SND.UNA came back after the timeout:
        // IsLost(SND.UNA) held, yet no recovery may start before RecoveryPoint
        assertEquals(1, count(a, TcpCounter.FAST_RETRANSMITS), why);
        closeAndCheckPool();
    }

    /**
     * Karn's algorithm with the backoff of RFC 6298 §5.5 and its note in §5: without timestamps, the ACK of
     * a retransmitted segment gives no RTT sample, so the backed-off RTO stays until a sample from new data
     * is taken ("which may result in collapsing RTO back down"). The fast retransmission of a lost segment
     * is lost too; the timeout doubles the RTO (1 s to 2 s); when the timeout's retransmission is
     * acknowledged the RTO must still be 2 s.
     */
    @Test
    void karnKeepsBackedOffRtoUntilNewSample() {
        topology(s -> s.setTimestamps(false));
        long[] lostSeq = {-1};
        int[] n = {0};
        int[] drops = {0};
        tap.drop = s -> {
            if (!s.fromA() || s.length() == 0) {
                return false;
            }
            if (++n[0] == 30) {
                lostSeq[0] = s.seq();
            }
            if (s.seq() == lostSeq[0] && drops[0] < 2) {
                drops[0]++;
                return true;
            }
            return false;
        };
        send(400_000);
        runUntilDelivered(Duration.ofSeconds(60));
        String why = describe();
        assertEquals(1, count(a, TcpCounter.RETRANSMIT_TIMEOUTS), why);
        long[] after = samples.stream().filter(x -> x[5] == 1).findFirst().orElseThrow();
        long mss = client.sendMss();
        long[] acked = trace.stream().filter(x -> x[0] > after[0] && x[1] > mss).findFirst().orElseThrow();
        assertEquals(after[3], acked[3], "RTO when the timeout's retransmission is ACKed (at "
                + (acked[0] - after[0]) / 1000 + " us)\n" + why);
        closeAndCheckPool();
    }

    /**
     * Slow start (RFC 5681 §3.1) from the initial window: with an ACK for every segment (delayed ACKs off)
     * and nothing lost, a sends IW = 3 segments (SMSS 1448 is over 1095 bytes) in the first round trip,
     * then 6, 12, 24, 48: cwnd grows by one SMSS per ACK, doubling each round trip.
     */
    @Test
    void slowStartDoublesPerRoundTrip() {
        topology(s -> s.setDelayedAck(Duration.ZERO));
        send(150_000); // 104 segments: rounds of 3, 6, 12, 24, 48 and the rest
        runUntilDelivered(Duration.ofSeconds(30));
        assertEquals(1448, client.sendMss());
        List<Tap.Seg> data = dataFromA();
        List<Integer> rounds = new ArrayList<>();
        long roundStart = -1;
        for (Tap.Seg s : data) {
            if (roundStart < 0 || s.time() - roundStart >= DELAY.toNanos()) {
                rounds.add(0);
                roundStart = s.time();
            }
            rounds.set(rounds.size() - 1, rounds.getLast() + 1);
        }
        assertEquals(List.of(3, 6, 12, 24, 48), rounds.subList(0, 5), rounds.toString());
        assertEquals(0, count(a, TcpCounter.RETRANSMITTED_SEGMENTS));
        closeAndCheckPool();
    }

    /**
     * Delayed ACKs (RFC 5681 §4.2, RFC 9293 §3.8.6.3): two full segments get one ACK at once; a lone
     * segment gets its ACK when the 40 ms timer runs out, counted in DELAYED_ACKS.
     */
    @Test
    void delayedAckEverySecondSegmentOrTimer() {
        topology(s -> { }, true);
        int mss = client.sendMss();
        send(2 * mss);
        runUntilDelivered(Duration.ofSeconds(5));
        List<Tap.Seg> acks = tap.log.stream().filter(s -> !s.fromA()).toList();
        assertEquals(1, acks.size(), tap.log.toString());
        assertEquals(dataFromA().get(1).time() + DELAY.toNanos(), acks.getFirst().time(), "ACKed at once");
        assertEquals(0, count(b, TcpCounter.DELAYED_ACKS));

        tap.log.clear();
        send(100);
        runUntilDelivered(Duration.ofSeconds(5));
        acks = tap.log.stream().filter(s -> !s.fromA()).toList();
        assertEquals(1, acks.size(), tap.log.toString());
        assertEquals(dataFromA().getFirst().time() + Duration.ofMillis(40).toNanos() + DELAY.toNanos(),
                acks.getFirst().time(), "ACKed by the timer");
        assertEquals(1, count(b, TcpCounter.DELAYED_ACKS));
        closeAndCheckPool();
    }

    /**
     * Nagle (RFC 9293 §3.7.4, RFC 1122 §4.2.3.4): a second small write waits while the first is
     * unacknowledged (here until b's delayed ACK, 40 ms + RTT); with {@code setNoDelay(true)} it goes at once.
     */
    @ParameterizedTest(name = "noDelay={0}")
    @ValueSource(booleans = {false, true})
    void nagleHoldsSmallWrites(boolean noDelay) {
        topology(s -> { }, true);
        client.setNoDelay(noDelay);
        send(100);
        send(100);
        runUntilDelivered(Duration.ofSeconds(5));
        List<Tap.Seg> data = dataFromA();
        assertEquals(2, data.size(), tap.log.toString());
        long gap = data.get(1).time() - data.get(0).time();
        if (noDelay) {
            assertEquals(0, gap, tap.log.toString());
        } else {
            assertEquals(Duration.ofMillis(40).toNanos() + 2 * DELAY.toNanos(), gap, tap.log.toString());
        }
        closeAndCheckPool();
    }

    /**
     * A zero window (RFC 9293 §3.8.6.1): b does not read and its buffer of exactly 16 segments fills; a
     * keeps probing with the persist timer (PERSIST_PROBES, backing off: 5, 5, 5, 8, 16, 32 s... of RFC 6298's
     * RTO clamped to [5, 60] s) for a minute, never a retransmission timeout or a drop; when b reads, its
     * window update lets the rest through, byte-identical.
     */
    @Test
    void zeroWindowProbesThenResume() {
        topology(s -> { });
        b.tcp().settings().setReceiveBuffer(16 * 1448);
        reconnect();
        serverReads = false;
        send(200_000);
        sim.run(Duration.ofSeconds(60));
        String why = a.netstat() + b.netstat() + tail();
        assertEquals(16 * 1448, server.readableBytes(), why);
        assertEquals(0L, client.sendWindow(), why);
        long probes = count(a, TcpCounter.PERSIST_PROBES);
        assertTrue(probes >= 3, "probes " + probes + "\n" + why);
        // the ACKs answering probes are not duplicate ACKs (a zero window is not congestion): no fast
        // retransmit, no timeout, no retransmission other than the probes
        assertEquals(0, count(a, TcpCounter.FAST_RETRANSMITS), why);
        assertEquals(0, count(a, TcpCounter.RETRANSMIT_TIMEOUTS), why);
        assertEquals(TcpState.ESTABLISHED, client.state());
        serverReads = true;
        drain();
        runUntilDelivered(Duration.ofSeconds(120));
        System.out.println("zero window: " + probes + " probes in 60 s; " + count(b, TcpCounter.WINDOW_UPDATES)
                + " window updates");
        closeAndCheckPool();
    }

    /**
     * Sender silly window avoidance must not deadlock (RFC 1122 §4.2.3.4, RFC 9293 §3.8.6.2.1: "a timeout
     * to force transmission of data, overriding the SWS avoidance algorithm"; BSD arms its persist timer
     * whenever data waits and nothing is in flight). b's 16384-byte buffer is not a multiple of the
     * 1448-byte SMSS: once 11 segments fill it, 456 bytes of window remain, less than a segment; a must
     * eventually send into it (or probe), not wait forever for a window update b never sends.
     */
    @Test
    void smallWindowIsFilledEventually() {
        topology(s -> { });
        b.tcp().settings().setReceiveBuffer(16384);
        reconnect();
        serverReads = false;
        send(100_000);
        sim.run(Duration.ofSeconds(60));
        String why = a.netstat() + b.netstat() + tail();
        assertEquals(16384, server.readableBytes(), "b's buffer filled to the last byte\n" + why);
        serverReads = true;
        drain();
        runUntilDelivered(Duration.ofSeconds(120));
        closeAndCheckPool();
    }

    /**
     * After a retransmission timeout the sender goes back to SND.UNA to resend, but segments without data,
     * SYN or FIN must still carry its highest sequence number sent (RFC 9293's SND.NXT, BSD's
     * {@code snd_max}): below the peer's RCV.NXT they are unacceptable there (RFC 9293 §3.10.7.4: ACKed and
     * dropped, their ACK field ignored). Here both sides send three segments at once; each gets the other's
     * data but every ACK is lost until both time out (1 s). Each side's timeout retransmission is a
     * duplicate at the other, which answers with a pure ACK; that ACK must be accepted, acknowledging
     * everything: one timeout each, no more, and a handful of out-of-window segments, not an endless
     * exchange of ACKs.
     */
    @Test
    void pureAcksAfterTimeoutAreAcceptable() {
        topology(s -> { }, true);
        int mss = client.sendMss();
        client.setHandler(new TcpConnection.Handler() {
            @Override
            public void readable(TcpConnection c) {
                byte[] buf = new byte[4096];
                while (c.read(buf, 0, buf.length) > 0) {
                    // discard
                }
            }
        });
        long until = sim.clock().nanoTime() + Duration.ofMillis(900).toNanos();
        tap.drop = s -> s.length() == 0 && s.time() < until;
        long[] before = {count(a, TcpCounter.RETRANSMIT_TIMEOUTS), count(b, TcpCounter.RETRANSMIT_TIMEOUTS)};
        server.write(new byte[3 * mss]);
        send(3 * mss);
        sim.run(Duration.ofSeconds(10));
        String why = a.netstat() + b.netstat() + tail();
        assertEquals(0, client.unacknowledgedBytes(), why);
        assertEquals(0, server.unacknowledgedBytes(), why);
        assertEquals(1, count(a, TcpCounter.RETRANSMIT_TIMEOUTS) - before[0], why);
        assertEquals(1, count(b, TcpCounter.RETRANSMIT_TIMEOUTS) - before[1], why);
        assertTrue(count(a, TcpCounter.OUT_OF_WINDOW) + count(b, TcpCounter.OUT_OF_WINDOW) <= 4, why);
        assertArrayEquals(sent, received.toByteArray());
        closeAndCheckPool();
    }

    /**
     * A segment's data plus its header, options included, must fit the path MTU (RFC 9293 §3.7.1: the
     * effective send MSS is reduced by the TCP options actually sent; RFC 6691). Both sides send, one of
     * a's frames is lost, so b's data segments carry SACK blocks (RFC 2018) for a while: they must carry
     * less data then, not be fragmented by IP.
     */
    @Test
    void segmentsWithSackBlocksFitTheMtu() {
        topology(s -> { }, true);
        client.setHandler(new TcpConnection.Handler() {
            @Override
            public void readable(TcpConnection c) {
                byte[] buf = new byte[4096];
                while (c.read(buf, 0, buf.length) > 0) {
                    // discard
                }
            }

            @Override
            public void writable(TcpConnection c) {
                push();
            }
        });
        tap.drop = dropDataFrames(20);
        byte[] back = new byte[300_000];
        int[] off = {0};
        server.setHandler(new TcpConnection.Handler() {
            @Override
            public void readable(TcpConnection c) {
                drain();
            }

            @Override
            public void writable(TcpConnection c) {
                while (off[0] < back.length && c.writableBytes() > 0) {
                    off[0] += c.write(back, off[0], back.length - off[0]);
                }
            }
        });
        off[0] += server.write(back, 0, back.length);
        send(300_000);
        runUntilDelivered(Duration.ofSeconds(30));
        long withSack = tap.log.stream().filter(s -> !s.fromA() && s.sackBlocks() > 0).count();
        assertTrue(withSack > 0, "b reported SACK blocks");
        assertEquals(0, tap.fragments, "IP fragments of TCP segments: " + tap.fragments + " (" + withSack
                + " segments from b with SACK blocks)");
        assertTrue(sim.runUntil(() -> off[0] == back.length && server.unacknowledgedBytes() == 0,
                Duration.ofSeconds(30)));
        closeAndCheckPool();
    }

    /** Replaces the connection with a new one that picks up changed settings. */
    private void reconnect() {
        client.close();
        TcpConnection old = server;
        assertTrue(sim.runUntil(() -> old.isEndOfStream(), Duration.ofSeconds(5)));
        old.close();
        server = null;
        client = a.tcp().connect(TwoHostTest.B, PORT);
        client.setHandler(new TcpConnection.Handler() {
            @Override
            public void writable(TcpConnection c) {
                push();
            }
        });
        assertTrue(sim.runUntil(() -> server != null && client.state() == TcpState.ESTABLISHED, Duration.ofSeconds(5)));
        sim.run(Duration.ofMillis(100));
        tap.reset();
    }

    /**
     * A {@link SimulatedLink.Delivery} that sees every frame the link delivers: parses its TCP segment,
     * logs it, and "loses" the frames a predicate picks (their destination address is rewritten, so the
     * receiver's Ethernet input drops them as not its own). Also counts the distinct data frames delivered
     * per direction, recognising the link's duplicates (the same byte array delivered twice within the
     * jitter).
     */
    static final class Tap implements SimulatedLink.Delivery {
        /** A TCP segment seen on the link; sequence numbers as on the wire (unsigned). */
        record Seg(boolean fromA, long time, long seq, long ack, int flags, int window, int length, int sackBlocks,
                boolean dropped) {
            boolean has(int flag) {
                return (flags & flag) != 0;
            }

            @Override
            public String toString() {
                return (fromA ? "a>b" : "b>a") + " t=" + time / 1000 + "us seq=" + seq + " ack=" + ack + " len="
                        + length + " flags=" + Integer.toHexString(flags) + " win=" + window
                        + (sackBlocks > 0 ? " sack=" + sackBlocks : "") + (dropped ? " DROPPED" : "");
            }
        }

        private static final byte[] MAC_A = {2, 0, 0, 0, 0, 1};

        private final ManualClock clock;
        private final long window;
        private final ArrayDeque<Object[]> recent = new ArrayDeque<>();
        private final long[] distinctData = new long[2];
        private long lost;
        /** IP fragments carrying TCP seen (TCP should size its segments to fit the MTU). */
        long fragments;
        private int dataFrames;
        /** Picks frames to lose; by default none. */
        Predicate<Seg> drop = s -> false;
        /** Whether to keep a log of every segment. */
        boolean logging;
        final List<Seg> log = new ArrayList<>();

        Tap(ManualClock clock, long duplicateWindowNanos) {
            this.clock = clock;
            this.window = duplicateWindowNanos;
        }

        /** Forgets what was counted (after the set-up traffic). */
        void reset() {
            distinctData[0] = distinctData[1] = 0;
            lost = 0;
            fragments = 0;
            dataFrames = 0;
            recent.clear();
            log.clear();
        }

        /** Frames this tap dropped. */
        long lostFrames() {
            return lost;
        }

        /** Data frames {@code sender} sent (its counter) less the distinct data frames delivered from it. */
        long lostData(boolean fromA, Host sender) {
            return sender.tcp().counters().get(TcpCounter.DATA_SEGMENTS_SENT) - distinctData[fromA ? 0 : 1];
        }

        /** The data frames delivered or dropped so far, in order, each counted once (duplicates too). */
        int dataFrames() {
            return dataFrames;
        }

        @Override
        public Mbuf deliver(MbufPool pool, byte[] frame) {
            Seg s;
            try {
                s = parse(frame);
            } catch (ArrayIndexOutOfBoundsException e) {
                throw new AssertionError("frame " + java.util.HexFormat.of().formatHex(frame), e);
            }
            if (s == null) {
                return SimulatedLink.Delivery.COPY.deliver(pool, frame);
            }
            boolean duplicate = false;
            long now = clock.nanoTime();
            while (!recent.isEmpty() && (long) recent.peekFirst()[1] < now - window) {
                recent.pollFirst();
            }
            for (Object[] r : recent) {
                if (r[0] == frame) {
                    duplicate = true;
                    break;
                }
            }
            if (!duplicate) {
                recent.addLast(new Object[] {frame, now});
            }
            boolean dropped = drop.test(s);
            if (s.length() > 0) {
                dataFrames++;
            }
            if (dropped) {
                s = new Seg(s.fromA(), s.time(), s.seq(), s.ack(), s.flags(), s.window(), s.length(), s.sackBlocks(),
                        true);
                lost++;
            } else if (s.length() > 0 && !duplicate) {
                distinctData[s.fromA() ? 0 : 1]++;
            }
            if (logging) {
                log.add(s);
            }
            if (dropped) {
                byte[] copy = frame.clone();
                copy[0] = 2;
                copy[5] = (byte) 0x99; // nobody's address: the receiver's Ethernet input drops it
                return pool.devget(MemorySegment.ofArray(copy));
            }
            return SimulatedLink.Delivery.COPY.deliver(pool, frame);
        }

        private Seg parse(byte[] f) {
            int type = u16(f, 12);
            int tcp;
            int end;
            if (type == 0x0800 && f[23] == 6) {
                int fragment = u16(f, 20);
                if (fragment != 0 && fragment != 0x4000) {
                    fragments++;
                    if ((fragment & 0x1fff) != 0) {
                        return null;
                    }
                }
                tcp = 14 + (f[14] & 0xf) * 4;
                end = 14 + u16(f, 16);
            } else if (type == 0x86dd && f[20] == 6) {
                tcp = 54;
                end = 54 + u16(f, 18);
            } else if (type == 0x86dd && f[20] == 44) {
                fragments++;
                if (f[54] != 6 || (u16(f, 56) & 0xfff8) != 0) {
                    return null;
                }
                tcp = 62;
                end = 54 + u16(f, 18);
            } else {
                return null;
            }
            int dataOffset = (f[tcp + 12] >> 4 & 0xf) * 4;
            int sackBlocks = 0;
            for (int p = tcp + 20; p < tcp + dataOffset; ) {
                int kind = f[p] & 0xff;
                if (kind == 0) {
                    break;
                }
                if (kind == 1) {
                    p++;
                    continue;
                }
                int len = f[p + 1] & 0xff;
                if (kind == 5) {
                    sackBlocks = (len - 2) / 8;
                }
                p += Math.max(len, 2);
            }
            boolean fromA = java.util.Arrays.equals(f, 6, 12, MAC_A, 0, 6);
            return new Seg(fromA, clock.nanoTime(), u32(f, tcp + 4), u32(f, tcp + 8), f[tcp + 13] & 0xff,
                    u16(f, tcp + 14), end - tcp - dataOffset, sackBlocks, false);
        }

        private static int u16(byte[] f, int p) {
            return (f[p] & 0xff) << 8 | f[p + 1] & 0xff;
        }

        private static long u32(byte[] f, int p) {
            return ((long) u16(f, p) << 16 | u16(f, p + 2)) & 0xffffffffL;
        }
    }
}
