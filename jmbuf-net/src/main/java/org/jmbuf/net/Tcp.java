package org.jmbuf.net;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufOwner;
import org.jmbuf.buf.NoBufferSpaceException;
import org.jmbuf.wire.Bytes;
import org.jmbuf.wire.InternetChecksum;
import org.jmbuf.wire.IpAddress;
import org.jmbuf.wire.IpProtocol;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv4Header;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.Ipv6Header;
import org.jmbuf.wire.TcpHeader;
import org.jmbuf.wire.TcpOptionCursor;

/**
 * TCP of one host, over IPv4 and IPv6 ({@code tcp_input.c}'s demultiplexing, {@code tcp_subr.c},
 * {@code tcp_syncache.c}'s cookies; RFC 9293): checks each segment (length, header length, checksum,
 * options, ports, addresses), hands it to its connection or listener, and answers segments for no one
 * with a reset. Connections are {@link TcpConnection}s, listening sockets {@link TcpListener}s.
 *
 * <p>Initial sequence numbers follow RFC 6528 (a 4 µs clock plus a keyed hash of the connection's
 * addresses and ports, HMAC-SHA-256 with a per-host random key). A listener whose half-open backlog is
 * full answers with SYN cookies: the SYN-ACK's sequence number encodes a time counter, the MSS and a
 * keyed hash, and the connection is made only when a valid ACK returns; such connections do without
 * window scaling, SACK and timestamps.
 *
 * <p>Runs on the host's thread; not thread-safe. Segments are checked in place, read-only storage
 * included: input never writes to a received packet, it only trims it ({@link Mbuf#adj}).
 */
public final class Tcp {
    /** TCP events and drop reasons ({@code struct tcpstat}). */
    public enum TcpCounter implements Counter {
        RECEIVED("segments received"),
        TOO_SHORT("segments shorter than the TCP header"),
        BAD_HEADER_LENGTH("segments with a header length outside the packet"),
        BAD_CHECKSUM("segments with a bad checksum"),
        BAD_OPTIONS("segments with malformed options"),
        BAD_ADDRESS("segments to or from a broadcast or multicast address, or port 0"),
        BAD_FLAGS("segments with SYN and FIN, or SYN and RST, together"),
        NO_BUFFERS("segments dropped for lack of buffers"),
        NO_PORT("segments for a closed port (answered with a reset)"),
        SENT("segments sent"),
        DATA_SEGMENTS_SENT("segments sent with data"),
        DATA_BYTES_SENT("bytes of data sent (retransmissions included)"),
        RETRANSMITTED_SEGMENTS("data segments retransmitted"),
        RETRANSMITTED_BYTES("bytes retransmitted"),
        RETRANSMIT_TIMEOUTS("retransmission timeouts"),
        FAST_RETRANSMITS("fast retransmits (three duplicate ACKs or SACK loss detection)"),
        SACK_RECOVERY_EPISODES("loss recovery episodes driven by SACK (RFC 6675)"),
        NEWRENO_PARTIAL_ACKS("partial ACKs in NewReno recovery (RFC 6582)"),
        DUPLICATE_ACKS("duplicate ACKs received"),
        PERSIST_PROBES("zero-window probes sent"),
        KEEPALIVE_PROBES("keep-alive probes sent"),
        KEEPALIVE_DROPS("connections dropped after unanswered keep-alives"),
        TIMEOUT_DROPS("connections dropped after too many retransmissions"),
        DELAYED_ACKS("delayed ACKs sent when their timer ran out"),
        WINDOW_UPDATES("window updates sent"),
        RESETS_SENT("resets sent"),
        RESETS_RECEIVED("resets accepted"),
        CHALLENGE_ACKS("challenge ACKs sent (RFC 5961)"),
        CHALLENGE_ACKS_SUPPRESSED("challenge ACKs not sent: over the rate limit"),
        OUT_OF_WINDOW("segments outside the receive window (ACKed and dropped)"),
        PAWS_DROPS("segments dropped by PAWS (old timestamps)"),
        TIMESTAMP_MISSING("segments without the timestamps the connection agreed on (RFC 7323 §3.2, dropped)"),
        DUPLICATE_DATA_BYTES("bytes received twice"),
        DATA_BYTES_RECEIVED("bytes of data received in order"),
        OUT_OF_ORDER_SEGMENTS("segments received out of order (queued)"),
        REASSEMBLY_OVERFLOW("out-of-order segments dropped: queue full"),
        ACK_TOO_FAR("ACKs for data not yet sent (dropped)"),
        ACK_TOO_OLD("ACKs older than the send window allows (RFC 5961 §5, dropped)"),
        SYN_RECEIVED("SYNs received by listeners"),
        SYN_BACKLOG_FULL("SYNs dropped: listener's SYN backlog full and no cookies"),
        ACCEPT_QUEUE_FULL("connections dropped: listener's accept queue full"),
        SYN_COOKIES_SENT("SYN cookies sent"),
        SYN_COOKIES_ACCEPTED("connections made from valid SYN cookies"),
        SYN_COOKIES_REJECTED("ACKs to a listener with an invalid SYN cookie (answered with a reset)"),
        LISTENER_STRAY_ACKS("ACKs to a listener for no connection, no cookie sent (answered with a reset)"),
        CONNECTS("connections opened actively"),
        ACCEPTS("connections accepted"),
        ESTABLISHED("connections established"),
        CLOSED("connections closed"),
        DROPS("connections dropped (reset, timed out or aborted)"),
        CONNECT_REFUSED("connection attempts refused by a reset");

        private final String description;

        TcpCounter(String description) {
            this.description = description;
        }

        @Override
        public String description() {
            return description;
        }
    }

    /** Identifies a connection: our address and port, the peer's (IPv6 link-local addresses zone-embedded). */
    record ConnectionKey(IpAddress local, int localPort, IpAddress remote, int remotePort) { }

    /** A listening binding: an address (the family's wildcard for all) and a port. */
    record Binding(IpAddress address, int port) { }

    /** The SYN cookies' MSS table (an index of 3 bits goes in the cookie). */
    private static final int[] COOKIE_MSS = {216, 536, 1220, 1360, 1400, 1440, 1460, 8960};
    private static final long COOKIE_PERIOD_NANOS = 64_000_000_000L;
    private static final int EPHEMERAL_FIRST = 49152;

    private final Host host;
    private final TcpSettings settings = new TcpSettings();
    private final Counters<TcpCounter> counters = new Counters<>("tcp", TcpCounter.class);
    private final Map<ConnectionKey, TcpConnection> connections = new HashMap<>();
    private final Map<Binding, TcpListener> listeners = new HashMap<>();
    /** The connection the last segment went to (see {@link #lookup}); null after any change of the table. */
    private TcpConnection last;
    /** The IP header of the segment being input: only its addresses are read. */
    private final HeaderScratch ipHeader = new HeaderScratch(Ipv6Header.MIN_LENGTH);
    /** The TCP header of the segment being input, options included. */
    private final HeaderScratch tcpHeader = new HeaderScratch(TcpHeader.MAX_LENGTH);
    /** The options areas of {@link #tcpHeader}, by length / 4: views made once, so parsing makes none. */
    private final MemorySegment[] optionAreas = areas(tcpHeader.bytes(), TcpHeader.MIN_LENGTH);
    /** A view over {@link #tcpHeader}'s memory, which it re-points at no cost. */
    private final TcpHeader view = new TcpHeader();
    private final TcpHeader outView = new TcpHeader();
    private final TcpOptionCursor cursor = new TcpOptionCursor();
    private final InternetChecksum.ChainSum checksums = new InternetChecksum.ChainSum();
    private final TcpSegment segment = new TcpSegment();
    private final byte[] headerScratch = new byte[TcpHeader.MAX_LENGTH];
    private final MemorySegment headerBytes = MemorySegment.ofArray(headerScratch);
    /** The first {@code 4 * i} bytes of {@link #headerBytes} at {@code i}: what {@link #transmit} copies out. */
    private final MemorySegment[] headerAreas = areas(headerBytes, 0);
    private final Mac mac;
    private final long epoch;
    private final MbufOwner bufferOwner;
    private RateLimiter challengeAcks;
    private int challengeAckRate;
    private int nextEphemeral;

    Tcp(Host host) {
        this.host = host;
        this.epoch = host.timers().clock().nanoTime();
        this.bufferOwner = host.pool().owner("tcp", host.name() + ": TCP send and receive buffers");
        SecureRandom random = new SecureRandom();
        byte[] key = new byte[32];
        random.nextBytes(key);
        try {
            mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        }
        nextEphemeral = EPHEMERAL_FIRST + random.nextInt(65536 - EPHEMERAL_FIRST);
    }

    /** The host's TCP tunables; changes apply to connections opened afterwards. */
    public TcpSettings settings() {
        return settings;
    }

    public Counters<TcpCounter> counters() {
        return counters;
    }

    Host host() {
        return host;
    }

    MbufOwner bufferOwner() {
        return bufferOwner;
    }

    /** The connections the host has, in no particular order (TIME_WAIT included). */
    public List<TcpConnection> connections() {
        return List.copyOf(connections.values());
    }

    // ------------------------------------------------------------------ user requests

    /**
     * {@code PRU_LISTEN}: a listener on {@code port} of {@code address} (the family's wildcard for every
     * address of the family; null for every address of both families), with at most {@code backlog}
     * established connections waiting to be accepted.
     *
     * @throws IllegalStateException    if the address and port are taken
     * @throws IllegalArgumentException if the port or backlog is out of range
     */
    public TcpListener listen(IpAddress address, int port, int backlog) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be in [1, 65535]: " + port);
        }
        if (backlog < 1) {
            throw new IllegalArgumentException("backlog must be positive: " + backlog);
        }
        IpAddress[] addresses = address == null ? new IpAddress[] {Ipv4Address.ANY, Ipv6Address.UNSPECIFIED}
                : new IpAddress[] {address};
        for (IpAddress a : addresses) {
            if (listeners.containsKey(new Binding(a, port))) {
                throw new IllegalStateException("address in use: " + a + " port " + port);
            }
        }
        TcpListener listener = new TcpListener(this, addresses, port, backlog);
        for (IpAddress a : addresses) {
            listeners.put(new Binding(a, port), listener);
        }
        return listener;
    }

    /** {@link #listen(IpAddress, int, int)} on every address of both families. */
    public TcpListener listen(int port, int backlog) {
        return listen(null, port, backlog);
    }

    /**
     * {@code PRU_CONNECT}: opens a connection to {@code remote} port {@code remotePort} (a scoped IPv6
     * address with its zone embedded; see {@link Ipv6Scope#parse}), sending the SYN now. The result is in
     * SYN_SENT; it reports the outcome to its {@link TcpConnection.Handler}.
     *
     * @throws IllegalArgumentException if the port is out of range
     * @throws IllegalStateException    if there is no route or source address to {@code remote}
     */
    public TcpConnection connect(IpAddress remote, int remotePort) {
        if (remotePort < 1 || remotePort > 65535) {
            throw new IllegalArgumentException("port must be in [1, 65535]: " + remotePort);
        }
        IpAddress local = sourceFor(remote);
        if (local == null) {
            throw new IllegalStateException("no route to " + remote);
        }
        int localPort = ephemeralPort(local, remote, remotePort);
        ConnectionKey key = new ConnectionKey(local, localPort, remote, remotePort);
        TcpConnection c = new TcpConnection(this, key, mssFor(remote));
        connections.put(key, c);
        counters.increment(TcpCounter.CONNECTS);
        c.open();
        return c;
    }

    /** The source address for {@code remote}, zone-embedded if scoped; null if there is no route. */
    private IpAddress sourceFor(IpAddress remote) {
        return switch (remote) {
            case Ipv4Address v4 -> host.sourceAddressFor(v4);
            case Ipv6Address v6 -> host.ipv6().sourceFor(v6);
        };
    }

    /** The MSS to offer for a connection to {@code remote}: the outgoing link's MTU less the headers. */
    int mssFor(IpAddress remote) {
        return switch (remote) {
            case Ipv4Address v4 -> host.ipv4().mtuTowards(v4) - Ipv4Header.MIN_LENGTH - TcpHeader.MIN_LENGTH;
            case Ipv6Address v6 -> host.ipv6().mtuTowards(v6) - Ipv6Header.MIN_LENGTH - TcpHeader.MIN_LENGTH;
        };
    }

    private int ephemeralPort(IpAddress local, IpAddress remote, int remotePort) {
        for (int i = 0; i < 65536 - EPHEMERAL_FIRST; i++) {
            int port = nextEphemeral;
            nextEphemeral = nextEphemeral == 65535 ? EPHEMERAL_FIRST : nextEphemeral + 1;
            if (!connections.containsKey(new ConnectionKey(local, port, remote, remotePort))
                    && listenerFor(local, port) == null) {
                return port;
            }
        }
        throw new IllegalStateException("no ephemeral port left towards " + remote + " port " + remotePort);
    }

    void remove(TcpConnection c) {
        connections.remove(c.key(), c);
        last = null;
    }

    void add(TcpConnection c) {
        connections.put(c.key(), c);
        last = null;
    }

    void unbind(TcpListener listener) {
        for (IpAddress a : listener.addresses()) {
            listeners.remove(new Binding(a, listener.port()), listener);
        }
    }

    private TcpListener listenerFor(IpAddress local, int port) {
        TcpListener l = listeners.get(new Binding(local, port));
        if (l != null) {
            return l;
        }
        return listeners.get(new Binding(local instanceof Ipv4Address ? Ipv4Address.ANY : Ipv6Address.UNSPECIFIED,
                port));
    }

    // ------------------------------------------------------------------ input

    /**
     * {@code tcp_input} for IPv4: consumes {@code m}, whose TCP header starts at {@code offset}. The headers
     * are copied into scratch memory ({@link HeaderScratch}) and the addresses read as bits, so a segment of
     * a known connection makes no object on its way in.
     */
    void input(NetworkInterface ifp, Mbuf m, int offset) {
        counters.increment(TcpCounter.RECEIVED);
        int source;
        int destination;
        try {
            MemorySegment ip = ipHeader.read(m, 0, Ipv4Header.MIN_LENGTH);
            source = Ipv4Header.sourceBits(ip);
            destination = Ipv4Header.destinationBits(ip);
        } catch (NoBufferSpaceException e) {
            drop(m, TcpCounter.NO_BUFFERS);
            return;
        }
        if (Ipv4Address.isMulticast(destination) || host.ipv4().isBroadcast(ifp, destination)
                || Ipv4Address.isMulticast(source) || source == -1 || source == 0) {
            drop(m, TcpCounter.BAD_ADDRESS); // to multicast or broadcast; from multicast, broadcast or 0.0.0.0
            return;
        }
        int length = m.length() - offset;
        long pseudo = length < TcpHeader.MIN_LENGTH ? 0
                : InternetChecksum.ipv4PseudoHeader(source, destination, IpProtocol.TCP, length);
        segment.setAddresses(4, 0, source, 0, destination);
        input(m, offset, pseudo);
    }

    /** {@code tcp6_input}: consumes {@code m} (zones embedded), whose TCP header starts at {@code offset}. */
    void input6(NetworkInterface ifp, Mbuf m, int offset) {
        counters.increment(TcpCounter.RECEIVED);
        long sourceHigh;
        long sourceLow;
        long destinationHigh;
        long destinationLow;
        try {
            MemorySegment ip = ipHeader.read(m, 0, Ipv6Header.MIN_LENGTH);
            sourceHigh = Ipv6Header.sourceHigh(ip);
            sourceLow = Ipv6Header.sourceLow(ip);
            destinationHigh = Ipv6Header.destinationHigh(ip);
            destinationLow = Ipv6Header.destinationLow(ip);
        } catch (NoBufferSpaceException e) {
            drop(m, TcpCounter.NO_BUFFERS);
            return;
        }
        if (Ipv6Address.isMulticast(destinationHigh) || Ipv6Address.isMulticast(sourceHigh)
                || sourceHigh == 0 && sourceLow == 0) {
            drop(m, TcpCounter.BAD_ADDRESS); // a multicast destination; a multicast or unspecified source
            return;
        }
        int length = m.length() - offset;
        long pseudo = InternetChecksum.ipv6PseudoHeader(Ipv6Scope.clear(sourceHigh), sourceLow,
                Ipv6Scope.clear(destinationHigh), destinationLow, IpProtocol.TCP, length);
        segment.setAddresses(6, sourceHigh, sourceLow, destinationHigh, destinationLow);
        input(m, offset, pseudo);
    }

    /** The rest of {@code tcp_input} for {@link #segment}, whose addresses are set. */
    private void input(Mbuf m, int offset, long pseudoHeaderSum) {
        int length = m.length() - offset;
        if (length < TcpHeader.MIN_LENGTH) {
            drop(m, TcpCounter.TOO_SHORT);
            return;
        }
        TcpSegment seg = segment;
        seg.reset();
        try {
            int headerLength = TcpHeader.headerLengthOf(tcpHeader.read(m, offset, TcpHeader.MIN_LENGTH));
            if (headerLength < TcpHeader.MIN_LENGTH || headerLength > length) {
                drop(m, TcpCounter.BAD_HEADER_LENGTH);
                return;
            }
            if (InternetChecksum.fold(pseudoHeaderSum + checksums.sum(m, offset, length)) != 0xffff) {
                drop(m, TcpCounter.BAD_CHECKSUM);
                return;
            }
            TcpHeader tcp = view.wrap(tcpHeader.read(m, offset, headerLength)); // over the scratch: no object
            seg.sourcePort = tcp.sourcePort();
            seg.destinationPort = tcp.destinationPort();
            seg.seq = tcp.sequenceNumber();
            seg.ack = tcp.acknowledgmentNumber();
            seg.flags = tcp.flags();
            seg.window = tcp.window();
            if (!seg.parseOptions(cursor, optionAreas[(headerLength - TcpHeader.MIN_LENGTH) / 4])) {
                drop(m, TcpCounter.BAD_OPTIONS);
                return;
            }
            m.adj(offset + headerLength);
        } catch (NoBufferSpaceException e) {
            drop(m, TcpCounter.NO_BUFFERS);
            return;
        }
        if (seg.sourcePort == 0 || seg.destinationPort == 0) {
            drop(m, TcpCounter.BAD_ADDRESS);
            return;
        }
        if (seg.has(TcpHeader.SYN) && seg.has(TcpHeader.FIN | TcpHeader.RST)) {
            drop(m, TcpCounter.BAD_FLAGS);
            return;
        }
        seg.dataLength = m.length();
        if (seg.dataLength > 0) {
            seg.data = m;
        } else {
            m.free();
        }
        try {
            demultiplex(seg);
        } finally {
            if (seg.data != null) {
                seg.data.free();
                seg.data = null;
            }
        }
    }

    private void demultiplex(TcpSegment seg) {
        TcpConnection c = lookup(seg);
        if (c != null) {
            if (c.state() == TcpState.TIME_WAIT && seg.has(TcpHeader.SYN) && !seg.has(TcpHeader.ACK)
                    && c.acceptsNewIncarnation(seg)) {
                c.release(); // RFC 6191 / RFC 9293 §3.6.1: a new SYN may reopen a TIME_WAIT pair
                c.dispatch();
            } else {
                c.segmentArrived(seg);
                return;
            }
        }
        TcpListener listener = listenerFor(seg.destination(), seg.destinationPort);
        if (listener != null) {
            listener.segmentArrived(seg);
            return;
        }
        if (!seg.has(TcpHeader.RST)) {
            counters.increment(TcpCounter.NO_PORT);
            respondWithReset(seg);
        }
    }

    /**
     * {@code in_pcblookup_connect}: the connection {@code seg} belongs to, or null. The connection of the
     * previous segment is tried first by comparing fields ({@code tcp_last_inpcb} of 4.4BSD), so a run of
     * segments of one connection makes no key object; otherwise the table is asked with a key.
     */
    private TcpConnection lookup(TcpSegment seg) {
        if (last != null && seg.belongsTo(last.key())) {
            return last;
        }
        TcpConnection c = connections.get(
                new ConnectionKey(seg.destination(), seg.destinationPort, seg.source(), seg.sourcePort));
        if (c != null) {
            last = c;
        }
        return c;
    }

    /**
     * Answers {@code seg} with a reset (RFC 9293 §3.10.7.1): {@code <SEQ=SEG.ACK><CTL=RST>} if it carries an
     * ACK, else {@code <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>}. Never answers a reset.
     */
    void respondWithReset(TcpSegment seg) {
        if (seg.has(TcpHeader.RST)) {
            return;
        }
        if (seg.has(TcpHeader.ACK)) {
            sendControl(seg.destination(), seg.destinationPort, seg.source(), seg.sourcePort, seg.ack, 0,
                    TcpHeader.RST);
        } else {
            sendControl(seg.destination(), seg.destinationPort, seg.source(), seg.sourcePort, 0,
                    seg.seq + seg.sequenceLength(), TcpHeader.RST | TcpHeader.ACK);
        }
    }

    /** Sends a segment without data or options, window 0, from no connection ({@code tcp_respond}). */
    void sendControl(IpAddress local, int localPort, IpAddress remote, int remotePort, int seq, int ack, int flags) {
        if ((flags & TcpHeader.RST) != 0) {
            counters.increment(TcpCounter.RESETS_SENT);
        }
        Mbuf m;
        try {
            m = header(TcpHeader.MIN_LENGTH);
        } catch (NoBufferSpaceException e) {
            counters.increment(TcpCounter.NO_BUFFERS);
            return;
        }
        writeHeader(TcpHeader.MIN_LENGTH, localPort, remotePort, seq, ack, flags, 0);
        transmit(m, TcpHeader.MIN_LENGTH, null, local, remote);
    }

    /** A SYN-ACK carrying a SYN cookie as its sequence number, with an MSS option only (no connection). */
    void sendSynAck(ConnectionKey key, int cookie, int ack, int mss) {
        Mbuf m;
        try {
            m = header(TcpHeader.MIN_LENGTH + 4);
        } catch (NoBufferSpaceException e) {
            counters.increment(TcpCounter.NO_BUFFERS);
            return;
        }
        writeHeader(TcpHeader.MIN_LENGTH + 4, key.localPort(), key.remotePort(), cookie, ack,
                TcpHeader.SYN | TcpHeader.ACK, Math.min(settings.receiveBuffer(), 0xffff));
        headerScratch[TcpHeader.MIN_LENGTH] = TcpOptionCursor.MSS;
        headerScratch[TcpHeader.MIN_LENGTH + 1] = 4;
        headerScratch[TcpHeader.MIN_LENGTH + 2] = (byte) (mss >>> 8);
        headerScratch[TcpHeader.MIN_LENGTH + 3] = (byte) mss;
        transmit(m, TcpHeader.MIN_LENGTH + 4, null, key.local(), key.remote());
    }

    /**
     * Writes the fixed header of a segment into {@link #headerScratch()}: data offset {@code headerLength},
     * checksum and urgent pointer zero. Options, if any, go after it (the caller writes them).
     */
    void writeHeader(int headerLength, int localPort, int remotePort, int seq, int ack, int flags, int window) {
        headerScratch[TcpHeader.Field.DATA_OFFSET_FLAGS] = (byte) (headerLength / 4 << 4);
        outView.wrap(headerBytes).setSourcePort(localPort).setDestinationPort(remotePort).setSequenceNumber(seq)
                .setAcknowledgmentNumber(ack).setFlags(flags).setWindow(window).setChecksum(0).setUrgentPointer(0);
    }

    /** The header scratch area a segment is built in before {@link #transmit} copies it out; 60 bytes. */
    MemorySegment headerScratch() {
        return headerBytes;
    }

    /**
     * An empty packet with room in front for a TCP header of {@code headerLength} bytes and, before it, the IP
     * and link headers ({@link OutputBuffers}).
     */
    Mbuf header(int headerLength) {
        return OutputBuffers.allocate(host.pool(), headerLength);
    }

    /**
     * Sends a segment: {@code packet} (empty, from {@link #header}) gets the first {@code headerLength}
     * bytes of {@link #headerScratch()} (checksum field zero), prepended into its leading space, then
     * {@code data} (consumed; may be null); then it goes to IP. Over IPv4 the checksum is filled in the
     * scratch before the header is copied out; over IPv6, by IPv6 output once the source is chosen. Consumes
     * both whatever happens; returns false if it could not be sent (no buffers, no route).
     */
    boolean transmit(Mbuf packet, int headerLength, Mbuf data, IpAddress local, IpAddress remote) {
        MemorySegment header = headerAreas[headerLength / 4];
        if (remote instanceof Ipv4Address v4) {
            // in4_cksum before the header goes in: the header summed here, the data where it lies
            int length = headerLength + (data == null ? 0 : data.length());
            long sum = InternetChecksum.ipv4PseudoHeader(((Ipv4Address) local).bits(), v4.bits(), IpProtocol.TCP,
                    length) + InternetChecksum.sum(header) + (data == null ? 0 : checksums.sum(data, 0, data.length()));
            Bytes.setU16(header, TcpHeader.Field.CHECKSUM, InternetChecksum.finish(sum));
        }
        try {
            packet.prepend(headerLength);
            packet.copyBack(0, header); // into the prepended bytes, writable: no copy on write, no view
            if (data != null) {
                packet.cat(data);
                data = null;
            }
        } catch (NoBufferSpaceException e) {
            packet.free();
            if (data != null) {
                data.free();
            }
            counters.increment(TcpCounter.NO_BUFFERS);
            return false;
        }
        counters.increment(TcpCounter.SENT);
        return switch (remote) {
            case Ipv4Address v4 -> host.ipv4().output(packet, (Ipv4Address) local, v4, IpProtocol.TCP,
                    Ipv4.DEFAULT_TTL, false) == Ipv4.OutputResult.SENT;
            case Ipv6Address v6 -> host.ipv6().output(packet, (Ipv6Address) local, v6, IpProtocol.TCP,
                    host.ipv6().defaultHopLimit(), TcpHeader.Field.CHECKSUM) == Ipv6.OutputResult.SENT;
        };
    }

    /**
     * Views of {@code bytes} from {@code from} of every length a header area can have after the fixed
     * header: element {@code i} is {@code 4 * i} bytes long, up to the end of {@code bytes}.
     */
    private static MemorySegment[] areas(MemorySegment bytes, int from) {
        MemorySegment[] areas = new MemorySegment[(int) (bytes.byteSize() - from) / 4 + 1];
        for (int i = 0; i < areas.length; i++) {
            areas[i] = bytes.asSlice(from, 4L * i);
        }
        return areas;
    }

    private void drop(Mbuf m, TcpCounter reason) {
        counters.increment(reason);
        m.free();
    }

    // ------------------------------------------------------------------ challenge ACKs (RFC 5961 §7)

    /** Whether another challenge ACK may be sent now; counts the ones that may not. */
    boolean mayChallenge() {
        if (challengeAcks == null || challengeAckRate != settings.challengeAcksPerSecond()) {
            challengeAckRate = settings.challengeAcksPerSecond();
            challengeAcks = new RateLimiter(host.timers().clock(), challengeAckRate);
        }
        if (challengeAcks.tryAcquire()) {
            counters.increment(TcpCounter.CHALLENGE_ACKS);
            return true;
        }
        counters.increment(TcpCounter.CHALLENGE_ACKS_SUPPRESSED);
        return false;
    }

    // ------------------------------------------------------------------ sequence numbers

    /** RFC 6528's ISN for {@code key}: a 4 µs clock plus a keyed hash of the addresses and ports. */
    int initialSequenceNumber(ConnectionKey key) {
        long ticks = (host.timers().clock().nanoTime() - epoch) / 4_000;
        return (int) ticks + hash(key, 0, 0);
    }

    /**
     * A SYN cookie for a SYN with sequence number {@code peerIsn} on {@code key} whose sender offers
     * {@code peerMss}: 5 bits of a 64-second counter, 3 bits of MSS index and 24 bits of keyed hash.
     */
    int synCookie(ConnectionKey key, int peerIsn, int peerMss) {
        int index = 0;
        for (int i = 0; i < COOKIE_MSS.length; i++) {
            if (COOKIE_MSS[i] <= peerMss) {
                index = i;
            }
        }
        long count = cookieCount();
        return (int) ((count & 0x1f) << 27) | index << 24 | hash(key, count, peerIsn) & 0xffffff;
    }

    /**
     * The MSS encoded in {@code cookie} if it is valid for {@code key} and {@code peerIsn} and made in this
     * or the previous 64-second period; -1 otherwise.
     */
    int checkSynCookie(ConnectionKey key, int cookie, int peerIsn) {
        long now = cookieCount();
        for (long count = now; count >= now - 1; count--) {
            if ((count & 0x1f) == cookie >>> 27 && (hash(key, count, peerIsn) & 0xffffff) == (cookie & 0xffffff)) {
                return COOKIE_MSS[cookie >>> 24 & 7];
            }
        }
        return -1;
    }

    private long cookieCount() {
        return Math.floorDiv(host.timers().clock().nanoTime() - epoch, COOKIE_PERIOD_NANOS);
    }

    private int hash(ConnectionKey key, long count, int peerIsn) {
        ByteBuffer b = ByteBuffer.allocate(160);
        b.put(key.local().toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put((byte) 0);
        b.put(key.remote().toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put((byte) 0);
        b.putShort((short) key.localPort()).putShort((short) key.remotePort()).putLong(count).putInt(peerIsn);
        mac.update(b.array(), 0, b.position());
        return ByteBuffer.wrap(mac.doFinal()).getInt();
    }

    // ------------------------------------------------------------------ lifetime

    /** Frees every connection's buffers and forgets connections and listeners ({@link Host#close()}). */
    void close() {
        for (TcpListener l : new ArrayList<>(listeners.values())) {
            l.close();
        }
        for (TcpConnection c : new ArrayList<>(connections.values())) {
            c.abort();
        }
        connections.clear();
        last = null;
        listeners.clear();
    }
}
