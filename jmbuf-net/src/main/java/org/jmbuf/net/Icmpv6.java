package org.jmbuf.net;

import java.lang.foreign.MemorySegment;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.buf.PacketFlags;
import org.jmbuf.wire.Icmpv6Message;
import org.jmbuf.wire.InternetChecksum;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.Ipv6Header;

/**
 * ICMPv6 ({@code icmp6.c}, RFC 4443): checks the checksum over the pseudo header (RFC 8200 §8.1, zones
 * cleared), answers echo requests, hands Neighbor Discovery messages to {@link NeighborDiscovery}, learns
 * path MTUs from Packet Too Big, and sends error messages ({@code icmp6_error}) under the rules of RFC 4443
 * §2.4: never about an ICMPv6 error or a Redirect (e.1, e.2), never about a packet to a multicast
 * destination except Packet Too Big and Parameter Problem code 2 for an option whose action bits are 10
 * (e.3), never to an unspecified or multicast source (e.6), and rate limited (f, {@code icmp6errppslim}).
 */
public final class Icmpv6 {
    /** Error messages allowed per second. */
    public static final int ERRORS_PER_SECOND = 100;
    /** The longest error message: it must fit the minimum MTU with its IPv6 header (RFC 4443 §2.4 (c)). */
    public static final int MAX_ERROR_LENGTH = Ipv6.MINIMUM_MTU - Ipv6Header.MIN_LENGTH;

    /** ICMPv6 events and drop reasons ({@code struct icmp6stat}). */
    public enum Icmpv6Counter implements Counter {
        RECEIVED("messages received"),
        TOO_SHORT("messages shorter than 8 bytes"),
        BAD_CHECKSUM("messages with a bad checksum"),
        ECHO_REQUESTS("echo requests received"),
        BAD_ECHO_SOURCE("echo requests from an unspecified or multicast source ignored"),
        ECHO_REPLIES_SENT("echo replies sent"),
        ECHO_REPLIES_RECEIVED("echo replies received"),
        ERRORS_RECEIVED("error messages received"),
        PACKET_TOO_BIG_RECEIVED("packet too big messages received"),
        ND_RECEIVED("neighbor discovery messages received"),
        OTHER_RECEIVED("messages of other types received"),
        ERRORS_SENT("error messages sent"),
        ERROR_ABOUT_ERROR("errors not sent because the offending packet was an ICMPv6 error or redirect"),
        ERROR_TO_MULTICAST("errors not sent because the offending packet went to a multicast address or came as a"
                + " link-layer multicast or broadcast"),
        ERROR_BAD_SOURCE("errors not sent because the offending packet's source was not unicast"),
        RATE_LIMITED("errors not sent because of the rate limit"),
        NO_BUFFERS("messages not sent for lack of buffers");

        private final String description;

        Icmpv6Counter(String description) {
            this.description = description;
        }

        @Override
        public String description() {
            return description;
        }
    }

    /** Receives the echo replies and errors that reach this host (a ping6 program's socket). */
    @FunctionalInterface
    public interface Listener {
        /**
         * A message for this host: {@code source} as the stack holds it (zone embedded if link-local, see
         * {@link Ipv6Scope#format}); {@code message} holds the ICMPv6 message (header first), is only valid
         * during the call and must not be freed.
         */
        void received(Ipv6Address source, Mbuf message);
    }

    private final Host host;
    private final Ipv6 ipv6;
    private final Counters<Icmpv6Counter> counters = new Counters<>("icmp6", Icmpv6Counter.class);
    private final Icmpv6Message view = new Icmpv6Message();
    private Listener listener;
    private final RateLimiter errorLimiter;

    Icmpv6(Host host, Ipv6 ipv6) {
        this.host = host;
        this.ipv6 = ipv6;
        this.errorLimiter = new RateLimiter(host.timers().clock(), ERRORS_PER_SECOND);
    }

    public Counters<Icmpv6Counter> counters() {
        return counters;
    }

    /** Sets who hears echo replies and errors; null for nobody. */
    public void setListener(Listener listener) {
        this.listener = listener;
    }

    /** {@code icmp6_input}: consumes {@code m}, an IPv6 packet whose ICMPv6 message starts at {@code offset}. */
    void input(NetworkInterface ifp, Mbuf m, int offset) {
        try (m) {
            counters.increment(Icmpv6Counter.RECEIVED);
            int length = m.length() - offset;
            if (length < Icmpv6Message.HEADER_LENGTH) {
                counters.increment(Icmpv6Counter.TOO_SHORT);
                return;
            }
            Ipv6Header ip = Ipv6Header.of(m.ptr(0, Ipv6Header.MIN_LENGTH));
            Ipv6Address source = ip.source();
            Ipv6Address destination = ip.destination();
            long pseudo = InternetChecksum.ipv6PseudoHeader(Ipv6Scope.clear(source), Ipv6Scope.clear(destination),
                    IpProtocol.ICMPV6, length);
            if (InternetChecksum.fold(pseudo + InternetChecksum.sum(m, offset, length)) != 0xffff) {
                counters.increment(Icmpv6Counter.BAD_CHECKSUM);
                return;
            }
            int type = Byte.toUnsignedInt(m.byteAt(offset));
            switch (type) {
                case Icmpv6Message.ECHO_REQUEST -> {
                    counters.increment(Icmpv6Counter.ECHO_REQUESTS);
                    if (source.isUnspecified() || source.isMulticast()) {
                        counters.increment(Icmpv6Counter.BAD_ECHO_SOURCE);
                        return;
                    }
                    reflectEcho(m, offset, length, source, destination);
                    return;
                }
                case Icmpv6Message.ROUTER_SOLICITATION, Icmpv6Message.ROUTER_ADVERTISEMENT,
                        Icmpv6Message.NEIGHBOR_SOLICITATION, Icmpv6Message.NEIGHBOR_ADVERTISEMENT,
                        Icmpv6Message.REDIRECT -> {
                    counters.increment(Icmpv6Counter.ND_RECEIVED);
                    ipv6.nd().input(ifp, m, offset);
                    return;
                }
                case Icmpv6Message.ECHO_REPLY -> counters.increment(Icmpv6Counter.ECHO_REPLIES_RECEIVED);
                case Icmpv6Message.PACKET_TOO_BIG -> {
                    counters.increment(Icmpv6Counter.ERRORS_RECEIVED);
                    counters.increment(Icmpv6Counter.PACKET_TOO_BIG_RECEIVED);
                    if (length >= Icmpv6Message.HEADER_LENGTH + Ipv6Header.MIN_LENGTH) {
                        Icmpv6Message ptb = view.wrap(m.ptr(offset, Icmpv6Message.HEADER_LENGTH));
                        long mtu = ptb.mtu();
                        Ipv6Header quoted = Ipv6Header.of(m.ptr(offset + Icmpv6Message.HEADER_LENGTH,
                                Ipv6Header.MIN_LENGTH));
                        ipv6.packetTooBig(Ipv6Scope.embed(quoted.destination(), ifp.index()), mtu);
                    }
                }
                default -> counters.increment(Icmpv6Message.isError(type) ? Icmpv6Counter.ERRORS_RECEIVED
                        : Icmpv6Counter.OTHER_RECEIVED);
            }
            if (listener != null && (type == Icmpv6Message.ECHO_REPLY || Icmpv6Message.isError(type))) {
                try (Mbuf message = m.copy(offset, length)) {
                    listener.received(source, message);
                } catch (NoBufferSpaceException e) {
                    counters.increment(Icmpv6Counter.NO_BUFFERS);
                }
            }
        }
    }

    /**
     * Turns an echo request into a reply (RFC 4443 §4.2): a copy of the message that shares the request's
     * storage; only its 8-byte header is written, through {@link Mbuf#ptrRw}, so a request on read-only
     * storage is copied there, never written. A request to a multicast group is answered from a unicast
     * address of the interface.
     */
    private void reflectEcho(Mbuf m, int offset, int length, Ipv6Address requester, Ipv6Address requested) {
        Mbuf reply;
        try {
            reply = m.copy(offset, length);
            view.wrap(reply.ptrRw(0, Icmpv6Message.HEADER_LENGTH)).setType(Icmpv6Message.ECHO_REPLY).setCode(0);
        } catch (NoBufferSpaceException e) {
            counters.increment(Icmpv6Counter.NO_BUFFERS);
            return;
        }
        counters.increment(Icmpv6Counter.ECHO_REPLIES_SENT);
        ipv6.output(reply, requested.isMulticast() ? null : requested, requester, IpProtocol.ICMPV6,
                ipv6.defaultHopLimit(), 2);
    }

    /**
     * Sends an echo request with {@code payload} to {@code destination} (zone embedded if scoped: see
     * {@link Ipv6Scope#parse}); what comes back reaches the {@link #setListener listener}.
     */
    public Ipv6.OutputResult sendEcho(Ipv6Address destination, int identifier, int sequence, byte[] payload) {
        Mbuf m;
        try {
            m = host.pool().getPacket();
            m.copyBack(0, new byte[Icmpv6Message.HEADER_LENGTH]);
            m.copyBack(Icmpv6Message.HEADER_LENGTH, payload);
            view.wrap(m.ptrRw(0, Icmpv6Message.HEADER_LENGTH))
                    .setType(Icmpv6Message.ECHO_REQUEST).setCode(0).setIdentifier(identifier).setSequence(sequence);
        } catch (NoBufferSpaceException e) {
            counters.increment(Icmpv6Counter.NO_BUFFERS);
            return Ipv6.OutputResult.NO_BUFFERS;
        }
        return ipv6.output(m, null, destination, IpProtocol.ICMPV6, ipv6.defaultHopLimit(), 2);
    }

    /**
     * {@code icmp6_error}: sends an error of {@code type} and {@code code} about {@code offending} (a whole
     * IPv6 packet as the stack holds it, zones embedded; not consumed) to its source, unless RFC 4443 §2.4
     * forbids it. The quoted packet has its zones cleared and is cut to fit the minimum MTU.
     *
     * @param parameter        the second word: the Parameter Problem pointer or the Packet Too Big MTU
     * @param multicastAllowed whether the error may be sent about a packet to a multicast destination: true
     *                         for Parameter Problem code 2 about an option with action bits 10 (RFC 4443
     *                         §2.4 (e.3)); Packet Too Big is always allowed
     */
    void error(Mbuf offending, int type, int code, long parameter, boolean multicastAllowed) {
        if (offending.length() < Ipv6Header.MIN_LENGTH) {
            return;
        }
        Ipv6Header ip = Ipv6Header.of(offending.ptr(0, Ipv6Header.MIN_LENGTH));
        Ipv6Address source = ip.source();
        Ipv6Address destination = ip.destination();
        boolean linkMulticast = offending.isPacket()
                && (offending.packetFlags() & (PacketFlags.LINK_BROADCAST | PacketFlags.LINK_MULTICAST)) != 0;
        // RFC 4443 §2.4 (e.3) to (e.5): not about a packet to an IPv6 multicast address, nor one sent as a
        // link-layer multicast or broadcast, except Packet Too Big and Parameter Problem code 2.
        if ((destination.isMulticast() || linkMulticast) && type != Icmpv6Message.PACKET_TOO_BIG
                && !multicastAllowed) {
            counters.increment(Icmpv6Counter.ERROR_TO_MULTICAST);
            return;
        }
        if (source.isUnspecified() || source.isMulticast()) {
            counters.increment(Icmpv6Counter.ERROR_BAD_SOURCE);
            return;
        }
        int[] upper = Ipv6.upperLayer(offending);
        if (upper[0] == IpProtocol.ICMPV6 && upper[1] < offending.length()) {
            int offendingType = Byte.toUnsignedInt(offending.byteAt(upper[1]));
            if (Icmpv6Message.isError(offendingType) || offendingType == Icmpv6Message.REDIRECT) {
                counters.increment(Icmpv6Counter.ERROR_ABOUT_ERROR);
                return;
            }
        }
        if (!errorLimiter.tryAcquire()) {
            counters.increment(Icmpv6Counter.RATE_LIMITED);
            return;
        }
        int quoted = Math.min(offending.length(), MAX_ERROR_LENGTH - Icmpv6Message.HEADER_LENGTH);
        byte[] bytes = new byte[Icmpv6Message.HEADER_LENGTH + quoted];
        offending.copyData(0, quoted, bytes, Icmpv6Message.HEADER_LENGTH);
        MemorySegment segment = MemorySegment.ofArray(bytes);
        Ipv6Header quotedHeader = Ipv6Header.of(segment.asSlice(Icmpv6Message.HEADER_LENGTH));
        quotedHeader.setSource(Ipv6Scope.clear(source)).setDestination(Ipv6Scope.clear(destination));
        Icmpv6Message.of(segment).setType(type).setCode(code).setPointer(parameter);
        Mbuf m;
        try {
            m = OutputBuffers.allocate(host.pool(), bytes.length);
            m.copyBack(0, bytes);
        } catch (NoBufferSpaceException e) {
            counters.increment(Icmpv6Counter.NO_BUFFERS);
            return;
        }
        counters.increment(Icmpv6Counter.ERRORS_SENT);
        // RFC 4443 §2.2: from the address the packet was sent to if it is ours, else a selected one.
        Ipv6Address from = !destination.isMulticast() && ipv6.isOurs(destination) ? destination : null;
        ipv6.output(m, from, source, IpProtocol.ICMPV6, ipv6.defaultHopLimit(), 2);
    }

    /** Sends an ICMPv6 message built by the caller (Neighbor Discovery): fills the checksum; consumes {@code m}. */
    Ipv6.OutputResult sendOn(NetworkInterface ifp, Mbuf m, Ipv6Address source, Ipv6Address destination) {
        return ipv6.outputOn(ifp, m, source, destination, IpProtocol.ICMPV6, 255, 2);
    }
}
