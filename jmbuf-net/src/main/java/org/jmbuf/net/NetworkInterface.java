package org.jmbuf.net;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufQueue;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.MacAddress;

/**
 * A network interface ({@code struct ifnet}): a name, an index, an MTU, a link-layer address, an input
 * queue, counters and addresses. A driver (a simulated link, a TAP device, loopback) hands received
 * frames to {@link #receive(Mbuf)} and is handed frames to send through {@link #transmit(Mbuf)}.
 *
 * <p>Ownership: a frame passed to {@link #receive(Mbuf)} or {@link #transmit(Mbuf)} belongs to the callee
 * from then on (it is queued, sent, or freed and counted).
 */
public abstract class NetworkInterface {
    /** The IPv4 address of an interface and its on-link prefix. */
    public record Ipv4Assignment(Ipv4Address address, int prefixLength) {
        /** Whether {@code other} is on this assignment's link. */
        public boolean isOnLink(Ipv4Address other) {
            return other.isIn(address, prefixLength);
        }

        /** The directed broadcast address of the prefix. */
        public Ipv4Address broadcast() {
            return new Ipv4Address(broadcastBits());
        }

        /** The bits of the directed broadcast address of the prefix, without a record. */
        public int broadcastBits() {
            int mask = prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
            return address.bits() | ~mask;
        }
    }

    /** The state of an IPv6 address ({@code IN6_IFF_TENTATIVE} and friends, RFC 4862 §5.4). */
    public enum Ipv6State {
        /** Duplicate address detection is running: not used as a source, packets to it are dropped. */
        TENTATIVE,
        /** Unique on the link, in use. */
        PREFERRED,
        /** Duplicate address detection found another node using it: never used. */
        DUPLICATED
    }

    /**
     * An IPv6 address of an interface, its on-link prefix length and its state. A link-local address is
     * held with the interface index embedded in bytes 2-3, the KAME way ({@link Ipv6Scope}).
     */
    public record Ipv6Assignment(Ipv6Address address, int prefixLength, Ipv6State state) {
        /** Whether {@code other} is on this assignment's prefix. */
        public boolean isOnLink(Ipv6Address other) {
            return other.isIn(address, prefixLength);
        }
    }

    private final String name;
    private final int mtu;
    private final MbufQueue inputQueue;
    private final Counters<InterfaceCounter> counters;
    // immutable, replaced on every change, so the hot paths read them without copying
    private List<Ipv4Assignment> ipv4 = List.of();
    private List<Ipv6Assignment> ipv6 = List.of();
    private int index;
    private Host host;

    protected NetworkInterface(String name, int mtu, int inputQueueLimit) {
        this.name = Objects.requireNonNull(name, "name");
        if (mtu < 68) {
            throw new IllegalArgumentException("MTU " + mtu + " is below the IPv4 minimum of 68");
        }
        this.mtu = mtu;
        this.inputQueue = new MbufQueue(inputQueueLimit);
        this.counters = new Counters<>(name, InterfaceCounter.class);
    }

    /** The interface name, for example {@code "eth0"}. */
    public String name() {
        return name;
    }

    /** The interface index (from 1), assigned when attached to a host; the IPv6 zone of its link. */
    public int index() {
        return index;
    }

    /** The largest IP packet the link carries, link header excluded. */
    public int mtu() {
        return mtu;
    }

    /** The link-layer address, or null for links without one (loopback). */
    public abstract MacAddress linkAddress();

    /** The link-layer header length this interface prepends ({@code if_hdrlen}). */
    public abstract int linkHeaderLength();

    /** The input queue ({@code if_snd}'s counterpart, {@code ipintrq}). */
    public MbufQueue inputQueue() {
        return inputQueue;
    }

    public Counters<InterfaceCounter> counters() {
        return counters;
    }

    /** The host this interface is attached to, or null. */
    public Host host() {
        return host;
    }

    void attach(Host host, int index) {
        if (this.host != null) {
            throw new IllegalStateException(name + " is already attached to " + this.host.name());
        }
        this.host = host;
        this.index = index;
    }

    /** Adds an IPv4 address with its prefix length. */
    public void addIpv4(Ipv4Address address, int prefixLength) {
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " is not in 0..32");
        }
        List<Ipv4Assignment> next = new ArrayList<>(ipv4);
        next.add(new Ipv4Assignment(address, prefixLength));
        ipv4 = List.copyOf(next);
    }

    /** The IPv4 addresses, in the order added; an immutable list. */
    public List<Ipv4Assignment> ipv4Addresses() {
        return ipv4;
    }

    /** Whether {@code address} is one of this interface's IPv4 addresses. */
    public boolean hasIpv4(Ipv4Address address) {
        return hasIpv4(address.bits());
    }

    /** Whether the address {@code bits} is one of this interface's IPv4 addresses; no record needed. */
    boolean hasIpv4(int bits) {
        for (int i = 0; i < ipv4.size(); i++) { // indexed: no iterator on the input path
            if (ipv4.get(i).address().bits() == bits) {
                return true;
            }
        }
        return false;
    }

    /** The IPv6 addresses, in the order added, whatever their state; an immutable list. */
    public List<Ipv6Assignment> ipv6Addresses() {
        return ipv6;
    }

    /** The assignment of {@code address} (zone embedded if link-local), or null. */
    public Ipv6Assignment ipv6Assignment(Ipv6Address address) {
        return ipv6Assignment(address.high(), address.low());
    }

    /** {@link #ipv6Assignment(Ipv6Address)} of the address {@code high}:{@code low}, with no record. */
    Ipv6Assignment ipv6Assignment(long high, long low) {
        for (int i = 0; i < ipv6.size(); i++) { // indexed: no iterator on the input path
            Ipv6Assignment a = ipv6.get(i);
            if (a.address().high() == high && a.address().low() == low) {
                return a;
            }
        }
        return null;
    }

    /** Adds or replaces (same address) an IPv6 assignment; done by {@link NeighborDiscovery}. */
    void setIpv6(Ipv6Assignment assignment) {
        List<Ipv6Assignment> next = new ArrayList<>(ipv6);
        int i = 0;
        while (i < next.size() && !next.get(i).address().equals(assignment.address())) {
            i++;
        }
        if (i < next.size()) {
            next.set(i, assignment);
        } else {
            next.add(assignment);
        }
        ipv6 = List.copyOf(next);
    }

    /** Removes an IPv6 address; returns whether it was there. */
    boolean removeIpv6(Ipv6Address address) {
        List<Ipv6Assignment> next = new ArrayList<>(ipv6);
        boolean removed = next.removeIf(a -> a.address().equals(address));
        ipv6 = List.copyOf(next);
        return removed;
    }

    /**
     * A driver hands over a received frame. It is queued for the host's next poll, or dropped (and
     * freed, and counted) if the queue is full.
     */
    public void receive(Mbuf frame) {
        counters.increment(InterfaceCounter.PACKETS_IN);
        counters.add(InterfaceCounter.BYTES_IN, frame.length());
        if (!inputQueue.enqueue(frame)) {
            counters.increment(InterfaceCounter.INPUT_QUEUE_DROPS);
        }
    }

    /** Sends a complete frame (link header included); the driver owns it from now on. */
    public final void transmit(Mbuf frame) {
        counters.increment(InterfaceCounter.PACKETS_OUT);
        counters.add(InterfaceCounter.BYTES_OUT, frame.length());
        send(frame);
    }

    /** The driver's send routine ({@code if_start}); must free or keep {@code frame}. */
    protected abstract void send(Mbuf frame);

    @Override
    public String toString() {
        return name + "(index " + index + ", mtu " + mtu + (linkAddress() == null ? "" : ", " + linkAddress()) + ")";
    }
}
