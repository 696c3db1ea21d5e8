package org.jmbuf.net;

import static org.jmbuf.net.TcpScript.seg;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Round-trip samples from timestamps (RFC 7323 §4, RFC 6298): an honest TSecr gives the round trip; a
 * TSecr that cannot be one of ours (later than our clock, or older than the longest timeout) is no sample,
 * so a peer cannot push the retransmission timeout to its ceiling or floor with made-up echoes.
 */
class TcpRttTest {
    private TcpScript s;

    @AfterEach
    void tearDown() {
        if (s != null) {
            s.close();
        }
    }

    /** Establishes a passive connection with timestamps and returns it; our last TSval in {@code tsVal[0]}. */
    private TcpConnection open(long[] tsVal) {
        s = TcpScript.ipv4();
        s.settings().setTimestamps(true);
        TcpListener l = s.listen(4);
        s.inject(seg("S").seq(0).mss(1460).ts(1000, 0));
        tsVal[0] = s.next().tsVal();
        s.inject(seg(".").seq(1).ack(1).ts(1001, 0)); // no echo: no sample
        TcpConnection c = l.accept();
        assertNotNull(c);
        l.close();
        return c;
    }

    @ParameterizedTest(name = "TSecr = ours {0} ms")
    @ValueSource(longs = {+5_000, -200_000, +1_000_000_000L})
    void bogusEchoIsNoSample(long offset) {
        long[] ours = new long[1];
        TcpConnection c = open(ours);
        assertEquals(1, c.write("x".getBytes()));
        long sent = s.next().tsVal();
        s.inject(seg(".").seq(1).ack(2).ts(1002, (sent + offset) & 0xffffffffL));
        assertEquals(0, c.smoothedRttNanos(), "no round trip measured from an echo we never sent");
        assertEquals(Duration.ofSeconds(1).toNanos(), c.rtoNanos(), "the initial RTO stays");
        // the next honest echo is the first sample: SRTT is exactly it, not smoothed with a bogus one
        assertEquals(1, c.write("y".getBytes()));
        long next = s.next().tsVal();
        s.advance(Duration.ofMillis(40));
        s.inject(seg(".").seq(1).ack(3).ts(1003, next));
        assertEquals(Duration.ofMillis(40).toNanos(), c.smoothedRttNanos());
    }

    @ParameterizedTest(name = "round trip {0} ms")
    @ValueSource(longs = {30, 1500})
    void honestEchoIsASample(long millis) {
        long[] ours = new long[1];
        TcpConnection c = open(ours);
        assertEquals(1, c.write("x".getBytes()));
        long sent = s.next().tsVal();
        s.advance(Duration.ofMillis(millis));
        s.inject(seg(".").seq(1).ack(2).ts(1002, sent));
        assertEquals(Duration.ofMillis(millis).toNanos(), c.smoothedRttNanos());
    }
}
