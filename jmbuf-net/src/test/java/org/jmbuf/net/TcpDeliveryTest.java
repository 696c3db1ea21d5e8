package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.Random;
import java.util.stream.Stream;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.IpAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * TCP input is read-only-mbuf safe: an exchange in both directions, with loss, duplication and
 * reordering (so that out-of-order queueing, SACK and trimming all run), over IPv4 and IPv6, with the
 * received frames stored every way {@link TwoHostTest#deliveries()} makes them: in ordinary clusters, in
 * read-only external storage (checked unchanged afterwards; strict mode turns any write into an error), and
 * split into odd pieces so that headers straddle segments.
 */
class TcpDeliveryTest {
    private static final int BYTES = 200_000;

    private final MbufPool pool = MbufPool.builder().build();
    private Simulation sim;
    private Host a;
    private Host b;

    static Stream<Arguments> cases() {
        return TwoHostTest.deliveries().flatMap(d -> Stream.of(
                Arguments.of("IPv4, " + d.get()[0], d.get()[1], false),
                Arguments.of("IPv6, " + d.get()[0], d.get()[1], true)));
    }

    @AfterEach
    void tearDown() {
        if (sim != null) {
            sim.close();
        }
    }

    /** Reads everything that arrives into {@code sink}; closes its side once the peer's FIN is read. */
    private static TcpConnection.Handler reader(ByteArrayOutputStream sink) {
        return new TcpConnection.Handler() {
            @Override
            public void readable(TcpConnection c) {
                byte[] buf = new byte[3000];
                int n;
                while ((n = c.read(buf, 0, buf.length)) > 0) {
                    sink.write(buf, 0, n);
                }
            }
        };
    }

    /** Writes all of {@code data} as room appears, then shuts output down; reads into {@code sink}. */
    private static TcpConnection.Handler writerAndReader(byte[] data, ByteArrayOutputStream sink) {
        TcpConnection.Handler reader = reader(sink);
        return new TcpConnection.Handler() {
            private int written;

            @Override
            public void connected(TcpConnection c) {
                writable(c);
            }

            @Override
            public void writable(TcpConnection c) {
                if (written < data.length) {
                    written += c.write(data, written, data.length - written);
                    if (written == data.length) {
                        c.shutdownOutput();
                    }
                }
            }

            @Override
            public void readable(TcpConnection c) {
                reader.readable(c);
            }
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bothDirectionsArriveIntactWithoutWritingReceivedStorage(String name, SimulatedLink.Delivery delivery,
            boolean ipv6) {
        sim = new Simulation(pool, 11);
        SimulatedLink link = sim.link(1500, new SimulatedLink.Conditions(Duration.ofMillis(2), Duration.ofMillis(2),
                0.02, 0.02));
        link.setDelivery(delivery);
        a = sim.host("a");
        b = sim.host("b");
        NetworkInterface ethA = a.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_A));
        NetworkInterface ethB = b.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_B));
        IpAddress server;
        if (ipv6) {
            a.ipv6().enable(ethA);
            b.ipv6().enable(ethB);
            a.ipv6().addAddress(ethA, Ipv6TwoHostTest.A, 64);
            b.ipv6().addAddress(ethB, Ipv6TwoHostTest.B, 64);
            assertTrue(sim.runUntil(() -> Ipv6TwoHostTest.preferred(ethA, Ipv6TwoHostTest.A)
                    && Ipv6TwoHostTest.preferred(ethB, Ipv6TwoHostTest.B), Duration.ofSeconds(5)));
            server = Ipv6TwoHostTest.B;
        } else {
            a.addIpv4(ethA, TwoHostTest.A, 24);
            b.addIpv4(ethB, TwoHostTest.B, 24);
            server = TwoHostTest.B;
        }
        byte[] up = new byte[BYTES];
        byte[] down = new byte[BYTES / 2];
        new Random(1).nextBytes(up);
        new Random(2).nextBytes(down);
        ByteArrayOutputStream atServer = new ByteArrayOutputStream();
        ByteArrayOutputStream atClient = new ByteArrayOutputStream();
        TcpConnection[] accepted = new TcpConnection[1];
        try (TcpListener listener = b.tcp().listen(80, 4)) {
            listener.onAcceptable(l -> {
                accepted[0] = l.accept();
                accepted[0].setHandler(writerAndReader(down, atServer));
            });
            TcpConnection client = a.tcp().connect(server, 80);
            client.setHandler(writerAndReader(up, atClient));
            assertTrue(sim.runUntil(() -> accepted[0] != null && client.isEndOfStream()
                    && accepted[0].isEndOfStream(), Duration.ofMinutes(5)),
                    () -> atServer.size() + "/" + atClient.size() + " " + client + "\n" + a.netstat() + b.netstat());
            assertArrayEquals(up, atServer.toByteArray());
            assertArrayEquals(down, atClient.toByteArray());
            assertTrue(b.tcp().counters().get(Tcp.TcpCounter.OUT_OF_ORDER_SEGMENTS)
                    + a.tcp().counters().get(Tcp.TcpCounter.OUT_OF_ORDER_SEGMENTS) > 0, "reordering was exercised");
            client.close();
            accepted[0].close();
            assertTrue(sim.runUntil(() -> a.tcp().connections().isEmpty() && b.tcp().connections().isEmpty(),
                    Duration.ofMinutes(3)), () -> a.tcp().connections() + " " + b.tcp().connections());
        }
        if (delivery instanceof TwoHostTest.ReadOnlyDelivery ro) {
            ro.assertUnchanged();
        }
    }
}
