package org.jmbuf.net;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufOwner;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.wire.IcmpMessage;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;

/**
 * IPv4 reassembly ({@code ip_reass}, RFC 791 §3.2), hardened against the known attacks.
 *
 * <ul>
 * <li>Any overlap between fragments drops the whole datagram (the FragmentSmack class of attacks; the
 *     IPv4 analogue of RFC 5722). An exact duplicate is dropped alone.</li>
 * <li>A datagram that would exceed 65535 bytes (ping of death) is dropped.</li>
 * <li>Empty fragments, and fragments other than the last whose length is not a multiple of 8, are
 *     dropped; so are tiny fragments (RFC 1858, RFC 3128): a first fragment too short for its whole
 *     transport header, and a TCP fragment at offset 8.</li>
 * <li>A second last fragment that disagrees on the end, or any fragment past the known end, drops the
 *     datagram.</li>
 * <li>Each queue holds at most {@link #MAX_FRAGMENTS_PER_DATAGRAM} fragments, and all queues together at
 *     most {@link #MAX_BYTES} bytes and {@link #MAX_DATAGRAMS} datagrams; beyond that new fragments are
 *     dropped. A fragment is charged at least {@link org.jmbuf.buf.MbufPool#MSIZE} bytes, what it costs
 *     however little it carries.</li>
 * <li>A queue expires after {@link #TIMEOUT}; Time Exceeded (reassembly) is sent only if fragment 0 had
 *     arrived (RFC 792).</li>
 * <li>When the pool runs short, its drain hook frees every queue ({@code ip_drain}).</li>
 * </ul>
 *
 * <p>Fragment payloads are kept as they arrived, trimmed with {@link Mbuf#adj} and joined with
 * {@link Mbuf#cat}; only the reassembled header is rewritten, through {@link Mbuf#ptrRw} (so a first
 * fragment on read-only storage is copied, not written).
 */
public final class Ipv4Reassembly {
    /** How long an incomplete datagram is kept ({@code ipfragttl}: 60 half-seconds). */
    public static final Duration TIMEOUT = Duration.ofSeconds(30);
    /**
     * Fragments per datagram: enough for a 65535-byte datagram cut for a 296-byte MTU, few enough that a
     * stream of tiny fragments cannot make one queue expensive to walk.
     */
    public static final int MAX_FRAGMENTS_PER_DATAGRAM = 256;
    /** Datagrams being reassembled at once ({@code ip_maxfragpackets}). */
    public static final int MAX_DATAGRAMS = 256;
    /** Bytes held in all reassembly queues. */
    public static final int MAX_BYTES = 4 << 20;

    /** Reassembly events and drop reasons. */
    public enum ReassemblyCounter implements Counter {
        OVERLAPS("datagrams dropped for overlapping fragments"),
        DUPLICATES("duplicate fragments dropped"),
        TOO_BIG("datagrams dropped for exceeding 65535 bytes"),
        BAD_FRAGMENT("fragments dropped for an empty or misaligned payload"),
        TINY_FRAGMENT("fragments dropped as tiny-fragment attacks (first fragment without the whole transport"
                + " header, or a TCP fragment at offset 8)"),
        BAD_END("datagrams dropped for conflicting last fragments or data past the end"),
        QUEUE_FULL("fragments dropped because their datagram holds the maximum"),
        LIMIT_REACHED("fragments dropped because the reassembly memory or datagram limit was reached"),
        TIMED_OUT("datagrams dropped when their time ran out"),
        DRAINED("datagrams dropped to free memory for the pool"),
        NO_BUFFERS("datagrams dropped for lack of buffers while reassembling");

        private final String description;

        ReassemblyCounter(String description) {
            this.description = description;
        }

        @Override
        public String description() {
            return description;
        }
    }

    private record Key(Ipv4Address source, Ipv4Address destination, int identification, int protocol) { }

    private final class Datagram {
        final Key key;
        final FragmentList fragments = new FragmentList();
        Timers.Timer timer;

        Datagram(Key key) {
            this.key = key;
        }

        void free() {
            timer.cancel();
            heldBytes -= fragments.freeAll();
        }
    }

    private final Host host;
    private final Counters<ReassemblyCounter> counters = new Counters<>("ip reassembly", ReassemblyCounter.class);
    private final Map<Key, Datagram> queues = new LinkedHashMap<>();
    private final MbufOwner owner;
    private final Runnable drainHook = this::drain;
    private int heldBytes;

    Ipv4Reassembly(Host host) {
        this.host = host;
        this.owner = host.pool().owner("ip", host.name() + ": reassembly queues");
        host.pool().addDrainHook(drainHook);
    }

    public Counters<ReassemblyCounter> counters() {
        return counters;
    }

    /** Datagrams being reassembled now. */
    public int pending() {
        return queues.size();
    }

    /** Bytes held by all queues now. */
    public int heldBytes() {
        return heldBytes;
    }

    /** {@code ip_drain}: frees every queue. */
    public void drain() {
        for (Datagram d : queues.values()) {
            counters.increment(ReassemblyCounter.DRAINED);
            d.free();
        }
        queues.clear();
    }

    /** Frees every queue and leaves the pool's drain hooks, when the host shuts down. */
    void close() {
        for (Datagram d : queues.values()) {
            d.free();
        }
        queues.clear();
        host.pool().removeDrainHook(drainHook);
    }

    /**
     * Takes one fragment (a whole IPv4 packet, header of {@code headerLength} bytes first, consumed) and
     * returns the reassembled datagram when it completes, else null.
     */
    Mbuf input(NetworkInterface ifp, Mbuf m, int headerLength) {
        Ipv4Header ip = Ipv4Header.of(m.ptr(0, headerLength));
        int start = ip.fragmentOffset();
        int length = m.length() - headerLength;
        int end = start + length;
        boolean more = ip.moreFragments();
        Key key = new Key(ip.source(), ip.destination(), ip.identification(), ip.protocol());
        if (length == 0 || more && (length & 7) != 0) {
            counters.increment(ReassemblyCounter.BAD_FRAGMENT);
            m.free();
            return null;
        }
        int protocol = ip.protocol();
        if (start == 0 && more && length < minimumTransportHeader(protocol)
                || start == 8 && protocol == org.jmbuf.wire.IpProtocol.TCP) {
            // RFC 1858 §3 and RFC 3128: a first fragment too short for the transport header, or a TCP
            // fragment at offset 8 that would rewrite the flags a filter saw in the first one.
            counters.increment(ReassemblyCounter.TINY_FRAGMENT);
            m.free();
            return null;
        }
        Datagram d = queues.get(key);
        if (end + headerLength > 0xffff) {
            counters.increment(ReassemblyCounter.TOO_BIG);
            m.free();
            if (d != null) {
                discard(d);
            }
            return null;
        }
        if (d == null) {
            if (queues.size() >= MAX_DATAGRAMS || heldBytes + FragmentList.charge(m) > MAX_BYTES) {
                counters.increment(ReassemblyCounter.LIMIT_REACHED);
                m.free();
                return null;
            }
            d = new Datagram(key);
            Datagram expiring = d;
            d.timer = host.timers().schedule(TIMEOUT, () -> expire(expiring));
            queues.put(key, d);
        } else if (heldBytes + FragmentList.charge(m) > MAX_BYTES) {
            counters.increment(ReassemblyCounter.LIMIT_REACHED);
            m.free();
            return null;
        }
        if (!d.fragments.acceptEnd(end, more)) {
            counters.increment(ReassemblyCounter.BAD_END);
            m.free();
            discard(d);
            return null;
        }
        int index = d.fragments.place(start, end);
        if (index == FragmentList.DUPLICATE) {
            counters.increment(ReassemblyCounter.DUPLICATES);
            m.free();
            return null;
        }
        if (index == FragmentList.OVERLAP) {
            counters.increment(ReassemblyCounter.OVERLAPS);
            m.free();
            discard(d);
            return null;
        }
        if (d.fragments.size() >= MAX_FRAGMENTS_PER_DATAGRAM) {
            counters.increment(ReassemblyCounter.QUEUE_FULL);
            m.free();
            return null;
        }
        if (start != 0) {
            m.adj(headerLength);
        }
        m.claim(owner);
        heldBytes += d.fragments.add(index, start, end, m);
        return complete(d);
    }

    /** The smallest transport header a first fragment must hold whole (RFC 1858 §3.2): 0 if unknown. */
    private static int minimumTransportHeader(int protocol) {
        return switch (protocol) {
            case org.jmbuf.wire.IpProtocol.TCP -> 20;
            case org.jmbuf.wire.IpProtocol.UDP, org.jmbuf.wire.IpProtocol.ICMP -> 8;
            default -> 0;
        };
    }

    private Mbuf complete(Datagram d) {
        if (!d.fragments.isComplete()) {
            return null;
        }
        Mbuf first = d.fragments.first();
        int headerLength = (first.byteAt(0) & 0xf) * 4;
        // Out of the queues before anything can allocate: an allocation may run the drain hook.
        queues.remove(d.key);
        if (headerLength + d.fragments.end() > 0xffff) {
            counters.increment(ReassemblyCounter.TOO_BIG); // fragment 0's options push it past 65535
            d.free();
            return null;
        }
        try {
            Ipv4Header header = Ipv4Header.of(first.ptrRw(0, headerLength));
            header.setTotalLength(headerLength + d.fragments.end());
            header.setFlagsAndFragmentOffset(header.flagsAndFragmentOffset() & Ipv4Header.DONT_FRAGMENT);
            header.fillChecksum();
        } catch (NoBufferSpaceException e) {
            counters.increment(ReassemblyCounter.NO_BUFFERS);
            d.free();
            return null;
        }
        d.timer.cancel();
        for (Mbuf next : d.fragments.rest()) {
            first.cat(next);
        }
        heldBytes -= d.fragments.release();
        first.claim(host.pool().unknownOwner(org.jmbuf.buf.MbufType.DATA));
        return first;
    }

    private void discard(Datagram d) {
        queues.remove(d.key);
        d.free();
    }

    private void expire(Datagram d) {
        if (queues.get(d.key) != d) {
            return;
        }
        counters.increment(ReassemblyCounter.TIMED_OUT);
        queues.remove(d.key);
        if (d.fragments.hasFirst()) {
            host.icmp().error(d.fragments.first(), IcmpMessage.TIME_EXCEEDED,
                    IcmpMessage.TIME_EXCEEDED_REASSEMBLY, 0);
        }
        d.free();
    }
}
