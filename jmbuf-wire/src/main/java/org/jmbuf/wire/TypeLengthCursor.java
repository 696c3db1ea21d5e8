package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * The option walk that IPv4 (RFC 791 §3.1) and TCP (RFC 9293 §3.1) share: End of Option List (0)
 * stops it, No Operation (1) is a single byte that is skipped, and every other option is a type byte, a
 * length byte of at least 2 counting both, and data. A length byte that is missing, below 2 or past the
 * end of the area throws {@link MalformedPacketException} with the offending byte's offset in the area.
 */
abstract sealed class TypeLengthCursor permits Ipv4OptionCursor, TcpOptionCursor {
    private final String protocol;
    MemorySegment options = MemorySegment.NULL;
    private int position;
    int offset;
    int length;

    TypeLengthCursor(String protocol) {
        this.protocol = protocol;
    }

    void start(MemorySegment options) {
        this.options = options;
        this.position = 0;
        this.offset = -1;
        this.length = 0;
    }

    /**
     * Moves to the next option other than No Operation.
     *
     * @return false at End of Option List or the end of the area
     * @throws MalformedPacketException if an option's length byte is missing (offset of its type byte), or
     *                                  is below 2 or runs past the end (offset of its length byte)
     */
    public boolean next() {
        int size = (int) options.byteSize();
        while (position < size) {
            int type = Bytes.u8(options, position);
            if (type == 0) {
                position = size;
                return false;
            }
            if (type == 1) {
                position++;
                continue;
            }
            if (position + 1 >= size) {
                throw new MalformedPacketException(protocol + " option " + type + " has no length byte", position);
            }
            int optionLength = Bytes.u8(options, position + 1);
            if (optionLength < 2 || position + optionLength > size) {
                throw new MalformedPacketException(protocol + " option " + type + " length " + optionLength
                        + " does not fit in " + (size - position) + " bytes", position + 1);
            }
            offset = position;
            length = optionLength;
            position += optionLength;
            return true;
        }
        return false;
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
}
