package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * A view of an IPv6 extension header in the generic "next header, length" layout (RFC 8200 §4, RFC 6564
 * §4) over contiguous bytes: Hop-by-Hop Options (§4.3), Destination Options (§4.6) and Routing (§4.4,
 * see {@link Ipv6RoutingHeader}); {@code struct ip6_ext}, {@code struct ip6_hbh}, {@code struct ip6_dest}.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Header  |  Hdr Ext Len  |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |        Options or type-specific data: (Hdr Ext Len + 1) × 8   |
 * |        bytes in all, counting the first two                   |
 * </pre>
 *
 * <p>{@link #of(MemorySegment)} / {@link #wrap(MemorySegment)} check that the {@link #length()} of
 * (Hdr Ext Len + 1) × 8 bytes is inside the view. The Fragment header (fixed 8 bytes,
 * {@link Ipv6FragmentHeader}), AH (4-octet units) and ESP do not use this layout. Walk the options of a
 * Hop-by-Hop or Destination Options header with {@link Ipv6OptionCursor}. Setters throw
 * {@link IllegalArgumentException} on a read-only view. A view is a flyweight:
 * {@link #wrap(MemorySegment)} re-points it without allocating.
 */
public final class Ipv6ExtensionHeader {
    /** The shortest extension header: Hdr Ext Len 0. */
    public static final int MIN_LENGTH = 8;
    /** The longest extension header: Hdr Ext Len 255. */
    public static final int MAX_LENGTH = 2048;

    /** Byte offsets of the fields. */
    public static final class Field {
        public static final int NEXT_HEADER = 0;
        public static final int LENGTH = 1;
        /** Options (Hop-by-Hop, Destination Options) or type-specific data. */
        public static final int OPTIONS = 2;

        private Field() {
        }
    }

    private MemorySegment bytes;

    /** An empty view, to be pointed at bytes with {@link #wrap(MemorySegment)}. */
    public Ipv6ExtensionHeader() {
    }

    /**
     * A view of the extension header at the start of {@code bytes}.
     *
     * @throws MalformedPacketException if fewer than 2 bytes (offset 0), or the length the Hdr Ext Len
     *                                  field gives is past the bytes (offset 1)
     */
    public static Ipv6ExtensionHeader of(MemorySegment bytes) {
        return new Ipv6ExtensionHeader().wrap(bytes);
    }

    /**
     * Points this view at the extension header at the start of {@code bytes}; see
     * {@link #of(MemorySegment)}.
     *
     * @return this view
     * @throws MalformedPacketException if the header does not fit (the view is left unchanged)
     */
    public Ipv6ExtensionHeader wrap(MemorySegment bytes) {
        checkFits(bytes, "IPv6 extension header");
        this.bytes = bytes;
        return this;
    }

    /** Checks that the generic layout fits in {@code bytes}; shared with {@link Ipv6RoutingHeader}. */
    static void checkFits(MemorySegment bytes, String what) {
        int length = lengthOf(bytes);
        if (length > bytes.byteSize()) {
            throw new MalformedPacketException(what + " length " + length + " > " + bytes.byteSize()
                    + " bytes available", Field.LENGTH);
        }
    }

    /**
     * The length in bytes of an extension header starting at {@code bytes}, read before a full view can be
     * made (the input routine needs it to know how much to make contiguous).
     *
     * @throws MalformedPacketException if fewer than 2 bytes (offset 0)
     */
    public static int lengthOf(MemorySegment bytes) {
        if (bytes.byteSize() < 2) {
            throw new MalformedPacketException("IPv6 extension header truncated: " + bytes.byteSize()
                    + " < 2 bytes", 0);
        }
        return (Bytes.u8(bytes, Field.LENGTH) + 1) * 8;
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

    /** The header length in bytes, (Hdr Ext Len + 1) × 8: 8 to 2048. */
    public int length() {
        return (headerExtensionLength() + 1) * 8;
    }

    /** The header alone, {@code [0, length())}; a view of the same bytes. */
    public MemorySegment header() {
        return bytes.asSlice(0, length());
    }

    /** The options or type-specific data, {@code [2, length())}; a view of the same bytes. */
    public MemorySegment options() {
        return bytes.asSlice(Field.OPTIONS, length() - Field.OPTIONS);
    }

    public Ipv6ExtensionHeader setNextHeader(int nextHeader) {
        Bytes.setU8(bytes, Field.NEXT_HEADER, nextHeader);
        return this;
    }

    /**
     * Sets the Hdr Ext Len field.
     *
     * @param headerExtensionLength the length in 8-octet units, not counting the first 8 octets, 0 to 255
     * @throws IllegalArgumentException  if {@code headerExtensionLength} is not in 0..255, or the view is
     *                                   read-only
     * @throws IndexOutOfBoundsException if the header would not fit in the view (nothing is written)
     */
    public Ipv6ExtensionHeader setHeaderExtensionLength(int headerExtensionLength) {
        setHeaderExtensionLength(bytes, headerExtensionLength);
        return this;
    }

    /** The Hdr Ext Len setter, shared with {@link Ipv6RoutingHeader}. */
    static void setHeaderExtensionLength(MemorySegment bytes, int headerExtensionLength) {
        if (headerExtensionLength < 0 || headerExtensionLength > 255) {
            throw new IllegalArgumentException("Hdr Ext Len not in 0..255: " + headerExtensionLength);
        }
        int length = (headerExtensionLength + 1) * 8;
        if (length > bytes.byteSize()) {
            throw new IndexOutOfBoundsException("an extension header of " + length + " bytes does not fit in "
                    + bytes.byteSize());
        }
        Bytes.setU8(bytes, Field.LENGTH, headerExtensionLength);
    }

    @Override
    public String toString() {
        return "IPv6 extension header next " + nextHeader() + " len " + length();
    }
}
