package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * A view of the IPv6 fixed header (RFC 8200 §3) over contiguous bytes: {@code struct ip6_hdr}.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * |                                                               |
 * +                         Source Address (16 bytes)             +
 * |                                                               |
 * |                                                               |
 * +                      Destination Address (16 bytes)           +
 * |                                                               |
 * </pre>
 *
 * <p>{@link #of(MemorySegment)} / {@link #wrap(MemorySegment)} check only that the 40 bytes are there.
 * Whether the version is 6 and the payload length agrees with what arrived is for the input routine to
 * decide and count. Setters throw {@link IllegalArgumentException} on a read-only view
 * ({@link org.jmbuf.buf.Mbuf#ptr}). A view is a flyweight: {@link #wrap(MemorySegment)} re-points it
 * without allocating.
 *
 * <p>The static accessors ({@link #payloadLength(MemorySegment)}, {@link #sourceHigh(MemorySegment)}, ...)
 * read the same fields from a segment that starts with a header, with no view object and the addresses as
 * their two 64-bit halves ({@link Ipv6Address#high()}, {@link Ipv6Address#low()}), for input routines that
 * keep the segment {@link org.jmbuf.buf.Mbuf#ptr} returned in a local so that it never reaches the heap
 * (see {@link Ipv4Header}). They check nothing beyond the segment's own bounds.
 */
public final class Ipv6Header {
    /** The header length: the fixed header has no options (they are extension headers). */
    public static final int MIN_LENGTH = 40;
    /**
     * The offset of the source address, for
     * {@link InternetChecksum#ipv6PseudoHeader(MemorySegment, long, long, int, long)}.
     */
    public static final int SOURCE_OFFSET = 8;
    /**
     * The offset of the destination address, for
     * {@link InternetChecksum#ipv6PseudoHeader(MemorySegment, long, long, int, long)}.
     */
    public static final int DESTINATION_OFFSET = 24;
    /** The largest flow label. */
    public static final int FLOW_LABEL_MASK = 0xfffff;

    /** Byte offsets of the fields. */
    public static final class Field {
        /** Version (4 bits), traffic class (8), flow label (20), as one big-endian word. */
        public static final int VERSION_CLASS_FLOW = 0;
        public static final int PAYLOAD_LENGTH = 4;
        public static final int NEXT_HEADER = 6;
        public static final int HOP_LIMIT = 7;
        public static final int SOURCE = SOURCE_OFFSET;
        public static final int DESTINATION = DESTINATION_OFFSET;

        private Field() {
        }
    }

    private MemorySegment bytes;

    /** An empty view, to be pointed at bytes with {@link #wrap(MemorySegment)}. */
    public Ipv6Header() {
    }

    /**
     * A view of the header at the start of {@code bytes}.
     *
     * @throws MalformedPacketException if fewer than 40 bytes (offset 0)
     */
    public static Ipv6Header of(MemorySegment bytes) {
        return new Ipv6Header().wrap(bytes);
    }

    /**
     * Points this view at the header at the start of {@code bytes}; see {@link #of(MemorySegment)}.
     *
     * @return this view
     * @throws MalformedPacketException if the header does not fit (the view is left unchanged)
     */
    public Ipv6Header wrap(MemorySegment bytes) {
        if (bytes.byteSize() < MIN_LENGTH) {
            throw new MalformedPacketException("IPv6 header truncated: " + bytes.byteSize() + " < 40 bytes", 0);
        }
        this.bytes = bytes;
        return this;
    }

    /** The bytes this view reads: the header, and whatever followed it in the wrapped segment. */
    public MemorySegment bytes() {
        return bytes;
    }

    public int version() {
        return version(bytes);
    }

    /** The version of the header at the start of {@code h} (6 for a sane one). */
    public static int version(MemorySegment h) {
        return Bytes.u8(h, Field.VERSION_CLASS_FLOW) >>> 4;
    }

    /** The traffic class byte: DSCP in the top six bits, ECN in the bottom two. */
    public int trafficClass() {
        return Bytes.u32(bytes, Field.VERSION_CLASS_FLOW) >>> 20 & 0xff;
    }

    /** The 20-bit flow label (RFC 6437). */
    public int flowLabel() {
        return Bytes.u32(bytes, Field.VERSION_CLASS_FLOW) & FLOW_LABEL_MASK;
    }

    /**
     * The length of what follows the fixed header, extension headers included; 0 for a jumbogram
     * (RFC 2675).
     */
    public int payloadLength() {
        return payloadLength(bytes);
    }

    /** The payload length ({@code ip6_plen}) of the header at the start of {@code h}. */
    public static int payloadLength(MemorySegment h) {
        return Bytes.u16(h, Field.PAYLOAD_LENGTH);
    }

    /** The type of the header that follows: an extension header or an upper layer ({@link IpProtocol}). */
    public int nextHeader() {
        return Bytes.u8(bytes, Field.NEXT_HEADER);
    }

    public int hopLimit() {
        return hopLimit(bytes);
    }

    /** The hop limit ({@code ip6_hlim}) of the header at the start of {@code h}. */
    public static int hopLimit(MemorySegment h) {
        return Bytes.u8(h, Field.HOP_LIMIT);
    }

    public Ipv6Address source() {
        return Ipv6Address.read(bytes, Field.SOURCE);
    }

    public Ipv6Address destination() {
        return Ipv6Address.read(bytes, Field.DESTINATION);
    }

    /** Bytes 0-7 of the source address ({@code ip6_src}) of the header at the start of {@code h}. */
    public static long sourceHigh(MemorySegment h) {
        return Bytes.u64(h, Field.SOURCE);
    }

    /** Bytes 8-15 of the source address of the header at the start of {@code h}. */
    public static long sourceLow(MemorySegment h) {
        return Bytes.u64(h, Field.SOURCE + 8);
    }

    /** Bytes 0-7 of the destination address ({@code ip6_dst}) of the header at the start of {@code h}. */
    public static long destinationHigh(MemorySegment h) {
        return Bytes.u64(h, Field.DESTINATION);
    }

    /** Bytes 8-15 of the destination address of the header at the start of {@code h}. */
    public static long destinationLow(MemorySegment h) {
        return Bytes.u64(h, Field.DESTINATION + 8);
    }

    /**
     * What follows the fixed header, to the end of the view (not cut to {@link #payloadLength()}); a view
     * of the same bytes.
     */
    public MemorySegment payload() {
        return bytes.asSlice(MIN_LENGTH);
    }

    /**
     * The unfolded sum of the pseudo header (RFC 8200 §8.1) for an upper-layer packet of {@code length}
     * bytes carried in this packet, for the ICMPv6, UDP and TCP checksums.
     *
     * @param nextHeader the upper-layer protocol (not the value in this header when extension headers
     *                   come between)
     */
    public long pseudoHeaderSum(int nextHeader, long length) {
        return InternetChecksum.ipv6PseudoHeader(bytes, SOURCE_OFFSET, DESTINATION_OFFSET, nextHeader, length);
    }

    /**
     * Sets version 6, the traffic class and the flow label: the whole first word.
     *
     * @throws IllegalArgumentException if {@code trafficClass} is not in 0..255, {@code flowLabel} is not in
     *                                  0..0xfffff, or the view is read-only
     */
    public Ipv6Header setVersionClassAndFlow(int trafficClass, int flowLabel) {
        checkTrafficClass(trafficClass);
        checkFlowLabel(flowLabel);
        Bytes.setU32(bytes, Field.VERSION_CLASS_FLOW, 6 << 28 | trafficClass << 20 | flowLabel);
        return this;
    }

    /**
     * Sets the traffic class, keeping the version and the flow label.
     *
     * @throws IllegalArgumentException if {@code trafficClass} is not in 0..255, or the view is read-only
     */
    public Ipv6Header setTrafficClass(int trafficClass) {
        checkTrafficClass(trafficClass);
        int word = Bytes.u32(bytes, Field.VERSION_CLASS_FLOW);
        Bytes.setU32(bytes, Field.VERSION_CLASS_FLOW, word & 0xf00fffff | trafficClass << 20);
        return this;
    }

    /**
     * Sets the flow label, keeping the version and the traffic class.
     *
     * @throws IllegalArgumentException if {@code flowLabel} is not in 0..0xfffff, or the view is read-only
     */
    public Ipv6Header setFlowLabel(int flowLabel) {
        checkFlowLabel(flowLabel);
        int word = Bytes.u32(bytes, Field.VERSION_CLASS_FLOW);
        Bytes.setU32(bytes, Field.VERSION_CLASS_FLOW, word & ~FLOW_LABEL_MASK | flowLabel);
        return this;
    }

    private static void checkTrafficClass(int trafficClass) {
        if (trafficClass < 0 || trafficClass > 0xff) {
            throw new IllegalArgumentException("IPv6 traffic class not in 0..255: " + trafficClass);
        }
    }

    private static void checkFlowLabel(int flowLabel) {
        if (flowLabel < 0 || flowLabel > FLOW_LABEL_MASK) {
            throw new IllegalArgumentException("IPv6 flow label not in 0..0xfffff: " + flowLabel);
        }
    }

    public Ipv6Header setPayloadLength(int length) {
        Bytes.setU16(bytes, Field.PAYLOAD_LENGTH, length);
        return this;
    }

    public Ipv6Header setNextHeader(int nextHeader) {
        Bytes.setU8(bytes, Field.NEXT_HEADER, nextHeader);
        return this;
    }

    public Ipv6Header setHopLimit(int hopLimit) {
        Bytes.setU8(bytes, Field.HOP_LIMIT, hopLimit);
        return this;
    }

    public Ipv6Header setSource(Ipv6Address address) {
        address.write(bytes, Field.SOURCE);
        return this;
    }

    public Ipv6Header setDestination(Ipv6Address address) {
        address.write(bytes, Field.DESTINATION);
        return this;
    }

    @Override
    public String toString() {
        return "IPv6 " + source() + " > " + destination() + " next " + nextHeader() + " hlim " + hopLimit()
                + " plen " + payloadLength() + (flowLabel() != 0 ? " flow 0x" + Integer.toHexString(flowLabel()) : "");
    }
}
