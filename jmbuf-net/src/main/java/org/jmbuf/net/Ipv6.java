package org.jmbuf.net;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.buf.PacketFlags;
import org.jmbuf.wire.Bytes;
import org.jmbuf.wire.EtherType;
import org.jmbuf.wire.Icmpv6Message;
import org.jmbuf.wire.InternetChecksum;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.Ipv6ExtensionHeader;
import org.jmbuf.wire.Ipv6FragmentHeader;
import org.jmbuf.wire.Ipv6Header;
import org.jmbuf.wire.Ipv6OptionCursor;
import org.jmbuf.wire.Ipv6RoutingHeader;
import org.jmbuf.wire.MacAddress;
import org.jmbuf.wire.MalformedPacketException;

/**
 * IPv6 input and output ({@code ip6_input.c}, {@code dest6.c}, {@code route6.c}, {@code ip6_output.c}),
 * RFC 8200.
 *
 * <p>Input uses the KAME call sequence: {@link #input} checks the fixed header, embeds the zone of
 * link-local addresses ({@link Ipv6Scope}), then calls the input routine of each header in turn with an
 * {@link Input} (the C {@code (struct mbuf **mp, int *offp)} pair); each extension header's routine makes
 * its header contiguous with {@link Mbuf#ptr}, returns the next header value and advances the offset,
 * until an upper-layer routine consumes the packet ({@link #DONE}). Nothing on the way writes packet bytes
 * but the zone embedding and reassembly, both through {@link Mbuf#ptrRw} (copy on write), so a packet on
 * read-only storage is processed and its storage keeps its bytes.
 *
 * <p>The header chain is bounded: at most {@link #MAX_EXTENSION_HEADERS} extension headers, all ending
 * within the first {@link #MAX_HEADER_CHAIN} bytes. Every drop has a counter ({@link Ipv6Counter}).
 *
 * <p>Output ({@link #output}) routes (connected prefixes, static routes, default routers learnt by
 * {@link NeighborDiscovery}), selects the source address, prepends the header, fills a delayed upper-layer
 * checksum ({@code in6_delayed_cksum}), fragments what does not fit the path MTU (RFC 8200 §4.5) and hands
 * the packets to Neighbor Discovery. Zones are cleared from the header before a packet leaves the host.
 *
 * <p>In router mode ({@link #setForwarding}, {@code net.inet6.ip6.forwarding}) a unicast packet for
 * another node is forwarded ({@code ip6_forward}): its hop limit is the only byte written, through
 * {@link Mbuf#ptrRw}, so a packet on shared or read-only storage has its header copied and the storage
 * keeps its bytes. A router never fragments (RFC 8200 §5) and never forwards link-local traffic to
 * another link (RFC 4291 §2.5.6).
 */
public final class Ipv6 {
    /** The default hop limit of packets this host originates ({@code ip6_defhlim}). */
    public static final int DEFAULT_HOP_LIMIT = 64;
    /** The IPv6 minimum link MTU ({@code IPV6_MMTU}, RFC 8200 §5). */
    public static final int MINIMUM_MTU = 1280;
    /** The largest payload length without a jumbogram ({@code IPV6_MAXPACKET} minus the fixed header). */
    public static final int MAX_PAYLOAD = 65535;
    /** Extension headers processed in one packet before it is dropped. */
    public static final int MAX_EXTENSION_HEADERS = 16;
    /** Bytes from the start of the packet within which every extension header must end (RFC 7112 spirit). */
    public static final int MAX_HEADER_CHAIN = MINIMUM_MTU;
    /** The value an input routine returns once it has consumed the packet ({@code IPPROTO_DONE}). */
    public static final int DONE = -1;

    /** IPv6 events and drop reasons ({@code struct ip6stat}). */
    public enum Ipv6Counter implements Counter {
        RECEIVED("total packets received"),
        FILTERED_IN("packets dropped by a packet filter on input"),
        FILTERED_OUT("packets dropped by a packet filter on output"),
        TOO_SHORT("packets shorter than the IPv6 header, their payload length or a header they announce"),
        BAD_VERSION("packets with a version other than 6"),
        BAD_SOURCE("packets from a multicast or IPv4-mapped source"),
        BAD_SCOPE("packets with a zone on the wire or a loopback address from outside"),
        DISABLED("packets on an interface without IPv6"),
        NOT_FOR_US("packets not for this host (not forwarding, or received as link-layer multicast)"),
        TO_TENTATIVE("packets to a tentative or duplicated address"),
        HOP_BY_HOP_NOT_FIRST("packets with a Hop-by-Hop header not right after the fixed header"),
        BAD_OPTIONS("packets with malformed options"),
        UNKNOWN_OPTION("packets discarded for an unrecognized option"),
        ROUTING_TYPE_0("packets with a type 0 routing header and segments left (RFC 5095)"),
        BAD_ROUTING("packets with an unrecognized routing type and segments left"),
        TOO_MANY_HEADERS("packets with more than " + MAX_EXTENSION_HEADERS + " extension headers"),
        CHAIN_TOO_LONG("packets whose header chain goes past byte " + MAX_HEADER_CHAIN),
        NO_NEXT_HEADER("packets ending in No Next Header"),
        NO_PROTOCOL("packets for an unknown next header"),
        DELIVERED("packets delivered to an upper protocol"),
        FORWARDED("packets forwarded"),
        LINK_LOCAL_NOT_FORWARDED("packets to a link-local address not ours (never forwarded, RFC 4291 §2.5.6)"),
        UNSPECIFIED_NOT_FORWARDED("packets from the unspecified address not forwarded (RFC 4291 §2.5.2)"),
        HOP_LIMIT_EXCEEDED("packets not forwarded because their hop limit ran out"),
        CANT_FORWARD("packets not forwarded for lack of a route"),
        BEYOND_SCOPE("packets not forwarded because the destination is beyond the scope of the source"),
        FORWARD_TOO_BIG("packets not forwarded because they do not fit the next link (packet too big)"),
        FRAGMENTS_RECEIVED("fragments received"),
        ATOMIC_FRAGMENTS("atomic fragments processed as whole packets (RFC 6946)"),
        REASSEMBLED("packets reassembled"),
        SENT("packets sent"),
        NO_ROUTE("packets not sent for lack of a route"),
        NO_SOURCE("packets not sent for lack of a usable source address"),
        TOO_BIG("packets too big to send"),
        FRAGMENTED("packets fragmented on output"),
        FRAGMENTS_CREATED("fragments created"),
        NO_BUFFERS("packets dropped for lack of buffers");

        private final String description;

        Ipv6Counter(String description) {
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
        /** No route to the destination, or a scoped destination without a zone ({@code EHOSTUNREACH}). */
        NO_ROUTE,
        /** No usable (preferred) source address ({@code EADDRNOTAVAIL}). */
        NO_SOURCE,
        /** Larger than 65535 bytes of payload ({@code EMSGSIZE}). */
        TOO_BIG,
        /** The pool refused a buffer ({@code ENOBUFS}). */
        NO_BUFFERS
    }

    /**
     * An upper-layer protocol's input routine ({@code pr_input} of {@code inet6sw}), registered with
     * {@link #setProtocol}.
     */
    @FunctionalInterface
    public interface UpperLayer {
        /**
         * Consumes {@code m}, a whole IPv6 packet (zones embedded in its header) whose upper-layer header
         * starts at {@code offset}. The header chain before it has been checked.
         */
        void input(NetworkInterface ifp, Mbuf m, int offset);
    }

    /**
     * A route: packets for {@code prefix}/{@code prefixLength} leave through {@code ifp}, to {@code gateway}
     * (a link-local address with its zone embedded) if set, else straight to the destination.
     */
    public record Route(Ipv6Address prefix, int prefixLength, NetworkInterface ifp, Ipv6Address gateway) {
        public Route {
            Objects.requireNonNull(prefix, "prefix");
            Objects.requireNonNull(ifp, "ifp");
            if (prefixLength < 0 || prefixLength > 128) {
                throw new IllegalArgumentException("prefix length " + prefixLength + " is not in 0..128");
            }
        }
    }

    /**
     * The state of one packet on the input path, the C {@code (struct mbuf **mp, int *offp)}: each input
     * routine may replace the chain (reassembly does) and advances the offset. One is reused from packet to
     * packet ({@link #start}).
     */
    static final class Input {
        NetworkInterface ifp;
        Mbuf m;
        int offset;
        /** The offset of the Next Header field that named the header at {@link #offset} ({@code ip6_get_prevhdr}). */
        int previousNextHeader;
        int headers;
        boolean multicast;

        /** Sets this state to the start of packet {@code m}, received on {@code ifp}. */
        Input start(NetworkInterface ifp, Mbuf m) {
            this.ifp = ifp;
            this.m = m;
            offset = 0;
            previousNextHeader = 0;
            headers = 0;
            multicast = false;
            return this;
        }
    }

    private record Path(NetworkInterface ifp, Ipv6Address nextHop, NetworkInterface owner) { }

    private final Host host;
    private final Counters<Ipv6Counter> counters = new Counters<>("ip6", Ipv6Counter.class);
    private final java.util.List<PacketFilter> filters = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Bytes 0-7 of every solicited-node group, ff02::1:ff00:0/104 (RFC 4291 §2.7.1). */
    private static final long SOLICITED_NODE_HIGH = 0xff02L << 48;
    /** Bytes 8-15 of ff02::1:ff00:0, to which an address's low 24 bits are added. */
    private static final long SOLICITED_NODE_LOW = 0x1ff000000L;
    /** The view of fixed headers: over {@link #outHeader} on output, over the chain when forwarding. */
    private final Ipv6Header header = new Ipv6Header();
    /** The fixed header {@code ip6_output} builds before copying it into the bytes prepended for it. */
    private final MemorySegment outHeader = MemorySegment.ofArray(new byte[Ipv6Header.MIN_LENGTH]);
    /** The upper-layer checksum {@code ip6_output} fills ({@code in6_delayed_cksum}), copied into the packet. */
    private final MemorySegment outChecksum = MemorySegment.ofArray(new byte[2]);
    private final InternetChecksum.ChainSum checksums = new InternetChecksum.ChainSum();
    /** The fixed header of the packet being input ({@code ip6_input}'s copy of {@code struct ip6_hdr}). */
    private final HeaderScratch scratch = new HeaderScratch(Ipv6Header.MIN_LENGTH);
    /**
     * The input state not in use, taken by {@link #input} for its packet and put back when it returns, so
     * none is made per packet; null while one input runs (an input within it, which the stack never starts,
     * would make its own).
     */
    private Input idle = new Input();
    private final Ipv6ExtensionHeader extension = new Ipv6ExtensionHeader();
    private final Ipv6RoutingHeader routing = new Ipv6RoutingHeader();
    private final Ipv6OptionCursor options = new Ipv6OptionCursor();
    private final Ipv6Reassembly reassembly;
    private final Icmpv6 icmpv6;
    private final NeighborDiscovery nd;
    private final Map<Integer, UpperLayer> protocols = new HashMap<>();
    private final List<Route> routes = new ArrayList<>();
    private final Map<Ipv6Address, Integer> pathMtu = new HashMap<>();
    private final SplittableRandom random;
    private int defaultHopLimit = DEFAULT_HOP_LIMIT;
    private int nextIdentification;
    private boolean forwarding;

    Ipv6(Host host) {
        this.host = host;
        this.random = new SplittableRandom(host.name().hashCode() * 0x9e3779b97f4a7c15L);
        this.nextIdentification = random.nextInt();
        this.reassembly = new Ipv6Reassembly(host, this);
        this.icmpv6 = new Icmpv6(host, this);
        this.nd = new NeighborDiscovery(host, this);
        protocols.put(IpProtocol.ICMPV6, icmpv6::input);
    }

    public Counters<Ipv6Counter> counters() {
        return counters;
    }

    /** The reassembly queues ({@code frag6}). */
    public Ipv6Reassembly reassembly() {
        return reassembly;
    }

    /** ICMPv6 ({@code icmp6}). */
    public Icmpv6 icmpv6() {
        return icmpv6;
    }

    /** Neighbor Discovery ({@code nd6}). */
    public NeighborDiscovery nd() {
        return nd;
    }

    Host host() {
        return host;
    }

    SplittableRandom random() {
        return random;
    }

    /** The hop limit of packets this host originates (a Router Advertisement may change it). */
    public int defaultHopLimit() {
        return defaultHopLimit;
    }

    void setDefaultHopLimit(int hopLimit) {
        this.defaultHopLimit = hopLimit;
    }

    /**
     * Whether this host forwards IPv6 packets between its interfaces ({@code net.inet6.ip6.forwarding});
     * off by default. A router ignores Router Advertisements for its own configuration and sends no Router
     * Solicitations (RFC 4861 §6.2.7, §6.3.7), and sets the Router flag in its Neighbor Advertisements.
     */
    public boolean isForwarding() {
        return forwarding;
    }

    /** Turns router mode on or off. */
    public void setForwarding(boolean forwarding) {
        this.forwarding = forwarding;
    }

    /**
     * Registers the input routine of upper-layer protocol {@code protocol} (UDP, TCP), replacing any;
     * null removes it. ICMPv6 is registered from the start.
     */
    public void setProtocol(int protocol, UpperLayer input) {
        if (input == null) {
            protocols.remove(protocol);
        } else {
            protocols.put(protocol, input);
        }
    }

    // ------------------------------------------------------------------ configuration

    /**
     * Enables IPv6 on {@code ifp} ({@code in6_ifattach}): forms its link-local address from the MAC
     * (EUI-64, RFC 4291 §2.5.1 and appendix A), starts duplicate address detection, and solicits routers.
     * Does nothing if IPv6 is enabled already.
     *
     * @throws IllegalArgumentException if {@code ifp} is not attached to this host or its MTU is below 1280
     */
    public void enable(NetworkInterface ifp) {
        nd.enable(ifp);
    }

    /**
     * Assigns {@code address}/{@code prefixLength} to {@code ifp} (enabling IPv6 on it first), tentative until
     * duplicate address detection finds it unique (RFC 4862 §5.4), and adds the connected route.
     *
     * @throws IllegalArgumentException if the address is multicast, unspecified or link-local (the
     *                                  interface forms its own), or {@code ifp} is not ours
     */
    public void addAddress(NetworkInterface ifp, Ipv6Address address, int prefixLength) {
        if (address.isMulticast() || address.isUnspecified() || address.isLoopback() || Ipv6Scope.isScoped(address)) {
            throw new IllegalArgumentException("not a global unicast address: " + address);
        }
        if (prefixLength < 0 || prefixLength > 128) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " is not in 0..128");
        }
        nd.enable(ifp);
        nd.addAddress(ifp, address, prefixLength);
        addOnLinkPrefix(ifp, address, prefixLength);
    }

    void addOnLinkPrefix(NetworkInterface ifp, Ipv6Address address, int prefixLength) {
        Ipv6Address prefix = mask(address, prefixLength);
        for (Route r : routes) {
            if (r.prefix().equals(prefix) && r.prefixLength() == prefixLength && r.ifp() == ifp && r.gateway() == null) {
                return;
            }
        }
        addRoute(new Route(prefix, prefixLength, ifp, null));
    }

    static Ipv6Address mask(Ipv6Address a, int prefixLength) {
        long highMask = prefixLength >= 64 ? -1L : prefixLength == 0 ? 0 : -1L << (64 - prefixLength);
        long lowMask = prefixLength <= 64 ? 0 : prefixLength == 128 ? -1L : -1L << (128 - prefixLength);
        return new Ipv6Address(a.high() & highMask, a.low() & lowMask);
    }

    /** Adds a route; longer prefixes are matched first, equal ones in the order added. */
    public void addRoute(Route route) {
        routes.add(route);
        routes.sort(Comparator.comparingInt(Route::prefixLength).reversed());
    }

    /** Removes {@code route}; returns whether it was there. */
    public boolean removeRoute(Route route) {
        return routes.remove(route);
    }

    /** Every route, most specific first (default routers from Router Advertisements are not listed). */
    public List<Route> routes() {
        return List.copyOf(routes);
    }

    /** The assignment of {@code address} (zone embedded if scoped) on any interface, or null. */
    NetworkInterface.Ipv6Assignment assignment(Ipv6Address address) {
        return assignment(address.high(), address.low());
    }

    /** {@link #assignment(Ipv6Address)} of the address {@code high}:{@code low}, with no record. */
    private NetworkInterface.Ipv6Assignment assignment(long high, long low) {
        int zone = Ipv6Scope.zone(high);
        List<NetworkInterface> interfaces = host.interfaces();
        for (int i = 0; i < interfaces.size(); i++) { // indexed: no iterator on the input path
            NetworkInterface ifp = interfaces.get(i);
            if (zone != 0 && ifp.index() != zone) {
                continue;
            }
            NetworkInterface.Ipv6Assignment a = ifp.ipv6Assignment(high, low);
            if (a != null) {
                return a;
            }
        }
        return null;
    }

    /** Whether {@code address} is ours and usable (preferred), or ::1. */
    public boolean isOurs(Ipv6Address address) {
        if (address.isLoopback()) {
            return true;
        }
        NetworkInterface.Ipv6Assignment a = assignment(address);
        return a != null && a.state() == NetworkInterface.Ipv6State.PREFERRED;
    }

    private NetworkInterface ownerOf(Ipv6Address address) {
        int zone = Ipv6Scope.zone(address);
        for (NetworkInterface ifp : host.interfaces()) {
            if ((zone == 0 || ifp.index() == zone) && ifp.ipv6Assignment(address) != null) {
                return ifp;
            }
        }
        return null;
    }

    /** The interface whose index is {@code index} ({@code if_byindex}), or null. */
    NetworkInterface interfaceByIndex(int index) {
        List<NetworkInterface> interfaces = host.interfaces();
        for (int i = 0; i < interfaces.size(); i++) { // indexed: no iterator on the input path
            NetworkInterface ifp = interfaces.get(i);
            if (ifp.index() == index) {
                return ifp;
            }
        }
        return null;
    }

    /**
     * Whether {@code ifp} listens to the multicast group {@code groupHigh}:{@code groupLow} (zone embedded):
     * all nodes, the solicited-node groups of its addresses, and on a router all routers (RFC 4291 §2.7.1).
     * Compares halves, so it makes no address record.
     */
    private boolean isMember(NetworkInterface ifp, long groupHigh, long groupLow) {
        if (Ipv6Scope.isScoped(groupHigh) && Ipv6Scope.zone(groupHigh) != ifp.index()) {
            return false;
        }
        long high = Ipv6Scope.clear(groupHigh);
        if ((high == Ipv6Address.ALL_NODES.high() || high == 0xff01L << 48) && groupLow == 1) {
            return true; // ff02::1, ff01::1
        }
        if (forwarding && (high == Ipv6Address.ALL_ROUTERS.high() || high == 0xff01L << 48) && groupLow == 2) {
            return true; // ff02::2, ff01::2
        }
        if (high != SOLICITED_NODE_HIGH) {
            return false;
        }
        List<NetworkInterface.Ipv6Assignment> addresses = ifp.ipv6Addresses();
        for (int i = 0; i < addresses.size(); i++) { // indexed: no iterator on the input path
            // ff02::1:ffXX:XXXX, the low 24 bits of the address's (zone-free) low half: solicitedNode()
            if (groupLow == (SOLICITED_NODE_LOW | addresses.get(i).address().low() & 0xffffff)) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ input

    /** {@code ip6_input}: consumes {@code m}, an IPv6 packet without link header, received on {@code ifp}. */
    void input(NetworkInterface ifp, Mbuf m) {
        counters.increment(Ipv6Counter.RECEIVED);
        boolean fromLoopback = ifp instanceof LoopbackInterface;
        if (fromLoopback) {
            Ipv6Scope.LoopedFrom from = m.isPacket() ? m.tag(Ipv6Scope.LoopedFrom.class) : null;
            if (from != null) {
                NetworkInterface owner = interfaceByIndex(from.index());
                ifp = owner != null ? owner : ifp;
            }
        } else if (!nd.isEnabled(ifp)) {
            drop(m, Ipv6Counter.DISABLED);
            return;
        }
        if (m.length() < Ipv6Header.MIN_LENGTH) {
            drop(m, Ipv6Counter.TOO_SHORT);
            return;
        }
        MemorySegment ip; // a copy, read into locals: no view of the chain, no address records
        try {
            ip = scratch.read(m, 0, Ipv6Header.MIN_LENGTH);
        } catch (NoBufferSpaceException e) {
            drop(m, Ipv6Counter.NO_BUFFERS);
            return;
        }
        if (Ipv6Header.version(ip) != 6) {
            drop(m, Ipv6Counter.BAD_VERSION);
            return;
        }
        int payloadLength = Ipv6Header.payloadLength(ip);
        if (Ipv6Header.MIN_LENGTH + payloadLength > m.length()) {
            drop(m, Ipv6Counter.TOO_SHORT);
            return;
        }
        long sourceHigh = Ipv6Header.sourceHigh(ip);
        long sourceLow = Ipv6Header.sourceLow(ip);
        long destinationHigh = Ipv6Header.destinationHigh(ip);
        long destinationLow = Ipv6Header.destinationLow(ip);
        if (Ipv6Address.isMulticast(sourceHigh) || isV4Mapped(sourceHigh, sourceLow)
                || isV4Mapped(destinationHigh, destinationLow)) {
            drop(m, Ipv6Counter.BAD_SOURCE);
            return;
        }
        if (Ipv6Scope.zone(sourceHigh) != 0 || Ipv6Scope.zone(destinationHigh) != 0
                || (Ipv6Address.isLoopback(sourceHigh, sourceLow) || Ipv6Address.isLoopback(destinationHigh,
                        destinationLow)) && !fromLoopback) {
            drop(m, Ipv6Counter.BAD_SCOPE); // in6_clearscope() != 0: a zone on the wire
            return;
        }
        if (Ipv6Header.MIN_LENGTH + payloadLength < m.length()) {
            m.adj(Ipv6Header.MIN_LENGTH + payloadLength - m.length()); // link-layer padding
        }
        if (!filters.isEmpty() && !passes(m, PacketFilter.Direction.IN, ifp)) {
            drop(m, Ipv6Counter.FILTERED_IN); // filters see the packet as it came off the wire, zones clear
            return;
        }
        try {
            if (!filters.isEmpty()) {
                ip = scratch.read(m, 0, Ipv6Header.MIN_LENGTH); // a filter may have rewritten the header
            }
            Ipv6Scope.embedInPacket(m, 0, ifp.index(), Ipv6Header.sourceHigh(ip),
                    Ipv6Header.destinationHigh(ip)); // in6_setscope(), copy on write
        } catch (NoBufferSpaceException e) {
            drop(m, Ipv6Counter.NO_BUFFERS);
            return;
        }
        destinationHigh = Ipv6Scope.embed(destinationHigh, ifp.index());
        Input in = idle != null ? idle : new Input();
        idle = null;
        try {
            input(in.start(ifp, m), fromLoopback, destinationHigh, destinationLow);
        } finally {
            in.m = null; // consumed: the idle state keeps no chain reachable
            idle = in;
        }
    }

    /**
     * The rest of {@code ip6_input} for the packet {@code in} holds, whose header passed the checks and has
     * its zones embedded; {@code destinationHigh} (embedded) and {@code destinationLow} are its destination.
     */
    private void input(Input in, boolean fromLoopback, long destinationHigh, long destinationLow) {
        NetworkInterface ifp = in.ifp;
        Mbuf m = in.m;
        if (Ipv6Address.isMulticast(destinationHigh)) {
            if (!isMember(ifp, destinationHigh, destinationLow)) {
                drop(m, Ipv6Counter.NOT_FOR_US);
                return;
            }
            in.multicast = true;
        } else if (!Ipv6Address.isLoopback(destinationHigh, destinationLow)) {
            NetworkInterface.Ipv6Assignment a = assignment(destinationHigh, destinationLow);
            if (a == null) {
                if (!forwarding || fromLoopback
                        || (m.packetFlags() & (PacketFlags.LINK_BROADCAST | PacketFlags.LINK_MULTICAST)) != 0) {
                    drop(m, Ipv6Counter.NOT_FOR_US);
                    return;
                }
                forwardInput(in);
                return;
            }
            if (a.state() != NetworkInterface.Ipv6State.PREFERRED) {
                drop(m, Ipv6Counter.TO_TENTATIVE); // RFC 4862 §5.4
                return;
            }
        }
        in.offset = Ipv6Header.MIN_LENGTH;
        in.previousNextHeader = Ipv6Header.Field.NEXT_HEADER;
        int next = Byte.toUnsignedInt(m.byteAt(Ipv6Header.Field.NEXT_HEADER));
        while (next != DONE) {
            next = dispatch(in, next);
        }
    }

    /**
     * A packet for another node in router mode: a Hop-by-Hop Options header, which every node on the path
     * examines (RFC 8200 §4.3), is processed first as {@code ip6_input} does ({@code ip6_hopopts_input}),
     * and may drop the packet; then {@link #forward}.
     */
    private void forwardInput(Input in) {
        if (Byte.toUnsignedInt(in.m.byteAt(Ipv6Header.Field.NEXT_HEADER)) == IpProtocol.HOP_BY_HOP) {
            in.offset = Ipv6Header.MIN_LENGTH;
            in.previousNextHeader = Ipv6Header.Field.NEXT_HEADER;
            in.headers = 1;
            if (optionsInput(in) == DONE) {
                return;
            }
        }
        forward(in.ifp, in.m);
    }

    /**
     * {@code ip6_forward}: sends {@code m}, a unicast packet received on {@code ifp} for another node, on
     * towards its destination; consumes {@code m}. In the order KAME checks them:
     * <ul>
     * <li>a link-local destination not ours is dropped, never forwarded (RFC 4291 §2.5.6), and so is a
     *     packet from the unspecified address (RFC 4291 §2.5.2; a multicast source was refused on input);</li>
     * <li>a hop limit of 1 or less gives Time Exceeded, code 0 (RFC 4443 §3.3);</li>
     * <li>no route gives Destination Unreachable, code 0 (RFC 4443 §3.1);</li>
     * <li>a link-local source whose route leaves by another interface gives Destination Unreachable, code 2
     *     (beyond scope of source address);</li>
     * <li>a packet larger than the next link's MTU gives Packet Too Big with that MTU (RFC 4443 §3.2): a
     *     router never fragments (RFC 8200 §5), the source learns the path MTU (RFC 8201).</li>
     * </ul>
     * Every check reads the header through {@link Mbuf#ptr}; only a packet that leaves is written, its hop
     * limit decremented through {@link Mbuf#ptrRw}, so the errors quote the packet as it arrived.
     */
    private void forward(NetworkInterface ifp, Mbuf m) {
        Ipv6Header ip;
        try {
            ip = header.wrap(m.ptr(0, Ipv6Header.MIN_LENGTH));
        } catch (NoBufferSpaceException e) {
            drop(m, Ipv6Counter.NO_BUFFERS);
            return;
        }
        Ipv6Address source = ip.source();
        Ipv6Address destination = ip.destination();
        int hopLimit = ip.hopLimit();
        if (Ipv6Scope.isScoped(destination)) {
            drop(m, Ipv6Counter.LINK_LOCAL_NOT_FORWARDED);
            return;
        }
        if (source.isUnspecified()) {
            drop(m, Ipv6Counter.UNSPECIFIED_NOT_FORWARDED);
            return;
        }
        if (hopLimit <= 1) {
            counters.increment(Ipv6Counter.HOP_LIMIT_EXCEEDED);
            icmpv6.error(m, Icmpv6Message.TIME_EXCEEDED, Icmpv6Message.TIME_EXCEEDED_HOP_LIMIT, 0, false);
            m.free();
            return;
        }
        Path path = route(destination);
        if (path == null || path.ifp instanceof LoopbackInterface) {
            counters.increment(Ipv6Counter.CANT_FORWARD);
            icmpv6.error(m, Icmpv6Message.DESTINATION_UNREACHABLE, Icmpv6Message.UNREACHABLE_NO_ROUTE, 0, false);
            m.free();
            return;
        }
        if (Ipv6Scope.isScoped(source) && path.ifp != ifp) {
            counters.increment(Ipv6Counter.BEYOND_SCOPE);
            icmpv6.error(m, Icmpv6Message.DESTINATION_UNREACHABLE, Icmpv6Message.UNREACHABLE_BEYOND_SCOPE, 0, false);
            m.free();
            return;
        }
        int mtu = linkMtu(path.ifp);
        if (m.length() > mtu) {
            counters.increment(Ipv6Counter.FORWARD_TOO_BIG);
            icmpv6.error(m, Icmpv6Message.PACKET_TOO_BIG, 0, mtu, false);
            m.free();
            return;
        }
        try {
            header.wrap(m.ptrRw(0, Ipv6Header.MIN_LENGTH)).setHopLimit(hopLimit - 1);
        } catch (NoBufferSpaceException e) {
            drop(m, Ipv6Counter.NO_BUFFERS);
            return;
        }
        counters.increment(Ipv6Counter.FORWARDED);
        transmit(path.ifp, path.nextHop, m);
    }

    /** One step of the KAME loop: the input routine of header {@code next} at {@code in.offset}. */
    private int dispatch(Input in, int next) {
        if (IpProtocol.isIpv6ExtensionHeader(next) && next != IpProtocol.ESP && next != IpProtocol.AH) {
            if (++in.headers > MAX_EXTENSION_HEADERS) {
                drop(in.m, Ipv6Counter.TOO_MANY_HEADERS);
                return DONE;
            }
        }
        return switch (next) {
            case IpProtocol.HOP_BY_HOP -> hopByHopInput(in);
            case IpProtocol.IPV6_DESTINATION -> destinationOptionsInput(in);
            case IpProtocol.IPV6_ROUTING -> routingInput(in);
            case IpProtocol.IPV6_FRAGMENT -> fragmentInput(in);
            case IpProtocol.IPV6_NO_NEXT -> {
                drop(in.m, Ipv6Counter.NO_NEXT_HEADER);
                yield DONE;
            }
            default -> {
                UpperLayer upper = protocols.get(next);
                if (upper == null) {
                    counters.increment(Ipv6Counter.NO_PROTOCOL);
                    icmpv6.error(in.m, Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_NEXT_HEADER,
                            in.previousNextHeader, false);
                    in.m.free();
                } else {
                    counters.increment(Ipv6Counter.DELIVERED);
                    upper.input(in.ifp, in.m, in.offset);
                }
                yield DONE;
            }
        };
    }

    /**
     * Makes the generic extension header at {@code in.offset} contiguous and returns a view of it, or null
     * if the packet was dropped (truncated, past the chain limit, or the pool refused).
     */
    private Ipv6ExtensionHeader extensionHeader(Input in) {
        Mbuf m = in.m;
        if (in.offset + Ipv6ExtensionHeader.MIN_LENGTH > m.length()) {
            drop(m, Ipv6Counter.TOO_SHORT);
            return null;
        }
        int length = (Byte.toUnsignedInt(m.byteAt(in.offset + 1)) + 1) * 8;
        if (in.offset + length > m.length()) {
            drop(m, Ipv6Counter.TOO_SHORT);
            return null;
        }
        if (in.offset + length > MAX_HEADER_CHAIN) {
            drop(m, Ipv6Counter.CHAIN_TOO_LONG);
            return null;
        }
        try {
            return extension.wrap(m.ptr(in.offset, length));
        } catch (NoBufferSpaceException e) {
            drop(m, Ipv6Counter.NO_BUFFERS);
            return null;
        }
    }

    /** Moves past the extension header just processed; returns its Next Header. */
    private static int advance(Input in, int nextHeader, int length) {
        in.previousNextHeader = in.offset;
        in.offset += length;
        return nextHeader;
    }

    /** {@code ip6_hopopts_input}: only right after the fixed header (RFC 8200 §4.3). */
    private int hopByHopInput(Input in) {
        if (in.offset != Ipv6Header.MIN_LENGTH) {
            counters.increment(Ipv6Counter.HOP_BY_HOP_NOT_FIRST);
            icmpv6.error(in.m, Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_NEXT_HEADER,
                    in.previousNextHeader, false);
            in.m.free();
            return DONE;
        }
        return optionsInput(in);
    }

    /** {@code dest6_input}. */
    private int destinationOptionsInput(Input in) {
        return optionsInput(in);
    }

    /**
     * {@code ip6_process_hopopts} / {@code ip6_unknown_opt}: walks the options; Pad1, PadN and Router Alert
     * are known, any other option is handled by its action bits (RFC 8200 §4.2).
     */
    private int optionsInput(Input in) {
        Ipv6ExtensionHeader ext = extensionHeader(in);
        if (ext == null) {
            return DONE;
        }
        int length = ext.length();
        int nextHeader = ext.nextHeader();
        try {
            options.reset(ext);
            while (options.next()) {
                int type = options.type();
                if (type == Ipv6OptionCursor.ROUTER_ALERT) {
                    if (options.dataLength() != 2) {
                        counters.increment(Ipv6Counter.BAD_OPTIONS);
                        icmpv6.error(in.m, Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_HEADER,
                                in.offset + options.offset() + 1, false);
                        in.m.free();
                        return DONE;
                    }
                    continue;
                }
                int action = options.action();
                if (action == Ipv6OptionCursor.ACTION_SKIP) {
                    continue;
                }
                counters.increment(Ipv6Counter.UNKNOWN_OPTION);
                if (action == Ipv6OptionCursor.ACTION_DISCARD_AND_REPORT
                        || action == Ipv6OptionCursor.ACTION_DISCARD_AND_REPORT_UNLESS_MULTICAST && !in.multicast) {
                    // RFC 4443 §2.4 (e.3): action 10 is reported even about a multicast destination.
                    icmpv6.error(in.m, Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_OPTION,
                            in.offset + options.offset(), action == Ipv6OptionCursor.ACTION_DISCARD_AND_REPORT);
                }
                in.m.free();
                return DONE;
            }
        } catch (MalformedPacketException e) {
            counters.increment(Ipv6Counter.BAD_OPTIONS);
            icmpv6.error(in.m, Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_HEADER,
                    in.offset + e.offset(), false);
            in.m.free();
            return DONE;
        }
        return advance(in, nextHeader, length);
    }

    /**
     * {@code route6_input}: a host forwards nothing, so every routing type is unrecognized here. Segments
     * left 0: ignore the header (RFC 8200 §4.4), type 0 included (RFC 5095 §3). Segments left above 0:
     * Parameter Problem code 0 pointing at the Routing Type.
     */
    private int routingInput(Input in) {
        Ipv6ExtensionHeader ext = extensionHeader(in);
        if (ext == null) {
            return DONE;
        }
        Ipv6RoutingHeader rh = routing.wrap(ext.header());
        if (rh.segmentsLeft() == 0) {
            return advance(in, rh.nextHeader(), rh.length());
        }
        counters.increment(rh.routingType() == Ipv6RoutingHeader.TYPE_0 ? Ipv6Counter.ROUTING_TYPE_0
                : Ipv6Counter.BAD_ROUTING);
        icmpv6.error(in.m, Icmpv6Message.PARAMETER_PROBLEM, Icmpv6Message.PARAMETER_PROBLEM_HEADER,
                in.offset + Ipv6RoutingHeader.Field.ROUTING_TYPE, false);
        in.m.free();
        return DONE;
    }

    /** {@code frag6_input}. */
    private int fragmentInput(Input in) {
        counters.increment(Ipv6Counter.FRAGMENTS_RECEIVED);
        if (in.offset + Ipv6FragmentHeader.LENGTH > MAX_HEADER_CHAIN) {
            drop(in.m, Ipv6Counter.CHAIN_TOO_LONG);
            return DONE;
        }
        return reassembly.input(in);
    }

    /** Counts a reassembled packet (called by {@link Ipv6Reassembly}). */
    void countReassembled() {
        counters.increment(Ipv6Counter.REASSEMBLED);
    }

    /** Counts an atomic fragment (called by {@link Ipv6Reassembly}). */
    void countAtomic() {
        counters.increment(Ipv6Counter.ATOMIC_FRAGMENTS);
    }

    /** Whether the address {@code high}:{@code low} is IPv4-mapped, ::ffff:0:0/96 ({@code IN6_IS_ADDR_V4MAPPED}). */
    private static boolean isV4Mapped(long high, long low) {
        return high == 0 && (low >>> 32) == 0xffff;
    }

    /**
     * {@code ip6_lasthdr}: the upper-layer protocol of the packet {@code m} and its offset, as
     * {@code {protocol, offset}}; protocol -1 if the chain cannot be followed (truncated, or a fragment
     * other than the first).
     */
    static int[] upperLayer(Mbuf m) {
        if (m.length() < Ipv6Header.MIN_LENGTH) {
            return new int[] {-1, 0};
        }
        int next = Byte.toUnsignedInt(m.byteAt(Ipv6Header.Field.NEXT_HEADER));
        int offset = Ipv6Header.MIN_LENGTH;
        for (int i = 0; i <= MAX_EXTENSION_HEADERS; i++) {
            switch (next) {
                case IpProtocol.HOP_BY_HOP, IpProtocol.IPV6_DESTINATION, IpProtocol.IPV6_ROUTING -> {
                    if (offset + 2 > m.length()) {
                        return new int[] {-1, offset};
                    }
                    int length = (Byte.toUnsignedInt(m.byteAt(offset + 1)) + 1) * 8;
                    next = Byte.toUnsignedInt(m.byteAt(offset));
                    offset += length;
                }
                case IpProtocol.AH -> {
                    if (offset + 2 > m.length()) {
                        return new int[] {-1, offset};
                    }
                    int length = (Byte.toUnsignedInt(m.byteAt(offset + 1)) + 2) * 4;
                    next = Byte.toUnsignedInt(m.byteAt(offset));
                    offset += length;
                }
                case IpProtocol.IPV6_FRAGMENT -> {
                    if (offset + Ipv6FragmentHeader.LENGTH > m.length()
                            || ((m.byteAt(offset + 2) & 0xff) << 8 | (m.byteAt(offset + 3) & 0xf8)) != 0) {
                        return new int[] {-1, offset};
                    }
                    next = Byte.toUnsignedInt(m.byteAt(offset));
                    offset += Ipv6FragmentHeader.LENGTH;
                }
                default -> {
                    return new int[] {offset <= m.length() ? next : -1, offset};
                }
            }
        }
        return new int[] {-1, offset};
    }

    // ------------------------------------------------------------------ output

    /**
     * {@code ip6_output}: prepends an IPv6 header to {@code payload} and sends it to {@code destination},
     * fragmenting it if it does not fit the path. Consumes {@code payload} whatever the result.
     *
     * @param source         the source address (zone embedded if link-local), or null to select one
     *                       ({@code in6_selectsrc})
     * @param destination    the destination, zone embedded if scoped (see {@link Ipv6Scope#parse})
     * @param checksumOffset the offset in {@code payload} of a 16-bit upper-layer checksum to fill over the
     *                       pseudo header and the payload once the addresses are known
     *                       ({@code in6_delayed_cksum}), or -1
     */
    public OutputResult output(Mbuf payload, Ipv6Address source, Ipv6Address destination, int nextHeader,
            int hopLimit, int checksumOffset) {
        Path path = route(destination);
        if (path == null) {
            counters.increment(Ipv6Counter.NO_ROUTE);
            payload.free();
            return OutputResult.NO_ROUTE;
        }
        return send(path, payload, source, destination, nextHeader, hopLimit, checksumOffset);
    }

    /**
     * Output on a given interface to a link-local or multicast destination, the source possibly
     * unspecified (Neighbor Discovery, duplicate address detection). Consumes {@code payload}.
     */
    OutputResult outputOn(NetworkInterface ifp, Mbuf payload, Ipv6Address source, Ipv6Address destination,
            int nextHeader, int hopLimit, int checksumOffset) {
        return send(new Path(ifp, destination, null), payload, source, destination, nextHeader, hopLimit,
                checksumOffset);
    }

    private OutputResult send(Path path, Mbuf payload, Ipv6Address source, Ipv6Address destination,
            int nextHeader, int hopLimit, int checksumOffset) {
        if (source == null) {
            source = selectSource(path.owner != null ? path.owner : path.ifp, destination);
            if (source == null) {
                counters.increment(Ipv6Counter.NO_SOURCE);
                payload.free();
                return OutputResult.NO_SOURCE;
            }
        }
        int payloadLength = payload.length();
        if (payloadLength > MAX_PAYLOAD) {
            counters.increment(Ipv6Counter.TOO_BIG);
            payload.free();
            return OutputResult.TOO_BIG;
        }
        if (!payload.isPacket()) {
            try {
                Mbuf packet = host.pool().getPacket();
                packet.cat(payload);
                payload = packet;
            } catch (NoBufferSpaceException e) {
                counters.increment(Ipv6Counter.NO_BUFFERS);
                payload.free();
                return OutputResult.NO_BUFFERS;
            }
        }
        Ipv6Address wireSource = Ipv6Scope.clear(source);
        Ipv6Address wireDestination = Ipv6Scope.clear(destination);
        try {
            if (checksumOffset >= 0) {
                // Summed as if the field were 0 (its word's one's complement added cancels it), then written
                // copy on write from our own two bytes: no view of the chain.
                int field = Byte.toUnsignedInt(payload.byteAt(checksumOffset)) << 8
                        | Byte.toUnsignedInt(payload.byteAt(checksumOffset + 1));
                long sum = InternetChecksum.ipv6PseudoHeader(wireSource, wireDestination, nextHeader, payloadLength)
                        + checksums.sum(payload, 0, payloadLength) + (~field & 0xffff);
                int checksum = InternetChecksum.finish(sum);
                if (checksum == 0 && nextHeader == IpProtocol.UDP) {
                    checksum = 0xffff; // RFC 8200 §8.1: a UDP checksum of 0 is sent as all ones
                }
                Bytes.setU16(outChecksum, 0, checksum);
                payload.copyBackCow(checksumOffset, outChecksum);
            }
            payload.prepend(Ipv6Header.MIN_LENGTH);
            header.wrap(outHeader)
                    .setVersionClassAndFlow(0, 0)
                    .setPayloadLength(payloadLength)
                    .setNextHeader(nextHeader)
                    .setHopLimit(hopLimit)
                    .setSource(wireSource)
                    .setDestination(wireDestination);
            payload.copyBack(0, outHeader); // into the prepended bytes, writable: no copy on write
        } catch (NoBufferSpaceException e) {
            counters.increment(Ipv6Counter.NO_BUFFERS);
            payload.free();
            return OutputResult.NO_BUFFERS;
        }
        if (path.owner != null) {
            payload.addTag(new Ipv6Scope.LoopedFrom(path.owner.index()));
        }
        int mtu = pathMtu(path.ifp, destination);
        if (payload.length() <= mtu) {
            counters.increment(Ipv6Counter.SENT);
            transmit(path.ifp, path.nextHop, payload);
            return OutputResult.SENT;
        }
        return fragment(path, payload, mtu);
    }

    /** The path MTU towards {@code destination} (the IPv6 minimum, 1280, if there is no route). */
    int mtuTowards(Ipv6Address destination) {
        Path path = route(destination);
        return path == null ? MINIMUM_MTU : pathMtu(path.ifp, destination);
    }

    /**
     * The source address a packet to {@code destination} would get ({@code in6_selectsrc}), its zone
     * embedded if it is link-local; null if there is no route or no usable address.
     */
    Ipv6Address sourceFor(Ipv6Address destination) {
        Path path = route(destination);
        if (path == null) {
            return null;
        }
        NetworkInterface ifp = path.owner != null ? path.owner : path.ifp;
        Ipv6Address source = selectSource(ifp, destination);
        return source != null && Ipv6Scope.isScoped(source) ? Ipv6Scope.embed(source, ifp.index()) : source;
    }

    /** The route to {@code destination}: interface and next hop; null if there is none. */
    private Path route(Ipv6Address destination) {
        if (isOurs(destination)) {
            NetworkInterface owner = destination.isLoopback() ? null : ownerOf(destination);
            return new Path(host.loopback(), destination, owner);
        }
        if (Ipv6Scope.isScoped(destination)) {
            NetworkInterface ifp = interfaceByIndex(Ipv6Scope.zone(destination));
            return ifp == null || !nd.isEnabled(ifp) ? null : new Path(ifp, destination, null);
        }
        if (destination.isMulticast() || destination.isUnspecified() || destination.isLoopback()) {
            return null;
        }
        for (Route r : routes) {
            if (destination.isIn(r.prefix(), r.prefixLength())) {
                return new Path(r.ifp(), r.gateway() != null ? r.gateway() : destination, null);
            }
        }
        NeighborDiscovery.Router router = nd.defaultRouter();
        return router == null ? null : new Path(router.ifp(), router.address(), null);
    }

    /**
     * {@code in6_selectsrc} (RFC 6724 §5, reduced): for a scoped destination the preferred link-local
     * address of {@code ifp}; otherwise a preferred global address on {@code ifp}, on-link with the
     * destination first; else any preferred global address of the host; else the link-local one. Never a
     * tentative or duplicated address. Null if there is none.
     */
    Ipv6Address selectSource(NetworkInterface ifp, Ipv6Address destination) {
        if (ifp instanceof LoopbackInterface) {
            return Ipv6Address.LOOPBACK;
        }
        Ipv6Address linkLocal = null;
        Ipv6Address global = null;
        for (NetworkInterface.Ipv6Assignment a : ifp.ipv6Addresses()) {
            if (a.state() != NetworkInterface.Ipv6State.PREFERRED) {
                continue;
            }
            if (a.address().isLinkLocal()) {
                linkLocal = linkLocal == null ? a.address() : linkLocal;
            } else if (a.isOnLink(destination)) {
                global = a.address();
                break;
            } else if (global == null) {
                global = a.address();
            }
        }
        if (Ipv6Scope.isScoped(destination)) {
            return linkLocal;
        }
        if (global == null) {
            for (NetworkInterface other : host.interfaces()) {
                for (NetworkInterface.Ipv6Assignment a : other.ipv6Addresses()) {
                    if (a.state() == NetworkInterface.Ipv6State.PREFERRED && !a.address().isLinkLocal()) {
                        return a.address();
                    }
                }
            }
        }
        return global != null ? global : linkLocal;
    }

    /** The link MTU of {@code ifp} ({@code IN6_LINKMTU}): the interface's, lowered by a Router Advertisement. */
    int linkMtu(NetworkInterface ifp) {
        return Math.min(ifp.mtu(), nd.linkMtu(ifp));
    }

    /** The MTU for packets to {@code destination} through {@code ifp}: link, RA and Packet Too Big. */
    int pathMtu(NetworkInterface ifp, Ipv6Address destination) {
        int mtu = linkMtu(ifp);
        Integer learnt = pathMtu.get(destination);
        return Math.max(MINIMUM_MTU, learnt != null ? Math.min(mtu, learnt) : mtu);
    }

    /**
     * Records a Packet Too Big for {@code destination} (RFC 8201 §4): the path MTU becomes {@code mtu}, not
     * below 1280, for ten minutes.
     */
    void packetTooBig(Ipv6Address destination, long mtu) {
        int value = (int) Math.max(MINIMUM_MTU, Math.min(mtu, Integer.MAX_VALUE));
        Integer old = pathMtu.get(destination);
        if (old == null || value < old) {
            pathMtu.put(destination, value);
            host.timers().schedule(java.time.Duration.ofMinutes(10), () -> pathMtu.remove(destination, value));
        }
    }

    /** The path MTU learnt for {@code destination} from Packet Too Big, or -1. */
    public int learntPathMtu(Ipv6Address destination) {
        Integer v = pathMtu.get(destination);
        return v == null ? -1 : v;
    }

    /**
     * {@code ip6_fragment}: cuts {@code packet} (a whole IPv6 packet) into fragments of at most {@code mtu}
     * bytes, each the unfragmentable part (fixed header, Hop-by-Hop, Routing and the Destination Options
     * before it), a Fragment header, and a slice of the rest shared with the original (RFC 8200 §4.5).
     */
    private OutputResult fragment(Path path, Mbuf packet, int mtu) {
        int unfragmentable = Ipv6Header.MIN_LENGTH;
        int previousNextHeader = Ipv6Header.Field.NEXT_HEADER;
        int next = Byte.toUnsignedInt(packet.byteAt(previousNextHeader));
        while (next == IpProtocol.HOP_BY_HOP || next == IpProtocol.IPV6_ROUTING
                || next == IpProtocol.IPV6_DESTINATION && unfragmentable + 8 <= packet.length()
                        && Byte.toUnsignedInt(packet.byteAt(unfragmentable)) == IpProtocol.IPV6_ROUTING) {
            previousNextHeader = unfragmentable;
            next = Byte.toUnsignedInt(packet.byteAt(unfragmentable));
            unfragmentable += (Byte.toUnsignedInt(packet.byteAt(unfragmentable + 1)) + 1) * 8;
        }
        byte[] unfragmentablePart = new byte[unfragmentable];
        packet.copyData(0, unfragmentable, unfragmentablePart, 0);
        unfragmentablePart[previousNextHeader] = (byte) IpProtocol.IPV6_FRAGMENT;
        int room = (mtu - unfragmentable - Ipv6FragmentHeader.LENGTH) & ~7;
        int fragmentable = packet.length() - unfragmentable;
        int identification = nextIdentification++;
        List<Mbuf> fragments = new ArrayList<>();
        try {
            for (int done = 0; done < fragmentable; done += room) {
                int n = Math.min(room, fragmentable - done);
                Mbuf f = host.pool().getPacket();
                fragments.add(f);
                int headerLength = unfragmentable + Ipv6FragmentHeader.LENGTH;
                f.align(Math.min(headerLength, org.jmbuf.buf.MbufPool.MHLEN));
                f.copyBack(0, unfragmentablePart);
                f.copyBack(unfragmentable, new byte[Ipv6FragmentHeader.LENGTH]);
                f.cat(packet.copy(unfragmentable + done, n));
                header.wrap(f.ptrRw(0, Ipv6Header.MIN_LENGTH)).setPayloadLength(headerLength - Ipv6Header.MIN_LENGTH + n);
                Ipv6FragmentHeader.of(f.ptrRw(unfragmentable, Ipv6FragmentHeader.LENGTH))
                        .setNextHeader(next)
                        .setFragmentOffset(done)
                        .setMoreFragments(done + n < fragmentable)
                        .setIdentification(identification);
                for (org.jmbuf.buf.PacketTag tag : packet.tags()) {
                    f.addTag(tag);
                }
            }
        } catch (NoBufferSpaceException e) {
            fragments.forEach(Mbuf::free);
            packet.free();
            counters.increment(Ipv6Counter.NO_BUFFERS);
            return OutputResult.NO_BUFFERS;
        }
        packet.free();
        counters.increment(Ipv6Counter.FRAGMENTED);
        counters.add(Ipv6Counter.FRAGMENTS_CREATED, fragments.size());
        for (Mbuf f : fragments) {
            counters.increment(Ipv6Counter.SENT);
            transmit(path.ifp, path.nextHop, f);
        }
        return OutputResult.SENT;
    }

    /** Hands a complete packet to the link: multicast mapped, unicast resolved by Neighbor Discovery. */
    void transmit(NetworkInterface ifp, Ipv6Address nextHop, Mbuf packet) {
        if (!filters.isEmpty() && !passes(packet, PacketFilter.Direction.OUT, ifp)) {
            counters.increment(Ipv6Counter.FILTERED_OUT);
            packet.free();
            return;
        }
        if (ifp.linkHeaderLength() == 0) {
            ifp.transmit(packet);
        } else if (nextHop.isMulticast()) {
            host.ethernet().output(ifp, packet, MacAddress.ofMulticast(Ipv6Scope.clear(nextHop)), EtherType.IPV6);
        } else {
            nd.resolveAndSend(ifp, nextHop, packet);
        }
    }

    /**
     * Adds a packet filter hook ({@code pfil_add_hook} on the inet6 head); hooks run in the order added,
     * on input before the zone is embedded and on output after it is cleared, so they see wire addresses.
     */
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

    private void drop(Mbuf m, Ipv6Counter reason) {
        counters.increment(reason);
        m.free();
    }

    /** Frees what IPv6 holds (reassembly queues, neighbour hold queues, timers), when the host shuts down. */
    void close() {
        reassembly.close();
        nd.close();
    }
}
