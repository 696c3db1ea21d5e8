package org.jmbuf.net;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufOwner;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.wire.IcmpMessage;
import org.jmbuf.wire.Icmpv6Message;
import org.jmbuf.wire.InternetChecksum;
import org.jmbuf.wire.IpAddress;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.Ipv6Header;
import org.jmbuf.wire.UdpHeader;

/**
 * UDP over IPv4 and IPv6 ({@code udp_usrreq.c}, {@code udp6_usrreq.c}; RFC 768, RFC 1122 §4.1,
 * RFC 8200 §8.1): checks length and checksum (optional over IPv4, mandatory over IPv6), delivers
 * datagrams to the socket bound to their address and port (a socket bound to the address beats one
 * bound to the wildcard of its family), and answers datagrams for unbound ports with Port Unreachable.
 * The payload reaches the socket without a copy: the headers are trimmed off with {@link Mbuf#adj}.
 */
public final class Udp {
    /** UDP events and drop reasons ({@code struct udpstat}). */
    public enum UdpCounter implements Counter {
        RECEIVED("datagrams received"),
        TOO_SHORT("datagrams shorter than the UDP header"),
        BAD_LENGTH("datagrams whose length field disagrees with the packet"),
        BAD_CHECKSUM("datagrams with a bad checksum"),
        NO_CHECKSUM("IPv4 datagrams without a checksum (accepted)"),
        NO_CHECKSUM_V6("IPv6 datagrams without the mandatory checksum (dropped)"),
        NO_PORT("datagrams for a port nobody is bound to"),
        NO_PORT_BROADCAST("broadcast or multicast datagrams for a port nobody is bound to"),
        SOCKET_FULL("datagrams dropped because the socket's queue was full"),
        NO_BUFFERS("datagrams dropped for lack of buffers to read their headers"),
        DELIVERED("datagrams delivered to sockets"),
        SENT("datagrams sent"),
        SEND_FAILED("datagrams not sent (no route, no source, too big, or no buffers)");

        private final String description;

        UdpCounter(String description) {
            this.description = description;
        }

        @Override
        public String description() {
            return description;
        }
    }

    /** A bound address (the family's wildcard for "any"; IPv6 link-local addresses zone-embedded) and port. */
    private record Binding(IpAddress address, int port) { }

    private final Host host;
    private final Counters<UdpCounter> counters = new Counters<>("udp", UdpCounter.class);
    /** Sockets bound to one address (not a wildcard), by address and port. */
    private final Map<Binding, UdpSocket> specific = new HashMap<>();
    /**
     * Sockets bound to each family's wildcard, by port: found on input without a key object. Each table is
     * made at its family's first wildcard bind (256 KiB).
     */
    private UdpSocket[] wildcard4;
    private UdpSocket[] wildcard6;
    private final UdpHeader view = new UdpHeader();
    /** The IP header of the datagram being input: only its addresses are read. */
    private final HeaderScratch ipHeader = new HeaderScratch(Ipv4Header.MAX_LENGTH);
    private final HeaderScratch udpHeader = new HeaderScratch(UdpHeader.LENGTH);
    private final InternetChecksum.ChainSum checksums = new InternetChecksum.ChainSum();
    private final MbufOwner socketOwner;
    private int nextEphemeral = 49152;

    Udp(Host host) {
        this.host = host;
        this.socketOwner = host.pool().owner("udp", host.name() + ": socket receive queues");
    }

    public Counters<UdpCounter> counters() {
        return counters;
    }

    /** A new, unbound socket for either family. */
    public UdpSocket open() {
        return new UdpSocket(this);
    }

    Host host() {
        return host;
    }

    /** Binds every address in {@code addresses} to {@code port} (0: a free ephemeral port); returns the port. */
    int bind(UdpSocket socket, IpAddress[] addresses, int port) {
        if (port == 0) {
            port = ephemeralPort(addresses);
        }
        for (IpAddress a : addresses) {
            if (boundTo(a, port) != null) {
                throw new IllegalStateException("address in use: " + a + " port " + port);
            }
        }
        for (IpAddress a : addresses) {
            if (isWildcard(a)) {
                wildcardTable(a)[port] = socket;
            } else {
                specific.put(new Binding(a, port), socket);
            }
        }
        return port;
    }

    void unbind(IpAddress[] addresses, int port) {
        for (IpAddress a : addresses) {
            if (isWildcard(a)) {
                wildcardTable(a)[port] = null;
            } else {
                specific.remove(new Binding(a, port));
            }
        }
    }

    /** The socket bound to exactly {@code address} (a wildcard or not) and {@code port}, or null. */
    private UdpSocket boundTo(IpAddress address, int port) {
        if (!isWildcard(address)) {
            return specific.get(new Binding(address, port));
        }
        UdpSocket[] table = address instanceof Ipv4Address ? wildcard4 : wildcard6;
        return table == null ? null : table[port];
    }

    private int ephemeralPort(IpAddress[] addresses) {
        for (int i = 0; i < 16384; i++) {
            int port = nextEphemeral;
            nextEphemeral = nextEphemeral == 65535 ? 49152 : nextEphemeral + 1;
            boolean free = true;
            for (IpAddress a : addresses) {
                free &= boundTo(a, port) == null;
            }
            if (free) {
                return port;
            }
        }
        throw new IllegalStateException("no ephemeral port left");
    }

    /**
     * {@code in_pcblookup} for input: the socket bound to IPv4 {@code destination} (bits) and {@code port},
     * else the one bound to the wildcard and {@code port}, or null. A key (and an address record) is made
     * only while some socket is bound to a specific address.
     */
    private UdpSocket lookup4(int destination, int port) {
        UdpSocket socket = specific.isEmpty() ? null : specific.get(new Binding(new Ipv4Address(destination), port));
        return socket != null ? socket : wildcard4 == null ? null : wildcard4[port];
    }

    /** {@code in6_pcblookup} for input: as {@link #lookup4}, for the (zone-embedded) IPv6 destination. */
    private UdpSocket lookup6(long destinationHigh, long destinationLow, int port) {
        UdpSocket socket = specific.isEmpty() ? null
                : specific.get(new Binding(new Ipv6Address(destinationHigh, destinationLow), port));
        return socket != null ? socket : wildcard6 == null ? null : wildcard6[port];
    }

    private UdpSocket[] wildcardTable(IpAddress wildcard) {
        if (wildcard instanceof Ipv4Address) {
            return wildcard4 != null ? wildcard4 : (wildcard4 = new UdpSocket[65536]);
        }
        return wildcard6 != null ? wildcard6 : (wildcard6 = new UdpSocket[65536]);
    }

    private static boolean isWildcard(IpAddress a) {
        return a.equals(Ipv4Address.ANY) || a.equals(Ipv6Address.UNSPECIFIED);
    }

    /**
     * {@code udp_input}: consumes {@code m}, an IPv4 packet whose UDP header starts at {@code offset}. The
     * headers are copied into scratch memory ({@link HeaderScratch}) and read into locals, the addresses as
     * bits, and the socket queues them in primitive arrays: a datagram delivered makes no object.
     */
    void input(NetworkInterface ifp, Mbuf m, int offset) {
        counters.increment(UdpCounter.RECEIVED);
        int ipPayload = m.length() - offset;
        if (ipPayload < UdpHeader.LENGTH) {
            drop(m, UdpCounter.TOO_SHORT);
            return;
        }
        int source;
        int destination;
        MemorySegment udp;
        try {
            MemorySegment ip = ipHeader.read(m, 0, offset);
            source = Ipv4Header.sourceBits(ip);
            destination = Ipv4Header.destinationBits(ip);
            udp = udpHeader.read(m, offset, UdpHeader.LENGTH);
        } catch (NoBufferSpaceException e) {
            drop(m, UdpCounter.NO_BUFFERS);
            return;
        }
        int length = UdpHeader.length(udp);
        if (length < UdpHeader.LENGTH || length > ipPayload) {
            drop(m, UdpCounter.BAD_LENGTH);
            return;
        }
        int sourcePort = UdpHeader.sourcePort(udp);
        int destinationPort = UdpHeader.destinationPort(udp);
        int checksum = UdpHeader.checksum(udp);
        if (length < ipPayload) {
            m.adj(length - ipPayload);
        }
        if (checksum == 0) {
            counters.increment(UdpCounter.NO_CHECKSUM);
        } else {
            long sum = InternetChecksum.ipv4PseudoHeader(source, destination, IpProtocol.UDP, length)
                    + checksums.sum(m, offset, length);
            if (InternetChecksum.fold(sum) != 0xffff) {
                drop(m, UdpCounter.BAD_CHECKSUM);
                return;
            }
        }
        UdpSocket socket = lookup4(destination, destinationPort);
        if (socket == null) {
            if (Ipv4Address.isMulticast(destination) || host.ipv4().isBroadcast(ifp, destination)) {
                drop(m, UdpCounter.NO_PORT_BROADCAST);
                return;
            }
            counters.increment(UdpCounter.NO_PORT);
            host.icmp().error(m, IcmpMessage.DESTINATION_UNREACHABLE, IcmpMessage.UNREACHABLE_PORT, 0);
            m.free();
            return;
        }
        m.adj(offset + UdpHeader.LENGTH);
        m.claim(socketOwner);
        delivered(m, socket.deliver4(m, source, sourcePort, destination, destinationPort));
    }

    /**
     * {@code udp6_input}: consumes {@code m}, an IPv6 packet (zones embedded in its header) whose UDP header
     * starts at {@code offset}. As {@link #input}, without objects: each address is read as two {@code long}s.
     */
    void input6(NetworkInterface ifp, Mbuf m, int offset) {
        counters.increment(UdpCounter.RECEIVED);
        int ipPayload = m.length() - offset;
        if (ipPayload < UdpHeader.LENGTH) {
            drop(m, UdpCounter.TOO_SHORT);
            return;
        }
        long sourceHigh;
        long sourceLow;
        long destinationHigh;
        long destinationLow;
        MemorySegment udp;
        try {
            MemorySegment ip = ipHeader.read(m, 0, Ipv6Header.MIN_LENGTH);
            sourceHigh = Ipv6Header.sourceHigh(ip);
            sourceLow = Ipv6Header.sourceLow(ip);
            destinationHigh = Ipv6Header.destinationHigh(ip);
            destinationLow = Ipv6Header.destinationLow(ip);
            udp = udpHeader.read(m, offset, UdpHeader.LENGTH);
        } catch (NoBufferSpaceException e) {
            drop(m, UdpCounter.NO_BUFFERS);
            return;
        }
        int length = UdpHeader.length(udp);
        if (length < UdpHeader.LENGTH || length > ipPayload) {
            drop(m, UdpCounter.BAD_LENGTH); // a length of 0 (a jumbogram's) lands here too: no jumbograms
            return;
        }
        int sourcePort = UdpHeader.sourcePort(udp);
        int destinationPort = UdpHeader.destinationPort(udp);
        if (UdpHeader.checksum(udp) == 0) {
            drop(m, UdpCounter.NO_CHECKSUM_V6);
            return;
        }
        if (length < ipPayload) {
            m.adj(length - ipPayload);
        }
        long plainSourceHigh = Ipv6Scope.clear(sourceHigh);
        long sum = InternetChecksum.ipv6PseudoHeader(plainSourceHigh, sourceLow, Ipv6Scope.clear(destinationHigh),
                destinationLow, IpProtocol.UDP, length) + checksums.sum(m, offset, length);
        if (InternetChecksum.fold(sum) != 0xffff) {
            drop(m, UdpCounter.BAD_CHECKSUM);
            return;
        }
        UdpSocket socket = lookup6(destinationHigh, destinationLow, destinationPort);
        if (socket == null) {
            if (Ipv6Address.isMulticast(destinationHigh)) {
                drop(m, UdpCounter.NO_PORT_BROADCAST);
                return;
            }
            counters.increment(UdpCounter.NO_PORT);
            host.icmpv6().error(m, Icmpv6Message.DESTINATION_UNREACHABLE, Icmpv6Message.UNREACHABLE_PORT, 0, false);
            m.free();
            return;
        }
        NetworkInterface zone = Ipv6Scope.isScoped(sourceHigh)
                ? host.ipv6().interfaceByIndex(Ipv6Scope.zone(sourceHigh)) : null;
        m.adj(offset + UdpHeader.LENGTH);
        m.claim(socketOwner);
        delivered(m, socket.deliver6(m, plainSourceHigh, sourceLow, sourcePort, Ipv6Scope.clear(destinationHigh),
                destinationLow, destinationPort, zone));
    }

    /** Counts a datagram the socket queued, or drops one whose socket was full ({@code udps_fullsock}). */
    private void delivered(Mbuf m, boolean queued) {
        if (queued) {
            counters.increment(UdpCounter.DELIVERED);
        } else {
            drop(m, UdpCounter.SOCKET_FULL);
        }
    }

    /**
     * {@code udp_output} / {@code udp6_output}: prepends the header to {@code payload} (consumed) and sends it
     * from {@code source} (null or the wildcard: chosen by the route) to {@code destination} (zone-embedded
     * if it is a scoped IPv6 address).
     */
    UdpSocket.SendResult output(Mbuf payload, IpAddress source, int sourcePort, IpAddress destination,
            int destinationPort) {
        int length = payload.length() + UdpHeader.LENGTH;
        if (length > 0xffff - (destination instanceof Ipv4Address ? Ipv4Header.MIN_LENGTH : 0)) {
            payload.free();
            counters.increment(UdpCounter.SEND_FAILED);
            return UdpSocket.SendResult.TOO_BIG;
        }
        UdpSocket.SendResult result = switch (destination) {
            case Ipv4Address v4 -> output4(payload, source instanceof Ipv4Address s ? s : null, sourcePort, v4,
                    destinationPort, length);
            case Ipv6Address v6 -> output6(payload, source instanceof Ipv6Address s ? s : null, sourcePort, v6,
                    destinationPort, length);
        };
        counters.increment(result == UdpSocket.SendResult.SENT ? UdpCounter.SENT : UdpCounter.SEND_FAILED);
        return result;
    }

    private UdpSocket.SendResult output4(Mbuf payload, Ipv4Address source, int sourcePort, Ipv4Address destination,
            int destinationPort, int length) {
        Ipv4Address from = source == null || source.isAny() ? host.sourceAddressFor(destination) : source;
        if (from == null) {
            payload.free();
            return UdpSocket.SendResult.NO_ROUTE;
        }
        try {
            payload.prepend(UdpHeader.LENGTH);
            UdpHeader udp = view.wrap(payload.ptrRw(0, UdpHeader.LENGTH));
            udp.setSourcePort(sourcePort).setDestinationPort(destinationPort).setLength(length).setChecksum(0);
            long sum = InternetChecksum.ipv4PseudoHeader(from.bits(), destination.bits(), IpProtocol.UDP, length)
                    + InternetChecksum.sum(payload, 0, length);
            int checksum = InternetChecksum.finish(sum);
            view.wrap(payload.ptrRw(0, UdpHeader.LENGTH)).setChecksum(checksum == 0 ? 0xffff : checksum);
        } catch (NoBufferSpaceException e) {
            payload.free();
            return UdpSocket.SendResult.NO_BUFFERS;
        }
        return switch (host.ipv4().output(payload, from, destination, IpProtocol.UDP, Ipv4.DEFAULT_TTL, false)) {
            case SENT -> UdpSocket.SendResult.SENT;
            case NO_ROUTE -> UdpSocket.SendResult.NO_ROUTE;
            case TOO_BIG -> UdpSocket.SendResult.TOO_BIG;
            case NO_BUFFERS -> UdpSocket.SendResult.NO_BUFFERS;
        };
    }

    private UdpSocket.SendResult output6(Mbuf payload, Ipv6Address source, int sourcePort, Ipv6Address destination,
            int destinationPort, int length) {
        try {
            payload.prepend(UdpHeader.LENGTH);
            view.wrap(payload.ptrRw(0, UdpHeader.LENGTH)).setSourcePort(sourcePort)
                    .setDestinationPort(destinationPort).setLength(length).setChecksum(0);
        } catch (NoBufferSpaceException e) {
            payload.free();
            return UdpSocket.SendResult.NO_BUFFERS;
        }
        Ipv6Address from = source == null || source.isUnspecified() ? null : source;
        return switch (host.ipv6().output(payload, from, destination, IpProtocol.UDP, host.ipv6().defaultHopLimit(),
                UdpHeader.Field.CHECKSUM)) {
            case SENT -> UdpSocket.SendResult.SENT;
            case NO_ROUTE -> UdpSocket.SendResult.NO_ROUTE;
            case NO_SOURCE -> UdpSocket.SendResult.NO_SOURCE;
            case TOO_BIG -> UdpSocket.SendResult.TOO_BIG;
            case NO_BUFFERS -> UdpSocket.SendResult.NO_BUFFERS;
        };
    }

    private void drop(Mbuf m, UdpCounter reason) {
        counters.increment(reason);
        m.free();
    }
}
