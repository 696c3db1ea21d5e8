package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * Walks the options of a TCP header (RFC 9293 §3.1, §3.2), one at a time, without allocating.
 *
 * <pre>{@code
 * TcpOptionCursor options = new TcpOptionCursor().reset(header.options());
 * while (options.next()) {
 *     if (options.kind() == TcpOptionCursor.MSS && options.isWellFormed()) {
 *         int mss = options.mss();
 *     }
 * }
 * }</pre>
 *
 * <p>End of Option List stops the walk; No-Operation is skipped. Every other option must have a length
 * byte of at least 2 that fits in what is left; otherwise {@link #next()} throws
 * {@link MalformedPacketException} whose offset counts from the start of the options area (add 20 for the
 * offset in the header). A known option with the wrong length for its kind is not malformed in that
 * sense (what to do with it is the caller's choice): check {@link #isWellFormed()} before the typed
 * accessors, which throw {@link IllegalStateException} for an option of another kind or length.
 */
public final class TcpOptionCursor extends TypeLengthCursor {
    /** End of Option List. */
    public static final int END = 0;
    /** No-Operation. */
    public static final int NOP = 1;
    /** Maximum Segment Size (RFC 9293 §3.7.1), 4 bytes, SYN only. */
    public static final int MSS = 2;
    /** Window Scale (RFC 7323 §2), 3 bytes, SYN only. */
    public static final int WINDOW_SCALE = 3;
    /** SACK Permitted (RFC 2018 §2), 2 bytes, SYN only. */
    public static final int SACK_PERMITTED = 4;
    /** SACK (RFC 2018 §3): 2 + 8n bytes, n from 1 to 4. */
    public static final int SACK = 5;
    /** Timestamps (RFC 7323 §3), 10 bytes. */
    public static final int TIMESTAMP = 8;
    /** The largest shift a window scale may ask for (RFC 7323 §2.3). */
    public static final int MAX_WINDOW_SCALE = 14;

    /** A cursor to be started with {@link #reset(MemorySegment)}. */
    public TcpOptionCursor() {
        super("TCP");
    }

    /** Starts a walk over an options area (as {@link TcpHeader#options()} returns). */
    public TcpOptionCursor reset(MemorySegment options) {
        start(options);
        return this;
    }

    /** The current option's kind. */
    public int kind() {
        return Bytes.u8(options, offset);
    }

    /** The current option after its kind and length bytes; a view of the same bytes. */
    public MemorySegment data() {
        return options.asSlice(offset + 2, length - 2);
    }

    /**
     * Whether the current option has the length its kind needs: 4 for MSS, 3 for Window Scale, 2 for SACK
     * Permitted, 10 for Timestamps, 2 + 8n (n from 1 to 4) for SACK. Always true for other kinds.
     */
    public boolean isWellFormed() {
        return switch (kind()) {
            case MSS -> length == 4;
            case WINDOW_SCALE -> length == 3;
            case SACK_PERMITTED -> length == 2;
            case TIMESTAMP -> length == 10;
            case SACK -> length >= 10 && length <= 34 && (length - 2) % 8 == 0;
            default -> true;
        };
    }

    /**
     * The maximum segment size of an MSS option.
     *
     * @throws IllegalStateException if the option is not MSS, or not 4 bytes long
     */
    public int mss() {
        require(MSS, "MSS");
        return Bytes.u16(options, offset + 2);
    }

    /**
     * The shift count of a Window Scale option, capped at {@link #MAX_WINDOW_SCALE}: RFC 7323 §2.3 says a
     * larger value is used as 14 (the raw byte is in {@link #data()}).
     *
     * @throws IllegalStateException if the option is not Window Scale, or not 3 bytes long
     */
    public int windowScaleShift() {
        require(WINDOW_SCALE, "Window Scale");
        return Math.min(Bytes.u8(options, offset + 2), MAX_WINDOW_SCALE);
    }

    /**
     * TSval of a Timestamps option, an unsigned 32-bit value in an int.
     *
     * @throws IllegalStateException if the option is not Timestamps, or not 10 bytes long
     */
    public int timestampValue() {
        require(TIMESTAMP, "Timestamps");
        return Bytes.u32(options, offset + 2);
    }

    /**
     * TSecr of a Timestamps option, an unsigned 32-bit value in an int.
     *
     * @throws IllegalStateException if the option is not Timestamps, or not 10 bytes long
     */
    public int timestampEchoReply() {
        require(TIMESTAMP, "Timestamps");
        return Bytes.u32(options, offset + 6);
    }

    /**
     * The number of blocks of a SACK option, 1 to 4.
     *
     * @throws IllegalStateException if the option is not a well-formed SACK
     */
    public int sackBlockCount() {
        require(SACK, "SACK");
        return (length - 2) / 8;
    }

    /**
     * The left edge (first sequence number) of SACK block {@code index}.
     *
     * @throws IllegalStateException     if the option is not a well-formed SACK
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, sackBlockCount())}
     */
    public int sackLeftEdge(int index) {
        return Bytes.u32(options, sackBlockOffset(index));
    }

    /**
     * The right edge (the sequence number after the last) of SACK block {@code index}.
     *
     * @throws IllegalStateException     if the option is not a well-formed SACK
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, sackBlockCount())}
     */
    public int sackRightEdge(int index) {
        return Bytes.u32(options, sackBlockOffset(index) + 4);
    }

    private int sackBlockOffset(int index) {
        int count = sackBlockCount();
        if (index < 0 || index >= count) {
            throw new IndexOutOfBoundsException("SACK block " + index + " not in [0, " + count + ")");
        }
        return offset + 2 + 8 * index;
    }

    private void require(int expected, String name) {
        if (kind() != expected || !isWellFormed()) {
            throw new IllegalStateException("TCP option kind " + kind() + " length " + length
                    + " is not a well-formed " + name + " option");
        }
    }
}
