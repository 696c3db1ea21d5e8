package org.jmbuf.net;

import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.buf.PacketFlags;
import org.jmbuf.wire.IcmpMessage;
import org.jmbuf.wire.InternetChecksum;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;

/**
 * ICMP for IPv4 ({@code ip_icmp.c}, RFC 792 and RFC 1122 §3.2.2): answers echo requests and sends
 * error messages, never about an ICMP error, a broadcast or multicast destination, a non-first
 * fragment, or a source that is not a unicast address; errors are rate limited
 * ({@code icmperrppslim}).
 */
public final class Icmp {
    /** Error messages allowed per second. */
    public static final int ERRORS_PER_SECOND = 100;
    /** Bytes of the offending datagram's payload an error carries after its header (RFC 792). */
    public static final int RETURNED_PAYLOAD = 8;

    /** ICMP events and drop reasons ({@code struct icmpstat}). */
    public enum IcmpCounter implements Counter {
        RECEIVED("messages received"),
        TOO_SHORT("messages shorter than 8 bytes"),
        BAD_CHECKSUM("messages with a bad checksum"),
        ECHO_REQUESTS("echo requests received"),
        ECHO_REPLIES_SENT("echo replies sent"),
        BROADCAST_ECHO_IGNORED("echo requests to a broadcast or multicast address ignored"),
        ECHO_REPLIES_RECEIVED("echo replies received"),
        ERRORS_RECEIVED("error messages received"),
        OTHER_RECEIVED("messages of other types received"),
        ERRORS_SENT("error messages sent"),
        ERROR_ABOUT_ERROR("errors not sent because the offending packet was an ICMP error"),
        ERROR_TO_BROADCAST("errors not sent because the offending packet was broadcast or multicast"),
        ERROR_ABOUT_FRAGMENT("errors not sent because the offending packet was a non-first fragment"),
        ERROR_BAD_SOURCE("errors not sent because the offending packet's source was not unicast"),
        RATE_LIMITED("errors not sent because of the rate limit"),
        NO_BUFFERS("messages not received or sent for lack of buffers");

        private final String description;

        IcmpCounter(String description) {
            this.description = description;
        }

        @Override
        public String description() {
            return description;
        }
    }

    /** Receives the echo replies and errors that reach this host (a ping program's socket). */
    @FunctionalInterface
    public interface Listener {
        /**
         * A message for this host: {@code message} holds the ICMP message (header first); it is only
         * valid during the call and must not be freed.
         */
        void received(Ipv4Address source, Mbuf message);
    }

    /**
     * Sees every ICMP message delivered to this host that is not answered by the stack itself (echo replies
     * and errors) as the whole IPv4 packet, header and options included: a raw ICMP socket, as
     * {@code ping -R} uses to print the recorded route.
     */
    @FunctionalInterface
    public interface RawListener {
        /**
         * {@code packet} holds the IPv4 packet, the ICMP message at {@code offset}; it is read-only here,
         * only valid during the call, and must not be freed.
         */
        void received(Mbuf packet, int offset);
    }

    private final Host host;
    private final Counters<IcmpCounter> counters = new Counters<>("icmp", IcmpCounter.class);
    private final IcmpMessage view = new IcmpMessage();
    private final Ipv4Header ipView = new Ipv4Header();
    private Listener listener;
    private RawListener rawListener;
    private final RateLimiter errorLimiter;

    Icmp(Host host) {
        this.host = host;
        this.errorLimiter = new RateLimiter(host.timers().clock(), ERRORS_PER_SECOND);
    }

    public Counters<IcmpCounter> counters() {
        return counters;
    }

    /** Sets who hears echo replies and errors; null for nobody. */
    public void setListener(Listener listener) {
        this.listener = listener;
    }

    /** Sets who sees whole packets of echo replies and errors; null for nobody. */
    public void setRawListener(RawListener rawListener) {
        this.rawListener = rawListener;
    }

    /** {@code icmp_input}: consumes {@code m}, an IPv4 packet whose ICMP message starts at {@code offset}. */
    void input(NetworkInterface ifp, Mbuf m, int offset) {
        try (m) {
            counters.increment(IcmpCounter.RECEIVED);
            int length = m.length() - offset;
            if (length < IcmpMessage.HEADER_LENGTH) {
                counters.increment(IcmpCounter.TOO_SHORT);
                return;
            }
            if (InternetChecksum.fold(InternetChecksum.sum(m, offset, length)) != 0xffff) {
                counters.increment(IcmpCounter.BAD_CHECKSUM);
                return;
            }
            IcmpMessage icmp;
            Ipv4Header ip;
            try {
                icmp = view.wrap(m.ptr(offset, IcmpMessage.HEADER_LENGTH));
                ip = ipView.wrap(m.ptr(0, offset));
            } catch (NoBufferSpaceException e) {
                counters.increment(IcmpCounter.NO_BUFFERS);
                return;
            }
            int type = icmp.type();
            icmp = view.wrap(m.ptr(offset, IcmpMessage.HEADER_LENGTH)); // ptr of the IP header may have moved it
            Ipv4Address source = ip.source();
            Ipv4Address destination = ip.destination();
            if (type == IcmpMessage.ECHO_REQUEST) {
                counters.increment(IcmpCounter.ECHO_REQUESTS);
                if (destination.isMulticast() || host.ipv4().isBroadcast(ifp, destination.bits())) {
                    counters.increment(IcmpCounter.BROADCAST_ECHO_IGNORED);
                    return;
                }
                reflectEcho(m, offset, length, ip, source, destination);
                return;
            }
            if (type == IcmpMessage.ECHO_REPLY) {
                counters.increment(IcmpCounter.ECHO_REPLIES_RECEIVED);
            } else if (IcmpMessage.isError(type)) {
                counters.increment(IcmpCounter.ERRORS_RECEIVED);
            } else {
                counters.increment(IcmpCounter.OTHER_RECEIVED);
            }
            if (rawListener != null) {
                rawListener.received(m, offset);
            }
            if (listener != null) {
                try (Mbuf message = m.copy(offset, length)) {
                    listener.received(source, message);
                } catch (NoBufferSpaceException e) {
                    counters.increment(IcmpCounter.NO_BUFFERS);
                }
            }
        }
    }

    /** {@code icmp_reflect}: turns the request into a reply in place (copy on write) and sends it back. */
    private void reflectEcho(Mbuf m, int offset, int length, Ipv4Header request, Ipv4Address requester,
            Ipv4Address requested) {
        byte[] options = NO_OPTIONS;
        Ipv4Address replyTo = requester;
        if (offset > Ipv4Header.MIN_LENGTH) {
            Ipv4Address[] firstHop = new Ipv4Address[1];
            options = Ipv4Options.forReply(request, requester, firstHop);
            if (firstHop[0] != null) {
                replyTo = firstHop[0];
            }
            recordReceipt(options, requested);
        }
        Mbuf reply;
        try {
            reply = m.copy(offset, length); // shares storage; ptrRw below copies only the header it writes
            IcmpMessage icmp = view.wrap(reply.ptrRw(0, IcmpMessage.HEADER_LENGTH));
            icmp.setType(IcmpMessage.ECHO_REPLY);
            icmp.setChecksum(0);
            int checksum = InternetChecksum.finish(InternetChecksum.sum(reply, 0, length));
            view.wrap(reply.ptrRw(0, IcmpMessage.HEADER_LENGTH)).setChecksum(checksum);
        } catch (NoBufferSpaceException e) {
            counters.increment(IcmpCounter.NO_BUFFERS);
            return;
        }
        counters.increment(IcmpCounter.ECHO_REPLIES_SENT);
        host.ipv4().output(reply, requested, replyTo, IpProtocol.ICMP, Ipv4.DEFAULT_TTL, false, options);
    }

    private static final byte[] NO_OPTIONS = new byte[0];

    /** Records this host's arrival entry (Record Route, Timestamp) in the options an echo reply carries back. */
    private void recordReceipt(byte[] options, Ipv4Address us) {
        if (options.length == 0) {
            return;
        }
        byte[] header = new byte[Ipv4Header.MIN_LENGTH + options.length];
        System.arraycopy(options, 0, header, Ipv4Header.MIN_LENGTH, options.length);
        java.lang.foreign.MemorySegment bytes = java.lang.foreign.MemorySegment.ofArray(header);
        new Ipv4Header().initialize(bytes).setVersionAndHeaderLength(header.length);
        Ipv4Options.record(bytes, us, host.ipv4().wallClockMillisOfDay());
        System.arraycopy(header, Ipv4Header.MIN_LENGTH, options, 0, options.length);
    }

    /**
     * Sends an echo request with {@code payload} to {@code destination}; what comes back reaches the
     * {@link #setListener listener}.
     */
    public Ipv4.OutputResult sendEcho(Ipv4Address destination, int identifier, int sequence, byte[] payload) {
        return sendEcho(destination, identifier, sequence, payload, Ipv4.DEFAULT_TTL, NO_OPTIONS);
    }

    /**
     * Sends an echo request with a chosen TTL and IP options ({@code ping -t}, {@code ping -R}).
     *
     * @param options IPv4 options, a multiple of 4 bytes and at most 40 (for example a Record Route
     *                option made by {@link #recordRouteOption(int)})
     * @throws IllegalArgumentException if the options are not a multiple of 4 or longer than 40 bytes
     */
    public Ipv4.OutputResult sendEcho(Ipv4Address destination, int identifier, int sequence, byte[] payload, int ttl,
            byte[] options) {
        if (options.length % 4 != 0 || options.length > Ipv4Header.MAX_LENGTH - Ipv4Header.MIN_LENGTH) {
            throw new IllegalArgumentException("IPv4 options must be a multiple of 4 bytes, at most 40: "
                    + options.length);
        }
        Mbuf m;
        try {
            m = OutputBuffers.allocate(host.pool(), IcmpMessage.HEADER_LENGTH + payload.length);
            m.copyBack(0, new byte[IcmpMessage.HEADER_LENGTH]);
            m.copyBack(IcmpMessage.HEADER_LENGTH, payload);
            IcmpMessage icmp = view.wrap(m.ptrRw(0, IcmpMessage.HEADER_LENGTH));
            icmp.setType(IcmpMessage.ECHO_REQUEST).setCode(0).setIdentifier(identifier).setSequence(sequence);
            int checksum = InternetChecksum.finish(InternetChecksum.sum(m, 0, m.length()));
            view.wrap(m.ptrRw(0, IcmpMessage.HEADER_LENGTH)).setChecksum(checksum);
        } catch (NoBufferSpaceException e) {
            counters.increment(IcmpCounter.NO_BUFFERS);
            return Ipv4.OutputResult.NO_BUFFERS;
        }
        return host.ipv4().output(m, null, destination, IpProtocol.ICMP, ttl, false, options);
    }

    /**
     * An empty Record Route option with room for {@code slots} addresses (1 to 9), padded to a multiple of
     * 4 bytes, as {@code ping -R} sends.
     */
    public static byte[] recordRouteOption(int slots) {
        if (slots < 1 || slots > 9) {
            throw new IllegalArgumentException("a Record Route option holds 1 to 9 addresses, not " + slots);
        }
        int length = 3 + 4 * slots;
        byte[] option = new byte[(length + 3) & ~3];
        option[0] = (byte) org.jmbuf.wire.Ipv4OptionCursor.RECORD_ROUTE;
        option[1] = (byte) length;
        option[2] = 4;
        return option;
    }

    /**
     * {@code icmp_error}: sends an error of {@code type} and {@code code} about {@code offending} (a whole
     * IPv4 packet, header first; not consumed) to its source, unless the rules forbid it.
     *
     * @param extra the second header word's value: the Parameter Problem pointer (in its top byte) or the
     *              next-hop MTU, else 0
     */
    void error(Mbuf offending, int type, int code, int extra) {
        int headerLength = (offending.byteAt(0) & 0xf) * 4;
        Ipv4Header ip = ipView.wrap(offending.ptr(0, headerLength));
        Ipv4Address source = ip.source();
        Ipv4Address destination = ip.destination();
        if (ip.fragmentOffset() != 0) {
            counters.increment(IcmpCounter.ERROR_ABOUT_FRAGMENT);
            return;
        }
        if (offending.isPacket()
                && (offending.packetFlags() & (PacketFlags.LINK_BROADCAST | PacketFlags.LINK_MULTICAST)) != 0) {
            counters.increment(IcmpCounter.ERROR_TO_BROADCAST);
            return;
        }
        if (destination.isMulticast() || destination.isLimitedBroadcast() || isDirectedBroadcastAnywhere(destination)) {
            counters.increment(IcmpCounter.ERROR_TO_BROADCAST);
            return;
        }
        if (source.isAny() || source.isMulticast() || source.isLimitedBroadcast()
                || isDirectedBroadcastAnywhere(source)) {
            counters.increment(IcmpCounter.ERROR_BAD_SOURCE);
            return;
        }
        if (ip.protocol() == IpProtocol.ICMP && offending.length() >= headerLength + 1) {
            int offendingType = Byte.toUnsignedInt(offending.byteAt(headerLength));
            if (IcmpMessage.isError(offendingType) || offending.length() < headerLength + IcmpMessage.HEADER_LENGTH) {
                counters.increment(IcmpCounter.ERROR_ABOUT_ERROR);
                return;
            }
        }
        if (!errorLimiter.tryAcquire()) {
            counters.increment(IcmpCounter.RATE_LIMITED);
            return;
        }
        int quoted = Math.min(offending.length(), headerLength + RETURNED_PAYLOAD);
        Mbuf m;
        try {
            m = OutputBuffers.allocate(host.pool(), IcmpMessage.HEADER_LENGTH + quoted);
            m.copyBack(0, new byte[IcmpMessage.HEADER_LENGTH + quoted]);
            byte[] quote = new byte[quoted];
            offending.copyData(0, quoted, quote, 0);
            m.copyBack(IcmpMessage.HEADER_LENGTH, quote);
            IcmpMessage icmp = view.wrap(m.ptrRw(0, IcmpMessage.HEADER_LENGTH));
            icmp.setType(type).setCode(code).setRestOfHeader(extra).setChecksum(0);
            int checksum = InternetChecksum.finish(InternetChecksum.sum(m, 0, m.length()));
            view.wrap(m.ptrRw(0, IcmpMessage.HEADER_LENGTH)).setChecksum(checksum);
        } catch (NoBufferSpaceException e) {
            counters.increment(IcmpCounter.NO_BUFFERS);
            return;
        }
        counters.increment(IcmpCounter.ERRORS_SENT);
        host.ipv4().output(m, null, source, IpProtocol.ICMP, Ipv4.DEFAULT_TTL, false);
    }

    /** Parameter Problem with a pointer to the offending byte of the header. */
    void parameterProblem(Mbuf offending, int pointer) {
        error(offending, IcmpMessage.PARAMETER_PROBLEM, IcmpMessage.PARAMETER_PROBLEM_POINTER, pointer << 24);
    }

    private boolean isDirectedBroadcastAnywhere(Ipv4Address address) {
        for (NetworkInterface ifp : host.interfaces()) {
            if (host.ipv4().isBroadcast(ifp, address.bits())) {
                return true;
            }
        }
        return false;
    }
}
