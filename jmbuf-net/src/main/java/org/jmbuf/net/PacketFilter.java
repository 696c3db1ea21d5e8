package org.jmbuf.net;

import org.jmbuf.buf.Mbuf;

/**
 * A packet filter hook ({@code pfil(9)}): sees every IPv4 or IPv6 packet a host receives (after the
 * header checks) and every one it sends (before the link layer), and decides its fate. Hooks are added
 * per family, with {@link Ipv4#addFilter} and {@link Ipv6#addFilter}.
 *
 * <p>The contract that keeps the stack read-only safe, from the seed's IPFilter analysis: a filter reads
 * the packet only through {@link Mbuf#ptr} (which copies nothing when the bytes are contiguous, whatever
 * their storage) and writes only through {@link Mbuf#ptrRw} of the bytes it changes, so rewriting a port
 * copies a few bytes, not the packet. A filter that rewrites fixes the checksums it invalidates. It must
 * not free the packet, keep it, or change its length.
 */
@FunctionalInterface
public interface PacketFilter {
    /** Which way a packet is going. */
    enum Direction { IN, OUT }

    /** What to do with the packet. */
    enum Verdict {
        /** Let it through (possibly rewritten). */
        PASS,
        /** Drop it; the stack frees it and counts it. */
        DROP
    }

    /**
     * Decides the fate of {@code packet}, an IPv4 or IPv6 packet (by the hook's family) whose header starts
     * at offset 0.
     *
     * @param ifp the interface it arrived on ({@link Direction#IN}) or leaves by ({@link Direction#OUT})
     */
    Verdict filter(Mbuf packet, Direction direction, NetworkInterface ifp);
}
