package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.net.Tcp.TcpCounter;
import org.jmbuf.wire.IpAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bulk transfer (issue 5, acceptance points 1 and 4): 10 MB each way at the same time over one connection,
 * over IPv4 and IPv6, on a perfect link and on links losing, duplicating and reordering 1% and 5% of
 * frames ({@link SimulatedLink.Conditions}: loss and duplication per frame, jitter reorders), with SACK
 * (RFC 6675) and, at 1% loss, without it (NewReno, RFC 6582).
 *
 * <p>Each run checks: both streams arrive byte-identical (compared incrementally against the bytes sent,
 * drawn from a fixed seed); both sides close in order and every connection leaves both hosts (TIME_WAIT
 * shortened by a 1 s MSL); the pool then has nothing in use, while the hosts still run (acceptance point
 * 4), and after they close (the {@code PoolLeakExtension}).
 *
 * <p>Counters: on the perfect link exactly no retransmission, timeout, fast retransmit, duplicate ACK or
 * recovery episode. On the lossy links the exact counts of the fixed seed are stated (the simulation
 * repeats exactly: one seeded generator, one manual clock) and, beside them, the relations the RFCs
 * imply: every data frame the link lost was sent again (retransmitted segments at least the data frames
 * lost, counted by a tap on the link that sees each delivered frame once, duplicates recognised);
 * losses are mostly repaired by fast retransmit (RFC 5681 §3.2), fast retransmits outnumber timeouts;
 * throughout the run ssthresh never falls below 2 SMSS (RFC 5681 (4), RFC 6675 §5, RFC 6582 §3.2), cwnd
 * never below 1 SMSS; after every retransmission timeout cwnd is exactly 1 SMSS (RFC 5681 §3.1, "LW")
 * and the RTO has doubled (RFC 6298 §5.5). Without SACK, NewReno's partial ACKs are seen and no SACK
 * recovery is; with SACK, the reverse.
 */
class TcpTransferTest {
    static final int SIZE = 10 * 1024 * 1024;
    private static final long SEED = 20261122L;
    private static final Duration RUN_LIMIT = Duration.ofMinutes(30);

    enum Family { IPV4, IPV6 }

    /** Link conditions with a name. */
    enum Link {
        PERFECT(SimulatedLink.Conditions.PERFECT),
        ONE_PERCENT(new SimulatedLink.Conditions(Duration.ofMillis(5), Duration.ofMillis(3), 0.01, 0.01)),
        FIVE_PERCENT(new SimulatedLink.Conditions(Duration.ofMillis(5), Duration.ofMillis(3), 0.05, 0.05));

        final SimulatedLink.Conditions conditions;

        Link(SimulatedLink.Conditions conditions) {
            this.conditions = conditions;
        }
    }

    private static final byte[][] DATA = new byte[2][SIZE];

    static {
        new Random(SEED).nextBytes(DATA[0]);
        new Random(SEED + 1).nextBytes(DATA[1]);
    }

    private final MbufPool pool = MbufPool.builder().build();
    private Simulation sim;
    private Host a;
    private Host b;
    private TcpCongestionTest.Tap tap;
    private SimulatedLink link;

    @AfterEach
    void tearDown() {
        if (sim != null) {
            sim.close();
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> list = new ArrayList<>();
        for (Family f : Family.values()) {
            for (Link l : Link.values()) {
                list.add(Arguments.of(f, l));
            }
        }
        return list.stream();
    }

    /**
     * The counters each run must show, in order: per host (a then b) retransmitted segments, timeouts,
     * fast retransmits, SACK recovery episodes, NewReno partial ACKs; then frames lost on the link. Filled
     * in from a run of the fixed seed; a change in the TCP code that changes any of them shows here.
     */
    private static final Map<String, long[]> EXPECTED = new LinkedHashMap<>();

    static {
        // family/link/sack -> {a.rexmt, a.rto, a.fast, a.sackRec, a.partial, b.rexmt, b.rto, b.fast, b.sackRec, b.partial, lost}
        EXPECTED.put("IPV4/PERFECT/sack", new long[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        EXPECTED.put("IPV6/PERFECT/sack", new long[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        EXPECTED.put("IPV4/PERFECT/newreno", new long[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        EXPECTED.put("IPV6/PERFECT/newreno", new long[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        // measured 2026-11-22 (they repeat exactly, run alone or after other cases)
        EXPECTED.put("IPV4/ONE_PERCENT/newreno", new long[] {417, 6, 137, 0, 274, 454, 6, 131, 0, 317, 338});
        EXPECTED.put("IPV6/ONE_PERCENT/newreno", new long[] {471, 3, 143, 0, 325, 444, 2, 135, 0, 307, 345});
        EXPECTED.put("IPV4/ONE_PERCENT/sack", new long[] {272, 2, 194, 194, 0, 287, 3, 222, 222, 0, 302});
        EXPECTED.put("IPV6/ONE_PERCENT/sack", new long[] {289, 2, 200, 200, 0, 276, 4, 203, 203, 0, 311});
        EXPECTED.put("IPV4/FIVE_PERCENT/sack", new long[] {686, 38, 323, 323, 0, 668, 33, 315, 315, 0, 1473});
        EXPECTED.put("IPV6/FIVE_PERCENT/sack", new long[] {614, 29, 309, 309, 0, 677, 42, 314, 314, 0, 1520});
    }

    @ParameterizedTest(name = "{0} {1} SACK")
    @MethodSource("cases")
    void tenMegabytesEachWayWithSack(Family family, Link link) {
        transfer(family, link, true);
    }

    @ParameterizedTest(name = "{0} ONE_PERCENT NewReno")
    @MethodSource("families")
    void tenMegabytesEachWayNewReno(Family family) {
        transfer(family, Link.ONE_PERCENT, false);
    }

    static Stream<Family> families() {
        return Stream.of(Family.values());
    }

    private void transfer(Family family, Link conditions, boolean sack) {
        long started = System.nanoTime();
        topology(family, conditions.conditions);
        for (Host h : List.of(a, b)) {
            h.tcp().settings().setMsl(Duration.ofMillis(500)).setSack(sack);
        }
        IpAddress serverAddress = family == Family.IPV4 ? TwoHostTest.B : Ipv6TwoHostTest.B;
        TcpListener listener = b.tcp().listen(80, 4);
        Endpoint client = new Endpoint(DATA[0], DATA[1]);
        Endpoint server = new Endpoint(DATA[1], DATA[0]);
        listener.onAcceptable(l -> server.attach(l.accept()));
        client.attach(a.tcp().connect(serverAddress, 80));
        Monitor monitor = new Monitor(List.of(client, server), List.of(a, b));

        boolean done = sim.runUntil(() -> monitor.sample() && client.finished() && server.finished(), RUN_LIMIT);
        assertTrue(done, () -> "transfer stuck: client " + client + ", server " + server + "\n" + a.netstat()
                + b.netstat());
        assertNull(client.error, client.error);
        assertNull(server.error, server.error);
        assertEquals(SIZE, client.readPos);
        assertEquals(SIZE, server.readPos);
        TcpConnection cc = client.c;
        TcpConnection sc = server.c;
        assertEquals(sack, cc.isSackEnabled());
        long[] windows = {cc.congestionWindow(), cc.slowStartThreshold(), sc.congestionWindow(),
                sc.slowStartThreshold()};
        client.c.close();
        server.c.close();
        listener.close();
        assertTrue(sim.runUntil(() -> monitor.sample() && a.tcp().connections().isEmpty()
                && b.tcp().connections().isEmpty(), Duration.ofSeconds(120)),
                () -> a.tcp().connections() + " " + b.tcp().connections());
        assertTrue(client.closed && server.closed, "closed events");
        assertNull(cc.failure(), "client failure");
        assertNull(sc.failure(), "server failure");
        // past IP reassembly's timeout too: fragments waiting there are the host's, not the connection's
        sim.run(Duration.ofSeconds(125));

 String key = family + "/" + conditions + "/" + (sack ? "sack" : "newreno");
        long[] got = {
            a.tcp().counters().get(TcpCounter.RETRANSMITTED_SEGMENTS),
            a.tcp().counters().get(TcpCounter.RETRANSMIT_TIMEOUTS),
            a.tcp().counters().get(TcpCounter.FAST_RETRANSMITS),
            a.tcp().counters().get(TcpCounter.SACK_RECOVERY_EPISODES),
            a.tcp().counters().get(TcpCounter.NEWRENO_PARTIAL_ACKS),
            b.tcp().counters().get(TcpCounter.RETRANSMITTED_SEGMENTS),
            b.tcp().counters().get(TcpCounter.RETRANSMIT_TIMEOUTS),
            b.tcp().counters().get(TcpCounter.FAST_RETRANSMITS),
            b.tcp().counters().get(TcpCounter.SACK_RECOVERY_EPISODES),
            b.tcp().counters().get(TcpCounter.NEWRENO_PARTIAL_ACKS),
            link.counters().get(SimulatedLink.LinkCounter.FRAMES_LOST),
        };
        String report = key + ": " + Arrays.toString(got) + " lostData a->b " + tap.lostData(true, a)
                + " b->a " + tap.lostData(false, b) + " dupAcks " + a.tcp().counters().get(TcpCounter.DUPLICATE_ACKS)
                + "/" + b.tcp().counters().get(TcpCounter.DUPLICATE_ACKS) + " final cwnd/ssthresh "
                + Arrays.toString(windows) + " fragments " + tap.fragments + " sim time " + Duration.ofNanos(sim.clock().nanoTime()) + " wall "
                + (System.nanoTime() - started) / 1_000_000 + " ms";
        System.out.println(report);
        // acceptance point 4: with the hosts still up, every segment of the connection is back in the pool
        assertTrue(pool.stats().isQuiescent(), () -> "in use after close:\n" + pool.stats() + pool.leakReport());
        assertEquals(0, monitor.violations.size(), () -> String.join("\n", monitor.violations));

        assertEquals(0, tap.fragments, "TCP segments fragmented by IP: segment plus header over the MTU\n" + report);
        if (conditions == Link.PERFECT) {
            for (Host h : List.of(a, b)) {
                for (TcpCounter k : List.of(TcpCounter.RETRANSMITTED_SEGMENTS, TcpCounter.RETRANSMIT_TIMEOUTS,
                        TcpCounter.FAST_RETRANSMITS, TcpCounter.SACK_RECOVERY_EPISODES,
                        TcpCounter.NEWRENO_PARTIAL_ACKS, TcpCounter.DUPLICATE_ACKS, TcpCounter.OUT_OF_ORDER_SEGMENTS,
                        TcpCounter.DUPLICATE_DATA_BYTES)) {
                    assertEquals(0, h.tcp().counters().get(k), h.name() + " " + k + "\n" + report);
                }
            }
        } else {
            for (Host h : List.of(a, b)) {
                boolean fromA = h == a;
                long rexmt = h.tcp().counters().get(TcpCounter.RETRANSMITTED_SEGMENTS);
                long rto = h.tcp().counters().get(TcpCounter.RETRANSMIT_TIMEOUTS);
                long fast = h.tcp().counters().get(TcpCounter.FAST_RETRANSMITS);
                long lostData = tap.lostData(fromA, h);
                assertTrue(lostData > 0, report);
                assertTrue(rexmt >= lostData, h.name() + ": every lost data frame is sent again\n" + report);
                assertTrue(fast > 0, h.name() + ": fast retransmit\n" + report);
                assertTrue(fast > rto, h.name() + ": fast retransmits outnumber timeouts\n" + report);
                if (sack) {
                    assertEquals(fast, h.tcp().counters().get(TcpCounter.SACK_RECOVERY_EPISODES),
                            h.name() + ": every fast retransmit starts SACK recovery\n" + report);
                    assertEquals(0, h.tcp().counters().get(TcpCounter.NEWRENO_PARTIAL_ACKS), report);
                } else {
                    assertEquals(0, h.tcp().counters().get(TcpCounter.SACK_RECOVERY_EPISODES), report);
                    assertTrue(h.tcp().counters().get(TcpCounter.NEWRENO_PARTIAL_ACKS) > 0, report);
                }
            }
        }
        long[] expected = EXPECTED.get(key);
        if (expected != null) {
            assertEquals(Arrays.toString(expected), Arrays.toString(got), "counters of the fixed seed\n" + report);
        }
    }

    private void topology(Family family, SimulatedLink.Conditions conditions) {
        sim = new Simulation(pool, SEED);
        link = sim.link(1500, conditions);
        tap = new TcpCongestionTest.Tap(sim.clock(), conditions.jitter().toNanos() + 1_000_000);
        link.setDelivery(tap);
        a = sim.host("a");
        b = sim.host("b");
        NetworkInterface ethA = a.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_A));
        NetworkInterface ethB = b.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_B));
        if (family == Family.IPV4) {
            a.addIpv4(ethA, TwoHostTest.A, 24);
            b.addIpv4(ethB, TwoHostTest.B, 24);
        } else {
            a.ipv6().enable(ethA);
            b.ipv6().enable(ethB);
            a.ipv6().addAddress(ethA, Ipv6TwoHostTest.A, 64);
            b.ipv6().addAddress(ethB, Ipv6TwoHostTest.B, 64);
            // duplicate address detection: its probes may be lost too, which only makes it succeed
            assertTrue(sim.runUntil(() -> Ipv6TwoHostTest.preferred(ethA, Ipv6TwoHostTest.A)
                    && Ipv6TwoHostTest.preferred(ethB, Ipv6TwoHostTest.B), Duration.ofSeconds(10)));
        }
        tap.reset();
    }

    /** One side of the transfer: writes its stream as room appears, checks the peer's as it arrives. */
    static final class Endpoint implements TcpConnection.Handler {
        private final byte[] out;
        private final byte[] in;
        private final byte[] buf = new byte[16384];
        TcpConnection c;
        int written;
        int readPos;
        boolean eof;
        boolean closed;
        String error;

        Endpoint(byte[] out, byte[] in) {
            this.out = out;
            this.in = in;
        }

        void attach(TcpConnection connection) {
            c = connection;
            c.setHandler(this);
            if (c.state().isSynchronized()) {
                writable(c);
                readable(c);
            }
        }

        @Override
        public void connected(TcpConnection c) {
            writable(c);
        }

        @Override
        public void writable(TcpConnection c) {
            while (written < out.length && c.writableBytes() > 0) {
                written += c.write(out, written, out.length - written);
            }
            if (written == out.length && c.state().acceptsWrites()) {
                c.shutdownOutput();
            }
        }

        @Override
        public void readable(TcpConnection c) {
            int n;
            while ((n = c.read(buf, 0, buf.length)) > 0) {
                if (readPos + n > in.length) {
                    error = error != null ? error : "more bytes than sent: " + (readPos + n);
                } else if (error == null && Arrays.mismatch(buf, 0, n, in, readPos, readPos + n) >= 0) {
                    error = "bytes differ at " + (readPos + Arrays.mismatch(buf, 0, n, in, readPos, readPos + n));
                }
                readPos += n;
            }
            if (n < 0) {
                eof = true;
            }
        }

        @Override
        public void closed(TcpConnection c) {
            closed = true;
        }

        boolean finished() {
            return c != null && eof && written == out.length && c.unacknowledgedBytes() == 0;
        }

        @Override
        public String toString() {
            return "written " + written + " read " + readPos + " eof " + eof + " " + c
                    + (c == null ? "" : " cwnd " + c.congestionWindow() + " ssthresh " + c.slowStartThreshold()
                    + " unacked " + c.unacknowledgedBytes());
        }
    }

    /**
     * Checks the congestion state after every instant of simulated time: ssthresh at least 2 SMSS, cwnd at
     * least 1 SMSS, and after each retransmission timeout cwnd of exactly 1 SMSS and the RTO doubled.
     */
    static final class Monitor {
        private final List<Endpoint> endpoints;
        private final List<Host> hosts;
        private final long[] timeouts;
        private final long[] lastRto;
        final List<String> violations = new ArrayList<>();
        int timeoutsSeen;

        Monitor(List<Endpoint> endpoints, List<Host> hosts) {
            this.endpoints = endpoints;
            this.hosts = hosts;
            this.timeouts = new long[hosts.size()];
            this.lastRto = new long[hosts.size()];
        }

        /** Always true, to sit in front of a run's condition. */
        boolean sample() {
            for (int i = 0; i < endpoints.size(); i++) {
                TcpConnection c = endpoints.get(i).c;
                long t = hosts.get(i).tcp().counters().get(TcpCounter.RETRANSMIT_TIMEOUTS);
                if (c == null || !c.state().isSynchronized() || violations.size() > 20) {
                    timeouts[i] = t; // a SYN's or SYN-ACK's timeout: the data rules below do not apply
                    continue;
                }
                long mss = c.sendMss();
                if (c.slowStartThreshold() < 2 * mss) {
                    violations.add(hosts.get(i).name() + ": ssthresh " + c.slowStartThreshold() + " < 2 SMSS");
                }
                if (c.congestionWindow() < mss) {
                    violations.add(hosts.get(i).name() + ": cwnd " + c.congestionWindow() + " < SMSS");
                }
                if (t != timeouts[i]) {
                    timeoutsSeen += (int) (t - timeouts[i]);
                    if (t == timeouts[i] + 1) {
                        if (c.congestionWindow() != mss) {
                            violations.add(hosts.get(i).name() + ": cwnd " + c.congestionWindow()
                                    + " after a timeout, not 1 SMSS (" + mss + ")");
                        }
                        long expected = Math.min(2 * lastRto[i], Duration.ofSeconds(60).toNanos());
                        if (c.rtoNanos() != expected) {
                            violations.add(hosts.get(i).name() + ": RTO " + c.rtoNanos() + " after a timeout, "
                                    + "expected twice " + lastRto[i]);
                        }
                    }
                    timeouts[i] = t;
                }
                lastRto[i] = c.rtoNanos();
            }
            return true;
        }
    }
}
