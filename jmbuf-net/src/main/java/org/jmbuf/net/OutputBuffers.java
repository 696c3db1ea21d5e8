package org.jmbuf.net;

import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.MbufPool;

/**
 * Packets the stack originates start with room for every header in front of their payload
 * ({@code max_hdr}), so that UDP, IP and Ethernet prepend into leading space instead of allocating a
 * segment each.
 */
final class OutputBuffers {
    /** Room for Ethernet (with an 802.1Q tag), IPv6 or IPv4 with options, and a transport header. */
    static final int HEADROOM = 128;

    private OutputBuffers() {
    }

    /**
     * An empty packet whose first segment holds {@code payloadLength} bytes after at least
     * {@link #HEADROOM} bytes of leading space, when a segment or a cluster is big enough; otherwise an
     * empty packet (the payload will span clusters and headers get their own segment).
     *
     * @throws org.jmbuf.buf.NoBufferSpaceException if the pool refuses
     */
    static Mbuf allocate(MbufPool pool, int payloadLength) {
        Mbuf m;
        if (payloadLength + HEADROOM <= MbufPool.MLEN) {
            m = pool.getPacket();
        } else if (payloadLength + HEADROOM <= MbufPool.MCLBYTES) {
            m = pool.getCluster(true);
        } else {
            return pool.getPacket();
        }
        m.align(payloadLength);
        return m;
    }
}
