package org.jmbuf.io;

import java.time.Instant;
import java.util.Objects;
import org.jmbuf.buf.Mbuf;

/**
 * One packet read from a capture file, with its record's metadata.
 *
 * <p>The {@link #mbuf()} is the caller's to free (freeing this record with {@link #close()} does the
 * same). Its one segment is read-only external storage over the bytes of the file's read-only mapping:
 * nothing was copied, and nothing can be written there. Operations that write ({@link Mbuf#ptrRw},
 * {@link Mbuf#makeWritable}, {@link Mbuf#copyBackCow}) copy the bytes they change first; the file is
 * never changed. The metadata are plain values, recorded when the packet was read; they do not follow
 * later changes to the chain.
 *
 * @param mbuf             the packet: {@link #capturedLength()} bytes of the file, shared read-only
 * @param timestamp        when it was captured, or null for a pcapng Simple Packet Block, which has no
 *                         timestamp
 * @param capturedLength   how many bytes the file holds
 * @param originalLength   how long the packet was on the wire (an unsigned 32-bit number, which a damaged
 *                         file may make smaller than the captured length)
 * @param captureInterface the interface it was captured on, with its link type
 * @param fileOffset       the byte offset of its record (pcap) or block (pcapng) in the file
 */
public record CapturedPacket(Mbuf mbuf, Instant timestamp, int capturedLength, long originalLength,
        CaptureInterface captureInterface, long fileOffset) implements AutoCloseable {

    /**
     * Makes the record; the chain is taken as it is, not copied.
     *
     * @throws NullPointerException if {@code mbuf} or {@code captureInterface} is null
     */
    public CapturedPacket {
        Objects.requireNonNull(mbuf, "mbuf");
        Objects.requireNonNull(captureInterface, "captureInterface");
    }

    /** The link type of the interface it was captured on. */
    public LinkType linkType() {
        return captureInterface.linkType();
    }

    /** The interface ID within its pcapng section (0 in classic pcap). */
    public int interfaceIndex() {
        return captureInterface.index();
    }

    /** Whether the capture kept fewer bytes than the packet had ({@code capturedLength < originalLength}). */
    public boolean isTruncated() {
        return capturedLength < originalLength;
    }

    /**
     * The timestamp in nanoseconds since 1970-01-01T00:00Z.
     *
     * @throws IllegalStateException if the packet has no timestamp (a pcapng Simple Packet Block)
     * @throws ArithmeticException   if the timestamp is outside the years 1677 to 2262, which a long of
     *                               nanoseconds cannot hold
     */
    public long timestampNanos() {
        if (timestamp == null) {
            throw new IllegalStateException("a packet from a Simple Packet Block (at offset " + fileOffset
                    + ") has no timestamp");
        }
        return Math.addExact(Math.multiplyExact(timestamp.getEpochSecond(), 1_000_000_000L), timestamp.getNano());
    }

    /** Frees {@link #mbuf()} if it is still alive ({@link Mbuf#close()}); does nothing otherwise. */
    @Override
    public void close() {
        mbuf.close();
    }
}
