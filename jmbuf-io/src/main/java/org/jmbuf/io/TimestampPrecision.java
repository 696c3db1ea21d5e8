package org.jmbuf.io;

/**
 * The timestamp resolution a {@link CaptureWriter} writes: in classic pcap it picks the magic number, in
 * pcapng the interface's {@code if_tsresol} option. Finer parts of an {@link java.time.Instant} are cut
 * off (rounded toward the past), never rounded up.
 */
public enum TimestampPrecision {
    /** Microseconds: pcap magic {@code a1b2c3d4}, pcapng {@code if_tsresol} 6. */
    MICROSECONDS(6),
    /** Nanoseconds: pcap magic {@code a1b23c4d}, pcapng {@code if_tsresol} 9. */
    NANOSECONDS(9);

    private final int decimalDigits;

    TimestampPrecision(int decimalDigits) {
        this.decimalDigits = decimalDigits;
    }

    /** The number of decimal digits of a second: 6 or 9 (the pcapng {@code if_tsresol} value). */
    public int decimalDigits() {
        return decimalDigits;
    }

    /** How many units make a second: 10<sup>6</sup> or 10<sup>9</sup>. */
    long unitsPerSecond() {
        return this == MICROSECONDS ? 1_000_000L : 1_000_000_000L;
    }
}
