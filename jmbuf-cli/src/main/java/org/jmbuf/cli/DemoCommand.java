package org.jmbuf.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufOwner;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.io.CaptureFormat;
import org.jmbuf.io.CaptureWriter;
import org.jmbuf.io.LinkType;
import org.jmbuf.io.TimestampPrecision;
import org.jmbuf.net.Host;
import org.jmbuf.net.Icmp;
import org.jmbuf.net.Ipv4;
import org.jmbuf.net.Ipv6Scope;
import org.jmbuf.net.NetworkInterface;
import org.jmbuf.net.SimulatedLink;
import org.jmbuf.net.Simulation;
import org.jmbuf.net.TcpConnection;
import org.jmbuf.net.TcpListener;
import org.jmbuf.net.UdpSocket;
import org.jmbuf.wire.IcmpMessage;
import org.jmbuf.wire.Icmpv6Message;
import org.jmbuf.wire.IpAddress;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.MacAddress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code jmbuf demo}: an embedded scenario of simulated hosts and a router that shows the system
 * working end to end, with a short report and the traffic written to a pcapng file.
 */
@Command(name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Run an embedded scenario: host A, router R and host B on two simulated Ethernet links (MTU 1500",
            "and 1280). ARP and neighbour discovery, pings of both families (small, fragmented, record route),",
            "a link-local ping6 with a zone, and UDP echo; then a report of round-trip times, the counters that",
            "changed and the pool use per owner. The traffic of both links is written to a pcapng file."},
        footer = {"", "Examples:", "  jmbuf demo", "  jmbuf demo --capture /tmp/session.pcapng"})
final class DemoCommand implements Callable<Integer> {
    private static final Ipv4Address A4 = Ipv4Address.parse("192.0.2.1");
    private static final Ipv4Address R4_LEFT = Ipv4Address.parse("192.0.2.254");
    private static final Ipv4Address R4_RIGHT = Ipv4Address.parse("198.51.100.254");
    private static final Ipv4Address B4 = Ipv4Address.parse("198.51.100.2");
    private static final Ipv6Address A6 = Ipv6Address.parse("2001:db8:1::1");
    private static final Ipv6Address R6_LEFT = Ipv6Address.parse("2001:db8:1::fe");
    private static final Ipv6Address R6_RIGHT = Ipv6Address.parse("2001:db8:2::fe");
    private static final Ipv6Address B6 = Ipv6Address.parse("2001:db8:2::2");

    @Option(names = "--capture", defaultValue = "jmbuf-demo.pcapng",
            description = "Where to write the traffic of both links (default: ${DEFAULT-VALUE}).")
    private Path capture;

    private final PrintStream out = System.out;
    private Simulation sim;

    @Override
    public Integer call() throws IOException {
        MbufPool pool = MbufPool.builder().build();
        Instant start = Instant.parse("2026-11-21T12:00:00Z");
        Map<MbufOwner, Integer> peak = new HashMap<>();
        int failures = 0;
        try (CaptureWriter writer = CaptureWriter.builder(CaptureFormat.PCAPNG).linkType(LinkType.ETHERNET)
                .interfaceName("a-r").open(capture);
                Simulation simulation = new Simulation(pool, 2026)) {
            sim = simulation;
            int rightLink = writer.addInterface(LinkType.ETHERNET, 65535, TimestampPrecision.NANOSECONDS, "r-b");
            SimulatedLink left = sim.link(1500, SimulatedLink.Conditions.PERFECT);
            SimulatedLink right = sim.link(1280, SimulatedLink.Conditions.PERFECT);
            left.setDelivery(recording(writer, 0, start, pool, peak));
            right.setDelivery(recording(writer, rightLink, start, pool, peak));
            Host a = sim.host("A");
            Host r = sim.host("R");
            Host b = sim.host("B");
            NetworkInterface ethA = a.attach(left.attach("eth0", MacAddress.parse("02:00:00:00:01:01")));
            NetworkInterface r0 = r.attach(left.attach("eth0", MacAddress.parse("02:00:00:00:01:fe")));
            NetworkInterface r1 = r.attach(right.attach("eth1", MacAddress.parse("02:00:00:00:02:fe")));
            NetworkInterface ethB = b.attach(right.attach("eth0", MacAddress.parse("02:00:00:00:02:02")));
            a.addIpv4(ethA, A4, 24);
            r.addIpv4(r0, R4_LEFT, 24);
            r.addIpv4(r1, R4_RIGHT, 24);
            b.addIpv4(ethB, B4, 24);
            a.setDefaultGateway(R4_LEFT);
            b.setDefaultGateway(R4_RIGHT);
            r.ipv4().setForwarding(true);
            r.ipv6().setForwarding(true);
            r.ipv6().addAddress(r0, R6_LEFT, 64);
            r.ipv6().addAddress(r1, R6_RIGHT, 64);
            r.nd().advertise(r0, R6_LEFT, 64);
            r.nd().advertise(r1, R6_RIGHT, 64);
            a.ipv6().addAddress(ethA, A6, 64);
            b.ipv6().addAddress(ethB, B6, 64);
            out.println("Host A (192.0.2.1, 2001:db8:1::1) -- link MTU 1500 -- router R -- link MTU 1280 -- "
                    + "host B (198.51.100.2, 2001:db8:2::2)");
            sim.run(Duration.ofSeconds(5)); // duplicate address detection, router advertisements
            out.println("\nAddresses are ready after duplicate address detection; A learnt its default router"
                    + " from R's advertisements.\n");

            List<String[]> rows = new ArrayList<>();
            List<byte[]> v4 = new ArrayList<>();
            List<byte[]> v4packets = new ArrayList<>();
            List<byte[]> v6 = new ArrayList<>();
            a.icmp().setListener((source, message) -> v4.add(message.toByteArray()));
            a.icmp().setRawListener((m, offset) -> v4packets.add(m.toByteArray()));
            a.icmpv6().setListener((source, message) -> v6.add(message.toByteArray()));

            failures += ping(rows, "ping 198.51.100.2 (ARP on both links)", v4, () ->
                    a.icmp().sendEcho(B4, 1, 1, payload(56)), IcmpMessage.ECHO_REPLY);
            failures += ping(rows, "ping 198.51.100.2, 4000 bytes (fragmented, refragmented by R)", v4, () ->
                    a.icmp().sendEcho(B4, 1, 2, payload(4000)), IcmpMessage.ECHO_REPLY);
            failures += ping(rows, "ping -R 198.51.100.2 (record route)", v4, () ->
                    a.icmp().sendEcho(B4, 1, 3, payload(56), Ipv4.DEFAULT_TTL, Icmp.recordRouteOption(9)),
                    IcmpMessage.ECHO_REPLY);
            String route = recordedRoute(v4packets.isEmpty() ? null : v4packets.getLast());
            failures += ping(rows, "ping6 2001:db8:2::2 (neighbour discovery)", v6, () ->
                    a.icmpv6().sendEcho(B6, 1, 4, payload(56)), Icmpv6Message.ECHO_REPLY);
            failures += ping(rows, "ping6 2001:db8:2::2, 4000 bytes (Packet Too Big from R)", v6, () ->
                    a.icmpv6().sendEcho(B6, 1, 5, payload(4000)), Icmpv6Message.PACKET_TOO_BIG);
            failures += ping(rows, "ping6 2001:db8:2::2, 4000 bytes (fragmented at A for MTU 1280)", v6, () ->
                    a.icmpv6().sendEcho(B6, 1, 6, payload(4000)), Icmpv6Message.ECHO_REPLY);
            String zoned = Ipv6Scope.format(a, Ipv6Scope.embed(Ipv6Scope.clear(r.nd().linkLocal(r0)), ethA.index()));
            failures += ping(rows, "ping6 " + zoned + " (link-local, with a zone)", v6, () ->
                    a.icmpv6().sendEcho(Ipv6Scope.parse(a, zoned).embedded(), 1, 7, payload(56)),
                    Icmpv6Message.ECHO_REPLY);
            try (UdpSocket echo = b.udp().open().bind(7); UdpSocket client = a.udp().open()) {
                for (String to : List.of("198.51.100.2", "2001:db8:2::2")) {
                    long sent = sim.clock().nanoTime();
                    client.send(("echo over " + to).getBytes(), to, 7);
                    boolean got = sim.runUntil(() -> echo.available() > 0, Duration.ofSeconds(5));
                    if (got) {
                        try (UdpSocket.Datagram d = echo.receive()) {
                            echo.send(d.payload().copy(0), d.source(), d.sourcePort());
                        }
                    }
                    got = got && sim.runUntil(() -> client.available() > 0, Duration.ofSeconds(5));
                    rows.add(row("UDP echo to " + to + " port 7", got, sim.clock().nanoTime() - sent));
                    failures += got ? 0 : 1;
                    if (got) {
                        client.receive().close();
                    }
                }
            }
            try (TcpListener listener = b.tcp().listen(7, 4)) {
                listener.onAcceptable(l -> l.accept().setHandler(new TcpEcho()));
                for (IpAddress to : List.of(B4, B6)) {
                    failures += tcpEcho(rows, a, to);
                }
            }
            Table.print(out, new String[] {"what", "result", "time"}, rows);
            out.println("\nRoute recorded by ping -R: " + route);

            out.println("\nCounters that changed:");
            List<String[]> counterRows = new ArrayList<>();
            for (Host h : List.of(a, r, b)) {
                CounterTable.addRows(counterRows, h.name(), h.counters());
            }
            CounterTable.print(out, true, counterRows);
            out.println("\nPool use per owner (most segments held at once):");
            List<String[]> owners = new ArrayList<>();
            peak.forEach((owner, max) -> {
                if (max > 0) {
                    owners.add(new String[] {owner.name(), owner.description(), Integer.toString(max)});
                }
            });
            owners.sort((x, y) -> (x[0] + x[1]).compareTo(y[0] + y[1]));
            Table.print(out, new String[] {"owner", "holding", "segments"}, owners);
        }
        out.println("\nThe traffic of both links is in " + capture.toAbsolutePath()
                + " (open it with Wireshark or tshark).");
        if (!pool.stats().isQuiescent()) {
            System.err.println("jmbuf demo: buffers left in use:\n" + pool.stats());
            return 1;
        }
        return failures == 0 ? 0 : 1;
    }

    private SimulatedLink.Delivery recording(CaptureWriter writer, int link, Instant start, MbufPool pool,
            Map<MbufOwner, Integer> peak) {
        return (p, frame) -> {
            Mbuf m = SimulatedLink.Delivery.COPY.deliver(p, frame);
            try {
                writer.write(m, start.plusNanos(sim.clock().nanoTime()), link, m.length());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            for (MbufOwner o : pool.owners()) {
                peak.merge(o, o.segments(), Math::max);
            }
            return m;
        };
    }

    private int ping(List<String[]> rows, String what, List<byte[]> answers, Runnable send, int expectedType) {
        answers.clear();
        long sent = sim.clock().nanoTime();
        send.run();
        BooleanSupplier answered = () -> !answers.isEmpty();
        boolean got = sim.runUntil(answered, Duration.ofSeconds(5))
                && Byte.toUnsignedInt(answers.getFirst()[0]) == expectedType;
        long rtt = sim.clock().nanoTime() - sent;
        sim.run(Duration.ofMillis(100)); // let the rest of the answers (and duplicates) arrive
        String result = !got ? "no answer" : expectedType == Icmpv6Message.PACKET_TOO_BIG ? "Packet Too Big"
                : "answered";
        rows.add(new String[] {what, result, got ? micros(rtt) : "-"});
        return got ? 0 : 1;
    }

    /** Bytes the TCP rows send and get back. */
    private static final int TCP_BYTES = 256 * 1024;

    /**
     * Sends {@link #TCP_BYTES} to B's TCP echo service at {@code to} and reads them back, then closes; adds a
     * row saying whether the bytes came back identical and how long that took. Returns 1 if they did not.
     */
    private int tcpEcho(List<String[]> rows, Host a, IpAddress to) {
        byte[] data = new byte[TCP_BYTES];
        new java.util.Random(to.hashCode()).nextBytes(data);
        java.io.ByteArrayOutputStream back = new java.io.ByteArrayOutputStream();
        long start = sim.clock().nanoTime();
        TcpConnection c = a.tcp().connect(to, 7);
        c.setHandler(new TcpConnection.Handler() {
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
                byte[] buffer = new byte[4096];
                for (int n; (n = c.read(buffer, 0, buffer.length)) > 0; ) {
                    back.write(buffer, 0, n);
                }
            }
        });
        boolean done = sim.runUntil(c::isEndOfStream, Duration.ofMinutes(1));
        long nanos = sim.clock().nanoTime() - start;
        boolean same = done && Arrays.equals(data, back.toByteArray());
        c.close();
        sim.run(Duration.ofSeconds(1));
        rows.add(new String[] {"TCP echo of 256 KiB with " + to + " port 7 (MSS " + c.sendMss() + ")",
                same ? "identical" : done ? "different" : "incomplete", same ? millis(nanos) : "-"});
        return same ? 0 : 1;
    }

    /** B's echo service: sends back what it reads, without copying, and closes when the peer has. */
    private static final class TcpEcho implements TcpConnection.Handler {
        @Override
        public void readable(TcpConnection c) {
            Mbuf data;
            while (c.writableBytes() > 0 && (data = c.receive(c.writableBytes())) != null) {
                c.send(data);
            }
            if (c.isEndOfStream()) {
                c.close();
            }
        }

        @Override
        public void writable(TcpConnection c) {
            readable(c);
        }
    }

    private static String millis(long nanos) {
        return String.format("%.1f ms", nanos / 1e6);
    }

    private static String[] row(String what, boolean ok, long nanos) {
        return new String[] {what, ok ? "echoed" : "no answer", ok ? micros(nanos) : "-"};
    }

    private static String micros(long nanos) {
        return String.format("%.0f us", nanos / 1000.0);
    }

    private static byte[] payload(int size) {
        byte[] p = new byte[size];
        Arrays.fill(p, (byte) 'j');
        return p;
    }

    /** The addresses of the Record Route option in an echo reply (a whole IPv4 packet). */
    private static String recordedRoute(byte[] packet) {
        if (packet == null || (packet[0] & 0xf) <= 5 || packet[20] != 7) {
            return "(none)";
        }
        ByteBuffer b = ByteBuffer.wrap(packet);
        int pointer = packet[22] & 0xff;
        List<String> hops = new ArrayList<>();
        for (int at = 23; at + 4 <= 20 + pointer - 1; at += 4) {
            hops.add(new Ipv4Address(b.getInt(at)).toString());
        }
        return String.join(" -> ", hops);
    }
}
