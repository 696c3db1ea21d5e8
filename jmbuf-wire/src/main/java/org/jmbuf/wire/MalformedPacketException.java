package org.jmbuf.wire;

import java.io.Serial;

/**
 * A header does not fit in the bytes it was given, or its own length fields contradict them. Thrown by
 * the {@code of} methods of the views and by option and extension-header cursors, so a parser never
 * reads past its input.
 *
 * <p>It carries the offset of the offending byte within the view, which is what an ICMP Parameter
 * Problem pointer needs, and no stack trace: malformed input is routine on a network, not a bug.
 */
public final class MalformedPacketException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final int offset;

    /**
     * @param message what is wrong, for counters and logs
     * @param offset  the offset of the offending field within the view, or -1 if none applies
     */
    public MalformedPacketException(String message, int offset) {
        super(message, null, false, false);
        this.offset = offset;
    }

    /** The offset of the offending field within the view, or -1. */
    public int offset() {
        return offset;
    }
}
