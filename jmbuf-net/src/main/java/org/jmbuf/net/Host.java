package org.jmbuf.net;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;
import org.jmbuf.wire.Ipv4Address;

/**
 * One host of the stack: its interfaces (a loopback interface {@code lo0} with 127.0.0.1/8 first), the
 * routing table, and the protocols (Ethernet, ARP, IPv4, ICMP, UDP), sharing one {@link MbufPool} and
 * one set of {@link Timers}.
 *
 * <p>A host does its work when {@link #poll()} is called: it takes received frames off its interfaces'
 * input queues and runs them through the protocols ({@code ipintr}). Timers run when their owner calls
 * {@link Timers#runDue()}. Everything happens on the caller's thread; a host is not thread-safe.
 */
public final class Host implements AutoCloseable {
    /** Frames taken from one interface's queue per poll, so no interface starves the others. */
    public static final int POLL_BUDGET = 64;

    private final String name;
    private final MbufPool pool;
    private final Timers timers;
    /** Immutable, replaced when an interface is attached, so the hot paths read it without copying. */
    private List<NetworkInterface> interfaces = List.of();
    private final LoopbackInterface loopback;
    private final Routes routes = new Routes();
    private final Ethernet ethernet;
    private final Arp arp;
    private final Ipv4 ipv4;
    private final Icmp icmp;
    private final Udp udp;
    private final Ipv6 ipv6;
    private final Tcp tcp;

    /** A host named {@code name} that allocates from {@code pool} and schedules on {@code timers}. */
    public Host(String name, MbufPool pool, Timers timers) {
        this.name = Objects.requireNonNull(name, "name");
        this.pool = Objects.requireNonNull(pool, "pool");
        this.timers = Objects.requireNonNull(timers, "timers");
        this.ethernet = new Ethernet(this);
        this.arp = new Arp(this);
        this.ipv4 = new Ipv4(this);
        this.icmp = new Icmp(this);
        this.udp = new Udp(this);
        this.ipv6 = new Ipv6(this);
        this.tcp = new Tcp(this);
        ipv6.setProtocol(org.jmbuf.wire.IpProtocol.UDP, udp::input6);
        ipv6.setProtocol(org.jmbuf.wire.IpProtocol.TCP, tcp::input6);
        this.loopback = new LoopbackInterface("lo0");
        attach(loopback);
        addIpv4(loopback, Ipv4Address.parse("127.0.0.1"), 8);
    }

    public String name() {
        return name;
    }

    public MbufPool pool() {
        return pool;
    }

    public Timers timers() {
        return timers;
    }

    public Routes routes() {
        return routes;
    }

    public Arp arp() {
        return arp;
    }

    public Ipv4 ipv4() {
        return ipv4;
    }

    public Icmp icmp() {
        return icmp;
    }

    public Udp udp() {
        return udp;
    }

    public Tcp tcp() {
        return tcp;
    }

    public Ipv6 ipv6() {
        return ipv6;
    }

    public Icmpv6 icmpv6() {
        return ipv6.icmpv6();
    }

    public NeighborDiscovery nd() {
        return ipv6.nd();
    }

    Ethernet ethernet() {
        return ethernet;
    }

    public LoopbackInterface loopback() {
        return loopback;
    }

    /** The interfaces, in index order ({@code lo0} is index 1); an immutable list. */
    public List<NetworkInterface> interfaces() {
        return interfaces;
    }

    /**
     * Attaches an interface, giving it the next index.
     *
     * @throws IllegalStateException if it is attached to a host already
     */
    public <T extends NetworkInterface> T attach(T ifp) {
        ifp.attach(this, interfaces.size() + 1);
        List<NetworkInterface> next = new ArrayList<>(interfaces);
        next.add(ifp);
        interfaces = List.copyOf(next);
        return ifp;
    }

    /** Assigns {@code address}/{@code prefixLength} to {@code ifp} and adds the connected route. */
    public void addIpv4(NetworkInterface ifp, Ipv4Address address, int prefixLength) {
        if (ifp.host() != this) {
            throw new IllegalArgumentException(ifp.name() + " is not attached to " + name);
        }
        ifp.addIpv4(address, prefixLength);
        int mask = prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
        routes.add(new Routes.Route(new Ipv4Address(address.bits() & mask), prefixLength, ifp, null));
    }

    /** Routes everything without a more specific route to {@code gateway}, which must be on a link of ours. */
    public void setDefaultGateway(Ipv4Address gateway) {
        Routes.Route toGateway = routes.lookup(gateway);
        if (toGateway == null || toGateway.gateway() != null) {
            throw new IllegalArgumentException("gateway " + gateway + " is not on a directly connected network");
        }
        routes.add(new Routes.Route(Ipv4Address.ANY, 0, toGateway.ifp(), gateway));
    }

    /** Whether {@code address} is assigned to any interface of this host. */
    public boolean hasIpv4(Ipv4Address address) {
        return hasIpv4(address.bits());
    }

    /** Whether the address {@code bits} is assigned to one of this host's interfaces; no record needed. */
    boolean hasIpv4(int bits) {
        for (int i = 0; i < interfaces.size(); i++) { // indexed: no iterator on the input path
            NetworkInterface ifp = interfaces.get(i);
            if (ifp.hasIpv4(bits)) {
                return true;
            }
        }
        return false;
    }

    /** The source address for a packet to {@code destination} leaving through {@code ifp}. */
    Ipv4Address sourceAddressFor(NetworkInterface ifp, Ipv4Address destination) {
        Ipv4Address first = null;
        for (NetworkInterface.Ipv4Assignment a : ifp.ipv4Addresses()) {
            if (a.isOnLink(destination)) {
                return a.address();
            }
            if (first == null) {
                first = a.address();
            }
        }
        return first != null ? first : Ipv4Address.ANY;
    }

    /** The source address for a packet to {@code destination}, by the route it would take; null if none. */
    Ipv4Address sourceAddressFor(Ipv4Address destination) {
        if (hasIpv4(destination)) {
            return destination;
        }
        Routes.Route route = routes.lookup(destination);
        if (route == null) {
            NetworkInterface ifp = firstBroadcastInterface();
            return ifp == null ? null : sourceAddressFor(ifp, destination);
        }
        return sourceAddressFor(route.ifp(), route.nextHop(destination));
    }

    /** The interface limited broadcasts leave by: the first with a link-layer address and an IPv4 address. */
    NetworkInterface firstBroadcastInterface() {
        for (NetworkInterface ifp : interfaces) {
            if (ifp.linkAddress() != null && !ifp.ipv4Addresses().isEmpty()) {
                return ifp;
            }
        }
        return null;
    }

    /**
     * Processes frames waiting on the interfaces' input queues, at most {@link #POLL_BUDGET} per interface;
     * returns how many it processed.
     */
    public int poll() {
        int done = 0;
        for (int n = 0; n < interfaces.size(); n++) { // indexed: no iterator per poll
            NetworkInterface ifp = interfaces.get(n);
            for (int i = 0; i < POLL_BUDGET; i++) {
                Mbuf m = ifp.inputQueue().dequeue();
                if (m == null) {
                    break;
                }
                input(ifp, m);
                done++;
            }
        }
        return done;
    }

    private void input(NetworkInterface ifp, Mbuf m) {
        if (ifp.linkHeaderLength() != 0) {
            ethernet.input(ifp, m);
        } else if (m.length() > 0 && (m.byteAt(0) & 0xf0) == 0x40) {
            ipv4.input(ifp, m);
        } else if (m.length() > 0 && (m.byteAt(0) & 0xf0) == 0x60) {
            ipv6.input(ifp, m);
        } else {
            ifp.counters().increment(InterfaceCounter.UNKNOWN_PROTOCOL);
            m.free();
        }
    }

    /** Every counter of the host, as {@code netstat -s} prints them (zero counters left out). */
    public String netstat() {
        StringBuilder out = new StringBuilder();
        for (Counters<?> group : counters()) {
            out.append(group);
        }
        return out.toString();
    }

    /**
     * Every group of counters of the host, in {@link #netstat()} order: each interface's, then IPv4,
     * reassembly, ICMP, UDP, ARP, IPv6, its reassembly, ICMPv6 and neighbour discovery.
     */
    public List<Counters<?>> counters() {
        List<Counters<?>> groups = new ArrayList<>();
        for (NetworkInterface ifp : interfaces) {
            groups.add(ifp.counters());
        }
        groups.addAll(List.of(ipv4.counters(), ipv4.reassembly().counters(), icmp.counters(), udp.counters(),
                tcp.counters(),
                arp.counters(), ipv6.counters(), ipv6.reassembly().counters(), ipv6.icmpv6().counters(),
                ipv6.nd().counters()));
        return groups;
    }

    /**
     * Frees everything the host holds: TCP connections (reset) and listeners, queued frames, ARP hold
     * queues, reassembly queues. TCP goes first: the resets it sends to the host itself over {@code lo0}
     * land in an input queue that is purged next.
     */
    @Override
    public void close() {
        tcp.close();
        for (NetworkInterface ifp : interfaces) {
            ifp.inputQueue().purge();
        }
        arp.flush();
        ipv4.reassembly().close();
        ipv6.close();
    }

    @Override
    public String toString() {
        return "Host[" + name + ", " + interfaces + "]";
    }
}
