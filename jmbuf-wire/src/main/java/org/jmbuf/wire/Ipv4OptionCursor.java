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
public final class Ipv4OptionCursor extends TypeLengthCursor {
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

    /** A cursor to be started with {@link #reset(MemorySegment)}. */
    public Ipv4OptionCursor() {
        super("IPv4");
    }

    /** Starts a walk over an options area (as {@link Ipv4Header#options()} returns). */
    public Ipv4OptionCursor reset(MemorySegment options) {
        start(options);
        return this;
    }

    /** The current option's type byte (copied flag, class and number). */
    public int type() {
        return Bytes.u8(options, offset);
    }

    /** Whether the copied flag is set: the option goes into every fragment. */
    public boolean isCopied() {
        return (type() & 0x80) != 0;
    }
}
