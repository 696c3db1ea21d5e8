package org.jmbuf.wire;

/**
 * EtherType values (IEEE 802 numbers, RFC 894) for the type field of an {@link EthernetFrame}.
 *
 * <p>A type field below {@link #MIN_VALUE} is not an EtherType but an IEEE 802.3 length; whether to accept
 * such frames is for the input routine to decide.
 */
public final class EtherType {
    /** The smallest value that is an EtherType rather than an 802.3 length (1536). */
    public static final int MIN_VALUE = 0x0600;
    /** IPv4 ({@code ETHERTYPE_IP}, RFC 894). */
    public static final int IPV4 = 0x0800;
    /** ARP ({@code ETHERTYPE_ARP}, RFC 826). */
    public static final int ARP = 0x0806;
    /** An IEEE 802.1Q VLAN tag follows ({@code ETHERTYPE_VLAN}). */
    public static final int VLAN = 0x8100;
    /** IPv6 ({@code ETHERTYPE_IPV6}, RFC 2464). */
    public static final int IPV6 = 0x86dd;

    private EtherType() {
    }
}
