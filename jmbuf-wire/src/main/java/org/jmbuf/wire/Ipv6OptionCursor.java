package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * Walks the options of an IPv6 Hop-by-Hop or Destination Options header (RFC 8200 §4.2), one at a time,
 * without allocating.
 *
 * <pre>{@code
 * Ipv6OptionCursor options = new Ipv6OptionCursor().reset(hopByHop);
 * while (options.next()) {
 *     switch (options.type()) {
 *         case Ipv6OptionCursor.ROUTER_ALERT -> ...;
 *         default -> { if (options.action() != Ipv6OptionCursor.ACTION_SKIP) ... }
 *     }
 * }
 * }</pre>
 *
 * <p>Pad1 (a single zero byte) and PadN are skipped. Every other option is a type byte, a data length
 * byte and that many bytes of data, and must fit in what is left of the header; otherwise {@link #next()}
 * throws {@link MalformedPacketException}. Offsets, in the exception and from {@link #offset()}, count from
 * the start of the extension header (not of its options area), so adding the header's offset in the
 * packet gives an ICMPv6 Parameter Problem pointer.
 */
public final class Ipv6OptionCursor {
    /** Pad1: a single byte, no length. */
    public static final int PAD1 = 0;
    /** PadN: type, length and that many bytes of padding. */
    public static final int PADN = 1;
    /** Router Alert (RFC 2711), in Hop-by-Hop Options. */
    public static final int ROUTER_ALERT = 0x05;
    /** Jumbo Payload (RFC 2675), in Hop-by-Hop Options. */
    public static final int JUMBO_PAYLOAD = 0xc2;

    /** Action for an unrecognized option (the top two bits of its type): skip it and go on. */
    public static final int ACTION_SKIP = 0;
    /** Action for an unrecognized option: discard the packet silently. */
    public static final int ACTION_DISCARD = 1;
    /** Action for an unrecognized option: discard the packet and send a Parameter Problem, code 2. */
    public static final int ACTION_DISCARD_AND_REPORT = 2;
    /**
     * Action for an unrecognized option: discard the packet and, unless its destination was multicast,
     * send a Parameter Problem, code 2.
     */
    public static final int ACTION_DISCARD_AND_REPORT_UNLESS_MULTICAST = 3;

    private MemorySegment header = MemorySegment.NULL;
    private int position;
    private int offset;
    private int length;

    /** Starts a walk over the options of {@code header}, a Hop-by-Hop or Destination Options header. */
    public Ipv6OptionCursor reset(Ipv6ExtensionHeader header) {
        this.header = header.header();
        this.position = Ipv6ExtensionHeader.Field.OPTIONS;
        this.offset = -1;
        this.length = 0;
        return this;
    }

    /**
     * Moves to the next option other than Pad1 and PadN.
     *
     * @return false at the end of the header
     * @throws MalformedPacketException if an option's length byte is missing (offset of its type byte) or
     *                                  its data runs past the end of the header (offset of its length
     *                                  byte)
     */
    public boolean next() {
        int size = (int) header.byteSize();
        while (position < size) {
            int type = Bytes.u8(header, position);
            if (type == PAD1) {
                position++;
                continue;
            }
            if (position + 1 >= size) {
                throw new MalformedPacketException("IPv6 option " + type + " has no length byte", position);
            }
            int optionLength = 2 + Bytes.u8(header, position + 1);
            if (position + optionLength > size) {
                throw new MalformedPacketException("IPv6 option " + type + " length " + optionLength
                        + " does not fit in " + (size - position) + " bytes", position + 1);
            }
            int start = position;
            position += optionLength;
            if (type != PADN) {
                offset = start;
                length = optionLength;
                return true;
            }
        }
        return false;
    }

    /** The current option's type byte (action bits, may-change bit and number). */
    public int type() {
        return Bytes.u8(header, offset);
    }

    /** The current option's offset from the start of the extension header. */
    public int offset() {
        return offset;
    }

    /** The current option's length, type and length bytes included. */
    public int length() {
        return length;
    }

    /** The current option's data length (its length byte). */
    public int dataLength() {
        return length - 2;
    }

    /** The current option's data, after the type and length bytes; a view of the same bytes. */
    public MemorySegment data() {
        return header.asSlice(offset + 2, length - 2);
    }

    /** The current option, type and length bytes included; a view of the same bytes. */
    public MemorySegment option() {
        return header.asSlice(offset, length);
    }

    /**
     * What to do if the current option is not recognized: {@link #ACTION_SKIP}, {@link #ACTION_DISCARD},
     * {@link #ACTION_DISCARD_AND_REPORT} or {@link #ACTION_DISCARD_AND_REPORT_UNLESS_MULTICAST}.
     */
    public int action() {
        return actionOf(type());
    }

    /** The action bits of an option type; see {@link #action()}. */
    public static int actionOf(int type) {
        return (type >>> 6) & 3;
    }

    /**
     * Whether the current option's data may change on the way to the destination (the third-highest bit
     * of its type): if so, an authenticating header treats the data as zeros.
     */
    public boolean mayChangeEnRoute() {
        return (type() & 0x20) != 0;
    }
}
