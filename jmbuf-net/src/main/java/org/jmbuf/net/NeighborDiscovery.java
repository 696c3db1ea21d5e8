package org.jmbuf.net;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufQueue;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.wire.EtherType;
import org.jmbuf.wire.Icmpv6Message;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.Ipv6Header;
import org.jmbuf.wire.MacAddress;
import org.jmbuf.wire.MalformedPacketException;
import org.jmbuf.wire.NdOptionCursor;

/**
 * Neighbor Discovery for a host ({@code nd6.c}, {@code nd6_nbr.c}, {@code nd6_rtr.c}; RFC 4861) and
 * stateless address autoconfiguration ({@code in6_ifattach.c}; RFC 4862).
 *
 * <ul>
 * <li>Address resolution (§7.2): a packet to a neighbour whose link-layer address is unknown creates an
 *     INCOMPLETE entry and waits in its hold queue ({@link #HOLD_LIMIT} packets) while a Neighbor
 *     Solicitation goes to the target's solicited-node multicast group, every {@link #RETRANS_TIMER}, at
 *     most {@link #MAX_MULTICAST_SOLICIT} times; then the held packets are dropped with Destination
 *     Unreachable, code 3 (address unreachable), and the entry deleted.</li>
 * <li>Neighbour unreachability detection (§7.3), reduced: REACHABLE for {@link #REACHABLE_TIME}, then
 *     STALE; a STALE entry used goes to DELAY, then PROBE (unicast solicitations), and is deleted if no
 *     solicited advertisement answers.</li>
 * <li>Solicitations for our addresses are answered (§7.2.4) and learn the sender (STALE); advertisements
 *     update entries by the R, S and O flags (§7.2.5).</li>
 * <li>Duplicate address detection (RFC 4862 §5.4): an address is TENTATIVE until one solicitation from the
 *     unspecified address, sent after a random delay below one second, has had {@link #RETRANS_TIMER}
 *     without answer; an advertisement for it, or another node's DAD solicitation, marks it DUPLICATED.</li>
 * <li>A host solicits routers when IPv6 is enabled (§6.3.7) and processes Router Advertisements (§6.3.4):
 *     default routers, hop limit, MTU, on-link prefixes (L flag), and autoconfigured addresses from
 *     prefixes with the A flag (EUI-64 interface identifier, RFC 4862 §5.5.3), each with its lifetime.</li>
 * <li>A router ({@link Ipv6#setForwarding}) ignores Router Advertisements and sends no solicitations;
 *     on an interface told to {@link #advertise} prefixes it sends Router Advertisements itself (§6.2,
 *     {@code rtadvd}): unsolicited ones, the first {@link #MAX_INITIAL_RTR_ADVERTISEMENTS} at most
 *     {@link #MAX_INITIAL_RTR_ADVERT_INTERVAL} apart, then every {@link #MIN_RTR_ADV_INTERVAL} to
 *     {@link #MAX_RTR_ADV_INTERVAL}; and one in answer to a solicitation, after a random delay below
 *     {@link #MAX_RA_DELAY_TIME} and never sooner than {@link #MIN_DELAY_BETWEEN_RAS} after the last.</li>
 * </ul>
 *
 * <p>Every message is validated as §6.1 and §7.1 ask (hop limit 255, code 0, lengths, well-formed
 * options) before it changes anything; invalid ones are counted and ignored. Redirects are ignored.
 */
public final class NeighborDiscovery {
    /** Packets held per incomplete entry. */
    public static final int HOLD_LIMIT = 16;
    /** Multicast solicitations before resolution fails ({@code MAX_MULTICAST_SOLICIT}). */
    public static final int MAX_MULTICAST_SOLICIT = 3;
    /** Unicast probes before an entry is deleted ({@code MAX_UNICAST_SOLICIT}). */
    public static final int MAX_UNICAST_SOLICIT = 3;
    /** Time between solicitations ({@code RETRANS_TIMER}). */
    public static final Duration RETRANS_TIMER = Duration.ofSeconds(1);
    /** How long a confirmed neighbour is REACHABLE ({@code REACHABLE_TIME}). */
    public static final Duration REACHABLE_TIME = Duration.ofSeconds(30);
    /** How long a STALE entry waits in DELAY before probing ({@code DELAY_FIRST_PROBE_TIME}). */
    public static final Duration DELAY_FIRST_PROBE_TIME = Duration.ofSeconds(5);
    /** Upper bound of the random delay before the first DAD solicitation and router solicitation. */
    public static final Duration MAX_INITIAL_DELAY = Duration.ofSeconds(1);
    /** Router solicitations sent ({@code MAX_RTR_SOLICITATIONS}). */
    public static final int MAX_RTR_SOLICITATIONS = 3;
    /** Time between router solicitations ({@code RTR_SOLICITATION_INTERVAL}). */
    public static final Duration RTR_SOLICITATION_INTERVAL = Duration.ofSeconds(4);
    /** Unsolicited advertisements sent quickly when an interface starts advertising ({@code MAX_INITIAL_RTR_ADVERTISEMENTS}). */
    public static final int MAX_INITIAL_RTR_ADVERTISEMENTS = 3;
    /** The longest interval between those first advertisements ({@code MAX_INITIAL_RTR_ADVERT_INTERVAL}). */
    public static final Duration MAX_INITIAL_RTR_ADVERT_INTERVAL = Duration.ofSeconds(16);
    /** The longest interval between unsolicited advertisements ({@code MaxRtrAdvInterval}, default). */
    public static final Duration MAX_RTR_ADV_INTERVAL = Duration.ofSeconds(600);
    /** The shortest interval between unsolicited advertisements ({@code MinRtrAdvInterval}, 0.33 of the longest). */
    public static final Duration MIN_RTR_ADV_INTERVAL = Duration.ofSeconds(198);
    /** The router lifetime advertised ({@code AdvDefaultLifetime}, three times {@code MaxRtrAdvInterval}). */
    public static final int ADV_DEFAULT_LIFETIME = 1800;
    /** The valid lifetime of advertised prefixes ({@code AdvValidLifetime}: 30 days). */
    public static final long ADV_VALID_LIFETIME = 2_592_000;
    /** The preferred lifetime of advertised prefixes ({@code AdvPreferredLifetime}: 7 days). */
    public static final long ADV_PREFERRED_LIFETIME = 604_800;
    /** Upper bound of the random delay before answering a solicitation ({@code MAX_RA_DELAY_TIME}). */
    public static final Duration MAX_RA_DELAY_TIME = Duration.ofMillis(500);
    /** The shortest interval between two multicast advertisements ({@code MIN_DELAY_BETWEEN_RAS}). */
    public static final Duration MIN_DELAY_BETWEEN_RAS = Duration.ofSeconds(3);

    /** Neighbor Discovery events and drops ({@code icmp6stat} ND counters, {@code nd6} statistics). */
    public enum NdCounter implements Counter {
        NS_RECEIVED("neighbor solicitations received"),
        NA_RECEIVED("neighbor advertisements received"),
        RS_RECEIVED("router solicitations received (answered only on an advertising interface)"),
        RA_RECEIVED("router advertisements received"),
        RA_IGNORED("router advertisements ignored because this host is a router"),
        REDIRECT_IGNORED("redirects ignored"),
        INVALID("messages failing validation (hop limit, code, length, options, addresses)"),
        NS_NOT_FOR_US("solicitations for a target not ours"),
        NS_SENT("neighbor solicitations sent"),
        NA_SENT("neighbor advertisements sent"),
        RS_SENT("router solicitations sent"),
        RA_SENT("router advertisements sent"),
        DAD_NS_SENT("duplicate address detection solicitations sent"),
        DUPLICATES_DETECTED("addresses found duplicated by duplicate address detection"),
        DUPLICATE_IN_USE("advertisements from another node for one of our addresses in use"),
        HELD("packets held awaiting resolution"),
        HOLD_DROPPED("held packets dropped because the hold queue was full"),
        RESOLUTION_FAILED("held packets dropped because the neighbour did not answer"),
        NEIGHBORS_UNREACHABLE("entries deleted after unanswered probes"),
        ROUTERS_ADDED("default routers learnt"),
        PREFIXES_ADDED("on-link prefixes learnt"),
        ADDRESSES_AUTOCONFIGURED("addresses autoconfigured from router advertisements"),
        NO_BUFFERS("messages not sent for lack of buffers");

        private final String description;

        NdCounter(String description) {
            this.description = description;
        }

        @Override
        public String description() {
            return description;
        }
    }

    /** The state of a neighbour cache entry (RFC 4861 §7.3.2). */
    public enum NeighborState { INCOMPLETE, REACHABLE, STALE, DELAY, PROBE }

    /** A default router: its link-local address (zone embedded) and interface. */
    public record Router(NetworkInterface ifp, Ipv6Address address) { }

    private record Key(int ifIndex, Ipv6Address address) { }

    private static final class Neighbor {
        final NetworkInterface ifp;
        final Ipv6Address address;
        NeighborState state = NeighborState.INCOMPLETE;
        MacAddress mac;
        boolean router;
        int tries;
        Ipv6Address solicitSource;
        final MbufQueue hold = new MbufQueue(HOLD_LIMIT);
        Timers.Timer timer;

        Neighbor(NetworkInterface ifp, Ipv6Address address) {
            this.ifp = ifp;
            this.address = address;
        }

        void cancel() {
            if (timer != null) {
                timer.cancel();
                timer = null;
            }
        }
    }

    /** A prefix a router advertises on an interface (an {@code AdvPrefixList} entry, RFC 4861 §6.2.1). */
    public record AdvertisedPrefix(Ipv6Address prefix, int prefixLength) { }

    private static final class InterfaceInfo {
        int linkMtu = Integer.MAX_VALUE;
        int solicitations;
        boolean heardRouter;
        Timers.Timer routerSolicitation;
        final List<AdvertisedPrefix> advertised = new ArrayList<>();
        Timers.Timer advertisement;
        long advertisementDue;
        long lastAdvertisement = Long.MIN_VALUE;
        int initialAdvertisements;
    }

    private static final class Expiring<T> {
        final T value;
        Timers.Timer timer;

        Expiring(T value) {
            this.value = value;
        }
    }

    private final Host host;
    private final org.jmbuf.buf.MbufOwner holdOwner;
    private final Ipv6 ipv6;
    private final Counters<NdCounter> counters = new Counters<>("nd6", NdCounter.class);
    private final Icmpv6Message view = new Icmpv6Message();
    private final NdOptionCursor options = new NdOptionCursor();
    private final Map<Integer, InterfaceInfo> interfaces = new HashMap<>();
    private final Map<Key, Neighbor> cache = new HashMap<>();
    /**
     * The entry the last packet was resolved through, tried before the cache so that a stream of packets to
     * one neighbour makes no key (BSD finds it through the route's {@code rt_llinfo}); null after a removal.
     */
    private Neighbor last;
    private final Map<Key, Timers.Timer> dad = new HashMap<>();
    private final List<Expiring<Router>> routers = new ArrayList<>();
    private final List<Expiring<Ipv6.Route>> prefixes = new ArrayList<>();

    NeighborDiscovery(Host host, Ipv6 ipv6) {
        this.host = host;
        this.ipv6 = ipv6;
        this.holdOwner = host.pool().owner("nd6", host.name() + ": hold queues");
    }

    public Counters<NdCounter> counters() {
        return counters;
    }

    // ------------------------------------------------------------------ interfaces and addresses

    /** See {@link Ipv6#enable}. */
    void enable(NetworkInterface ifp) {
        if (ifp.host() != host) {
            throw new IllegalArgumentException(ifp.name() + " is not attached to " + host.name());
        }
        if (ifp.mtu() < Ipv6.MINIMUM_MTU) {
            throw new IllegalArgumentException(ifp.name() + " has MTU " + ifp.mtu() + ", below the IPv6 minimum of "
                    + Ipv6.MINIMUM_MTU);
        }
        if (interfaces.containsKey(ifp.index())) {
            return;
        }
        InterfaceInfo info = new InterfaceInfo();
        interfaces.put(ifp.index(), info);
        if (ifp.linkAddress() == null) {
            return;
        }
        Ipv6Address linkLocal = new Ipv6Address(0xfe80L << 48, interfaceIdentifier(ifp.linkAddress()));
        addAddress(ifp, Ipv6Scope.embed(linkLocal, ifp.index()), 64);
        info.routerSolicitation = host.timers().scheduleNanos(randomDelay(), () -> solicitRouters(ifp, info));
    }

    /** Whether IPv6 is enabled on {@code ifp}. */
    public boolean isEnabled(NetworkInterface ifp) {
        return interfaces.containsKey(ifp.index());
    }

    /**
     * The modified EUI-64 interface identifier of an Ethernet address (RFC 4291 appendix A): ff:fe in the
     * middle, the universal/local bit inverted.
     */
    public static long interfaceIdentifier(MacAddress mac) {
        long bits = mac.bits();
        long upper = (bits >>> 24) ^ 0x02_00_00;
        return upper << 40 | 0xfffeL << 24 | bits & 0xff_ffff;
    }

    /** The link-local address of {@code ifp} (zone embedded), whatever its state; null if it has none. */
    public Ipv6Address linkLocal(NetworkInterface ifp) {
        for (NetworkInterface.Ipv6Assignment a : ifp.ipv6Addresses()) {
            if (a.address().isLinkLocal()) {
                return a.address();
            }
        }
        return null;
    }

    /** Adds {@code address} as TENTATIVE and starts duplicate address detection (RFC 4862 §5.4). */
    void addAddress(NetworkInterface ifp, Ipv6Address address, int prefixLength) {
        NetworkInterface.Ipv6Assignment existing = ifp.ipv6Assignment(address);
        if (existing != null && existing.state() != NetworkInterface.Ipv6State.DUPLICATED) {
            return;
        }
        ifp.setIpv6(new NetworkInterface.Ipv6Assignment(address, prefixLength, NetworkInterface.Ipv6State.TENTATIVE));
        Key key = new Key(ifp.index(), address);
        Timers.Timer old = dad.remove(key);
        if (old != null) {
            old.cancel();
        }
        dad.put(key, host.timers().scheduleNanos(randomDelay(), () -> dadSolicit(ifp, address)));
    }

    private long randomDelay() {
        return ipv6.random().nextLong(MAX_INITIAL_DELAY.toNanos());
    }

    private void dadSolicit(NetworkInterface ifp, Ipv6Address address) {
        NetworkInterface.Ipv6Assignment a = ifp.ipv6Assignment(address);
        if (a == null || a.state() != NetworkInterface.Ipv6State.TENTATIVE) {
            return;
        }
        counters.increment(NdCounter.DAD_NS_SENT);
        sendSolicitation(ifp, Ipv6Address.UNSPECIFIED, solicitedNode(ifp, address), address);
        Key key = new Key(ifp.index(), address);
        dad.put(key, host.timers().schedule(RETRANS_TIMER, () -> {
            dad.remove(key);
            NetworkInterface.Ipv6Assignment now = ifp.ipv6Assignment(address);
            if (now != null && now.state() == NetworkInterface.Ipv6State.TENTATIVE) {
                ifp.setIpv6(new NetworkInterface.Ipv6Assignment(address, now.prefixLength(),
                        NetworkInterface.Ipv6State.PREFERRED));
            }
        }));
    }

    /** {@code nd6_dad_duplicated}: another node uses {@code address}. */
    private void duplicated(NetworkInterface ifp, NetworkInterface.Ipv6Assignment a) {
        counters.increment(NdCounter.DUPLICATES_DETECTED);
        ifp.setIpv6(new NetworkInterface.Ipv6Assignment(a.address(), a.prefixLength(),
                NetworkInterface.Ipv6State.DUPLICATED));
        Timers.Timer t = dad.remove(new Key(ifp.index(), a.address()));
        if (t != null) {
            t.cancel();
        }
    }

    private static Ipv6Address solicitedNode(NetworkInterface ifp, Ipv6Address target) {
        return Ipv6Scope.embed(Ipv6Scope.clear(target).solicitedNode(), ifp.index());
    }

    private void solicitRouters(NetworkInterface ifp, InterfaceInfo info) {
        if (info.heardRouter || info.solicitations >= MAX_RTR_SOLICITATIONS || !isEnabled(ifp)
                || ipv6.isForwarding()) {
            return;
        }
        info.solicitations++;
        Ipv6Address source = preferredLinkLocal(ifp);
        int length = Icmpv6Message.HEADER_LENGTH + (source != null ? 8 : 0);
        Mbuf m = message(Icmpv6Message.ROUTER_SOLICITATION, length);
        if (m != null) {
            if (source != null) {
                linkLayerOption(m, Icmpv6Message.HEADER_LENGTH, NdOptionCursor.SOURCE_LINK_ADDRESS, ifp.linkAddress());
            }
            counters.increment(NdCounter.RS_SENT);
            ipv6.icmpv6().sendOn(ifp, m, source != null ? source : Ipv6Address.UNSPECIFIED,
                    Ipv6Scope.embed(Ipv6Address.ALL_ROUTERS, ifp.index()));
        }
        info.routerSolicitation = host.timers().schedule(RTR_SOLICITATION_INTERVAL, () -> solicitRouters(ifp, info));
    }

    private static Ipv6Address preferredLinkLocal(NetworkInterface ifp) {
        for (NetworkInterface.Ipv6Assignment a : ifp.ipv6Addresses()) {
            if (a.address().isLinkLocal() && a.state() == NetworkInterface.Ipv6State.PREFERRED) {
                return a.address();
            }
        }
        return null;
    }

    /** The link MTU a Router Advertisement announced for {@code ifp}, or {@link Integer#MAX_VALUE}. */
    int linkMtu(NetworkInterface ifp) {
        InterfaceInfo info = interfaces.get(ifp.index());
        return info == null ? Integer.MAX_VALUE : info.linkMtu;
    }

    /** The first default router, or null ({@code defrouter_select}, reduced). */
    Router defaultRouter() {
        return routers.isEmpty() ? null : routers.getFirst().value;
    }

    /** The default routers learnt from Router Advertisements. */
    public List<Router> routers() {
        return routers.stream().map(e -> e.value).toList();
    }

    // ------------------------------------------------------------------ neighbour cache

    /** The link-layer address of neighbour {@code address} (zone embedded if link-local), or null. */
    public MacAddress lookup(NetworkInterface ifp, Ipv6Address address) {
        Neighbor n = cache.get(new Key(ifp.index(), address));
        return n == null || n.state == NeighborState.INCOMPLETE ? null : n.mac;
    }

    /** The state of the cache entry for {@code address} on {@code ifp}, or null if there is none. */
    public NeighborState state(NetworkInterface ifp, Ipv6Address address) {
        Neighbor n = cache.get(new Key(ifp.index(), address));
        return n == null ? null : n.state;
    }

    /**
     * {@code nd6_output}: sends {@code m} (an IPv6 packet) to {@code nextHop} on {@code ifp}, now if its
     * link-layer address is known, else once it is. Consumes {@code m}.
     */
    void resolveAndSend(NetworkInterface ifp, Ipv6Address nextHop, Mbuf m) {
        Neighbor n = last != null && last.ifp == ifp && last.address.equals(nextHop) ? last
                : cache.get(new Key(ifp.index(), nextHop));
        if (n != null) {
            last = n;
        }
        if (n != null && n.state != NeighborState.INCOMPLETE) {
            if (n.state == NeighborState.STALE) {
                n.state = NeighborState.DELAY;
                n.cancel();
                Neighbor delayed = n;
                n.timer = host.timers().schedule(DELAY_FIRST_PROBE_TIME, () -> probe(delayed));
            }
            host.ethernet().output(ifp, m, n.mac, EtherType.IPV6);
            return;
        }
        if (n == null) {
            n = new Neighbor(ifp, nextHop);
            cache.put(new Key(ifp.index(), nextHop), n);
            Ipv6Address source = Ipv6Header.of(m.ptr(0, Ipv6Header.MIN_LENGTH)).source();
            source = Ipv6Scope.embed(source, ifp.index());
            NetworkInterface.Ipv6Assignment a = ifp.ipv6Assignment(source);
            n.solicitSource = a != null && a.state() == NetworkInterface.Ipv6State.PREFERRED ? source : null;
            m.claim(holdOwner);
            if (n.hold.enqueue(m)) {
                counters.increment(NdCounter.HELD);
            } else {
                counters.increment(NdCounter.HOLD_DROPPED);
            }
            solicit(n);
            return;
        }
        m.claim(holdOwner);
        if (n.hold.enqueue(m)) {
            counters.increment(NdCounter.HELD);
        } else {
            counters.increment(NdCounter.HOLD_DROPPED);
        }
    }

    /** Multicast solicitation of an INCOMPLETE entry, and its retransmission ({@code nd6_llinfo_timer}). */
    private void solicit(Neighbor n) {
        if (n.tries >= MAX_MULTICAST_SOLICIT) {
            cache.remove(new Key(n.ifp.index(), n.address));
            last = null;
            n.timer = null;
            for (Mbuf next = n.hold.dequeue(); next != null; next = n.hold.dequeue()) {
                try (Mbuf held = next) {
                    counters.increment(NdCounter.RESOLUTION_FAILED);
                    Ipv6Scope.embedInPacket(held, 0, n.ifp.index());
                    ipv6.icmpv6().error(held, Icmpv6Message.DESTINATION_UNREACHABLE,
                            Icmpv6Message.UNREACHABLE_ADDRESS, 0, false);
                } catch (NoBufferSpaceException e) {
                    counters.increment(NdCounter.NO_BUFFERS);
                }
            }
            return;
        }
        n.tries++;
        Ipv6Address source = n.solicitSource != null ? n.solicitSource : ipv6.selectSource(n.ifp, n.address);
        if (source != null) {
            sendSolicitation(n.ifp, source, solicitedNode(n.ifp, n.address), n.address);
        }
        n.timer = host.timers().schedule(RETRANS_TIMER, () -> solicit(n));
    }

    /** Unicast probe of a DELAY or PROBE entry (RFC 4861 §7.3.3). */
    private void probe(Neighbor n) {
        if (n.tries >= MAX_UNICAST_SOLICIT) {
            counters.increment(NdCounter.NEIGHBORS_UNREACHABLE);
            cache.remove(new Key(n.ifp.index(), n.address));
            last = null;
            n.timer = null;
            return;
        }
        if (n.state == NeighborState.DELAY) {
            n.state = NeighborState.PROBE;
            n.tries = 0;
        }
        n.tries++;
        Ipv6Address source = ipv6.selectSource(n.ifp, n.address);
        if (source != null) {
            sendSolicitation(n.ifp, source, n.address, n.address);
        }
        n.timer = host.timers().schedule(RETRANS_TIMER, () -> probe(n));
    }

    private void reachable(Neighbor n) {
        n.cancel();
        n.state = NeighborState.REACHABLE;
        n.tries = 0;
        n.timer = host.timers().schedule(REACHABLE_TIME, () -> {
            n.timer = null;
            n.state = NeighborState.STALE;
        });
    }

    private void stale(Neighbor n) {
        n.cancel();
        n.state = NeighborState.STALE;
        n.tries = 0;
    }

    private void sendHeld(Neighbor n) {
        Mbuf held;
        while ((held = n.hold.dequeue()) != null) {
            host.ethernet().output(n.ifp, held, n.mac, EtherType.IPV6);
        }
    }

    /**
     * Learns {@code mac} for {@code address} from a solicitation or advertisement's source link-layer
     * option (§7.2.3, §6.3.4): a new entry is STALE; a changed address makes an entry STALE.
     */
    private void learn(NetworkInterface ifp, Ipv6Address address, MacAddress mac, boolean router) {
        Key key = new Key(ifp.index(), address);
        Neighbor n = cache.get(key);
        if (n == null) {
            n = new Neighbor(ifp, address);
            cache.put(key, n);
            n.mac = mac;
            n.router = router;
            stale(n);
            return;
        }
        n.router |= router;
        if (n.state == NeighborState.INCOMPLETE) {
            n.mac = mac;
            stale(n);
            sendHeld(n);
        } else if (!mac.equals(n.mac)) {
            n.mac = mac;
            stale(n);
        }
    }

    // ------------------------------------------------------------------ input

    /**
     * {@code nd6_ns_input}, {@code nd6_na_input}, {@code nd6_ra_input}: {@code m} (not consumed) holds an
     * ND message at {@code offset} whose checksum was checked.
     */
    void input(NetworkInterface ifp, Mbuf m, int offset) {
        int length = m.length() - offset;
        int type = Byte.toUnsignedInt(m.byteAt(offset));
        switch (type) {
            case Icmpv6Message.NEIGHBOR_SOLICITATION -> counters.increment(NdCounter.NS_RECEIVED);
            case Icmpv6Message.NEIGHBOR_ADVERTISEMENT -> counters.increment(NdCounter.NA_RECEIVED);
            case Icmpv6Message.ROUTER_ADVERTISEMENT -> counters.increment(NdCounter.RA_RECEIVED);
            case Icmpv6Message.ROUTER_SOLICITATION -> {
                counters.increment(NdCounter.RS_RECEIVED);
                InterfaceInfo info = interfaces.get(ifp.index());
                if (info == null || info.advertised.isEmpty() || !ipv6.isForwarding()) {
                    return; // a host, or an interface that does not advertise, ignores solicitations
                }
            }
            default -> {
                counters.increment(NdCounter.REDIRECT_IGNORED);
                return;
            }
        }
        Ipv6Header ip = Ipv6Header.of(m.ptr(0, Ipv6Header.MIN_LENGTH));
        Ipv6Address source = ip.source();
        Ipv6Address destination = ip.destination();
        Icmpv6Message message;
        try {
            if (ip.hopLimit() != 255 || length < Icmpv6Message.minimumLength(type)
                    || Byte.toUnsignedInt(m.byteAt(offset + 1)) != 0) {
                counters.increment(NdCounter.INVALID);
                return;
            }
            message = view.wrap(m.ptr(offset, length));
            options.reset(message.ndOptions());
            while (options.next()) {
                // RFC 4861 §4.6: an option of length 0 or past the end invalidates the message.
            }
        } catch (MalformedPacketException | NoBufferSpaceException e) {
            counters.increment(NdCounter.INVALID);
            return;
        }
        switch (type) {
            case Icmpv6Message.NEIGHBOR_SOLICITATION -> solicitationInput(ifp, message, source, destination);
            case Icmpv6Message.NEIGHBOR_ADVERTISEMENT -> advertisementInput(ifp, message, destination);
            case Icmpv6Message.ROUTER_SOLICITATION -> routerSolicitationInput(ifp, message, source);
            default -> routerAdvertisementInput(ifp, message, source);
        }
    }

    /** The link-layer address option of {@code kind} in {@code message}, or null. */
    private MacAddress linkLayerOption(Icmpv6Message message, int kind) {
        options.reset(message.ndOptions());
        while (options.next()) {
            if (options.type() == kind && options.isWellFormed()) {
                return options.linkLayerAddress();
            }
        }
        return null;
    }

    /** {@code nd6_ns_input} (RFC 4861 §7.1.1, §7.2.3; RFC 4862 §5.4.3). */
    private void solicitationInput(NetworkInterface ifp, Icmpv6Message ns, Ipv6Address source,
            Ipv6Address destination) {
        Ipv6Address target = ns.targetAddress();
        MacAddress sourceMac = linkLayerOption(ns, NdOptionCursor.SOURCE_LINK_ADDRESS);
        boolean dadProbe = source.isUnspecified();
        if (target.isMulticast() || Ipv6Scope.zone(target) != 0
                || dadProbe && (!isSolicitedNode(destination) || sourceMac != null)) {
            counters.increment(NdCounter.INVALID);
            return;
        }
        target = Ipv6Scope.embed(target, ifp.index());
        NetworkInterface.Ipv6Assignment a = ifp.ipv6Assignment(target);
        if (a == null) {
            counters.increment(NdCounter.NS_NOT_FOR_US);
            return;
        }
        if (a.state() == NetworkInterface.Ipv6State.TENTATIVE) {
            if (dadProbe) {
                duplicated(ifp, a); // another node is doing DAD for our tentative address
            }
            return;
        }
        if (a.state() == NetworkInterface.Ipv6State.DUPLICATED) {
            return;
        }
        if (!dadProbe && sourceMac != null) {
            learn(ifp, source, sourceMac, false);
        }
        int routerFlag = ipv6.isForwarding() ? Icmpv6Message.NA_ROUTER : 0; // §7.2.4
        sendAdvertisement(ifp, target,
                dadProbe ? Ipv6Scope.embed(Ipv6Address.ALL_NODES, ifp.index()) : source,
                routerFlag | (dadProbe ? Icmpv6Message.NA_OVERRIDE : Icmpv6Message.NA_SOLICITED | Icmpv6Message.NA_OVERRIDE));
    }

    private static boolean isSolicitedNode(Ipv6Address a) {
        Ipv6Address c = Ipv6Scope.clear(a);
        return c.high() == 0xff02L << 48 && (c.low() >>> 24) == 0x1ff;
    }

    /** {@code nd6_na_input} (RFC 4861 §7.1.2, §7.2.5). */
    private void advertisementInput(NetworkInterface ifp, Icmpv6Message na, Ipv6Address destination) {
        Ipv6Address target = na.targetAddress();
        int flags = na.neighborAdvertisementFlags();
        boolean solicited = (flags & Icmpv6Message.NA_SOLICITED) != 0;
        boolean override = (flags & Icmpv6Message.NA_OVERRIDE) != 0;
        boolean router = (flags & Icmpv6Message.NA_ROUTER) != 0;
        if (target.isMulticast() || Ipv6Scope.zone(target) != 0 || destination.isMulticast() && solicited) {
            counters.increment(NdCounter.INVALID);
            return;
        }
        target = Ipv6Scope.embed(target, ifp.index());
        NetworkInterface.Ipv6Assignment a = ifp.ipv6Assignment(target);
        if (a != null) {
            if (a.state() == NetworkInterface.Ipv6State.TENTATIVE) {
                duplicated(ifp, a);
            } else {
                counters.increment(NdCounter.DUPLICATE_IN_USE);
            }
            return;
        }
        Neighbor n = cache.get(new Key(ifp.index(), target));
        if (n == null) {
            return;
        }
        MacAddress mac = linkLayerOption(na, NdOptionCursor.TARGET_LINK_ADDRESS);
        n.router = router;
        if (n.state == NeighborState.INCOMPLETE) {
            if (mac == null) {
                return;
            }
            n.mac = mac;
            if (solicited) {
                reachable(n);
            } else {
                stale(n);
            }
            sendHeld(n);
            return;
        }
        boolean changed = mac != null && !mac.equals(n.mac);
        if (!override && changed) {
            if (n.state == NeighborState.REACHABLE) {
                stale(n);
            }
            return;
        }
        if (changed) {
            n.mac = mac;
        }
        if (solicited) {
            reachable(n);
        } else if (changed) {
            stale(n);
        }
    }

    /**
     * {@code nd6_rs_input} on an advertising router (RFC 4861 §6.1.1, §6.2.6): a solicitation from the
     * unspecified address must carry no source link-layer option; one from an address teaches us the
     * sender's link-layer address. The answer is a multicast advertisement, after a random delay below
     * {@link #MAX_RA_DELAY_TIME}, and not sooner than {@link #MIN_DELAY_BETWEEN_RAS} after the last.
     */
    private void routerSolicitationInput(NetworkInterface ifp, Icmpv6Message rs, Ipv6Address source) {
        MacAddress sourceMac = linkLayerOption(rs, NdOptionCursor.SOURCE_LINK_ADDRESS);
        if (source.isUnspecified() && sourceMac != null) {
            counters.increment(NdCounter.INVALID);
            return;
        }
        if (sourceMac != null) {
            learn(ifp, source, sourceMac, false);
        }
        InterfaceInfo info = interfaces.get(ifp.index());
        long now = host.timers().clock().nanoTime();
        long due = now + ipv6.random().nextLong(MAX_RA_DELAY_TIME.toNanos());
        if (info.lastAdvertisement != Long.MIN_VALUE) {
            due = Math.max(due, info.lastAdvertisement + MIN_DELAY_BETWEEN_RAS.toNanos());
        }
        if (info.advertisement == null || due < info.advertisementDue) {
            scheduleAdvertisement(ifp, info, due - now);
        }
    }

    /** {@code nd6_ra_input} (RFC 4861 §6.1.2, §6.3.4; RFC 4862 §5.5.3). */
    private void routerAdvertisementInput(NetworkInterface ifp, Icmpv6Message ra, Ipv6Address source) {
        if (!source.isLinkLocal()) {
            counters.increment(NdCounter.INVALID);
            return;
        }
        if (ipv6.isForwarding()) {
            counters.increment(NdCounter.RA_IGNORED); // a router does not configure itself from RAs (§6.2.7)
            return;
        }
        InterfaceInfo info = interfaces.get(ifp.index());
        info.heardRouter = true;
        if (ra.curHopLimit() != 0) {
            ipv6.setDefaultHopLimit(ra.curHopLimit());
        }
        updateRouter(ifp, source, ra.routerLifetime());
        options.reset(ra.ndOptions());
        List<long[]> prefixInfo = new ArrayList<>();
        MacAddress sourceMac = null;
        while (options.next()) {
            if (!options.isWellFormed()) {
                continue;
            }
            switch (options.type()) {
                case NdOptionCursor.SOURCE_LINK_ADDRESS -> sourceMac = options.linkLayerAddress();
                case NdOptionCursor.MTU -> {
                    long mtu = options.mtu();
                    if (mtu >= Ipv6.MINIMUM_MTU && mtu <= ifp.mtu()) {
                        info.linkMtu = (int) mtu;
                    }
                }
                case NdOptionCursor.PREFIX_INFORMATION -> prefixInfo.add(new long[] {
                        options.prefix().high(), options.prefix().low(), options.prefixLength(), options.prefixFlags(),
                        options.validLifetime(), options.preferredLifetime()});
                default -> { }
            }
        }
        if (sourceMac != null) {
            learn(ifp, source, sourceMac, true);
        }
        for (long[] p : prefixInfo) {
            prefixInformation(ifp, new Ipv6Address(p[0], p[1]), (int) p[2], (int) p[3], p[4], p[5]);
        }
    }

    private void updateRouter(NetworkInterface ifp, Ipv6Address address, int lifetime) {
        Expiring<Router> entry = null;
        for (Expiring<Router> e : routers) {
            if (e.value.address().equals(address) && e.value.ifp() == ifp) {
                entry = e;
            }
        }
        if (lifetime == 0) {
            if (entry != null) {
                entry.timer.cancel();
                routers.remove(entry);
            }
            return;
        }
        if (entry == null) {
            entry = new Expiring<>(new Router(ifp, address));
            routers.add(entry);
            counters.increment(NdCounter.ROUTERS_ADDED);
        } else {
            entry.timer.cancel();
        }
        Expiring<Router> expiring = entry;
        entry.timer = host.timers().schedule(Duration.ofSeconds(lifetime), () -> routers.remove(expiring));
    }

    private void prefixInformation(NetworkInterface ifp, Ipv6Address prefix, int prefixLength, int flags,
            long valid, long preferred) {
        if (prefix.isLinkLocal() || prefix.isMulticast() || prefixLength > 128 || preferred > valid) {
            return; // RFC 4861 §6.3.4, RFC 4862 §5.5.3 (b), (c)
        }
        prefix = Ipv6.mask(prefix, prefixLength);
        if ((flags & NdOptionCursor.PREFIX_ON_LINK) != 0) {
            onLinkPrefix(ifp, prefix, prefixLength, valid);
        }
        if ((flags & NdOptionCursor.PREFIX_AUTONOMOUS) != 0 && prefixLength == 64 && valid > 0
                && ifp.linkAddress() != null) {
            Ipv6Address address = new Ipv6Address(prefix.high(), interfaceIdentifier(ifp.linkAddress()));
            if (ifp.ipv6Assignment(address) == null) {
                counters.increment(NdCounter.ADDRESSES_AUTOCONFIGURED);
                addAddress(ifp, address, prefixLength);
            }
        }
    }

    private void onLinkPrefix(NetworkInterface ifp, Ipv6Address prefix, int prefixLength, long valid) {
        Expiring<Ipv6.Route> entry = null;
        for (Expiring<Ipv6.Route> e : prefixes) {
            if (e.value.prefix().equals(prefix) && e.value.prefixLength() == prefixLength && e.value.ifp() == ifp) {
                entry = e;
            }
        }
        if (valid == 0) {
            if (entry != null) {
                entry.timer.cancel();
                prefixes.remove(entry);
                ipv6.removeRoute(entry.value);
            }
            return;
        }
        if (entry == null) {
            entry = new Expiring<>(new Ipv6.Route(prefix, prefixLength, ifp, null));
            prefixes.add(entry);
            ipv6.addRoute(entry.value);
            counters.increment(NdCounter.PREFIXES_ADDED);
        } else if (entry.timer != null) {
            entry.timer.cancel();
        }
        Expiring<Ipv6.Route> expiring = entry;
        entry.timer = valid == NdOptionCursor.INFINITE_LIFETIME ? null
                : host.timers().schedule(Duration.ofSeconds(valid), () -> {
                    prefixes.remove(expiring);
                    ipv6.removeRoute(expiring.value);
                });
    }

    // ------------------------------------------------------------------ router advertisements

    /**
     * Makes this router advertise {@code prefix}/{@code prefixLength} on {@code ifp} (rtadvd's {@code
     * addr}/{@code prefixlen}; RFC 4861 §6.2): Router Advertisements from {@code ifp}'s link-local address
     * with a router lifetime of {@link #ADV_DEFAULT_LIFETIME} seconds, the interface's MTU in an MTU
     * option, and a Prefix Information option for every advertised prefix with the on-link (L) and
     * autonomous (A) flags, so hosts on the link route through us and configure addresses (RFC 4862). The
     * first advertisement leaves within {@link #MAX_RA_DELAY_TIME}, once the link-local address is usable.
     *
     * @throws IllegalStateException    if this host does not forward ({@link Ipv6#setForwarding})
     * @throws IllegalArgumentException if the prefix is link-local or multicast, its length not in 1..128,
     *                                  or {@code ifp} is not ours or cannot run IPv6
     */
    public void advertise(NetworkInterface ifp, Ipv6Address prefix, int prefixLength) {
        if (!ipv6.isForwarding()) {
            throw new IllegalStateException(host.name() + " does not forward: only routers advertise");
        }
        if (prefix.isLinkLocal() || prefix.isMulticast() || prefixLength < 1 || prefixLength > 128) {
            throw new IllegalArgumentException("cannot advertise " + prefix + "/" + prefixLength);
        }
        enable(ifp);
        InterfaceInfo info = interfaces.get(ifp.index());
        AdvertisedPrefix entry = new AdvertisedPrefix(Ipv6.mask(prefix, prefixLength), prefixLength);
        if (info.advertised.contains(entry)) {
            return;
        }
        info.advertised.add(entry);
        info.initialAdvertisements = 0; // the advertisement changed: announce it quickly (§6.2.4)
        scheduleAdvertisement(ifp, info, ipv6.random().nextLong(MAX_RA_DELAY_TIME.toNanos()));
    }

    /** The prefixes this router advertises on {@code ifp}. */
    public List<AdvertisedPrefix> advertised(NetworkInterface ifp) {
        InterfaceInfo info = interfaces.get(ifp.index());
        return info == null ? List.of() : List.copyOf(info.advertised);
    }

    private void scheduleAdvertisement(NetworkInterface ifp, InterfaceInfo info, long delayNanos) {
        if (info.advertisement != null) {
            info.advertisement.cancel();
        }
        info.advertisementDue = host.timers().clock().nanoTime() + delayNanos;
        info.advertisement = host.timers().scheduleNanos(delayNanos, () -> {
            info.advertisement = null;
            advertisementTimer(ifp, info);
        });
    }

    /** Sends an advertisement if we can and schedules the next unsolicited one (§6.2.4). */
    private void advertisementTimer(NetworkInterface ifp, InterfaceInfo info) {
        if (!ipv6.isForwarding() || info.advertised.isEmpty()) {
            return;
        }
        Ipv6Address source = preferredLinkLocal(ifp);
        if (source == null) {
            // §6.2.2 wants a link-local source: wait for duplicate address detection to finish.
            scheduleAdvertisement(ifp, info, RETRANS_TIMER.toNanos());
            return;
        }
        sendRouterAdvertisement(ifp, info, source);
        long next = MIN_RTR_ADV_INTERVAL.toNanos()
                + ipv6.random().nextLong(MAX_RTR_ADV_INTERVAL.toNanos() - MIN_RTR_ADV_INTERVAL.toNanos());
        if (++info.initialAdvertisements < MAX_INITIAL_RTR_ADVERTISEMENTS) {
            next = Math.min(next, MAX_INITIAL_RTR_ADVERT_INTERVAL.toNanos());
        }
        scheduleAdvertisement(ifp, info, next);
    }

    /** {@code ra_output} (rtadvd): one Router Advertisement to all nodes on {@code ifp}. */
    private void sendRouterAdvertisement(NetworkInterface ifp, InterfaceInfo info, Ipv6Address source) {
        int fixed = Icmpv6Message.minimumLength(Icmpv6Message.ROUTER_ADVERTISEMENT);
        int length = fixed + 8 + 8 + 32 * info.advertised.size();
        Mbuf m = message(Icmpv6Message.ROUTER_ADVERTISEMENT, length);
        if (m == null) {
            return;
        }
        view.wrap(m.ptrRw(0, fixed)).setCurHopLimit(ipv6.defaultHopLimit()).setRouterAdvertisementFlags(0)
                .setRouterLifetime(ADV_DEFAULT_LIFETIME).setReachableTime(0).setRetransTimer(0);
        int at = fixed;
        linkLayerOption(m, at, NdOptionCursor.SOURCE_LINK_ADDRESS, ifp.linkAddress());
        at += 8;
        var mtu = m.ptrRw(at, 8);
        mtu.set(java.lang.foreign.ValueLayout.JAVA_BYTE, NdOptionCursor.Field.TYPE, (byte) NdOptionCursor.MTU);
        mtu.set(java.lang.foreign.ValueLayout.JAVA_BYTE, NdOptionCursor.Field.LENGTH, (byte) 1);
        org.jmbuf.wire.Bytes.setU32(mtu, NdOptionCursor.Field.MTU, ipv6.linkMtu(ifp));
        at += 8;
        for (AdvertisedPrefix p : info.advertised) {
            var option = m.ptrRw(at, 32);
            option.set(java.lang.foreign.ValueLayout.JAVA_BYTE, NdOptionCursor.Field.TYPE,
                    (byte) NdOptionCursor.PREFIX_INFORMATION);
            option.set(java.lang.foreign.ValueLayout.JAVA_BYTE, NdOptionCursor.Field.LENGTH, (byte) 4);
            option.set(java.lang.foreign.ValueLayout.JAVA_BYTE, NdOptionCursor.Field.PREFIX_LENGTH,
                    (byte) p.prefixLength());
            option.set(java.lang.foreign.ValueLayout.JAVA_BYTE, NdOptionCursor.Field.PREFIX_FLAGS,
                    (byte) (NdOptionCursor.PREFIX_ON_LINK | NdOptionCursor.PREFIX_AUTONOMOUS));
            org.jmbuf.wire.Bytes.setU32(option, NdOptionCursor.Field.VALID_LIFETIME, (int) ADV_VALID_LIFETIME);
            org.jmbuf.wire.Bytes.setU32(option, NdOptionCursor.Field.PREFERRED_LIFETIME, (int) ADV_PREFERRED_LIFETIME);
            p.prefix().write(option, NdOptionCursor.Field.PREFIX);
            at += 32;
        }
        info.lastAdvertisement = host.timers().clock().nanoTime();
        counters.increment(NdCounter.RA_SENT);
        ipv6.icmpv6().sendOn(ifp, m, source, Ipv6Scope.embed(Ipv6Address.ALL_NODES, ifp.index()));
    }

    /** The on-link prefixes learnt from Router Advertisements, as routes. */
    public List<Ipv6.Route> prefixes() {
        return prefixes.stream().map(e -> e.value).toList();
    }

    // ------------------------------------------------------------------ output

    /** An empty ICMPv6 message of {@code type}, {@code length} bytes, or null if the pool refused. */
    private Mbuf message(int type, int length) {
        try {
            Mbuf m = host.pool().getPacket();
            m.copyBack(0, new byte[length]);
            view.wrap(m.ptrRw(0, length)).setType(type);
            return m;
        } catch (NoBufferSpaceException e) {
            counters.increment(NdCounter.NO_BUFFERS);
            return null;
        }
    }

    private static void linkLayerOption(Mbuf m, int offset, int kind, MacAddress mac) {
        var option = m.ptrRw(offset, 8);
        option.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) kind);
        option.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 1, (byte) 1);
        mac.write(option, 2);
    }

    private void sendSolicitation(NetworkInterface ifp, Ipv6Address source, Ipv6Address destination,
            Ipv6Address target) {
        boolean withOption = !source.isUnspecified();
        int length = Icmpv6Message.minimumLength(Icmpv6Message.NEIGHBOR_SOLICITATION) + (withOption ? 8 : 0);
        Mbuf m = message(Icmpv6Message.NEIGHBOR_SOLICITATION, length);
        if (m == null) {
            return;
        }
        view.wrap(m.ptrRw(0, length)).setTargetAddress(Ipv6Scope.clear(target));
        if (withOption) {
            linkLayerOption(m, length - 8, NdOptionCursor.SOURCE_LINK_ADDRESS, ifp.linkAddress());
        }
        counters.increment(NdCounter.NS_SENT);
        ipv6.icmpv6().sendOn(ifp, m, source, destination);
    }

    private void sendAdvertisement(NetworkInterface ifp, Ipv6Address target, Ipv6Address destination, int flags) {
        int length = Icmpv6Message.minimumLength(Icmpv6Message.NEIGHBOR_ADVERTISEMENT) + 8;
        Mbuf m = message(Icmpv6Message.NEIGHBOR_ADVERTISEMENT, length);
        if (m == null) {
            return;
        }
        view.wrap(m.ptrRw(0, length)).setTargetAddress(Ipv6Scope.clear(target)).setNeighborAdvertisementFlags(flags);
        linkLayerOption(m, length - 8, NdOptionCursor.TARGET_LINK_ADDRESS, ifp.linkAddress());
        counters.increment(NdCounter.NA_SENT);
        ipv6.icmpv6().sendOn(ifp, m, target, destination);
    }

    /** Drops every entry and timer, freeing held packets (the host shuts down). */
    void close() {
        for (Neighbor n : cache.values()) {
            n.cancel();
            n.hold.purge();
        }
        cache.clear();
        last = null;
        dad.values().forEach(Timers.Timer::cancel);
        dad.clear();
        for (InterfaceInfo info : interfaces.values()) {
            if (info.routerSolicitation != null) {
                info.routerSolicitation.cancel();
            }
            if (info.advertisement != null) {
                info.advertisement.cancel();
            }
        }
        routers.forEach(e -> e.timer.cancel());
        prefixes.forEach(e -> {
            if (e.timer != null) {
                e.timer.cancel();
            }
        });
    }
}
