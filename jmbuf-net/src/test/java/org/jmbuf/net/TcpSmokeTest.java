package org.jmbuf.net;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.Random;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.IpAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TcpSmokeTest {
    private final MbufPool pool = MbufPool.builder().build();
    private Simulation sim;
    private Host a;
    private Host b;

    @AfterEach
    void tearDown() {
        if (sim != null) {
            sim.close();
        }
    }

    private void topology(SimulatedLink.Conditions conditions) {
        sim = new Simulation(pool, 7);
        SimulatedLink link = sim.link(1500, conditions);
        a = sim.host("a");
        b = sim.host("b");
        NetworkInterface ethA = a.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_A));
        NetworkInterface ethB = b.attach(link.attach("eth0", Ipv6TwoHostTest.MAC_B));
        a.addIpv4(ethA, TwoHostTest.A, 24);
        b.addIpv4(ethB, TwoHostTest.B, 24);
    }

    @Test
    void transferOneWay() {
        topology(new SimulatedLink.Conditions(Duration.ofMillis(5), Duration.ofMillis(3), 0.05, 0.05));
        byte[] data = new byte[1_000_000];
        new Random(1).nextBytes(data);
        TcpListener listener = b.tcp().listen(80, 8);
        TcpConnection client = a.tcp().connect(TwoHostTest.B, 80);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        TcpConnection[] server = new TcpConnection[1];
        listener.onAcceptable(l -> {
            server[0] = l.accept();
            server[0].setHandler(new TcpConnection.Handler() {
                @Override
                public void readable(TcpConnection c) {
                    byte[] buf = new byte[4096];
                    int n;
                    while ((n = c.read(buf, 0, buf.length)) > 0) {
                        got.write(buf, 0, n);
                    }
                }
            });
        });
        int[] written = {0};
        TcpConnection.Handler writer = new TcpConnection.Handler() {
            @Override
            public void connected(TcpConnection c) {
                writable(c);
            }

            @Override
            public void writable(TcpConnection c) {
                if (written[0] < data.length) {
                    written[0] += c.write(data, written[0], data.length - written[0]);
                    if (written[0] == data.length) {
                        c.close();
                    }
                }
            }
        };
        client.setHandler(writer);
        assertTrue(sim.runUntil(() -> got.size() == data.length && server[0] != null
                && server[0].isEndOfStream(), Duration.ofSeconds(120)), () -> got.size() + " " + client + " "
                + server[0] + "\n" + a.netstat() + b.netstat());
        assertArrayEquals(data, got.toByteArray());
        server[0].close();
        assertTrue(sim.runUntil(() -> a.tcp().connections().isEmpty() && b.tcp().connections().isEmpty(),
                Duration.ofSeconds(200)), a.tcp().connections() + " " + b.tcp().connections());
        System.out.println(sim.clock() + "\n" + a.netstat() + b.netstat());
        listener.close();
    }
}
