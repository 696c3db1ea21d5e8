package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * A view of a TCP header (RFC 9293 §3.1) over contiguous bytes: {@code struct tcphdr}.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * |                        Sequence Number                        |
 * |                    Acknowledgment Number                      |
 * |  Data |Rsvd |A|C|E|U|A|P|R|S|F|                               |
 * | Offset|     |E|W|C|R|C|S|S|Y|I|            Window             |
 * |       |     | |R|E|G|K|H|T|N|N|                               |
 * |           Checksum            |         Urgent Pointer        |
 * |                    Options                    |    Padding    |
 * </pre>
 *
 * <p>{@link #of(MemorySegment)} / {@link #wrap(MemorySegment)} check only what keeps the accessors inside
 * the view: at least 20 bytes, and a data offset between 5 and the view's length (in 4-byte words). Walk
 * the options with {@link TcpOptionCursor}. The checksum covers a pseudo header and the whole segment:
 * {@link #isChecksumValid(long)} and {@link #fillChecksum(long)} take the view to be exactly the segment
 * (over a chain, use {@link InternetChecksum#sum(org.jmbuf.buf.Mbuf, int, int)}). Setters throw
 * {@link IllegalArgumentException} on a read-only view. A view is a flyweight:
 * {@link #wrap(MemorySegment)} re-points it without allocating.
 */
public final class TcpHeader {
    /** The header without options. */
    public static final int MIN_LENGTH = 20;
    /** The longest header: data offset 15. */
    public static final int MAX_LENGTH = 60;

    /** No more data from sender ({@code TH_FIN}). */
    public static final int FIN = 0x01;
    /** Synchronize sequence numbers ({@code TH_SYN}). */
    public static final int SYN = 0x02;
    /** Reset the connection ({@code TH_RST}). */
    public static final int RST = 0x04;
    /** Push ({@code TH_PUSH}). */
    public static final int PSH = 0x08;
    /** The acknowledgment number is significant ({@code TH_ACK}). */
    public static final int ACK = 0x10;
    /** The urgent pointer is significant ({@code TH_URG}). */
    public static final int URG = 0x20;
    /** ECN-Echo (RFC 3168 §6.1) ({@code TH_ECE}). */
    public static final int ECE = 0x40;
    /** Congestion Window Reduced (RFC 3168 §6.1) ({@code TH_CWR}). */
    public static final int CWR = 0x80;
    /**
     * The last reserved bit: Accurate ECN (AE, RFC 9768), formerly the ECN nonce sum (NS, RFC 3540, now
     * historic) ({@code TH_AE}).
     */
    public static final int AE = 0x100;
    /** Every flag this view names. */
    public static final int FLAGS_MASK = 0x1ff;

    /** Byte offsets of the fields. */
    public static final class Field {
        public static final int SOURCE_PORT = 0;
        public static final int DESTINATION_PORT = 2;
        public static final int SEQUENCE = 4;
        public static final int ACKNOWLEDGMENT = 8;
        /** Data offset (4 bits), 3 reserved bits, and the 9 flags, as one big-endian 16-bit word. */
        public static final int DATA_OFFSET_FLAGS = 12;
        public static final int WINDOW = 14;
        public static final int CHECKSUM = 16;
        public static final int URGENT_POINTER = 18;
        public static final int OPTIONS = 20;

        private Field() {
        }
    }

    private MemorySegment bytes;

    /** An empty view, to be pointed at bytes with {@link #wrap(MemorySegment)}. */
    public TcpHeader() {
    }

    /**
     * A view of the header at the start of {@code bytes}.
     *
     * @throws MalformedPacketException if fewer than 20 bytes (offset 0), or the data offset is below 5 or
     *                                  past the bytes (offset 12)
     */
    public static TcpHeader of(MemorySegment bytes) {
        return new TcpHeader().wrap(bytes);
    }

    /**
     * Points this view at the header at the start of {@code bytes}; see {@link #of(MemorySegment)}.
     *
     * @return this view
     * @throws MalformedPacketException if the header does not fit (the view is left unchanged)
     */
    public TcpHeader wrap(MemorySegment bytes) {
        if (bytes.byteSize() < MIN_LENGTH) {
            throw new MalformedPacketException("TCP header truncated: " + bytes.byteSize() + " < 20 bytes", 0);
        }
        int headerLength = (Bytes.u8(bytes, Field.DATA_OFFSET_FLAGS) >>> 4) * 4;
        if (headerLength < MIN_LENGTH) {
            throw new MalformedPacketException("TCP header length " + headerLength + " < 20",
                    Field.DATA_OFFSET_FLAGS);
        }
        if (headerLength > bytes.byteSize()) {
            throw new MalformedPacketException("TCP header length " + headerLength + " > " + bytes.byteSize()
                    + " bytes available", Field.DATA_OFFSET_FLAGS);
        }
        this.bytes = bytes;
        return this;
    }

    /**
     * The data offset of a header starting at {@code bytes}, in bytes, read before a full view can be made
     * (the input routine needs it to know how much to make contiguous).
     *
     * @throws MalformedPacketException if fewer than 13 bytes (offset 0)
     */
    public static int headerLengthOf(MemorySegment bytes) {
        if (bytes.byteSize() <= Field.DATA_OFFSET_FLAGS) {
            throw new MalformedPacketException("TCP header truncated before its data offset: " + bytes.byteSize()
                    + " bytes", 0);
        }
        return (Bytes.u8(bytes, Field.DATA_OFFSET_FLAGS) >>> 4) * 4;
    }

    /** The bytes this view reads: the header, and whatever followed it in the wrapped segment. */
    public MemorySegment bytes() {
        return bytes;
    }

    public int sourcePort() {
        return Bytes.u16(bytes, Field.SOURCE_PORT);
    }

    public int destinationPort() {
        return Bytes.u16(bytes, Field.DESTINATION_PORT);
    }

    /** The sequence number, an unsigned 32-bit value in an int (compare with modular arithmetic). */
    public int sequenceNumber() {
        return Bytes.u32(bytes, Field.SEQUENCE);
    }

    /** The acknowledgment number, an unsigned 32-bit value in an int (compare with modular arithmetic). */
    public int acknowledgmentNumber() {
        return Bytes.u32(bytes, Field.ACKNOWLEDGMENT);
    }

    /** The data offset in bytes: 20 to 60. */
    public int headerLength() {
        return (Bytes.u8(bytes, Field.DATA_OFFSET_FLAGS) >>> 4) * 4;
    }

    /** The flags ({@link #FIN} to {@link #AE}), without the data offset and the other reserved bits. */
    public int flags() {
        return Bytes.u16(bytes, Field.DATA_OFFSET_FLAGS) & FLAGS_MASK;
    }

    /** Whether every flag in {@code mask} is set. */
    public boolean hasFlags(int mask) {
        return (flags() & mask) == mask;
    }

    /** The window, unscaled. */
    public int window() {
        return Bytes.u16(bytes, Field.WINDOW);
    }

    public int checksum() {
        return Bytes.u16(bytes, Field.CHECKSUM);
    }

    public int urgentPointer() {
        return Bytes.u16(bytes, Field.URGENT_POINTER);
    }

    /** The options area, {@code [20, headerLength())}; a view of the same bytes. */
    public MemorySegment options() {
        return bytes.asSlice(Field.OPTIONS, headerLength() - MIN_LENGTH);
    }

    /** What follows the header, to the end of the view; a view of the same bytes. */
    public MemorySegment payload() {
        return bytes.asSlice(headerLength());
    }

    /** Whether the checksum over {@code pseudoHeaderSum} and the whole view is right. */
    public boolean isChecksumValid(long pseudoHeaderSum) {
        return InternetChecksum.fold(pseudoHeaderSum + InternetChecksum.sum(bytes)) == 0xffff;
    }

    /**
     * Computes the checksum over the pseudo header and the whole view and stores it.
     *
     * @param pseudoHeaderSum the unfolded pseudo header sum ({@link InternetChecksum#ipv4PseudoHeader} or
     *                        {@link Ipv6Header#pseudoHeaderSum(int, long)}, with {@link IpProtocol#TCP})
     */
    public TcpHeader fillChecksum(long pseudoHeaderSum) {
        setChecksum(0);
        return setChecksum(InternetChecksum.finish(pseudoHeaderSum + InternetChecksum.sum(bytes)));
    }

    public TcpHeader setSourcePort(int port) {
        Bytes.setU16(bytes, Field.SOURCE_PORT, port);
        return this;
    }

    public TcpHeader setDestinationPort(int port) {
        Bytes.setU16(bytes, Field.DESTINATION_PORT, port);
        return this;
    }

    public TcpHeader setSequenceNumber(int sequence) {
        Bytes.setU32(bytes, Field.SEQUENCE, sequence);
        return this;
    }

    public TcpHeader setAcknowledgmentNumber(int acknowledgment) {
        Bytes.setU32(bytes, Field.ACKNOWLEDGMENT, acknowledgment);
        return this;
    }

    /**
     * Sets the data offset, keeping the flags.
     *
     * @param headerLength bytes, a multiple of 4 from 20 to 60
     * @throws IllegalArgumentException  if {@code headerLength} is not such a value, or the view is read-only
     * @throws IndexOutOfBoundsException if the header would not fit in the view (nothing is written)
     */
    public TcpHeader setHeaderLength(int headerLength) {
        if (headerLength < MIN_LENGTH || headerLength > MAX_LENGTH || headerLength % 4 != 0) {
            throw new IllegalArgumentException("TCP header length must be a multiple of 4 in 20..60: "
                    + headerLength);
        }
        if (headerLength > bytes.byteSize()) {
            throw new IndexOutOfBoundsException("a TCP header of " + headerLength + " bytes does not fit in "
                    + bytes.byteSize());
        }
        Bytes.setU8(bytes, Field.DATA_OFFSET_FLAGS,
                Bytes.u8(bytes, Field.DATA_OFFSET_FLAGS) & 0x0f | headerLength / 4 << 4);
        return this;
    }

    /**
     * Sets the flags, keeping the data offset and the other reserved bits.
     *
     * @param flags {@link #FIN} to {@link #AE}, or'ed together
     * @throws IllegalArgumentException if {@code flags} has bits outside {@link #FLAGS_MASK}, or the view is
     *                                  read-only
     */
    public TcpHeader setFlags(int flags) {
        if ((flags & ~FLAGS_MASK) != 0) {
            throw new IllegalArgumentException("not TCP flags: 0x" + Integer.toHexString(flags));
        }
        int word = Bytes.u16(bytes, Field.DATA_OFFSET_FLAGS);
        Bytes.setU16(bytes, Field.DATA_OFFSET_FLAGS, word & ~FLAGS_MASK | flags);
        return this;
    }

    public TcpHeader setWindow(int window) {
        Bytes.setU16(bytes, Field.WINDOW, window);
        return this;
    }

    public TcpHeader setChecksum(int checksum) {
        Bytes.setU16(bytes, Field.CHECKSUM, checksum);
        return this;
    }

    public TcpHeader setUrgentPointer(int urgentPointer) {
        Bytes.setU16(bytes, Field.URGENT_POINTER, urgentPointer);
        return this;
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("TCP ").append(sourcePort()).append(" > ").append(destinationPort())
                .append(" [");
        String[] names = {"F", "S", "R", "P", ".", "U", "E", "W", "A"};
        for (int i = 0; i < names.length; i++) {
            if ((flags() & 1 << i) != 0) {
                out.append(names[i]);
            }
        }
        return out.append("] seq ").append(Integer.toUnsignedString(sequenceNumber())).append(" ack ")
                .append(Integer.toUnsignedString(acknowledgmentNumber())).append(" win ").append(window())
                .toString();
    }
}
