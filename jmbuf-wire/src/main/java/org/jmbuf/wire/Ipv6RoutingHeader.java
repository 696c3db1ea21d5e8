package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * A view of an IPv6 Routing header (RFC 8200 §4.4) over contiguous bytes, with the address list of the
 * type 0 layout (RFC 2460 §4.4, deprecated by RFC 5095): {@code struct ip6_rthdr},
 * {@code struct ip6_rthdr0}.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Header  |  Hdr Ext Len  |  Routing Type | Segments Left |
 * |                  type-specific data ...                       |
 *
 * type 0 and type 2 (RFC 6275 §6.4):
 * |                            Reserved                           |
 * |                  Address[1] (16 bytes) ...                    |
 * |                  Address[n], n = Hdr Ext Len / 2              |
 * </pre>
 *
 * <p>{@link #of(MemorySegment)} / {@link #wrap(MemorySegment)} check what {@link Ipv6ExtensionHeader} checks:
 * that the (Hdr Ext Len + 1) × 8 bytes are inside the view. What to do with each routing type and
 * segments-left value (RFC 8200 §4.4: ignore an unrecognized type if segments left is 0, otherwise send a
 * Parameter Problem) is for the input routine. Setters throw {@link IllegalArgumentException} on a
 * read-only view. A view is a flyweight: {@link #wrap(MemorySegment)} re-points it without allocating.
 */
public final class Ipv6RoutingHeader {
    /** Type 0, the source route of RFC 2460 (deprecated by RFC 5095: a node must not process it). */
    public static final int TYPE_0 = 0;
    /** Type 2, the Mobile IPv6 home address (RFC 6275 §6.4): one address, same layout as type 0. */
    public static final int TYPE_2 = 2;
    /** Type 3, the RPL source route (RFC 6554). */
    public static final int RPL_SOURCE_ROUTE = 3;
    /** Type 4, the Segment Routing Header (RFC 8754). */
    public static final int SEGMENT_ROUTING = 4;

    /** Byte offsets of the fields. */
    public static final class Field {
        public static final int NEXT_HEADER = 0;
        public static final int LENGTH = 1;
        public static final int ROUTING_TYPE = 2;
        public static final int SEGMENTS_LEFT = 3;
        /** Type-specific data. */
        public static final int DATA = 4;
        /** Types 0 and 2: the first address, after 4 reserved bytes. */
        public static final int ADDRESSES = 8;

        private Field() {
        }
    }

    private MemorySegment bytes;

    /** An empty view, to be pointed at bytes with {@link #wrap(MemorySegment)}. */
    public Ipv6RoutingHeader() {
    }

    /**
     * A view of the routing header at the start of {@code bytes}.
     *
     * @throws MalformedPacketException if fewer than 2 bytes (offset 0), or the length the Hdr Ext Len
     *                                  field gives is past the bytes (offset 1)
     */
    public static Ipv6RoutingHeader of(MemorySegment bytes) {
        return new Ipv6RoutingHeader().wrap(bytes);
    }

    /**
     * Points this view at the routing header at the start of {@code bytes}; see {@link #of(MemorySegment)}.
     *
     * @return this view
     * @throws MalformedPacketException if the header does not fit (the view is left unchanged)
     */
    public Ipv6RoutingHeader wrap(MemorySegment bytes) {
        Ipv6ExtensionHeader.checkFits(bytes, "IPv6 routing header");
        this.bytes = bytes;
        return this;
    }

    /** The bytes this view reads: the header, and whatever followed it in the wrapped segment. */
    public MemorySegment bytes() {
        return bytes;
    }

    /** The type of the header that follows ({@link IpProtocol}). */
    public int nextHeader() {
        return Bytes.u8(bytes, Field.NEXT_HEADER);
    }

    /** The Hdr Ext Len field: the length in 8-octet units, not counting the first 8 octets. */
    public int headerExtensionLength() {
        return Bytes.u8(bytes, Field.LENGTH);
    }

    /** The header length in bytes, (Hdr Ext Len + 1) × 8. */
    public int length() {
        return (headerExtensionLength() + 1) * 8;
    }

    public int routingType() {
        return Bytes.u8(bytes, Field.ROUTING_TYPE);
    }

    /** The number of route segments still to visit before the final destination. */
    public int segmentsLeft() {
        return Bytes.u8(bytes, Field.SEGMENTS_LEFT);
    }

    /** The type-specific data, {@code [4, length())}; a view of the same bytes. */
    public MemorySegment data() {
        return bytes.asSlice(Field.DATA, length() - Field.DATA);
    }

    /**
     * The number of addresses of a type 0 or type 2 header: Hdr Ext Len / 2.
     *
     * @throws IllegalStateException    if the routing type is neither 0 nor 2
     * @throws MalformedPacketException if Hdr Ext Len is odd (offset 1; RFC 2460 §4.4 asks for a Parameter
     *                                  Problem pointing at it)
     */
    public int addressCount() {
        int type = routingType();
        if (type != TYPE_0 && type != TYPE_2) {
            throw new IllegalStateException("routing type " + type + " has no address list");
        }
        int headerExtensionLength = headerExtensionLength();
        if ((headerExtensionLength & 1) != 0) {
            throw new MalformedPacketException("routing header type " + type + " has odd Hdr Ext Len "
                    + headerExtensionLength, Field.LENGTH);
        }
        return headerExtensionLength / 2;
    }

    /**
     * The address {@code index} (from 0) of a type 0 or type 2 header.
     *
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, addressCount())}
     * @throws IllegalStateException     if the routing type is neither 0 nor 2
     * @throws MalformedPacketException  if Hdr Ext Len is odd (offset 1)
     */
    public Ipv6Address address(int index) {
        return Ipv6Address.read(bytes, addressOffset(index));
    }

    /** The offset of address {@code index} in the header; see {@link #address(int)}. */
    public int addressOffset(int index) {
        int count = addressCount();
        if (index < 0 || index >= count) {
            throw new IndexOutOfBoundsException("routing header address " + index + " not in [0, " + count + ")");
        }
        return Field.ADDRESSES + 16 * index;
    }

    public Ipv6RoutingHeader setNextHeader(int nextHeader) {
        Bytes.setU8(bytes, Field.NEXT_HEADER, nextHeader);
        return this;
    }

    /**
     * Sets the Hdr Ext Len field (for types 0 and 2, twice the number of addresses).
     *
     * @param headerExtensionLength the length in 8-octet units, not counting the first 8 octets, 0 to 255
     * @throws IllegalArgumentException  if {@code headerExtensionLength} is not in 0..255, or the view is
     *                                   read-only
     * @throws IndexOutOfBoundsException if the header would not fit in the view (nothing is written)
     */
    public Ipv6RoutingHeader setHeaderExtensionLength(int headerExtensionLength) {
        Ipv6ExtensionHeader.setHeaderExtensionLength(bytes, headerExtensionLength);
        return this;
    }

    public Ipv6RoutingHeader setRoutingType(int type) {
        Bytes.setU8(bytes, Field.ROUTING_TYPE, type);
        return this;
    }

    public Ipv6RoutingHeader setSegmentsLeft(int segmentsLeft) {
        Bytes.setU8(bytes, Field.SEGMENTS_LEFT, segmentsLeft);
        return this;
    }

    /**
     * Sets the address {@code index} (from 0) of a type 0 or type 2 header.
     *
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, addressCount())}
     * @throws IllegalStateException     if the routing type is neither 0 nor 2
     * @throws MalformedPacketException  if Hdr Ext Len is odd (offset 1)
     * @throws IllegalArgumentException  if the view is read-only
     */
    public Ipv6RoutingHeader setAddress(int index, Ipv6Address address) {
        address.write(bytes, addressOffset(index));
        return this;
    }

    @Override
    public String toString() {
        return "IPv6 routing header next " + nextHeader() + " len " + length() + " type " + routingType()
                + " left " + segmentsLeft();
    }
}
