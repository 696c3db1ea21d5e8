package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * Walks the options of an IPv4 header (RFC 791 §3.1), one at a time, without allocating.
 *
 * <pre>{@code
 * Ipv4OptionCursor options = new Ipv4OptionCursor().reset(header.options());
 * while (options.next()) {
 *     switch (options.type()) { case Ipv4OptionCursor.RECORD_ROUTE -> ...; }
 * }
 * }</pre>
 *
 * <p>End of Option List stops the walk; No Operation is skipped. Every other option must have a length
 * byte of at least 2 that fits in what is left; otherwise {@link #next()} throws
 * {@link MalformedPacketException} whose offset, plus 20, is the Parameter Problem pointer.
 */
public final class Ipv4OptionCursor {
    /** End of Option List. */
    public static final int END = 0;
    /** No Operation. */
    public static final int NOP = 1;
    /** Record Route ({@code IPOPT_RR}). */
    public static final int RECORD_ROUTE = 7;
    /** Internet Timestamp ({@code IPOPT_TS}). */
    public static final int TIMESTAMP = 68;
    /** Loose Source and Record Route ({@code IPOPT_LSRR}). */
    public static final int LOOSE_SOURCE_ROUTE = 131;
    /** Strict Source and Record Route ({@code IPOPT_SSRR}). */
    public static final int STRICT_SOURCE_ROUTE = 137;
    /** Router Alert (RFC 2113). */
    public static final int ROUTER_ALERT = 148;

    private MemorySegment options = MemorySegment.NULL;
    private int position;
    private int offset;
    private int length;

    /** Starts a walk over an options area (as {@link Ipv4Header#options()} returns). */
    public Ipv4OptionCursor reset(MemorySegment options) {
        this.options = options;
        this.position = 0;
        this.offset = -1;
        this.length = 0;
        return this;
    }

    /**
     * Moves to the next option other than No Operation.
     *
     * @return false at End of Option List or the end of the area
     * @throws MalformedPacketException if an option's length byte is missing, below 2 or past the end
     */
    public boolean next() {
        int size = (int) options.byteSize();
        while (position < size) {
            int type = Bytes.u8(options, position);
            if (type == END) {
                position = size;
                return false;
            }
            if (type == NOP) {
                position++;
                continue;
            }
            if (position + 1 >= size) {
                throw new MalformedPacketException("IPv4 option " + type + " has no length byte", position);
            }
            int optionLength = Bytes.u8(options, position + 1);
            if (optionLength < 2 || position + optionLength > size) {
                throw new MalformedPacketException("IPv4 option " + type + " length " + optionLength
                        + " does not fit in " + (size - position) + " bytes", position + 1);
            }
            offset = position;
            length = optionLength;
            position += optionLength;
            return true;
        }
        return false;
    }

    /** The current option's type byte (copied flag, class and number). */
    public int type() {
        return Bytes.u8(options, offset);
    }

    /** The current option's offset within the options area. */
    public int offset() {
        return offset;
    }

    /** The current option's length, type and length bytes included. */
    public int length() {
        return length;
    }

    /** The current option, type and length bytes included; a view of the same bytes. */
    public MemorySegment option() {
        return options.asSlice(offset, length);
    }

    /** Whether the copied flag is set: the option goes into every fragment. */
    public boolean isCopied() {
        return (type() & 0x80) != 0;
    }
}
