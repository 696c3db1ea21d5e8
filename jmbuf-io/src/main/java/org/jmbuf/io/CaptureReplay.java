package org.jmbuf.io;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongConsumer;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.net.Host;
import org.jmbuf.net.ManualClock;
import org.jmbuf.net.RawIpInterface;
import org.jmbuf.net.Timers;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv6Address;

/**
 * Feeds every packet of a capture file to a jmbuf host, straight from the read-only mapping of the file
 * (each packet is read-only external storage: the stack must process it without writing a byte of it,
 * which is the seed's Xen scenario), and reports what the host made of them.
 *
 * <p>The host has one raw-IP interface, {@code cap0}. The link-layer header of each packet is trimmed
 * off ({@link Mbuf#adj}, no copy); the host takes the destination of every unicast packet as one of its
 * own addresses (IPv4 /32, IPv6 global /128), so the packets reach the upper layers rather than being
 * dropped as "not for us". Time follows the packets' timestamps on a manual clock, so reassembly
 * timeouts behave as they would have; at the end the clock runs on a minute so every queue drains.
 * Whatever the host sends is counted and freed. Every exception the stack throws while processing a
 * packet is a bug: it is recorded in the report (with the packet's number) and the replay goes on.
 */
public final class CaptureReplay {
    /**
     * What a replay saw.
     *
     * @param file      the capture
     * @param packets   packets read
     * @param bytes     bytes of captured packet data read
     * @param ipv4      packets handed to the stack as IPv4
     * @param ipv6      packets handed to the stack as IPv6
     * @param skipped   packets of a link type or EtherType the stack does not take (ARP, PPP, ...)
     * @param sent      packets the host sent in reply (echo replies, errors, neighbour discovery)
     * @param netstat   the host's counters, {@code netstat -s} style
     * @param failures  one line per exception the stack threw (none means the stack survived every packet)
     * @param formatError the capture's own format error, if it ended with one (after its good packets), or null
     */
    public record Report(Path file, long packets, long bytes, long ipv4, long ipv6, long skipped, long sent,
            String netstat, List<String> failures, String formatError) {
    }

    private CaptureReplay() {
    }

    /**
     * Replays {@code file} into a new host allocating from {@code pool}.
     *
     * @param progress called now and then with the number of file bytes read so far (of
     *                 {@link CaptureReader#size()}); may be null
     * @throws IOException if the file cannot be opened or mapped
     */
    public static Report replay(Path file, MbufPool pool, LongConsumer progress) throws IOException {
        Objects.requireNonNull(pool, "pool");
        ManualClock clock = new ManualClock();
        Timers timers = new Timers(clock);
        long[] sent = {0};
        List<String> failures = new ArrayList<>();
        long packets = 0;
        long bytes = 0;
        long ipv4 = 0;
        long ipv6 = 0;
        long skipped = 0;
        String formatError = null;
        Host host = new Host("replay", pool, timers);
        RawIpInterface tun = host.attach(new RawIpInterface("cap0", 65535, m -> {
            sent[0]++;
            m.free();
        }));
        host.ipv6().enable(tun);
        // Everything is on the link: replies go back out of cap0 (where they are counted and freed).
        host.routes().add(new org.jmbuf.net.Routes.Route(Ipv4Address.ANY, 0, tun, null));
        host.ipv6().addRoute(new org.jmbuf.net.Ipv6.Route(Ipv6Address.UNSPECIFIED, 0, tun, null));
        long firstTimestamp = Long.MIN_VALUE;
        try (CaptureReader reader = CaptureReader.open(file, pool)) {
            while (true) {
                CapturedPacket packet;
                try {
                    packet = reader.next();
                } catch (CaptureFormatException e) {
                    formatError = e.getMessage();
                    break;
                }
                if (packet == null) {
                    break;
                }
                packets++;
                bytes += packet.capturedLength();
                if (progress != null && (packets & 1023) == 0) {
                    progress.accept(reader.position());
                }
                Instant when = packet.timestamp();
                if (when != null) {
                    long nanos = packet.timestampNanos();
                    if (firstTimestamp == Long.MIN_VALUE) {
                        firstTimestamp = nanos;
                    }
                    clock.setNanos(Math.max(clock.nanoTime(), nanos - firstTimestamp));
                }
                Mbuf m = packet.mbuf();
                try {
                    Optional<LinkType.NetworkLayer> network = packet.linkType().networkLayer(m);
                    int version = network.isEmpty() || network.get().offset() >= m.length() ? 0
                            : (m.byteAt(network.get().offset()) & 0xf0) >>> 4;
                    if (version != 4 && version != 6) {
                        skipped++;
                        m.free();
                        continue;
                    }
                    m.adj(network.get().offset());
                    if (version == 4) {
                        ipv4++;
                        adoptIpv4Destination(host, tun, m);
                    } else {
                        ipv6++;
                        adoptIpv6Destination(host, tun, m, clock, timers);
                    }
                    tun.receive(m);
                    while (host.poll() > 0 || timers.runDue() > 0) {
                        // settle: replies and their consequences
                    }
                } catch (RuntimeException e) {
                    failures.add("packet " + packets + ": " + e);
                    m.close();
                }
            }
            clock.advance(Duration.ofMinutes(1));
            timers.runDue();
            host.poll();
            if (progress != null) {
                progress.accept(reader.position());
            }
        } finally {
            host.close();
        }
        return new Report(file, packets, bytes, ipv4, ipv6, skipped, sent[0], host.netstat(), List.copyOf(failures),
                formatError);
    }

    private static void adoptIpv4Destination(Host host, RawIpInterface tun, Mbuf m) {
        if (m.length() < 20) {
            return;
        }
        byte[] address = new byte[4];
        m.copyData(16, 4, address, 0);
        Ipv4Address destination = new Ipv4Address(java.nio.ByteBuffer.wrap(address).getInt());
        if (!destination.isMulticast() && !destination.isLimitedBroadcast() && !destination.isAny()
                && !destination.isLoopback() && !host.hasIpv4(destination)) {
            host.addIpv4(tun, destination, 32);
        }
    }

    private static void adoptIpv6Destination(Host host, RawIpInterface tun, Mbuf m, ManualClock clock,
            Timers timers) {
        if (m.length() < 40) {
            return;
        }
        byte[] address = new byte[16];
        m.copyData(24, 16, address, 0);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(address);
        Ipv6Address destination = new Ipv6Address(b.getLong(), b.getLong());
        if (destination.isMulticast() || destination.isUnspecified() || destination.isLoopback()
                || destination.isLinkLocal() || host.ipv6().isOurs(destination)) {
            return;
        }
        host.ipv6().addAddress(tun, destination, 128);
        // Duplicate address detection must finish before the address accepts packets: about a second.
        clock.advance(Duration.ofSeconds(3));
        timers.runDue();
        host.poll();
    }
}
