package org.jmbuf.net;

import java.lang.foreign.MemorySegment;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.wire.IpAddress;
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

    IpAddress source;
    IpAddress destination;
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
