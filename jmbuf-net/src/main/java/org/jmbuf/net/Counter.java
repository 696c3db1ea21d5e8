package org.jmbuf.net;

/**
 * A named event counter of a protocol, in the style of {@code netstat -s}: implemented by the enums of
 * counters each protocol keeps (one constant per event, one per drop reason).
 */
public interface Counter {
    /** The line {@code netstat -s} would print after the number, for example "bad header checksums". */
    String description();
}
