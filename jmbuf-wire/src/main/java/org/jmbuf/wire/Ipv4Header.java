package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * A view of an IPv4 header (RFC 791 §3.1) over contiguous bytes: {@code struct ip}.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |    DSCP/ECN   |          Total Length         |
 * |         Identification        |Flags|      Fragment Offset    |
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * |                       Source Address                          |
 * |                    Destination Address                        |
 * |                    Options                    |    Padding    |
 * </pre>
 *
 * <p>{@link #of(MemorySegment)} / {@link #wrap(MemorySegment)} check only what keeps the accessors inside
 * the view: at least 20 bytes, and IHL between 5 and the view's length. Whether the version is 4, the
 * total length is sane or the checksum is right is for the input routine to decide and count. Setters
 * throw {@link IllegalArgumentException} on a read-only view ({@link org.jmbuf.buf.Mbuf#ptr}).
 * A view is a flyweight: {@link #wrap(MemorySegment)} re-points it without allocating.
 *
 * <p>The static accessors ({@link #totalLength(MemorySegment)}, {@link #sourceBits(MemorySegment)}, ...)
 * read the same fields from a segment that starts with a header, with no view object: an input routine
 * reads what it needs from the segment {@link org.jmbuf.buf.Mbuf#ptr} returned into {@code int} locals, so
 * the segment never reaches the heap (a segment stored into a long-lived view's field escapes, and escape
 * analysis cannot remove it). They check nothing beyond the segment's own bounds.
 */
public final class Ipv4Header {
    /** The fixed header length. */
    public static final int MIN_LENGTH = 20;
    /** The longest header: IHL 15. */
    public static final int MAX_LENGTH = 60;
    /** Don't Fragment ({@code IP_DF}), in {@link #flagsAndFragmentOffset()}. */
    public static final int DONT_FRAGMENT = 0x4000;
    /** More Fragments ({@code IP_MF}), in {@link #flagsAndFragmentOffset()}. */
    public static final int MORE_FRAGMENTS = 0x2000;
    /** The fragment offset bits ({@code IP_OFFMASK}), in units of 8 bytes. */
    public static final int FRAGMENT_OFFSET_MASK = 0x1fff;

    /** Byte offsets of the fields. */
    public static final class Field {
        public static final int VERSION_IHL = 0;
        public static final int TOS = 1;
        public static final int TOTAL_LENGTH = 2;
        public static final int IDENTIFICATION = 4;
        public static final int FLAGS_FRAGMENT_OFFSET = 6;
        public static final int TTL = 8;
        public static final int PROTOCOL = 9;
        public static final int CHECKSUM = 10;
        public static final int SOURCE = 12;
        public static final int DESTINATION = 16;
        public static final int OPTIONS = 20;

        private Field() {
        }
    }

    private MemorySegment bytes;

    /** An empty view, to be pointed at bytes with {@link #wrap(MemorySegment)}. */
    public Ipv4Header() {
    }

    /**
     * A view of the header at the start of {@code bytes}.
     *
     * @throws MalformedPacketException if fewer than 20 bytes, or IHL is below 5 or past the bytes
     */
    public static Ipv4Header of(MemorySegment bytes) {
        return new Ipv4Header().wrap(bytes);
    }

    /**
     * Points this view at the header at the start of {@code bytes}; see {@link #of(MemorySegment)}.
     *
     * @return this view
     * @throws MalformedPacketException if the header does not fit (the view is left unchanged)
     */
    public Ipv4Header wrap(MemorySegment bytes) {
        if (bytes.byteSize() < MIN_LENGTH) {
            throw new MalformedPacketException("IPv4 header truncated: " + bytes.byteSize() + " < 20 bytes", 0);
        }
        int headerLength = (Bytes.u8(bytes, Field.VERSION_IHL) & 0xf) * 4;
        if (headerLength < MIN_LENGTH) {
            throw new MalformedPacketException("IPv4 header length " + headerLength + " < 20", Field.VERSION_IHL);
        }
        if (headerLength > bytes.byteSize()) {
            throw new MalformedPacketException("IPv4 header length " + headerLength + " > " + bytes.byteSize()
                    + " bytes available", Field.VERSION_IHL);
        }
        this.bytes = bytes;
        return this;
    }

    /**
     * A view for building a header in {@code bytes} (at least 20 writable bytes of any content): sets
     * version 4 and a header length of 20 first, so the view is valid, then wraps it.
     *
     * @throws IndexOutOfBoundsException if {@code bytes} is shorter than 20
     * @throws IllegalArgumentException  if {@code bytes} is read-only
     */
    public Ipv4Header initialize(MemorySegment bytes) {
        if (bytes.byteSize() < MIN_LENGTH) {
            throw new IndexOutOfBoundsException("an IPv4 header needs 20 bytes, got " + bytes.byteSize());
        }
        Bytes.setU8(bytes, Field.VERSION_IHL, 0x45);
        return wrap(bytes);
    }

    /** The bytes this view reads: the header, and whatever followed it in the wrapped segment. */
    public MemorySegment bytes() {
        return bytes;
    }

    /**
     * The IHL of a header starting at {@code bytes}, in bytes, read before a full view can be made (the
     * input routine needs it to know how much to make contiguous).
     *
     * @throws MalformedPacketException if {@code bytes} is empty
     */
    public static int headerLengthOf(MemorySegment bytes) {
        if (bytes.byteSize() < 1) {
            throw new MalformedPacketException("IPv4 header truncated: no bytes", 0);
        }
        return (Bytes.u8(bytes, 0) & 0xf) * 4;
    }

    public int version() {
        return Bytes.u8(bytes, Field.VERSION_IHL) >>> 4;
    }

    /** IHL in bytes (20 to 60). */
    public int headerLength() {
        return (Bytes.u8(bytes, Field.VERSION_IHL) & 0xf) * 4;
    }

    /** The type of service byte: DSCP in the top six bits, ECN in the bottom two. */
    public int tos() {
        return Bytes.u8(bytes, Field.TOS);
    }

    public int totalLength() {
        return totalLength(bytes);
    }

    /** The total length field of the header at the start of {@code h} ({@code ip_len}). */
    public static int totalLength(MemorySegment h) {
        return Bytes.u16(h, Field.TOTAL_LENGTH);
    }

    public int identification() {
        return Bytes.u16(bytes, Field.IDENTIFICATION);
    }

    /** The flags and fragment offset word ({@code ip_off}): {@link #DONT_FRAGMENT}, {@link #MORE_FRAGMENTS}, offset. */
    public int flagsAndFragmentOffset() {
        return flagsAndFragmentOffset(bytes);
    }

    /** The flags and fragment offset word ({@code ip_off}) of the header at the start of {@code h}. */
    public static int flagsAndFragmentOffset(MemorySegment h) {
        return Bytes.u16(h, Field.FLAGS_FRAGMENT_OFFSET);
    }

    /** Whether the header at the start of {@code h} is a fragment: More Fragments set or a non-zero offset. */
    public static boolean isFragment(MemorySegment h) {
        return (flagsAndFragmentOffset(h) & (MORE_FRAGMENTS | FRAGMENT_OFFSET_MASK)) != 0;
    }

    public boolean dontFragment() {
        return (flagsAndFragmentOffset() & DONT_FRAGMENT) != 0;
    }

    public boolean moreFragments() {
        return (flagsAndFragmentOffset() & MORE_FRAGMENTS) != 0;
    }

    /** The fragment offset in bytes. */
    public int fragmentOffset() {
        return (flagsAndFragmentOffset() & FRAGMENT_OFFSET_MASK) * 8;
    }

    public int ttl() {
        return Bytes.u8(bytes, Field.TTL);
    }

    public int protocol() {
        return Bytes.u8(bytes, Field.PROTOCOL);
    }

    public int checksum() {
        return Bytes.u16(bytes, Field.CHECKSUM);
    }

    public Ipv4Address source() {
        return new Ipv4Address(Bytes.u32(bytes, Field.SOURCE));
    }

    public Ipv4Address destination() {
        return new Ipv4Address(Bytes.u32(bytes, Field.DESTINATION));
    }

    /** The source address bits, without allocating. */
    public int sourceBits() {
        return sourceBits(bytes);
    }

    /** The destination address bits, without allocating. */
    public int destinationBits() {
        return destinationBits(bytes);
    }

    /** The source address bits ({@code ip_src}) of the header at the start of {@code h}. */
    public static int sourceBits(MemorySegment h) {
        return Bytes.u32(h, Field.SOURCE);
    }

    /** The destination address bits ({@code ip_dst}) of the header at the start of {@code h}. */
    public static int destinationBits(MemorySegment h) {
        return Bytes.u32(h, Field.DESTINATION);
    }

    /** The options area, {@code [20, headerLength())}; a view of the same bytes. */
    public MemorySegment options() {
        return bytes.asSlice(Field.OPTIONS, headerLength() - MIN_LENGTH);
    }

    /** Whether the header checksum over {@code headerLength()} bytes is right. */
    public boolean isChecksumValid() {
        return isChecksumValid(bytes);
    }

    /**
     * Whether the checksum of the header at the start of {@code h}, over its IHL, is right.
     *
     * @throws IndexOutOfBoundsException if {@code h} is shorter than the IHL says
     */
    public static boolean isChecksumValid(MemorySegment h) {
        int headerLength = (Bytes.u8(h, Field.VERSION_IHL) & 0xf) * 4;
        return InternetChecksum.fold(InternetChecksum.sum(h, 0, headerLength)) == 0xffff;
    }

    /** Sets version 4 and the header length in bytes (a multiple of 4, 20 to 60). */
    public Ipv4Header setVersionAndHeaderLength(int headerLength) {
        if (headerLength < MIN_LENGTH || headerLength > MAX_LENGTH || headerLength % 4 != 0) {
            throw new IllegalArgumentException("IPv4 header length must be a multiple of 4 in 20..60: "
                    + headerLength);
        }
        Bytes.setU8(bytes, Field.VERSION_IHL, 0x40 | headerLength / 4);
        return this;
    }

    public Ipv4Header setTos(int tos) {
        Bytes.setU8(bytes, Field.TOS, tos);
        return this;
    }

    public Ipv4Header setTotalLength(int length) {
        Bytes.setU16(bytes, Field.TOTAL_LENGTH, length);
        return this;
    }

    public Ipv4Header setIdentification(int id) {
        Bytes.setU16(bytes, Field.IDENTIFICATION, id);
        return this;
    }

    public Ipv4Header setFlagsAndFragmentOffset(int value) {
        Bytes.setU16(bytes, Field.FLAGS_FRAGMENT_OFFSET, value);
        return this;
    }

    public Ipv4Header setTtl(int ttl) {
        Bytes.setU8(bytes, Field.TTL, ttl);
        return this;
    }

    public Ipv4Header setProtocol(int protocol) {
        Bytes.setU8(bytes, Field.PROTOCOL, protocol);
        return this;
    }

    public Ipv4Header setChecksum(int checksum) {
        Bytes.setU16(bytes, Field.CHECKSUM, checksum);
        return this;
    }

    public Ipv4Header setSource(Ipv4Address address) {
        address.write(bytes, Field.SOURCE);
        return this;
    }

    public Ipv4Header setDestination(Ipv4Address address) {
        address.write(bytes, Field.DESTINATION);
        return this;
    }

    /** Computes the header checksum over {@code headerLength()} bytes and stores it. */
    public Ipv4Header fillChecksum() {
        fillChecksum(bytes);
        return this;
    }

    /**
     * Computes the checksum of the header at the start of {@code h}, over its IHL, and stores it.
     *
     * @throws IndexOutOfBoundsException if {@code h} is shorter than the IHL says
     * @throws IllegalArgumentException  if {@code h} is read-only
     */
    public static void fillChecksum(MemorySegment h) {
        int headerLength = (Bytes.u8(h, Field.VERSION_IHL) & 0xf) * 4;
        Bytes.setU16(h, Field.CHECKSUM, 0);
        Bytes.setU16(h, Field.CHECKSUM, InternetChecksum.checksum(h, 0, headerLength));
    }

    @Override
    public String toString() {
        return "IPv4 " + source() + " > " + destination() + " proto " + protocol() + " ttl " + ttl() + " len "
                + totalLength() + " id " + identification() + (moreFragments() ? " MF" : "")
                + (dontFragment() ? " DF" : "") + (fragmentOffset() != 0 ? " off " + fragmentOffset() : "");
    }
}
