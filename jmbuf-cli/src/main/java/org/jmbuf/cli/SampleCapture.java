package org.jmbuf.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.io.CaptureFormat;
import org.jmbuf.io.CaptureWriter;
import org.jmbuf.io.LinkType;
import org.jmbuf.net.Host;
import org.jmbuf.net.NetworkInterface;
import org.jmbuf.net.Simulation;
import org.jmbuf.net.SimulatedLink;
import org.jmbuf.net.UdpSocket;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.MacAddress;

/**
 * The embedded default capture: two jmbuf hosts on a simulated Ethernet exchange ARP, neighbour
 * discovery, pings of both families (small, and large enough to fragment), UDP datagrams to an open and
 * a closed port, and every frame on the wire is written to a pcapng file.
 */
final class SampleCapture {
    private SampleCapture() {
    }

    /** Writes the sample session to {@code file} (pcapng, Ethernet); returns the number of frames. */
    static int write(Path file) throws IOException {
        MbufPool pool = MbufPool.builder().build();
        int[] frames = {0};
        try (CaptureWriter writer = CaptureWriter.builder(CaptureFormat.PCAPNG).linkType(LinkType.ETHERNET)
                .interfaceName("sim0").open(file);
                Simulation sim = new Simulation(pool, 2026)) {
            Instant start = Instant.parse("2026-11-21T12:00:00Z");
            SimulatedLink link = sim.link(1500, SimulatedLink.Conditions.PERFECT);
            link.setDelivery((p, frame) -> {
                Mbuf m = SimulatedLink.Delivery.COPY.deliver(p, frame);
                try {
                    writer.write(m, start.plusNanos(sim.clock().nanoTime()));
                    frames[0]++;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return m;
            });
            Host a = sim.host("a");
            Host b = sim.host("b");
            NetworkInterface ethA = a.attach(link.attach("eth0", MacAddress.parse("02:00:00:00:00:01")));
            NetworkInterface ethB = b.attach(link.attach("eth0", MacAddress.parse("02:00:00:00:00:02")));
            a.addIpv4(ethA, Ipv4Address.parse("192.0.2.1"), 24);
            b.addIpv4(ethB, Ipv4Address.parse("192.0.2.2"), 24);
            a.ipv6().addAddress(ethA, Ipv6Address.parse("2001:db8::1"), 64);
            b.ipv6().addAddress(ethB, Ipv6Address.parse("2001:db8::2"), 64);
            sim.run(Duration.ofSeconds(3));
            byte[] big = new byte[4000];
            Arrays.fill(big, (byte) 'j');
            try (UdpSocket echo = b.udp().open().bind(7); UdpSocket client = a.udp().open()) {
                a.icmp().sendEcho(Ipv4Address.parse("192.0.2.2"), 1, 1, "hello, mbuf".getBytes());
                a.icmp().sendEcho(Ipv4Address.parse("192.0.2.2"), 1, 2, big);
                a.icmpv6().sendEcho(Ipv6Address.parse("2001:db8::2"), 1, 3, "hello, mbuf".getBytes());
                a.icmpv6().sendEcho(Ipv6Address.parse("2001:db8::2"), 1, 4, big);
                client.send("to the echo port".getBytes(), "192.0.2.2", 7);
                client.send("to a closed port".getBytes(), "2001:db8::2", 9);
                sim.run(Duration.ofSeconds(1));
                for (UdpSocket.Datagram d = echo.receive(); d != null; d = echo.receive()) {
                    d.close();
                }
            }
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
        return frames[0];
    }
}
