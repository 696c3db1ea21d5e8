package org.jmbuf.net;

import static org.jmbuf.net.TcpScript.seg;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.IpAddress;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv6Address;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * How connections end when their host does: {@link Host#close()} resets every connection, also those to
 * the host itself over {@code lo0}, and afterwards nothing of theirs is left in the pool (issue 5,
 * acceptance 4); and what a listener counts for ACKs that match no connection.
 */
class TcpLifetimeTest {
    /**
     * Both ends of a loopback connection on one host, with unread data on both sides; closing the host
     * leaves the pool empty, the resets it sends to itself included (they used to stay in {@code lo0}'s
     * input queue, purged before TCP was closed).
     */
    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "::1"})
    void hostCloseFreesLoopbackConnectionsAndTheirResets(String address) {
        MbufPool pool = MbufPool.builder().build();
        try (Simulation sim = new Simulation(pool, 1)) {
            Host h = sim.host("h");
            IpAddress to = address.contains(":") ? Ipv6Address.parse(address) : Ipv4Address.parse(address);
            TcpListener listener = h.tcp().listen(9, 4);
            TcpConnection client = h.tcp().connect(to, 9);
            assertTrue(sim.runUntil(() -> listener.pending() == 1, Duration.ofSeconds(5)), h.netstat());
            TcpConnection server = listener.accept();
            assertEquals(5, client.write("hello".getBytes()));
            assertEquals(5, server.write("world".getBytes()));
            assertTrue(sim.runUntil(() -> client.readableBytes() == 5 && server.readableBytes() == 5,
                    Duration.ofSeconds(5)), h.netstat());
            h.close();
            assertEquals(TcpState.CLOSED, client.state());
            assertEquals(TcpConnection.Failure.ABORTED, server.failure());
            assertTrue(pool.stats().isQuiescent(), () -> pool.stats() + "\n" + pool.leakReport());
        }
    }

    /** An ACK for no connection answered with a reset counts as stray, not as a rejected cookie, if no cookie was ever sent. */
    @Test
    void strayAckToAListenerIsNotARejectedCookie() {
        TcpScript s = TcpScript.ipv4();
        try (TcpListener l = s.listen(4)) {
            s.inject(seg(".").seq(1).ack(777));
            s.expect(seg("R").seq(777).win(0));
            assertEquals(1, s.counter(Tcp.TcpCounter.LISTENER_STRAY_ACKS));
            assertEquals(0, s.counter(Tcp.TcpCounter.SYN_COOKIES_REJECTED));
            assertNull(l.accept());
        }
        s.close();
    }
}
