package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * A view of an IPv6 Fragment header (RFC 8200 §4.5) over contiguous bytes: {@code struct ip6_frag}.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
 * |                         Identification                        |
 * </pre>
 *
 * <p>{@link #of(MemorySegment)} / {@link #wrap(MemorySegment)} check only that the 8 bytes are there.
 * Setters throw {@link IllegalArgumentException} on a read-only view. A view is a flyweight:
 * {@link #wrap(MemorySegment)} re-points it without allocating.
 */
public final class Ipv6FragmentHeader {
    /** The header length. */
    public static final int LENGTH = 8;
    /** The More Fragments flag ({@code IP6F_MORE_FRAG}), in {@link #offsetAndFlags()}. */
    public static final int MORE_FRAGMENTS = 0x0001;
    /** The fragment offset bits ({@code IP6F_OFF_MASK}), in {@link #offsetAndFlags()}: bytes, a multiple of 8. */
    public static final int FRAGMENT_OFFSET_MASK = 0xfff8;

    /** Byte offsets of the fields. */
    public static final class Field {
        public static final int NEXT_HEADER = 0;
        public static final int RESERVED = 1;
        /** Fragment offset (13 bits, 8-octet units), 2 reserved bits, M. */
        public static final int OFFSET_AND_FLAGS = 2;
        public static final int IDENTIFICATION = 4;

        private Field() {
        }
    }

    private MemorySegment bytes;

    /** An empty view, to be pointed at bytes with {@link #wrap(MemorySegment)}. */
    public Ipv6FragmentHeader() {
    }

    /**
     * A view of the fragment header at the start of {@code bytes}.
     *
     * @throws MalformedPacketException if fewer than 8 bytes (offset 0)
     */
    public static Ipv6FragmentHeader of(MemorySegment bytes) {
        return new Ipv6FragmentHeader().wrap(bytes);
    }

    /**
     * Points this view at the fragment header at the start of {@code bytes}; see
     * {@link #of(MemorySegment)}.
     *
     * @return this view
     * @throws MalformedPacketException if the header does not fit (the view is left unchanged)
     */
    public Ipv6FragmentHeader wrap(MemorySegment bytes) {
        if (bytes.byteSize() < LENGTH) {
            throw new MalformedPacketException("IPv6 fragment header truncated: " + bytes.byteSize()
                    + " < 8 bytes", 0);
        }
        this.bytes = bytes;
        return this;
    }

    /** The bytes this view reads: the header, and whatever followed it in the wrapped segment. */
    public MemorySegment bytes() {
        return bytes;
    }

    /** The type of the header that follows in the reassembled packet ({@link IpProtocol}). */
    public int nextHeader() {
        return Bytes.u8(bytes, Field.NEXT_HEADER);
    }

    /** The offset-and-flags word ({@code ip6f_offlg}): {@link #FRAGMENT_OFFSET_MASK}, {@link #MORE_FRAGMENTS}. */
    public int offsetAndFlags() {
        return Bytes.u16(bytes, Field.OFFSET_AND_FLAGS);
    }

    /** The offset of this fragment's data in the fragmentable part of the original packet, in bytes. */
    public int fragmentOffset() {
        return offsetAndFlags() & FRAGMENT_OFFSET_MASK;
    }

    /** The M flag: more fragments follow this one. */
    public boolean moreFragments() {
        return (offsetAndFlags() & MORE_FRAGMENTS) != 0;
    }

    /** Offset 0 and no more fragments: an atomic fragment (RFC 6946), a whole packet on its own. */
    public boolean isAtomic() {
        return fragmentOffset() == 0 && !moreFragments();
    }

    /** The identification, the same in every fragment of one packet (an unsigned 32-bit value in an int). */
    public int identification() {
        return Bytes.u32(bytes, Field.IDENTIFICATION);
    }

    /** The payload after the header, to the end of the view; a view of the same bytes. */
    public MemorySegment payload() {
        return bytes.asSlice(LENGTH);
    }

    /** Sets the next header and clears the reserved byte. */
    public Ipv6FragmentHeader setNextHeader(int nextHeader) {
        Bytes.setU16(bytes, Field.NEXT_HEADER, (nextHeader & 0xff) << 8);
        return this;
    }

    /**
     * Sets the fragment offset, keeping the flags.
     *
     * @param offset bytes, a multiple of 8 from 0 to 65528
     * @throws IllegalArgumentException if {@code offset} is not such a value, or the view is read-only
     */
    public Ipv6FragmentHeader setFragmentOffset(int offset) {
        if (offset < 0 || offset > FRAGMENT_OFFSET_MASK || offset % 8 != 0) {
            throw new IllegalArgumentException("IPv6 fragment offset must be a multiple of 8 in 0..65528: " + offset);
        }
        Bytes.setU16(bytes, Field.OFFSET_AND_FLAGS, offsetAndFlags() & ~FRAGMENT_OFFSET_MASK | offset);
        return this;
    }

    /** Sets or clears the M flag, keeping the offset. */
    public Ipv6FragmentHeader setMoreFragments(boolean more) {
        int word = offsetAndFlags();
        Bytes.setU16(bytes, Field.OFFSET_AND_FLAGS, more ? word | MORE_FRAGMENTS : word & ~MORE_FRAGMENTS);
        return this;
    }

    public Ipv6FragmentHeader setIdentification(int identification) {
        Bytes.setU32(bytes, Field.IDENTIFICATION, identification);
        return this;
    }

    @Override
    public String toString() {
        return "IPv6 fragment next " + nextHeader() + " id 0x" + Integer.toHexString(identification()) + " off "
                + fragmentOffset() + (moreFragments() ? " M" : "");
    }
}
