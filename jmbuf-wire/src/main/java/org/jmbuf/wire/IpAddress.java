package org.jmbuf.wire;

/** An IPv4 or an IPv6 address: what a socket or a route of either family holds. */
public sealed interface IpAddress permits Ipv4Address, Ipv6Address {
    /** 4 or 6. */
    int version();

    /** Whether this is the unspecified address of its family (0.0.0.0 or ::). */
    boolean isAnyAddress();

    /**
     * Parses an IPv4 dotted quad or IPv6 text (no zone).
     *
     * @throws IllegalArgumentException if {@code text} is neither
     */
    static IpAddress parse(String text) {
        return text.indexOf(':') >= 0 ? Ipv6Address.parse(text) : Ipv4Address.parse(text);
    }
}
