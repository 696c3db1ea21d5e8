package org.jmbuf.wire;

/**
 * Internet protocol numbers (the IANA "Assigned Internet Protocol Numbers" registry): the IPv4 Protocol
 * field and the IPv6 Next Header field ({@code IPPROTO_*}).
 */
public final class IpProtocol {
    /** IPv6 Hop-by-Hop Options (RFC 8200 §4.3). */
    public static final int HOP_BY_HOP = 0;
    /** ICMP for IPv4 (RFC 792). */
    public static final int ICMP = 1;
    /** IGMP (RFC 3376). */
    public static final int IGMP = 2;
    /** TCP (RFC 9293). */
    public static final int TCP = 6;
    /** UDP (RFC 768). */
    public static final int UDP = 17;
    /** IPv6 Routing header (RFC 8200 §4.4). */
    public static final int IPV6_ROUTING = 43;
    /** IPv6 Fragment header (RFC 8200 §4.5). */
    public static final int IPV6_FRAGMENT = 44;
    /** Encapsulating Security Payload (RFC 4303). */
    public static final int ESP = 50;
    /** Authentication Header (RFC 4302); its length is in 4-octet units, not 8. */
    public static final int AH = 51;
    /** ICMP for IPv6 (RFC 4443). */
    public static final int ICMPV6 = 58;
    /** No Next Header for IPv6 (RFC 8200 §4.7): nothing follows. */
    public static final int IPV6_NO_NEXT = 59;
    /** IPv6 Destination Options (RFC 8200 §4.6). */
    public static final int IPV6_DESTINATION = 60;

    private IpProtocol() {
    }

    /**
     * Whether {@code protocol} is in the IANA "IPv6 Extension Header Types" registry (RFC 7045 §4):
     * Hop-by-Hop (0), Routing (43), Fragment (44), ESP (50), AH (51), Destination Options (60), Mobility
     * (135), HIP (139), Shim6 (140) and the experimental values 253 and 254.
     *
     * <p>Not every one of them has the layout {@link Ipv6ExtensionHeader} reads: Fragment is a fixed 8
     * bytes ({@link Ipv6FragmentHeader}), AH counts its length in 4-octet units, and ESP cannot be parsed
     * at all without its security association. No Next Header (59) is not an extension header.
     */
    public static boolean isIpv6ExtensionHeader(int protocol) {
        return switch (protocol) {
            case HOP_BY_HOP, IPV6_ROUTING, IPV6_FRAGMENT, ESP, AH, IPV6_DESTINATION, 135, 139, 140, 253, 254 -> true;
            default -> false;
        };
    }
}
