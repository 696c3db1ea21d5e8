package org.jmbuf.io;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongConsumer;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.net.Counters;
import org.jmbuf.net.Host;
import org.jmbuf.net.ManualClock;
import org.jmbuf.net.RawIpInterface;
import org.jmbuf.net.Timers;
import org.jmbuf.wire.IpAddress;
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
     * @param groups    the host's counter groups themselves (for tables), as {@link Host#counters()}
     * @param failures  one line per exception the stack threw (none means the stack survived every packet)
     * @param formatError the capture's own format error, if it ended with one (after its good packets), or null
     */
    public record Report(Path file, long packets, long bytes, long ipv4, long ipv6, long skipped, long sent,
            String netstat, List<Counters<?>> groups, Map<String, Map<String, Long>> counters, List<String> failures,
            String formatError) {
    }

    /**
     * How to replay.
     *
     * @param addresses   the host's addresses; if empty, the host adopts the destination of every unicast
     *                    packet as its own (so packets reach the upper layers)
     * @param sentCapture where to write (pcapng, raw IP) what the host sent, or null
     */
    public record Options(List<Assignment> addresses, Path sentCapture) {
        /** Adopt destinations, write nothing. */
        public static final Options DEFAULT = new Options(List.of(), null);

        public Options {
            addresses = List.copyOf(addresses);
        }
    }

    /** An address of the replay host with its prefix length. */
    public record Assignment(IpAddress address, int prefixLength) {
        /**
         * Parses {@code ADDRESS/LENGTH} (the length defaults to a host route: 32 or 128).
         *
         * @throws IllegalArgumentException if the text is not an address with an optional prefix length
         */
        public static Assignment parse(String text) {
            int slash = text.indexOf('/');
            IpAddress address = IpAddress.parse(slash < 0 ? text : text.substring(0, slash));
            int max = address.version() == 4 ? 32 : 128;
            int length = max;
            if (slash >= 0) {
                String p = text.substring(slash + 1);
                if (p.isEmpty() || !p.chars().allMatch(c -> c >= '0' && c <= '9') || Integer.parseInt(p) > max) {
                    throw new IllegalArgumentException("bad prefix length in " + text + " (want ADDRESS/0.." + max + ")");
                }
                length = Integer.parseInt(p);
            }
            return new Assignment(address, length);
        }
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
        return replay(file, pool, Options.DEFAULT, progress);
    }

    /**
     * Replays {@code file} into a new host allocating from {@code pool}, as {@code options} say.
     *
     * @param progress called now and then with the number of file bytes read so far; may be null
     * @throws IOException if the file cannot be opened or mapped, or the sent capture cannot be written
     */
    public static Report replay(Path file, MbufPool pool, Options options, LongConsumer progress)
            throws IOException {
        Objects.requireNonNull(pool, "pool");
        CaptureWriter sentWriter = options.sentCapture() == null ? null
                : CaptureWriter.builder(CaptureFormat.PCAPNG).linkType(LinkType.RAW).interfaceName("cap0")
                        .open(options.sentCapture());
        try (sentWriter) {
            return replay(file, pool, options, progress, sentWriter);
        }
    }

    private static Report replay(Path file, MbufPool pool, Options options, LongConsumer progress,
            CaptureWriter sentWriter) throws IOException {
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
        Instant[] now = {Instant.EPOCH};
        IOException[] writeFailure = {null};
        RawIpInterface tun = host.attach(new RawIpInterface("cap0", 65535, m -> {
            try (m) {
                sent[0]++;
                if (sentWriter != null && writeFailure[0] == null) {
                    sentWriter.write(m, now[0].plusNanos(clock.nanoTime()));
                }
            } catch (IOException e) {
                writeFailure[0] = e;
            }
        }));
        host.ipv6().enable(tun);
        boolean adopt = options.addresses().isEmpty();
        for (Assignment a : options.addresses()) {
            switch (a.address()) {
                case Ipv4Address v4 -> host.addIpv4(tun, v4, a.prefixLength());
                case Ipv6Address v6 -> host.ipv6().addAddress(tun, v6, a.prefixLength());
            }
        }
        if (!adopt) {
            clock.advance(Duration.ofSeconds(3)); // duplicate address detection of the given IPv6 addresses
            timers.runDue();
            host.poll();
        }
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
                        now[0] = when.minusNanos(clock.nanoTime());
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
                        if (adopt) {
                            adoptIpv4Destination(host, tun, m);
                        }
                    } else {
                        ipv6++;
                        if (adopt) {
                            adoptIpv6Destination(host, tun, m, clock, timers);
                        }
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
        if (writeFailure[0] != null) {
            throw writeFailure[0];
        }
        Map<String, Map<String, Long>> counters = new LinkedHashMap<>();
        for (Counters<?> group : host.counters()) {
            group.snapshot().forEach((counter, value) -> {
                if (value != 0) {
                    counters.computeIfAbsent(group.title(), t -> new LinkedHashMap<>()).put(counter.name(), value);
                }
            });
        }
        return new Report(file, packets, bytes, ipv4, ipv6, skipped, sent[0], host.netstat(), host.counters(),
                counters, List.copyOf(failures), formatError);
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
