package org.jmbuf.buf;

/**
 * Bits of the packet header's checksum flags ({@code m_pkthdr.csum_flags}, {@code M_CSUM_*}): which
 * checksums a device verified on input or is asked to compute on output. Combine with {@code |}; see
 * {@link Mbuf#checksumFlags()}.
 */
public final class ChecksumFlags {
    /** {@code M_CSUM_TCPv4}: the TCP checksum over IPv4 (computed on output, verified on input). */
    public static final int TCP_V4 = 0x0001;
    /** {@code M_CSUM_UDPv4}: the UDP checksum over IPv4. */
    public static final int UDP_V4 = 0x0002;
    /** {@code M_CSUM_TCP_UDP_BAD}: the device found the TCP or UDP checksum bad. */
    public static final int TCP_UDP_BAD = 0x0004;
    /** {@code M_CSUM_DATA}: {@link Mbuf#checksumData()} holds the partial checksum of the payload. */
    public static final int DATA = 0x0008;
    /** {@code M_CSUM_TCPv6}: the TCP checksum over IPv6. */
    public static final int TCP_V6 = 0x0010;
    /** {@code M_CSUM_UDPv6}: the UDP checksum over IPv6. */
    public static final int UDP_V6 = 0x0020;
    /** {@code M_CSUM_IPv4}: the IPv4 header checksum. */
    public static final int IPV4 = 0x0040;
    /** {@code M_CSUM_IPv4_BAD}: the device found the IPv4 header checksum bad. */
    public static final int IPV4_BAD = 0x0080;
    /** {@code M_CSUM_TSOv4}: TCP segmentation offload over IPv4; {@link Mbuf#segmentSize()} is the MSS. */
    public static final int TSO_V4 = 0x0100;
    /** {@code M_CSUM_TSOv6}: TCP segmentation offload over IPv6. */
    public static final int TSO_V6 = 0x0200;

    private ChecksumFlags() {
    }
}
