package org.jmbuf.net;

import java.lang.foreign.MemorySegment;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.wire.IpAddress;
import org.jmbuf.wire.Ipv4Address;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.MalformedPacketException;
import org.jmbuf.wire.TcpHeader;
import org.jmbuf.wire.TcpOptionCursor;

/**
 * A received segment, its header fields and options parsed once by {@link Tcp#input} and its payload
 * trimmed to the data ({@code struct tcpiphdr} plus {@code tcp_dooptions}'s {@code struct tcpopt}). One
 * instance per host is reused for every segment; nothing here outlives the call that gets it, except
 * {@link #data}, which the connection takes over (and nulls) or the input path frees.
 */
final class TcpSegment {
    static final int MAX_SACK_BLOCKS = 4;

    /** The address family, 4 or 6, of the addresses below. */
    private int version;
    /** The source: IPv6 bytes 0-7 (zone embedded), 0 for IPv4. */
    private long sourceHigh;
    /** The source: IPv6 bytes 8-15, or the IPv4 address bits. */
    private long sourceLow;
    private long destinationHigh;
    private long destinationLow;
    /** The address records, made on first use for this segment ({@link #source()}, {@link #destination()}). */
    private IpAddress source;
    private IpAddress destination;
    int sourcePort;
    int destinationPort;
    int seq;
    int ack;
    int flags;
    int window;
    /** Whether {@link #window} is a SYN's, never scaled (RFC 7323 §2.2). */
    boolean windowUnscaled;
    /** The payload after the TCP header; owned by whoever handles the segment. */
    Mbuf data;
    int dataLength;

    int mss = -1;
    int windowScale = -1;
    boolean sackPermitted;
    boolean hasTimestamp;
    int tsValue;
    int tsEcho;
    /** SACK blocks as read from the wire: left edge at {@code 2i}, right edge at {@code 2i + 1}. */
    final int[] sackEdges = new int[2 * MAX_SACK_BLOCKS];
    int sackBlocks;

    /**
     * Sets the segment's addresses as they were read: for IPv4 ({@code version} 4) the bits in the low
     * arguments, the high ones 0; for IPv6 the two halves of each, zones embedded. Their records are made
     * only if asked for.
     */
    void setAddresses(int version, long sourceHigh, long sourceLow, long destinationHigh, long destinationLow) {
        this.version = version;
        this.sourceHigh = sourceHigh;
        this.sourceLow = sourceLow;
        this.destinationHigh = destinationHigh;
        this.destinationLow = destinationLow;
        source = null;
        destination = null;
    }

    /** The source address (zone embedded if scoped), made at the first call for this segment. */
    IpAddress source() {
        if (source == null) {
            source = address(sourceHigh, sourceLow);
        }
        return source;
    }

    /** The destination address (zone embedded if scoped), made at the first call for this segment. */
    IpAddress destination() {
        if (destination == null) {
            destination = address(destinationHigh, destinationLow);
        }
        return destination;
    }

    private IpAddress address(long high, long low) {
        return version == 4 ? new Ipv4Address((int) low) : new Ipv6Address(high, low);
    }

    /**
     * Whether this segment belongs to the connection of {@code key}: its destination is the key's local
     * end and its source the remote one. Compares fields, so no record is made.
     */
    boolean belongsTo(Tcp.ConnectionKey key) {
        return key.localPort() == destinationPort && key.remotePort() == sourcePort
                && is(key.local(), destinationHigh, destinationLow) && is(key.remote(), sourceHigh, sourceLow);
    }

    private boolean is(IpAddress a, long high, long low) {
        return switch (a) {
            case Ipv4Address v4 -> version == 4 && v4.bits() == (int) low;
            case Ipv6Address v6 -> version == 6 && v6.high() == high && v6.low() == low;
        };
    }

    boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** Sequence space the segment occupies: its data plus one for SYN and one for FIN. */
    int sequenceLength() {
        return dataLength + (has(TcpHeader.SYN) ? 1 : 0) + (has(TcpHeader.FIN) ? 1 : 0);
    }

    void reset() {
        data = null;
        windowUnscaled = false;
        mss = -1;
        windowScale = -1;
        sackPermitted = false;
        hasTimestamp = false;
        sackBlocks = 0;
    }

    /**
     * Reads the options ({@code tcp_dooptions}); MSS and Window Scale only count on a SYN (RFC 9293
     * §3.7.1, RFC 7323 §2.2), SACK-permitted likewise (RFC 2018 §2).
     *
     * @return false if an option is malformed: a bad length, or a known option of the wrong size
     */
    boolean parseOptions(TcpOptionCursor cursor, MemorySegment options) {
        boolean syn = has(TcpHeader.SYN);
        try {
            cursor.reset(options);
            while (cursor.next()) {
                if (!cursor.isWellFormed()) {
                    return false;
                }
                switch (cursor.kind()) {
                    case TcpOptionCursor.MSS -> mss = syn ? cursor.mss() : mss;
                    case TcpOptionCursor.WINDOW_SCALE -> windowScale = syn ? cursor.windowScaleShift() : windowScale;
                    case TcpOptionCursor.SACK_PERMITTED -> sackPermitted |= syn;
                    case TcpOptionCursor.TIMESTAMP -> {
                        hasTimestamp = true;
                        tsValue = cursor.timestampValue();
                        tsEcho = cursor.timestampEchoReply();
                    }
                    case TcpOptionCursor.SACK -> {
                        int n = Math.min(cursor.sackBlockCount(), MAX_SACK_BLOCKS);
                        for (int i = 0; i < n; i++) {
                            sackEdges[2 * i] = cursor.sackLeftEdge(i);
                            sackEdges[2 * i + 1] = cursor.sackRightEdge(i);
                        }
                        sackBlocks = n;
                    }
                    default -> { } // unknown options are ignored (RFC 9293 §3.1, MUST-6)
                }
            }
        } catch (MalformedPacketException e) {
            return false;
        }
        return true;
    }
}
