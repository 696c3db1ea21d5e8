package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * Walks the options of a Neighbor Discovery message (RFC 4861 §4.6), one at a time, without allocating.
 *
 * <pre>{@code
 * NdOptionCursor options = new NdOptionCursor().reset(message.ndOptions());
 * while (options.next()) {
 *     if (options.type() == NdOptionCursor.SOURCE_LINK_ADDRESS && options.isWellFormed()) {
 *         MacAddress sender = options.linkLayerAddress();
 *     }
 * }
 * }</pre>
 *
 * <pre>
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |    Length     |              ...              |
 * ~     (Length × 8 bytes in all, counting type and length)       ~
 * </pre>
 *
 * <p>Every option is a type byte and a length byte counting 8-octet units, the two bytes included. A
 * length of zero, a missing length byte, or a length past the end of the area makes {@link #next()} throw
 * {@link MalformedPacketException} (RFC 4861 §4.6: a node must silently discard such a packet); offsets
 * count from the start of the options area. A known option with an unexpected length is not malformed in
 * that sense (RFC 4861 says to ignore it): check {@link #isWellFormed()} before the typed accessors, which
 * throw {@link IllegalStateException} for an option of another type or length.
 */
public final class NdOptionCursor {
    /** Source Link-layer Address (RFC 4861 §4.6.1). */
    public static final int SOURCE_LINK_ADDRESS = 1;
    /** Target Link-layer Address (RFC 4861 §4.6.1). */
    public static final int TARGET_LINK_ADDRESS = 2;
    /** Prefix Information (RFC 4861 §4.6.2). */
    public static final int PREFIX_INFORMATION = 3;
    /** Redirected Header (RFC 4861 §4.6.3). */
    public static final int REDIRECTED_HEADER = 4;
    /** MTU (RFC 4861 §4.6.4). */
    public static final int MTU = 5;
    /** Nonce (RFC 3971 §5.3.2; RFC 7527 for Enhanced Duplicate Address Detection). */
    public static final int NONCE = 14;

    /** Prefix Information flag: on-link, in {@link #prefixFlags()}. */
    public static final int PREFIX_ON_LINK = 0x80;
    /** Prefix Information flag: autonomous address configuration, in {@link #prefixFlags()}. */
    public static final int PREFIX_AUTONOMOUS = 0x40;
    /** A valid or preferred lifetime of all ones: infinity. */
    public static final long INFINITE_LIFETIME = 0xffff_ffffL;

    /** Byte offsets of the fields within an option. */
    public static final class Field {
        public static final int TYPE = 0;
        public static final int LENGTH = 1;
        /** Source/Target Link-layer Address. */
        public static final int LINK_LAYER_ADDRESS = 2;
        /** Prefix Information. */
        public static final int PREFIX_LENGTH = 2;
        /** Prefix Information: L, A and reserved bits. */
        public static final int PREFIX_FLAGS = 3;
        /** Prefix Information. */
        public static final int VALID_LIFETIME = 4;
        /** Prefix Information. */
        public static final int PREFERRED_LIFETIME = 8;
        /** Prefix Information. */
        public static final int PREFIX = 16;
        /** Redirected Header: the invoking packet, after 6 reserved bytes. */
        public static final int REDIRECTED_PACKET = 8;
        /** MTU, after 2 reserved bytes. */
        public static final int MTU = 4;

        private Field() {
        }
    }

    private MemorySegment options = MemorySegment.NULL;
    private int position;
    private int offset;
    private int length;

    /** Starts a walk over an options area (as {@link Icmpv6Message#ndOptions()} returns). */
    public NdOptionCursor reset(MemorySegment options) {
        this.options = options;
        this.position = 0;
        this.offset = -1;
        this.length = 0;
        return this;
    }

    /**
     * Moves to the next option.
     *
     * @return false at the end of the area
     * @throws MalformedPacketException if an option's length byte is missing (offset of its type byte), or
     *                                  is zero or runs past the end of the area (offset of its length byte)
     */
    public boolean next() {
        int size = (int) options.byteSize();
        if (position >= size) {
            return false;
        }
        int type = Bytes.u8(options, position);
        if (position + 1 >= size) {
            throw new MalformedPacketException("ND option " + type + " has no length byte", position);
        }
        int units = Bytes.u8(options, position + 1);
        if (units == 0) {
            throw new MalformedPacketException("ND option " + type + " has length 0", position + 1);
        }
        if (position + units * 8 > size) {
            throw new MalformedPacketException("ND option " + type + " length " + units * 8 + " does not fit in "
                    + (size - position) + " bytes", position + 1);
        }
        offset = position;
        length = units * 8;
        position += length;
        return true;
    }

    /** The current option's type. */
    public int type() {
        return Bytes.u8(options, offset);
    }

    /** The current option's offset within the options area. */
    public int offset() {
        return offset;
    }

    /** The current option's length in bytes (its length byte × 8), type and length bytes included. */
    public int length() {
        return length;
    }

    /** The current option, type and length bytes included; a view of the same bytes. */
    public MemorySegment option() {
        return options.asSlice(offset, length);
    }

    /** The current option after its type and length bytes; a view of the same bytes. */
    public MemorySegment data() {
        return options.asSlice(offset + 2, length - 2);
    }

    /**
     * Whether the current option has the length its type needs for the typed accessors: 8 bytes for a
     * link-layer address option (an Ethernet address, RFC 2464 §8) or MTU, 32 for Prefix Information.
     * Always true for other types: {@link #next()} has already made sure every option has at least its type
     * and length bytes.
     */
    public boolean isWellFormed() {
        return switch (type()) {
            case SOURCE_LINK_ADDRESS, TARGET_LINK_ADDRESS, MTU -> length == 8;
            case PREFIX_INFORMATION -> length == 32;
            default -> true;
        };
    }

    /**
     * The Ethernet address of a Source or Target Link-layer Address option of length 1.
     *
     * @throws IllegalStateException if the option is not one of these, or not 8 bytes long
     */
    public MacAddress linkLayerAddress() {
        int type = type();
        if (type != SOURCE_LINK_ADDRESS && type != TARGET_LINK_ADDRESS || length != 8) {
            throw notA("Ethernet link-layer address");
        }
        return MacAddress.read(options, offset + Field.LINK_LAYER_ADDRESS);
    }

    /**
     * The Prefix Length of a Prefix Information option: the number of leading bits of
     * {@link #prefix()} that are valid, 0 to 128 on a valid option.
     *
     * @throws IllegalStateException if the option is not Prefix Information, or not 32 bytes long
     */
    public int prefixLength() {
        requirePrefixInformation();
        return Bytes.u8(options, offset + Field.PREFIX_LENGTH);
    }

    /**
     * The flags byte of a Prefix Information option: {@link #PREFIX_ON_LINK}, {@link #PREFIX_AUTONOMOUS}
     * and bits this cursor does not name.
     *
     * @throws IllegalStateException if the option is not Prefix Information, or not 32 bytes long
     */
    public int prefixFlags() {
        requirePrefixInformation();
        return Bytes.u8(options, offset + Field.PREFIX_FLAGS);
    }

    /**
     * The L flag of a Prefix Information option: the prefix is on-link.
     *
     * @throws IllegalStateException if the option is not Prefix Information, or not 32 bytes long
     */
    public boolean isOnLink() {
        return (prefixFlags() & PREFIX_ON_LINK) != 0;
    }

    /**
     * The A flag of a Prefix Information option: the prefix may be used for stateless address
     * configuration (RFC 4862).
     *
     * @throws IllegalStateException if the option is not Prefix Information, or not 32 bytes long
     */
    public boolean isAutonomous() {
        return (prefixFlags() & PREFIX_AUTONOMOUS) != 0;
    }

    /**
     * The Valid Lifetime of a Prefix Information option, in seconds; {@link #INFINITE_LIFETIME} is
     * infinity.
     *
     * @throws IllegalStateException if the option is not Prefix Information, or not 32 bytes long
     */
    public long validLifetime() {
        requirePrefixInformation();
        return Integer.toUnsignedLong(Bytes.u32(options, offset + Field.VALID_LIFETIME));
    }

    /**
     * The Preferred Lifetime of a Prefix Information option, in seconds; {@link #INFINITE_LIFETIME} is
     * infinity.
     *
     * @throws IllegalStateException if the option is not Prefix Information, or not 32 bytes long
     */
    public long preferredLifetime() {
        requirePrefixInformation();
        return Integer.toUnsignedLong(Bytes.u32(options, offset + Field.PREFERRED_LIFETIME));
    }

    /**
     * The Prefix of a Prefix Information option, as sent (bits past {@link #prefixLength()} should be
     * zero, but are not promised to be).
     *
     * @throws IllegalStateException if the option is not Prefix Information, or not 32 bytes long
     */
    public Ipv6Address prefix() {
        requirePrefixInformation();
        return Ipv6Address.read(options, offset + Field.PREFIX);
    }

    /**
     * The MTU of an MTU option.
     *
     * @throws IllegalStateException if the option is not MTU, or not 8 bytes long
     */
    public long mtu() {
        if (type() != MTU || length != 8) {
            throw notA("MTU");
        }
        return Integer.toUnsignedLong(Bytes.u32(options, offset + Field.MTU));
    }

    /**
     * The IP header and data of a Redirected Header option, after its 6 reserved bytes; a view of the same
     * bytes.
     *
     * @throws IllegalStateException if the option is not Redirected Header
     */
    public MemorySegment redirectedPacket() {
        if (type() != REDIRECTED_HEADER) {
            throw notA("Redirected Header");
        }
        return options.asSlice(offset + Field.REDIRECTED_PACKET, length - Field.REDIRECTED_PACKET);
    }

    private void requirePrefixInformation() {
        if (type() != PREFIX_INFORMATION || length != 32) {
            throw notA("Prefix Information");
        }
    }

    private IllegalStateException notA(String what) {
        return new IllegalStateException("ND option type " + type() + " length " + length + " is not a well-formed "
                + what + " option");
    }
}
