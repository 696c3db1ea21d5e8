package org.jmbuf.net;

import java.lang.foreign.MemorySegment;
import java.time.InstantSource;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.buf.PacketFlags;
import org.jmbuf.wire.Bytes;
import org.jmbuf.wire.IcmpMessage;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;

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
        BAD_SOURCE("packets from a broadcast, multicast, reserved or loopback source"),
        BAD_DESTINATION("packets to a loopback address received from a wire"),
        BAD_OPTIONS("packets with malformed options"),
        NOT_FOR_US("packets not for this host (not forwarding)"),
        SOURCE_ROUTE_REFUSED("packets with a source route option refused (source routing is off)"),
        SOURCE_ROUTE_FAILED("source-routed packets whose next hop could not be reached"),
        FORWARDED("packets forwarded"),
        FILTERED_IN("packets dropped by a packet filter on input"),
        FILTERED_OUT("packets dropped by a packet filter on output"),
        TTL_EXCEEDED("packets not forwarded because their TTL ran out"),
        CANT_FORWARD("packets not forwarded for lack of a route"),
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
    /** The view {@code ip_output} builds a header through, over {@link #outHeader} (or an options header). */
    private final Ipv4Header header = new Ipv4Header();
    /** The fixed header {@code ip_output} builds before copying it into the packet: no view of the chain. */
    private final MemorySegment outHeader = MemorySegment.ofArray(new byte[Ipv4Header.MIN_LENGTH]);
    /** The header of the packet being input ({@code ip_input}'s copy of {@code struct ip}). */
    private final HeaderScratch scratch = new HeaderScratch(Ipv4Header.MAX_LENGTH);
    /** The fixed header of the packet being forwarded, changed here and written back: exactly 20 bytes. */
    private final HeaderScratch fixedHeader = new HeaderScratch(Ipv4Header.MIN_LENGTH);
    /**
     * The destination of the last packet forwarded, so that a stream of packets to one host makes its
     * address record once (as {@code ip_forward} keeps its last route, {@code ipforward_rt}).
     */
    private Ipv4Address lastForwarded = Ipv4Address.ANY;
    private final Ipv4Reassembly reassembly;
    private int nextIdentification = 1;
    private boolean forwarding;
    private boolean sourceRouting;
    private InstantSource wallClock = InstantSource.system();
    private final java.util.List<PacketFilter> filters = new java.util.concurrent.CopyOnWriteArrayList<>();

    Ipv4(Host host) {
        this.host = host;
        this.reassembly = new Ipv4Reassembly(host);
    }

    public Counters<Ipv4Counter> counters() {
        return counters;
    }

    /** Whether this host forwards packets between its interfaces ({@code net.inet.ip.forwarding}); off by default. */
    public boolean isForwarding() {
        return forwarding;
    }

    /** Turns router mode on or off. */
    public void setForwarding(boolean forwarding) {
        this.forwarding = forwarding;
    }

    /**
     * Whether source-routed packets are accepted and followed ({@code net.inet.ip.forwsrcrt}); off by
     * default, as RFC 7126 advises, in which case they are dropped and counted.
     */
    public boolean isSourceRouting() {
        return sourceRouting;
    }

    /** Turns source routing on or off. */
    public void setSourceRouting(boolean sourceRouting) {
        this.sourceRouting = sourceRouting;
    }

    /** Sets the clock that Timestamp options read (milliseconds since midnight UT); the system clock by default. */
    public void setWallClock(InstantSource clock) {
        this.wallClock = java.util.Objects.requireNonNull(clock, "clock");
    }

    long wallClockMillisOfDay() {
        return Math.floorMod(wallClock.millis(), 86_400_000L);
    }

    /** Adds a packet filter hook ({@code pfil_add_hook}); hooks run in the order added. */
    public void addFilter(PacketFilter filter) {
        filters.add(java.util.Objects.requireNonNull(filter, "filter"));
    }

    /** Removes a packet filter hook; returns whether it was there. */
    public boolean removeFilter(PacketFilter filter) {
        return filters.remove(filter);
    }

    private boolean passes(Mbuf m, PacketFilter.Direction direction, NetworkInterface ifp) {
        for (PacketFilter f : filters) {
            if (f.filter(m, direction, ifp) == PacketFilter.Verdict.DROP) {
                return false;
            }
        }
        return true;
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
        MemorySegment ip; // a copy, read into locals: no view of the chain is made
        try {
            ip = scratch.read(m, 0, headerLength);
        } catch (NoBufferSpaceException e) {
            drop(m, Ipv4Counter.NO_BUFFERS);
            return;
        }
        if (!Ipv4Header.isChecksumValid(ip)) {
            drop(m, Ipv4Counter.BAD_CHECKSUM);
            return;
        }
        int totalLength = Ipv4Header.totalLength(ip);
        if (totalLength < headerLength) {
            drop(m, Ipv4Counter.BAD_TOTAL_LENGTH);
            return;
        }
        if (totalLength > m.length()) {
            drop(m, Ipv4Counter.TOO_SHORT);
            return;
        }
        int source = Ipv4Header.sourceBits(ip);
        int destination = Ipv4Header.destinationBits(ip);
        boolean fromWire = !(ifp instanceof LoopbackInterface);
        if (Ipv4Address.isMulticast(source) || isBroadcast(ifp, source) || (source >>> 28) == 0xf
                || Ipv4Address.isLoopback(source) && fromWire) {
            drop(m, Ipv4Counter.BAD_SOURCE); // RFC 1122 §3.2.1.3
            return;
        }
        if (Ipv4Address.isLoopback(destination) && fromWire) {
            drop(m, Ipv4Counter.BAD_DESTINATION); // RFC 1122 §3.2.1.3(g): 127/8 never appears on a wire
            return;
        }
        if (headerLength > Ipv4Header.MIN_LENGTH) {
            int bad = Ipv4Options.firstProblem(Ipv4Header.of(ip));
            if (bad >= 0) {
                counters.increment(Ipv4Counter.BAD_OPTIONS);
                host.icmp().parameterProblem(m, bad);
                m.free();
                return;
            }
        }
        if (m.length() > totalLength) {
            m.adj(totalLength - m.length()); // link-layer padding
        }
        if (!filters.isEmpty()) {
            if (!passes(m, PacketFilter.Direction.IN, ifp)) {
                drop(m, Ipv4Counter.FILTERED_IN);
                return;
            }
            ip = scratch.read(m, 0, headerLength); // a filter may have rewritten the header
            source = Ipv4Header.sourceBits(ip);
            destination = Ipv4Header.destinationBits(ip);
        }
        boolean sourceRouted = headerLength > Ipv4Header.MIN_LENGTH
                && Ipv4Options.hasSourceRoute(Ipv4Header.of(ip));
        if (sourceRouted) {
            if (!sourceRouting) {
                drop(m, Ipv4Counter.SOURCE_ROUTE_REFUSED); // RFC 7126 §4.3, §4.4
                return;
            }
            if (isForUs(ifp, destination) && !followSourceRoute(ifp, m, headerLength)) {
                return; // forwarded along the route, or dropped
            }
            ip = scratch.read(m, 0, headerLength); // the header may have been rewritten
        }
        if (!isForUs(ifp, destination)) {
            if (!forwarding || Ipv4Address.isMulticast(destination) || isBroadcast(ifp, destination)
                    || (m.packetFlags() & (PacketFlags.LINK_BROADCAST | PacketFlags.LINK_MULTICAST)) != 0) {
                drop(m, Ipv4Counter.NOT_FOR_US);
                return;
            }
            forward(m, headerLength, forwardedTo(destination), false);
            return;
        }
        if (Ipv4Header.isFragment(ip)) {
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
            case IpProtocol.TCP -> {
                counters.increment(Ipv4Counter.DELIVERED);
                host.tcp().input(ifp, m, headerLength);
            }
            default -> {
                counters.increment(Ipv4Counter.NO_PROTOCOL);
                host.icmp().error(m, IcmpMessage.DESTINATION_UNREACHABLE, IcmpMessage.UNREACHABLE_PROTOCOL, 0);
                m.free();
            }
        }
    }

    /**
     * A source-routed packet addressed to us: if the route has hops left, take the next one as the
     * destination, record our address in its place, and forward the packet (consumed). Returns true if
     * the route is exhausted and the packet is for us after all.
     */
    private boolean followSourceRoute(NetworkInterface ifp, Mbuf m, int headerLength) {
        MemorySegment writable;
        try {
            writable = m.ptrRw(0, headerLength);
        } catch (NoBufferSpaceException e) {
            drop(m, Ipv4Counter.NO_BUFFERS);
            return false;
        }
        Ipv4Header ip = Ipv4Header.of(writable);
        boolean strict = Ipv4Options.isStrict(ip);
        // Peek at the next hop to choose the outgoing address to record.
        Ipv4Address next = peekSourceRouteHop(ip);
        if (next == null) {
            return true;
        }
        Routes.Route route = host.routes().lookup(next);
        if (route == null || strict && route.gateway() != null) {
            counters.increment(Ipv4Counter.SOURCE_ROUTE_FAILED);
            host.icmp().error(m, IcmpMessage.DESTINATION_UNREACHABLE, IcmpMessage.UNREACHABLE_SOURCE_ROUTE_FAILED, 0);
            m.free();
            return false;
        }
        Ipv4Options.nextSourceRouteHop(writable, host.sourceAddressFor(route.ifp(), next));
        ip.setDestination(next);
        forward(m, headerLength, next, true);
        return false;
    }

    private static Ipv4Address peekSourceRouteHop(Ipv4Header ip) {
        int at = Ipv4Options.find(ip, org.jmbuf.wire.Ipv4OptionCursor.LOOSE_SOURCE_ROUTE);
        if (at < 0) {
            at = Ipv4Options.find(ip, org.jmbuf.wire.Ipv4OptionCursor.STRICT_SOURCE_ROUTE);
        }
        MemorySegment h = ip.bytes();
        int length = Byte.toUnsignedInt(h.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at + 1));
        int pointer = Byte.toUnsignedInt(h.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at + 2));
        return pointer + 3 > length ? null : Ipv4Address.read(h, at + pointer - 1);
    }

    /**
     * {@code ip_forward}: decrements the TTL (copy on write: a packet on shared or read-only storage has its
     * header copied, never written), records our address in Record Route and Timestamp options, and sends
     * the packet on; consumes {@code m}. Time Exceeded when the TTL runs out, Destination Unreachable when
     * there is no route, Fragmentation Needed when it does not fit and must not be cut. A header with options
     * is changed in place through {@link Mbuf#ptrRw}; the fixed header is changed in a copy written back with
     * {@link Mbuf#copyBackCow}, which makes no view.
     */
    private void forward(Mbuf m, int headerLength, Ipv4Address destination, boolean sourceRouted) {
        int ttl = Byte.toUnsignedInt(m.byteAt(Ipv4Header.Field.TTL));
        if (ttl <= 1) {
            counters.increment(Ipv4Counter.TTL_EXCEEDED);
            host.icmp().error(m, IcmpMessage.TIME_EXCEEDED, IcmpMessage.TIME_EXCEEDED_IN_TRANSIT, 0);
            m.free();
            return;
        }
        Routes.Route route = host.routes().lookup(destination);
        if (route == null) {
            counters.increment(Ipv4Counter.CANT_FORWARD);
            host.icmp().error(m, IcmpMessage.DESTINATION_UNREACHABLE, IcmpMessage.UNREACHABLE_HOST, 0);
            m.free();
            return;
        }
        try {
            if (headerLength > Ipv4Header.MIN_LENGTH) {
                MemorySegment writable = m.ptrRw(0, headerLength);
                Bytes.setU8(writable, Ipv4Header.Field.TTL, ttl - 1);
                int problem = Ipv4Options.record(writable, host.sourceAddressFor(route.ifp(), destination),
                        wallClockMillisOfDay());
                if (problem >= 0) {
                    counters.increment(Ipv4Counter.BAD_OPTIONS);
                    host.icmp().parameterProblem(m, problem);
                    m.free();
                    return;
                }
                Ipv4Header.fillChecksum(writable);
            } else {
                MemorySegment fixed = fixedHeader.read(m, 0, Ipv4Header.MIN_LENGTH);
                Bytes.setU8(fixed, Ipv4Header.Field.TTL, ttl - 1);
                Ipv4Header.fillChecksum(fixed);
                m.copyBackCow(0, fixed);
            }
        } catch (NoBufferSpaceException e) {
            drop(m, Ipv4Counter.NO_BUFFERS);
            return;
        }
        counters.increment(Ipv4Counter.FORWARDED);
        send(route.ifp(), route.nextHop(destination), m);
    }

    /** The record of {@code destination} (address bits), the last one forwarded to if it is the same. */
    private Ipv4Address forwardedTo(int destination) {
        if (lastForwarded.bits() != destination) {
            lastForwarded = new Ipv4Address(destination);
        }
        return lastForwarded;
    }

    /**
     * Whether {@code destination} (address bits) is one of ours or a broadcast on {@code ifp}: the test of
     * {@code ip_input}'s "ours" label.
     */
    boolean isForUs(NetworkInterface ifp, int destination) {
        return destination == -1 || host.hasIpv4(destination) || isDirectedBroadcast(ifp, destination);
    }

    /**
     * Whether {@code destination} (address bits) is a broadcast address for {@code ifp}, limited or directed
     * ({@code in_broadcast}).
     */
    boolean isBroadcast(NetworkInterface ifp, int destination) {
        return destination == -1 || isDirectedBroadcast(ifp, destination);
    }

    /** Whether {@code destination} is the directed broadcast address of one of {@code ifp}'s prefixes. */
    private static boolean isDirectedBroadcast(NetworkInterface ifp, int destination) {
        java.util.List<NetworkInterface.Ipv4Assignment> addresses = ifp.ipv4Addresses();
        for (int i = 0; i < addresses.size(); i++) { // indexed: no iterator on the input path
            NetworkInterface.Ipv4Assignment a = addresses.get(i);
            if (a.prefixLength() < 31 && a.broadcastBits() == destination) {
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
        return output(payload, source, destination, protocol, ttl, dontFragment, NO_OPTIONS);
    }

    private static final byte[] NO_OPTIONS = new byte[0];

    /** The MTU of the interface a packet to {@code destination} leaves by (576 if there is no route). */
    int mtuTowards(Ipv4Address destination) {
        if (host.hasIpv4(destination)) {
            return host.loopback().mtu();
        }
        Routes.Route route = host.routes().lookup(destination);
        return route == null ? 576 : route.ifp().mtu();
    }

    /**
     * {@code ip_output} with options: as {@link #output(Mbuf, Ipv4Address, Ipv4Address, int, int, boolean)},
     * with {@code options} (a multiple of 4 bytes, at most 40) after the fixed header. Record Route and
     * Timestamp options get this host's entry as the packet leaves.
     */
    OutputResult output(Mbuf payload, Ipv4Address source, Ipv4Address destination, int protocol, int ttl,
            boolean dontFragment, byte[] options) {
        int headerLength = Ipv4Header.MIN_LENGTH + options.length;
        Ipv4Address routeTo = destination;
        Routes.Route route = host.routes().lookup(routeTo);
        if (route == null && !routeTo.isLimitedBroadcast()) {
            counters.increment(Ipv4Counter.NO_ROUTE);
            payload.free();
            return OutputResult.NO_ROUTE;
        }
        NetworkInterface ifp = host.hasIpv4(routeTo) ? host.loopback()
                : route != null ? route.ifp() : host.firstBroadcastInterface();
        if (ifp == null) {
            counters.increment(Ipv4Counter.NO_ROUTE);
            payload.free();
            return OutputResult.NO_ROUTE;
        }
        if (source == null) {
            source = host.sourceAddressFor(route != null ? route.ifp() : ifp, routeTo);
        }
        int totalLength = payload.length() + headerLength;
        if (totalLength > 0xffff) {
            counters.increment(Ipv4Counter.CANT_FRAGMENT);
            payload.free();
            return OutputResult.TOO_BIG;
        }
        try {
            payload.prepend(headerLength);
        } catch (NoBufferSpaceException e) {
            counters.increment(Ipv4Counter.NO_BUFFERS);
            payload.free();
            return OutputResult.NO_BUFFERS;
        }
        // Built in memory of our own, then copied into the prepended bytes (writable: no copy on write).
        MemorySegment bytes = options.length == 0 ? outHeader : MemorySegment.ofArray(new byte[headerLength]);
        if (options.length > 0) {
            MemorySegment.copy(MemorySegment.ofArray(options), 0, bytes, Ipv4Header.MIN_LENGTH, options.length);
        }
        Ipv4Header ip = header.initialize(bytes);
        ip.setVersionAndHeaderLength(headerLength)
                .setTos(0)
                .setTotalLength(totalLength)
                .setIdentification(nextIdentification++ & 0xffff)
                .setFlagsAndFragmentOffset(dontFragment ? Ipv4Header.DONT_FRAGMENT : 0)
                .setTtl(ttl)
                .setProtocol(protocol)
                .setSource(source)
                .setDestination(destination);
        if (options.length > 0) {
            Ipv4Options.record(ip.bytes(), source, wallClockMillisOfDay());
        }
        ip.fillChecksum();
        payload.copyBack(0, bytes);
        Ipv4Address nextHop = route != null && ifp != host.loopback() ? route.nextHop(routeTo) : routeTo;
        return send(ifp, nextHop, payload);
    }

    /** Sends a complete IPv4 packet out of {@code ifp} towards {@code nextHop}, fragmenting if needed. */
    OutputResult send(NetworkInterface ifp, Ipv4Address nextHop, Mbuf packet) {
        if (!filters.isEmpty() && !passes(packet, PacketFilter.Direction.OUT, ifp)) {
            counters.increment(Ipv4Counter.FILTERED_OUT);
            packet.free();
            return OutputResult.SENT; // as a firewall does: the sender is not told
        }
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
