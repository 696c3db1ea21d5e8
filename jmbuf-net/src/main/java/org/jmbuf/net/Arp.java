package org.jmbuf.net;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufQueue;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.wire.ArpPacket;
import org.jmbuf.wire.EtherType;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.MacAddress;

/**
 * ARP (RFC 826, with RFC 1122 §2.3.2.1 and §2.3.2.2): resolves next hops on Ethernet interfaces, holds
 * packets while a request is outstanding, answers requests for the interface's addresses, and forgets
 * entries after a while ({@code if_arp.c}).
 *
 * <p>An entry is created by a resolution that has no answer yet (incomplete, with up to
 * {@link #HOLD_LIMIT} packets held) or by a packet addressed to us from that neighbour. An incomplete
 * entry is asked again every second up to {@link #MAX_TRIES} times, then its packets are dropped and
 * counted and the neighbour is considered down for {@link #DOWN_TIME}. A resolved entry lives for
 * {@link #KEEP_TIME}.
 */
public final class Arp {
    /** Packets held per incomplete entry. */
    public static final int HOLD_LIMIT = 16;
    /** Requests sent before giving up ({@code arp_maxtries}). */
    public static final int MAX_TRIES = 5;
    /** Time between requests. */
    public static final Duration RETRY_INTERVAL = Duration.ofSeconds(1);
    /** How long a resolved entry is used ({@code arpt_keep}). */
    public static final Duration KEEP_TIME = Duration.ofMinutes(20);
    /** How long a neighbour that never answered is considered down ({@code arpt_down}). */
    public static final Duration DOWN_TIME = Duration.ofSeconds(20);

    /** ARP events and drops ({@code arpstat}). */
    public enum ArpCounter implements Counter {
        RECEIVED("ARP packets received"),
        TOO_SHORT("packets too short"),
        UNSUPPORTED("packets not Ethernet/IPv4 or of an unknown operation"),
        FROM_OURSELVES("packets sent by our own link-layer address"),
        DUPLICATE_ADDRESS("packets from another host using one of our addresses"),
        BAD_SENDER("packets with a broadcast or multicast sender"),
        REQUESTS_RECEIVED("requests for our addresses received"),
        REPLIES_SENT("replies sent"),
        REQUESTS_SENT("requests sent"),
        REPLIES_RECEIVED("replies received"),
        HELD("packets held awaiting resolution"),
        HOLD_DROPPED("held packets dropped because the hold queue was full"),
        TIMEOUT_DROPPED("held packets dropped because the neighbour did not answer"),
        DOWN_DROPPED("packets dropped because the neighbour is down"),
        NO_BUFFERS("requests or replies not sent for lack of buffers");

        private final String description;

        ArpCounter(String description) {
            this.description = description;
        }

        @Override
        public String description() {
            return description;
        }
    }

    private enum State { INCOMPLETE, RESOLVED, DOWN }

    private static final class Entry {
        final NetworkInterface ifp;
        final Ipv4Address address;
        State state = State.INCOMPLETE;
        MacAddress mac;
        int tries;
        final MbufQueue hold = new MbufQueue(HOLD_LIMIT);
        Timers.Timer timer;

        Entry(NetworkInterface ifp, Ipv4Address address) {
            this.ifp = ifp;
            this.address = address;
        }
    }

    private record Key(int ifIndex, Ipv4Address address) { }

    private final Host host;
    private final Map<Key, Entry> table = new HashMap<>();
    /**
     * The entry the last packet was resolved through, tried before the table so that a stream of packets to
     * one neighbour makes no key (BSD finds it through the route's {@code rt_llinfo}); null after a removal.
     */
    private Entry last;
    private final Counters<ArpCounter> counters = new Counters<>("arp", ArpCounter.class);
    private final ArpPacket view = new ArpPacket();
    private final org.jmbuf.buf.MbufOwner holdOwner;

    Arp(Host host) {
        this.host = host;
        this.holdOwner = host.pool().owner("arp", host.name() + ": hold queues");
    }

    public Counters<ArpCounter> counters() {
        return counters;
    }

    /** The resolved link-layer address of {@code address} on {@code ifp}, or null. */
    public MacAddress lookup(NetworkInterface ifp, Ipv4Address address) {
        Entry e = table.get(new Key(ifp.index(), address));
        return e != null && e.state == State.RESOLVED ? e.mac : null;
    }

    /** Drops every entry, freeing held packets (an interface went down, or the pool is short). */
    public void flush() {
        for (Entry e : table.values()) {
            if (e.timer != null) {
                e.timer.cancel();
            }
            e.hold.purge();
        }
        table.clear();
        last = null;
    }

    /** Removes the entry for {@code e}'s interface and address (its time is up). */
    private void forget(Entry e) {
        table.remove(new Key(e.ifp.index(), e.address));
        last = null;
    }

    /**
     * {@code arpresolve}: sends {@code m} (an IPv4 packet) to {@code nextHop} on {@code ifp}, now if its
     * link-layer address is known, else once it is. Consumes {@code m}.
     */
    void resolveAndSend(NetworkInterface ifp, Ipv4Address nextHop, Mbuf m) {
        if (host.ipv4().isBroadcast(ifp, nextHop.bits())) {
            host.ethernet().output(ifp, m, MacAddress.BROADCAST, EtherType.IPV4);
            return;
        }
        if (nextHop.isMulticast()) {
            host.ethernet().output(ifp, m, MacAddress.ofMulticast(nextHop), EtherType.IPV4);
            return;
        }
        Entry e = last != null && last.ifp == ifp && last.address.equals(nextHop) ? last
                : table.get(new Key(ifp.index(), nextHop));
        if (e != null) {
            last = e;
        }
        if (e != null && e.state == State.RESOLVED) {
            host.ethernet().output(ifp, m, e.mac, EtherType.IPV4);
            return;
        }
        if (e != null && e.state == State.DOWN) {
            counters.increment(ArpCounter.DOWN_DROPPED);
            m.free();
            return;
        }
        if (e == null) {
            e = new Entry(ifp, nextHop);
            table.put(new Key(ifp.index(), nextHop), e);
            request(e);
        }
        m.claim(holdOwner);
        if (e.hold.enqueue(m)) {
            counters.increment(ArpCounter.HELD);
        } else {
            counters.increment(ArpCounter.HOLD_DROPPED);
        }
    }

    private void request(Entry e) {
        if (e.tries >= MAX_TRIES) {
            counters.add(ArpCounter.TIMEOUT_DROPPED, e.hold.purge());
            e.state = State.DOWN;
            Entry down = e;
            e.timer = host.timers().schedule(DOWN_TIME, () -> forget(down));
            return;
        }
        e.tries++;
        Ipv4Address source = sourceFor(e.ifp, e.address);
        if (source != null) {
            send(e.ifp, ArpPacket.REQUEST, source, MacAddress.ZERO, e.address, MacAddress.BROADCAST);
            counters.increment(ArpCounter.REQUESTS_SENT);
        }
        Entry pending = e;
        e.timer = host.timers().schedule(RETRY_INTERVAL, () -> request(pending));
    }

    private static Ipv4Address sourceFor(NetworkInterface ifp, Ipv4Address target) {
        Ipv4Address any = null;
        for (NetworkInterface.Ipv4Assignment a : ifp.ipv4Addresses()) {
            if (a.isOnLink(target)) {
                return a.address();
            }
            if (any == null) {
                any = a.address();
            }
        }
        return any;
    }

    /** {@code in_arpinput}: consumes {@code m}, an ARP packet without its link header. */
    void input(NetworkInterface ifp, Mbuf m) {
        try (m) {
            counters.increment(ArpCounter.RECEIVED);
            if (m.length() < ArpPacket.MIN_LENGTH) {
                counters.increment(ArpCounter.TOO_SHORT);
                return;
            }
            ArpPacket arp;
            try {
                arp = view.wrap(m.ptr(0, Math.min(m.length(), ArpPacket.ETHERNET_IPV4_LENGTH)));
            } catch (org.jmbuf.wire.MalformedPacketException e) {
                counters.increment(ArpCounter.TOO_SHORT);
                return;
            }
            if (!arp.isEthernetIpv4()
                    || arp.operation() != ArpPacket.REQUEST && arp.operation() != ArpPacket.REPLY) {
                counters.increment(ArpCounter.UNSUPPORTED);
                return;
            }
            MacAddress senderMac = arp.senderMac();
            Ipv4Address senderIp = arp.senderIp();
            Ipv4Address targetIp = arp.targetIp();
            int operation = arp.operation();
            if (senderMac.equals(ifp.linkAddress())) {
                counters.increment(ArpCounter.FROM_OURSELVES);
                return;
            }
            if (!senderMac.isUnicast()) {
                counters.increment(ArpCounter.BAD_SENDER);
                return;
            }
            if (ifp.hasIpv4(senderIp)) {
                counters.increment(ArpCounter.DUPLICATE_ADDRESS);
                return;
            }
            boolean forUs = ifp.hasIpv4(targetIp);
            Key key = new Key(ifp.index(), senderIp);
            Entry e = table.get(key);
            // RFC 826: update an existing entry; create one only if the packet is addressed to us.
            if (e != null || forUs) {
                if (e == null) {
                    e = new Entry(ifp, senderIp);
                    table.put(key, e);
                }
                learn(e, senderMac);
            }
            if (operation == ArpPacket.REPLY) {
                counters.increment(ArpCounter.REPLIES_RECEIVED);
            } else if (forUs) {
                counters.increment(ArpCounter.REQUESTS_RECEIVED);
                send(ifp, ArpPacket.REPLY, targetIp, senderMac, senderIp, senderMac);
                counters.increment(ArpCounter.REPLIES_SENT);
            }
        }
    }

    private void learn(Entry e, MacAddress mac) {
        if (e.timer != null) {
            e.timer.cancel();
        }
        e.mac = mac;
        e.state = State.RESOLVED;
        e.tries = 0;
        Entry entry = e;
        e.timer = host.timers().schedule(KEEP_TIME, () -> forget(entry));
        Mbuf held;
        while ((held = e.hold.dequeue()) != null) {
            host.ethernet().output(e.ifp, held, mac, EtherType.IPV4);
        }
    }

    private void send(NetworkInterface ifp, int operation, Ipv4Address senderIp, MacAddress targetMac,
            Ipv4Address targetIp, MacAddress linkDestination) {
        Mbuf m;
        try {
            m = OutputBuffers.allocate(host.pool(), ArpPacket.ETHERNET_IPV4_LENGTH);
            m.copyBack(0, new byte[ArpPacket.ETHERNET_IPV4_LENGTH]);
        } catch (NoBufferSpaceException e) {
            counters.increment(ArpCounter.NO_BUFFERS);
            return;
        }
        ArpPacket arp = view.wrap(m.ptrRw(0, ArpPacket.ETHERNET_IPV4_LENGTH));
        arp.setEthernetIpv4(operation);
        arp.setSenderMac(ifp.linkAddress());
        arp.setSenderIp(senderIp);
        arp.setTargetMac(targetMac);
        arp.setTargetIp(targetIp);
        host.ethernet().output(ifp, m, linkDestination, EtherType.ARP);
    }
}
