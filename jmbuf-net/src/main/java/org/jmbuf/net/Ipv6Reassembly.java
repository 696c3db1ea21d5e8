package org.jmbuf.net;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufOwner;
import org.jmbuf.buf.MbufType;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.wire.Bytes;
import org.jmbuf.wire.Icmpv6Message;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.Ipv6FragmentHeader;
import org.jmbuf.wire.Ipv6Header;

/**
 * IPv6 reassembly ({@code frag6.c}, RFC 8200 §4.5), hardened.
 *
 * <ul>
 * <li>Atomic fragments (offset 0, M clear) are processed as whole packets, without a queue
 *     (RFC 6946): the Fragment header is skipped and the chain goes on.</li>
 * <li>A fragment with M set whose payload is not a multiple of 8: Parameter Problem code 0 pointing at
 *     the Payload Length (RFC 8200 §4.5).</li>
 * <li>A fragment that would put the packet past 65535 bytes of payload: Parameter Problem code 0 pointing
 *     at the Fragment Offset field.</li>
 * <li>A first fragment whose header chain does not reach and hold the upper-layer header: dropped with
 *     Parameter Problem code 3, pointer 0 (RFC 7112 §5).</li>
 * <li>Any overlap between fragments drops the whole packet (RFC 5722); an exact duplicate is dropped alone
 *     (allowed by RFC 5722 §4). Conflicting last fragments or data past the end drop the packet.</li>
 * <li>At most {@link #MAX_FRAGMENTS_PER_PACKET} fragments per queue, {@link #MAX_PACKETS} queues and
 *     {@link #MAX_BYTES} bytes in all ({@code ip6_maxfragpackets}, {@code ip6_maxfrags}).</li>
 * <li>A queue expires after {@link #TIMEOUT}; Time Exceeded code 1 is sent only if fragment 0 arrived
 *     (RFC 8200 §4.5).</li>
 * <li>When the pool runs short its drain hook frees every queue ({@code frag6_drain}).</li>
 * </ul>
 *
 * <p>Queues are keyed by source, destination (zones embedded, so equal link-local addresses on two links
 * differ) and identification. The first fragment is kept whole; later ones are trimmed to their payload
 * with {@link Mbuf#adj}. On completion the Fragment header is cut out ({@link Mbuf#split},
 * {@link Mbuf#cat}) and the Payload Length and the previous Next Header are rewritten through
 * {@link Mbuf#ptrRw}, so fragments on read-only storage are copied, not written.
 */
public final class Ipv6Reassembly {
    /** How long an incomplete packet is kept ({@code IPV6_FRAGTTL}: 60 seconds, RFC 8200 §4.5). */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** Fragments per packet. */
    public static final int MAX_FRAGMENTS_PER_PACKET = 64;
    /** Packets being reassembled at once. */
    public static final int MAX_PACKETS = 256;
    /** Bytes held in all queues. */
    public static final int MAX_BYTES = 4 << 20;
    /**
     * Parameter Problem code 3: IPv6 First Fragment has incomplete IPv6 Header Chain (RFC 7112 §5).
     */
    public static final int PARAMETER_PROBLEM_INCOMPLETE_CHAIN = 3;

    /** Reassembly events and drop reasons. */
    public enum ReassemblyCounter implements Counter {
        TRUNCATED("fragments too short for their Fragment header"),
        BAD_LENGTH("fragments with M set whose payload is not a multiple of 8"),
        EMPTY("empty fragments with M set"),
        TOO_BIG("fragments that would make a packet larger than 65535 bytes"),
        INCOMPLETE_CHAIN("first fragments without the whole header chain (RFC 7112)"),
        OVERLAPS("packets dropped for overlapping fragments (RFC 5722)"),
        DUPLICATES("duplicate fragments dropped"),
        BAD_END("packets dropped for conflicting last fragments or data past the end"),
        QUEUE_FULL("fragments dropped because their packet holds the maximum"),
        LIMIT_REACHED("fragments dropped because the reassembly memory or packet limit was reached"),
        TIMED_OUT("packets dropped when their time ran out"),
        DRAINED("packets dropped to free memory for the pool"),
        NO_BUFFERS("packets dropped for lack of buffers while reassembling");

        private final String description;

        ReassemblyCounter(String description) {
            this.description = description;
        }

        @Override
        public String description() {
            return description;
        }
    }

    private record Key(Ipv6Address source, Ipv6Address destination, int identification) { }

    private final class Queue {
        final Key key;
        final FragmentList fragments = new FragmentList();
        /** From fragment 0: the offset of its Fragment header, the Next Header field naming it, and its Next Header. */
        int fragmentHeaderOffset;
        int previousNextHeader;
        int nextHeader;
        Timers.Timer timer;

        Queue(Key key) {
            this.key = key;
        }

        void free() {
            timer.cancel();
            heldBytes -= fragments.freeAll();
        }
    }

    private final Host host;
    private final Ipv6 ipv6;
    private final Counters<ReassemblyCounter> counters = new Counters<>("ip6 reassembly", ReassemblyCounter.class);
    private final Map<Key, Queue> queues = new LinkedHashMap<>();
    private final MbufOwner owner;
    private final Runnable drainHook = this::drain;
    private int heldBytes;

    Ipv6Reassembly(Host host, Ipv6 ipv6) {
        this.host = host;
        this.ipv6 = ipv6;
        this.owner = host.pool().owner("ip6", host.name() + ": reassembly queues");
        host.pool().addDrainHook(drainHook);
    }

    public Counters<ReassemblyCounter> counters() {
        return counters;
    }

    /** Packets being reassembled now. */
    public int pending() {
        return queues.size();
    }

    /** Bytes held by all queues now. */
    public int heldBytes() {
        return heldBytes;
    }

    /** {@code frag6_drain}: frees every queue. */
    public void drain() {
        for (Queue q : queues.values()) {
            counters.increment(ReassemblyCounter.DRAINED);
            q.free();
        }
        queues.clear();
    }

    /** Frees every queue and leaves the pool's drain hooks, when the host shuts down. */
    void close() {
        for (Queue q : queues.values()) {
            q.free();
        }
        queues.clear();
        host.pool().removeDrainHook(drainHook);
    }

    /**
     * {@code frag6_input}: the Fragment header is at {@code in.offset}. Returns the next header to process
     * (an atomic fragment, or a packet just completed, which replaces {@code in.m}), or {@link Ipv6#DONE}
     * if the fragment was queued or dropped.
     */
    int input(Ipv6.Input in) {
        Mbuf m = in.m;
        int offset = in.offset;
        if (offset + Ipv6FragmentHeader.LENGTH > m.length()) {
            return drop(m, ReassemblyCounter.TRUNCATED);
        }
        Ipv6FragmentHeader fh;
        try {
            fh = Ipv6FragmentHeader.of(m.ptr(offset, Ipv6FragmentHeader.LENGTH));
        } catch (NoBufferSpaceException e) {
            return drop(m, ReassemblyCounter.NO_BUFFERS);
        }
        int next = fh.nextHeader();
        int start = fh.fragmentOffset();
        boolean more = fh.moreFragments();
        int identification = fh.identification();
        if (fh.isAtomic()) {
            ipv6.countAtomic(); // RFC 6946: not a fragment of anything
            in.previousNextHeader = offset;
            in.offset = offset + Ipv6FragmentHeader.LENGTH;
            return next;
        }
        int payloadStart = offset + Ipv6FragmentHeader.LENGTH;
        int length = m.length() - payloadStart;
        if (more && (length & 7) != 0) {
            counters.increment(ReassemblyCounter.BAD_LENGTH);
            return error(m, Icmpv6Message.PARAMETER_PROBLEM_HEADER, Ipv6Header.Field.PAYLOAD_LENGTH);
        }
        if (length == 0) {
            return drop(m, ReassemblyCounter.EMPTY);
        }
        int end = start + length;
        if (offset - Ipv6Header.MIN_LENGTH + end > Ipv6.MAX_PAYLOAD) {
            counters.increment(ReassemblyCounter.TOO_BIG);
            return error(m, Icmpv6Message.PARAMETER_PROBLEM_HEADER,
                    offset + Ipv6FragmentHeader.Field.OFFSET_AND_FLAGS);
        }
        if (start == 0 && !reachesUpperLayer(m, payloadStart, next)) {
            counters.increment(ReassemblyCounter.INCOMPLETE_CHAIN);
            return error(m, PARAMETER_PROBLEM_INCOMPLETE_CHAIN, 0);
        }
        Ipv6Header ip = Ipv6Header.of(m.ptr(0, Ipv6Header.MIN_LENGTH));
        Key key = new Key(ip.source(), ip.destination(), identification);
        Queue q = queues.get(key);
        if (q == null) {
            if (queues.size() >= MAX_PACKETS || heldBytes + FragmentList.charge(m) > MAX_BYTES) {
                return drop(m, ReassemblyCounter.LIMIT_REACHED);
            }
            q = new Queue(key);
            Queue expiring = q;
            q.timer = host.timers().schedule(TIMEOUT, () -> expire(expiring));
            queues.put(key, q);
        } else if (heldBytes + FragmentList.charge(m) > MAX_BYTES) {
            return drop(m, ReassemblyCounter.LIMIT_REACHED);
        }
        if (!q.fragments.acceptEnd(end, more)) {
            discard(q);
            return drop(m, ReassemblyCounter.BAD_END);
        }
        int index = q.fragments.place(start, end);
        if (index == FragmentList.DUPLICATE) {
            return drop(m, ReassemblyCounter.DUPLICATES);
        }
        if (index == FragmentList.OVERLAP) {
            discard(q); // RFC 5722: abandon the whole packet
            return drop(m, ReassemblyCounter.OVERLAPS);
        }
        if (q.fragments.size() >= MAX_FRAGMENTS_PER_PACKET) {
            return drop(m, ReassemblyCounter.QUEUE_FULL);
        }
        if (start == 0) {
            q.fragmentHeaderOffset = offset;
            q.previousNextHeader = in.previousNextHeader;
            q.nextHeader = next;
        } else {
            m.adj(payloadStart);
        }
        m.claim(owner);
        heldBytes += q.fragments.add(index, start, end, m);
        Mbuf whole = complete(q);
        if (whole == null) {
            return Ipv6.DONE;
        }
        ipv6.countReassembled();
        in.m = whole;
        in.offset = q.fragmentHeaderOffset;
        in.previousNextHeader = q.previousNextHeader;
        return q.nextHeader;
    }

    /**
     * RFC 7112: whether the headers from {@code offset} (the first being {@code next}) all lie inside the
     * fragment, up to and including the upper-layer header's fixed part.
     */
    static boolean reachesUpperLayer(Mbuf m, int offset, int next) {
        int length = m.length();
        for (int i = 0; i <= Ipv6.MAX_EXTENSION_HEADERS; i++) {
            switch (next) {
                case IpProtocol.HOP_BY_HOP, IpProtocol.IPV6_DESTINATION, IpProtocol.IPV6_ROUTING, 135, 139, 140, 253,
                        254 -> {
                    if (offset + 2 > length) {
                        return false;
                    }
                    int headerLength = (Byte.toUnsignedInt(m.byteAt(offset + 1)) + 1) * 8;
                    if (offset + headerLength > length) {
                        return false;
                    }
                    next = Byte.toUnsignedInt(m.byteAt(offset));
                    offset += headerLength;
                }
                case IpProtocol.AH -> {
                    if (offset + 2 > length) {
                        return false;
                    }
                    int headerLength = (Byte.toUnsignedInt(m.byteAt(offset + 1)) + 2) * 4;
                    if (offset + headerLength > length) {
                        return false;
                    }
                    next = Byte.toUnsignedInt(m.byteAt(offset));
                    offset += headerLength;
                }
                case IpProtocol.IPV6_FRAGMENT -> {
                    if (offset + Ipv6FragmentHeader.LENGTH > length) {
                        return false;
                    }
                    next = Byte.toUnsignedInt(m.byteAt(offset));
                    offset += Ipv6FragmentHeader.LENGTH;
                }
                case IpProtocol.ESP, IpProtocol.IPV6_NO_NEXT -> {
                    return true;
                }
                case IpProtocol.TCP -> {
                    return offset + 20 <= length;
                }
                case IpProtocol.UDP, IpProtocol.ICMPV6 -> {
                    return offset + 8 <= length;
                }
                default -> {
                    return offset < length;
                }
            }
        }
        return false;
    }

    private Mbuf complete(Queue q) {
        if (!q.fragments.isComplete()) {
            return null;
        }
        // Out of the queues before anything can allocate: an allocation may run the drain hook.
        q.timer.cancel();
        queues.remove(q.key);
        Mbuf first = q.fragments.first();
        try {
            // Cut the Fragment header out of the first fragment, then append the others.
            Mbuf rest = first.split(q.fragmentHeaderOffset);
            rest.adj(Ipv6FragmentHeader.LENGTH);
            first.cat(rest);
            Bytes.setU8(first.ptrRw(q.previousNextHeader, 1), 0, q.nextHeader);
        } catch (NoBufferSpaceException e) {
            counters.increment(ReassemblyCounter.NO_BUFFERS);
            discard(q);
            return null;
        }
        for (Mbuf next : q.fragments.rest()) {
            first.cat(next);
        }
        heldBytes -= q.fragments.release();
        try {
            Ipv6Header.of(first.ptrRw(0, Ipv6Header.MIN_LENGTH))
                    .setPayloadLength(first.length() - Ipv6Header.MIN_LENGTH);
        } catch (NoBufferSpaceException e) {
            counters.increment(ReassemblyCounter.NO_BUFFERS);
            first.free();
            return null;
        }
        first.claim(host.pool().unknownOwner(MbufType.DATA));
        return first;
    }

    private void discard(Queue q) {
        queues.remove(q.key);
        q.free();
    }

    private void expire(Queue q) {
        if (queues.get(q.key) != q) {
            return;
        }
        counters.increment(ReassemblyCounter.TIMED_OUT);
        queues.remove(q.key);
        if (q.fragments.hasFirst()) {
            ipv6.icmpv6().error(q.fragments.first(), Icmpv6Message.TIME_EXCEEDED,
                    Icmpv6Message.TIME_EXCEEDED_REASSEMBLY, 0, false);
        }
        q.free();
    }

    private int drop(Mbuf m, ReassemblyCounter reason) {
        counters.increment(reason);
        m.free();
        return Ipv6.DONE;
    }

    private int error(Mbuf m, int code, int pointer) {
        ipv6.icmpv6().error(m, Icmpv6Message.PARAMETER_PROBLEM, code, pointer, false);
        m.free();
        return Ipv6.DONE;
    }
}
