package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;
import org.jmbuf.buf.Mbuf;

/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of the
 * data taken as big-endian 16-bit words, over contiguous bytes or over a chain range ({@code in_cksum},
 * {@code in4_cksum}, {@code in6_cksum}), with the IPv4 (RFC 768) and IPv6 (RFC 8200 §8.1) pseudo
 * headers.
 *
 * <p>Sums are kept unfolded in a {@code long} so they can be added together and folded once;
 * {@link #finish(long)} folds and complements. A chain range is summed piece by piece with
 * {@link Mbuf#apply}, without copying; a piece that starts at an odd offset of the range has its sum
 * byte-swapped (RFC 1071 §2(B)).
 */
public final class InternetChecksum {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** The longest run of bytes that {@link #sum(MemorySegment, long, long)} adds in one loop: 1 GiB. */
    private static final int RUN = 1 << 30;

    private InternetChecksum() {
    }

    /**
     * The unfolded sum of {@code [offset, offset + length)} of {@code s}, taken from an even position.
     *
     * <p>The bytes are added 32 bits at a time with an {@code int} loop counter, in runs of at most
     * {@link #RUN} bytes: C2 vectorizes such a loop (a {@code long} counter defeats it, which made this sum 25
     * times slower; docs/benchmarks.md, group 7), and a run's sum of at most 2<sup>28</sup> words cannot
     * overflow.
     *
     * @throws IndexOutOfBoundsException if the range is not inside {@code s}
     */
    public static long sum(MemorySegment s, long offset, long length) {
        Objects.checkFromIndexSize(offset, length, s.byteSize());
        long sum = 0;
        long at = offset;
        long end = offset + length;
        while (end - at >= 4) {
            int run = (int) Math.min(end - at, RUN) & ~3;
            long part = 0;
            for (int i = 0; i < run; i += 4) {
                part += Integer.toUnsignedLong(s.get(U32, at + i));
            }
            sum = fold(sum) + part; // stays below 2^59 however long the range
            at += run;
        }
        if (at + 2 <= end) {
            sum += Bytes.u16(s, at);
            at += 2;
        }
        if (at < end) {
            sum += Bytes.u8(s, at) << 8;
        }
        return sum;
    }

    /** The unfolded sum of the whole segment. */
    public static long sum(MemorySegment s) {
        return sum(s, 0, s.byteSize());
    }

    /**
     * The unfolded sum of {@code [offset, offset + length)} of a chain, read in place.
     *
     * @throws IndexOutOfBoundsException if the range is not inside the chain
     */
    public static long sum(Mbuf m, int offset, int length) {
        return new ChainSum().sum(m, offset, length);
    }

    /**
     * A reusable summer of chain ranges ({@code in_cksum} over an mbuf chain): {@link #sum(Mbuf, int, int)}
     * gives what {@link InternetChecksum#sum(Mbuf, int, int)} gives, with its state kept from call to call
     * instead of made per call, for an input path that must not allocate. One per thread (it is not
     * thread-safe); a sum may not be started from inside another.
     */
    public static final class ChainSum {
        private final Pieces pieces = new Pieces();

        /** A summer with no sum in progress. */
        public ChainSum() {
        }

        /**
         * The unfolded sum of {@code [offset, offset + length)} of a chain, read in place.
         *
         * @throws IndexOutOfBoundsException if the range is not inside the chain
         */
        public long sum(Mbuf m, int offset, int length) {
            pieces.sum = 0;
            pieces.position = 0;
            m.apply(offset, length, pieces);
            return pieces.sum;
        }
    }

    /** The state of one chain sum: the sum so far and the range offset of the next piece. */
    private static final class Pieces implements Mbuf.ChunkFunction {
        long sum;
        long position;

        @Override
        public int apply(MemorySegment chunk) {
            long part = fold(sum(chunk));
            if ((position & 1) != 0) {
                part = Integer.reverseBytes((int) part) >>> 16;
            }
            sum += part;
            position += chunk.byteSize();
            return 0;
        }
    }

    /** Folds an unfolded sum to 16 bits (end-around carry), without complementing. */
    public static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) sum;
    }

    /** Folds and complements: the value to put in a checksum field. */
    public static int finish(long sum) {
        return ~fold(sum) & 0xffff;
    }

    /** The checksum of a contiguous range, ready for a checksum field. */
    public static int checksum(MemorySegment s, long offset, long length) {
        return finish(sum(s, offset, length));
    }

    /**
     * The unfolded sum of the IPv4 pseudo header: source, destination, zero, protocol, and the upper-layer
     * length.
     */
    public static long ipv4PseudoHeader(int source, int destination, int protocol, int length) {
        return (source >>> 16) + (source & 0xffff) + (destination >>> 16) + (destination & 0xffff)
                + protocol + length;
    }

    /**
     * The unfolded sum of the IPv6 pseudo header: source, destination, the upper-layer length and the next
     * header value. The addresses are read from {@code addresses} at {@code sourceOffset} and
     * {@code destinationOffset} (16 bytes each), usually the IPv6 header itself.
     */
    public static long ipv6PseudoHeader(MemorySegment addresses, long sourceOffset, long destinationOffset,
            int nextHeader, long length) {
        return sum(addresses, sourceOffset, 16) + sum(addresses, destinationOffset, 16)
                + (length >>> 16) + (length & 0xffff) + nextHeader;
    }

    /** As {@link #ipv6PseudoHeader(MemorySegment, long, long, int, long)} with address values. */
    public static long ipv6PseudoHeader(Ipv6Address source, Ipv6Address destination, int nextHeader, long length) {
        return ipv6PseudoHeader(source.high(), source.low(), destination.high(), destination.low(), nextHeader,
                length);
    }

    /**
     * As {@link #ipv6PseudoHeader(MemorySegment, long, long, int, long)} with each address as its two halves
     * ({@link Ipv6Address#high()}, {@link Ipv6Address#low()}), so no record is needed.
     */
    public static long ipv6PseudoHeader(long sourceHigh, long sourceLow, long destinationHigh, long destinationLow,
            int nextHeader, long length) {
        return wordSum(sourceHigh) + wordSum(sourceLow) + wordSum(destinationHigh) + wordSum(destinationLow)
                + (length >>> 16) + (length & 0xffff) + nextHeader;
    }

    private static long wordSum(long v) {
        return (v >>> 48) + ((v >>> 32) & 0xffff) + ((v >>> 16) & 0xffff) + (v & 0xffff);
    }
}
