package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * A view of a UDP header (RFC 768) over contiguous bytes: {@code struct udphdr}.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * |            Length             |           Checksum            |
 * |  data ...
 * </pre>
 *
 * <p>{@link #of(MemorySegment)} / {@link #wrap(MemorySegment)} check only that the 8 header bytes are
 * there, so a view can be made over a header pulled up alone. Whether the length field agrees with the IP
 * payload length is for the input routine to decide and count. The checksum covers a pseudo header and
 * the whole datagram: {@link #isChecksumValid(long)} and {@link #fillChecksum(long)} take the view to be
 * exactly the datagram (over a chain, use {@link InternetChecksum#sum(org.jmbuf.buf.Mbuf, int, int)}).
 * Setters throw {@link IllegalArgumentException} on a read-only view. A view is a flyweight:
 * {@link #wrap(MemorySegment)} re-points it without allocating.
 *
 * <p>The static accessors ({@link #sourcePort(MemorySegment)}, ...) read the same fields from a segment
 * that starts with a header, with no view object, for input routines that keep the segment
 * {@link org.jmbuf.buf.Mbuf#ptr} returned in a local so that it never reaches the heap (see
 * {@link Ipv4Header}). They check nothing beyond the segment's own bounds.
 */
public final class UdpHeader {
    /** The header length. */
    public static final int LENGTH = 8;

    /** Byte offsets of the fields. */
    public static final class Field {
        public static final int SOURCE_PORT = 0;
        public static final int DESTINATION_PORT = 2;
        public static final int LENGTH = 4;
        public static final int CHECKSUM = 6;

        private Field() {
        }
    }

    private MemorySegment bytes;

    /** An empty view, to be pointed at bytes with {@link #wrap(MemorySegment)}. */
    public UdpHeader() {
    }

    /**
     * A view of the header at the start of {@code bytes}.
     *
     * @throws MalformedPacketException if fewer than 8 bytes (offset 0)
     */
    public static UdpHeader of(MemorySegment bytes) {
        return new UdpHeader().wrap(bytes);
    }

    /**
     * Points this view at the header at the start of {@code bytes}; see {@link #of(MemorySegment)}.
     *
     * @return this view
     * @throws MalformedPacketException if the header does not fit (the view is left unchanged)
     */
    public UdpHeader wrap(MemorySegment bytes) {
        if (bytes.byteSize() < LENGTH) {
            throw new MalformedPacketException("UDP header truncated: " + bytes.byteSize() + " < 8 bytes", 0);
        }
        this.bytes = bytes;
        return this;
    }

    /** The bytes this view reads: the header, and whatever followed it in the wrapped segment. */
    public MemorySegment bytes() {
        return bytes;
    }

    public int sourcePort() {
        return sourcePort(bytes);
    }

    public int destinationPort() {
        return destinationPort(bytes);
    }

    /** The length field: header and data in bytes (0 in an IPv6 jumbogram, RFC 2675 §4). */
    public int length() {
        return length(bytes);
    }

    /** The checksum field; 0 over IPv4 means the sender computed none. */
    public int checksum() {
        return checksum(bytes);
    }

    /** The source port ({@code uh_sport}) of the header at the start of {@code h}. */
    public static int sourcePort(MemorySegment h) {
        return Bytes.u16(h, Field.SOURCE_PORT);
    }

    /** The destination port ({@code uh_dport}) of the header at the start of {@code h}. */
    public static int destinationPort(MemorySegment h) {
        return Bytes.u16(h, Field.DESTINATION_PORT);
    }

    /** The length field ({@code uh_ulen}) of the header at the start of {@code h}. */
    public static int length(MemorySegment h) {
        return Bytes.u16(h, Field.LENGTH);
    }

    /** The checksum field ({@code uh_sum}) of the header at the start of {@code h}. */
    public static int checksum(MemorySegment h) {
        return Bytes.u16(h, Field.CHECKSUM);
    }

    /** What follows the header, to the end of the view (not cut to {@link #length()}); a view of the same bytes. */
    public MemorySegment payload() {
        return bytes.asSlice(LENGTH);
    }

    /**
     * Whether the checksum over {@code pseudoHeaderSum} and the whole view is right. A checksum field of 0
     * (none computed, allowed over IPv4 only) is not valid here; the caller tells that case apart.
     */
    public boolean isChecksumValid(long pseudoHeaderSum) {
        return checksum() != 0 && InternetChecksum.fold(pseudoHeaderSum + InternetChecksum.sum(bytes)) == 0xffff;
    }

    /**
     * Computes the checksum over the pseudo header and the whole view and stores it, as 0xffff if it
     * comes out 0 (RFC 768: 0 means none).
     *
     * @param pseudoHeaderSum the unfolded pseudo header sum ({@link InternetChecksum#ipv4PseudoHeader} or
     *                        {@link Ipv6Header#pseudoHeaderSum(int, long)}, with {@link IpProtocol#UDP})
     */
    public UdpHeader fillChecksum(long pseudoHeaderSum) {
        setChecksum(0);
        int checksum = InternetChecksum.finish(pseudoHeaderSum + InternetChecksum.sum(bytes));
        return setChecksum(checksum == 0 ? 0xffff : checksum);
    }

    public UdpHeader setSourcePort(int port) {
        Bytes.setU16(bytes, Field.SOURCE_PORT, port);
        return this;
    }

    public UdpHeader setDestinationPort(int port) {
        Bytes.setU16(bytes, Field.DESTINATION_PORT, port);
        return this;
    }

    public UdpHeader setLength(int length) {
        Bytes.setU16(bytes, Field.LENGTH, length);
        return this;
    }

    public UdpHeader setChecksum(int checksum) {
        Bytes.setU16(bytes, Field.CHECKSUM, checksum);
        return this;
    }

    @Override
    public String toString() {
        return "UDP " + sourcePort() + " > " + destinationPort() + " len " + length();
    }
}
