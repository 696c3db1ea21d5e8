package org.jmbuf.buf;

/**
 * Bits of the packet header's flags that say how a packet arrived ({@code M_BCAST}, {@code M_MCAST}):
 * set by the link layer on input, read by the protocols above, which must not answer a link-layer
 * broadcast or multicast with an error (RFC 1122 §3.2.2) nor forward it (RFC 1812 §5.3.4). Combine with
 * {@code |}; see {@link Mbuf#packetFlags()}.
 */
public final class PacketFlags {
    /** {@code M_BCAST}: the frame was sent to the link-layer broadcast address. */
    public static final int LINK_BROADCAST = 0x0100;
    /** {@code M_MCAST}: the frame was sent to a link-layer multicast address. */
    public static final int LINK_MULTICAST = 0x0200;

    private PacketFlags() {
    }
}
