package org.jmbuf.net;

import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;
import org.jmbuf.wire.Ipv4OptionCursor;
import org.jmbuf.wire.MalformedPacketException;

/**
 * IPv4 input and output ({@code ip_input.c}, {@code ip_output.c}).
 *
 * <p>Input follows the seed's convention: the routine makes the whole header, options included,
 * contiguous with {@link Mbuf#ptr} and reads it through a read-only view; every RFC 1122 §3.2.1 check
 * has its own drop counter. Nothing on the input path writes packet bytes, so packets on read-only
 * storage pass unchanged.
 */
public final class Ipv4 {
    /** The default TTL of packets this host originates ({@code IPDEFTTL}). */
    public static final int DEFAULT_TTL = 64;

    /** IPv4 events and drop reasons ({@code struct ipstat}). */
    public enum Ipv4Counter implements Counter {
        RECEIVED("total packets received"),
        TOO_SHORT("packets shorter than the IPv4 header or their total length"),
        BAD_VERSION("packets with a version other than 4"),
        BAD_HEADER_LENGTH("packets with a header length below 20 or past the packet"),
        BAD_CHECKSUM("packets with a bad header checksum"),
        BAD_TOTAL_LENGTH("packets whose total length is below their header length"),
        BAD_SOURCE("packets from a broadcast, multicast or loopback source"),
        BAD_OPTIONS("packets with malformed options"),
        NOT_FOR_US("packets not for this host (not forwarding)"),
        DELIVERED("packets delivered to an upper protocol"),
        NO_PROTOCOL("packets for an unknown protocol"),
        FRAGMENTS_RECEIVED("fragments received"),
        REASSEMBLED("datagrams reassembled"),
        SENT("packets sent"),
        NO_ROUTE("packets not sent for lack of a route"),
        CANT_FRAGMENT("packets too big for the link with Don't Fragment set"),
        FRAGMENTED("datagrams fragmented on output"),
        FRAGMENTS_CREATED("fragments created"),
        NO_BUFFERS("packets not sent for lack of buffers");

        private final String description;

        Ipv4Counter(String description) {
            this.description = description;
        }

        @Override
        public String description() {
            return description;
        }
    }

    /** What became of a packet handed to {@link #output}. */
    public enum OutputResult {
        /** Sent, or queued until the next hop's link-layer address is known. */
        SENT,
        /** No route to the destination ({@code EHOSTUNREACH}). */
        NO_ROUTE,
        /** Too big for the link and Don't Fragment was asked for ({@code EMSGSIZE}). */
        TOO_BIG,
        /** The pool refused a buffer ({@code ENOBUFS}). */
        NO_BUFFERS
    }

    private final Host host;
    private final Counters<Ipv4Counter> counters = new Counters<>("ip", Ipv4Counter.class);
    private final Ipv4Header header = new Ipv4Header();
    private final Ipv4OptionCursor options = new Ipv4OptionCursor();
    private final Ipv4Reassembly reassembly;
    private int nextIdentification = 1;

    Ipv4(Host host) {
        this.host = host;
        this.reassembly = new Ipv4Reassembly(host);
    }

    public Counters<Ipv4Counter> counters() {
        return counters;
    }

    /** The reassembly queues. */
    public Ipv4Reassembly reassembly() {
        return reassembly;
    }

    /** {@code ip_input}: consumes {@code m}, an IPv4 packet without link header, received on {@code ifp}. */
    void input(NetworkInterface ifp, Mbuf m) {
        counters.increment(Ipv4Counter.RECEIVED);
        if (m.length() < Ipv4Header.MIN_LENGTH) {
            drop(m, Ipv4Counter.TOO_SHORT);
            return;
        }
        int version = Byte.toUnsignedInt(m.byteAt(0)) >>> 4;
        if (version != 4) {
            drop(m, Ipv4Counter.BAD_VERSION);
            return;
        }
        int headerLength = (m.byteAt(0) & 0xf) * 4;
        if (headerLength < Ipv4Header.MIN_LENGTH || headerLength > m.length()) {
            drop(m, Ipv4Counter.BAD_HEADER_LENGTH);
            return;
        }
        Ipv4Header ip;
        try {
            ip = header.wrap(m.ptr(0, headerLength));
        } catch (NoBufferSpaceException e) {
            drop(m, Ipv4Counter.NO_BUFFERS);
            return;
        }
        if (!ip.isChecksumValid()) {
            drop(m, Ipv4Counter.BAD_CHECKSUM);
            return;
        }
        int totalLength = ip.totalLength();
        if (totalLength < headerLength) {
            drop(m, Ipv4Counter.BAD_TOTAL_LENGTH);
            return;
        }
        if (totalLength > m.length()) {
            drop(m, Ipv4Counter.TOO_SHORT);
            return;
        }
        Ipv4Address source = ip.source();
        Ipv4Address destination = ip.destination();
        if (source.isMulticast() || source.isLimitedBroadcast()
                || source.isLoopback() && !(ifp instanceof LoopbackInterface)) {
            drop(m, Ipv4Counter.BAD_SOURCE);
            return;
        }
        if (headerLength > Ipv4Header.MIN_LENGTH) {
            int bad = firstBadOption(ip);
            if (bad >= 0) {
                counters.increment(Ipv4Counter.BAD_OPTIONS);
                host.icmp().parameterProblem(m, Ipv4Header.MIN_LENGTH + bad);
                m.free();
                return;
            }
        }
        if (m.length() > totalLength) {
            m.adj(totalLength - m.length()); // link-layer padding
        }
        if (!isForUs(ifp, destination)) {
            drop(m, Ipv4Counter.NOT_FOR_US);
            return;
        }
        if (ip.moreFragments() || ip.fragmentOffset() != 0) {
            counters.increment(Ipv4Counter.FRAGMENTS_RECEIVED);
            m = reassembly.input(ifp, m, headerLength);
            if (m == null) {
                return;
            }
            counters.increment(Ipv4Counter.REASSEMBLED);
            headerLength = (m.byteAt(0) & 0xf) * 4;
        }
        deliver(ifp, m, headerLength);
    }

    private void deliver(NetworkInterface ifp, Mbuf m, int headerLength) {
        int protocol = Byte.toUnsignedInt(m.byteAt(9));
        switch (protocol) {
            case IpProtocol.ICMP -> {
                counters.increment(Ipv4Counter.DELIVERED);
                host.icmp().input(ifp, m, headerLength);
            }
            case IpProtocol.UDP -> {
                counters.increment(Ipv4Counter.DELIVERED);
                host.udp().input(ifp, m, headerLength);
            }
            default -> {
                counters.increment(Ipv4Counter.NO_PROTOCOL);
                host.icmp().error(m, org.jmbuf.wire.IcmpMessage.DESTINATION_UNREACHABLE,
                        org.jmbuf.wire.IcmpMessage.UNREACHABLE_PROTOCOL, 0);
                m.free();
            }
        }
    }

    /** The offset within the options area of the first malformed option, or -1 if they are well formed. */
    private int firstBadOption(Ipv4Header ip) {
        try {
            options.reset(ip.options());
            while (options.next()) {
                int type = options.type();
                if (type == Ipv4OptionCursor.RECORD_ROUTE || type == Ipv4OptionCursor.LOOSE_SOURCE_ROUTE
                        || type == Ipv4OptionCursor.STRICT_SOURCE_ROUTE) {
                    int pointer = Byte.toUnsignedInt(options.option().getAtIndex(
                            java.lang.foreign.ValueLayout.JAVA_BYTE, 2));
                    if (options.length() < 3 || pointer < 4) {
                        return options.offset() + (options.length() < 3 ? 1 : 2);
                    }
                }
            }
            return -1;
        } catch (MalformedPacketException e) {
            return e.offset();
        }
    }

    /** Whether {@code destination} is one of ours or a broadcast on {@code ifp}. */
    boolean isForUs(NetworkInterface ifp, Ipv4Address destination) {
        if (destination.isLimitedBroadcast() || host.hasIpv4(destination)) {
            return true;
        }
        for (NetworkInterface.Ipv4Assignment a : ifp.ipv4Addresses()) {
            if (a.prefixLength() < 31 && a.broadcast().equals(destination)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code destination} is a broadcast address for {@code ifp} (limited or directed). */
    boolean isBroadcast(NetworkInterface ifp, Ipv4Address destination) {
        if (destination.isLimitedBroadcast()) {
            return true;
        }
        for (NetworkInterface.Ipv4Assignment a : ifp.ipv4Addresses()) {
            if (a.prefixLength() < 31 && a.broadcast().equals(destination)) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code ip_output}: prepends an IPv4 header to {@code payload} and sends it towards
     * {@code destination}, fragmenting it if it does not fit the link and {@code dontFragment} is false.
     * Consumes {@code payload} whatever the result.
     *
     * @param source the source address, or null to use the outgoing interface's address
     */
    public OutputResult output(Mbuf payload, Ipv4Address source, Ipv4Address destination, int protocol, int ttl,
            boolean dontFragment) {
        Routes.Route route = host.routes().lookup(destination);
        if (route == null && !destination.isLimitedBroadcast()) {
            counters.increment(Ipv4Counter.NO_ROUTE);
            payload.free();
            return OutputResult.NO_ROUTE;
        }
        NetworkInterface ifp = host.hasIpv4(destination) ? host.loopback()
                : route != null ? route.ifp() : host.firstBroadcastInterface();
        if (ifp == null) {
            counters.increment(Ipv4Counter.NO_ROUTE);
            payload.free();
            return OutputResult.NO_ROUTE;
        }
        if (source == null) {
            source = host.sourceAddressFor(route != null ? route.ifp() : ifp, destination);
        }
        int totalLength = payload.length() + Ipv4Header.MIN_LENGTH;
        if (totalLength > 0xffff) {
            counters.increment(Ipv4Counter.CANT_FRAGMENT);
            payload.free();
            return OutputResult.TOO_BIG;
        }
        try {
            payload.prepend(Ipv4Header.MIN_LENGTH);
        } catch (NoBufferSpaceException e) {
            counters.increment(Ipv4Counter.NO_BUFFERS);
            payload.free();
            return OutputResult.NO_BUFFERS;
        }
        Ipv4Header ip = header.initialize(payload.ptrRw(0, Ipv4Header.MIN_LENGTH));
        ip.setVersionAndHeaderLength(Ipv4Header.MIN_LENGTH)
                .setTos(0)
                .setTotalLength(totalLength)
                .setIdentification(nextIdentification++ & 0xffff)
                .setFlagsAndFragmentOffset(dontFragment ? Ipv4Header.DONT_FRAGMENT : 0)
                .setTtl(ttl)
                .setProtocol(protocol)
                .setSource(source)
                .setDestination(destination)
                .fillChecksum();
        Ipv4Address nextHop = route != null && ifp != host.loopback() ? route.nextHop(destination) : destination;
        return send(ifp, nextHop, payload);
    }

    /** Sends a complete IPv4 packet out of {@code ifp} towards {@code nextHop}, fragmenting if needed. */
    OutputResult send(NetworkInterface ifp, Ipv4Address nextHop, Mbuf packet) {
        if (packet.length() <= ifp.mtu()) {
            counters.increment(Ipv4Counter.SENT);
            transmit(ifp, nextHop, packet);
            return OutputResult.SENT;
        }
        return Ipv4Fragmenter.fragment(this, ifp, nextHop, packet);
    }

    void transmit(NetworkInterface ifp, Ipv4Address nextHop, Mbuf packet) {
        if (ifp.linkHeaderLength() == 0) {
            ifp.transmit(packet);
        } else {
            host.arp().resolveAndSend(ifp, nextHop, packet);
        }
    }

    Host host() {
        return host;
    }

    private void drop(Mbuf m, Ipv4Counter reason) {
        counters.increment(reason);
        m.free();
    }
}
