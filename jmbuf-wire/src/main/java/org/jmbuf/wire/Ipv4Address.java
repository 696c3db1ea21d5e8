package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * An IPv4 address as its 32 bits, in the order they appear on the wire (the first octet is the most
 * significant byte).
 *
 * @param bits the address
 */
public record Ipv4Address(int bits) implements IpAddress, Comparable<Ipv4Address> {
    /** 0.0.0.0 ({@code INADDR_ANY}). */
    public static final Ipv4Address ANY = new Ipv4Address(0);
    /** 255.255.255.255 ({@code INADDR_BROADCAST}). */
    public static final Ipv4Address BROADCAST = new Ipv4Address(-1);

    /** The address at {@code offset} of {@code s}. */
    public static Ipv4Address read(MemorySegment s, long offset) {
        return new Ipv4Address(Bytes.u32(s, offset));
    }

    /** Writes the address at {@code offset} of {@code s}. */
    public void write(MemorySegment s, long offset) {
        Bytes.setU32(s, offset, bits);
    }

    /**
     * Parses dotted-quad notation ({@code 192.0.2.1}).
     *
     * @throws IllegalArgumentException if {@code text} is not four decimal octets separated by dots
     */
    public static Ipv4Address parse(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address (want four octets like 192.0.2.1): " + text);
        }
        int bits = 0;
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new IllegalArgumentException("not an IPv4 address (bad octet \"" + part + "\"): " + text);
            }
            int octet = Integer.parseInt(part);
            if (octet > 255) {
                throw new IllegalArgumentException("not an IPv4 address (octet " + octet + " > 255): " + text);
            }
            bits = bits << 8 | octet;
        }
        return new Ipv4Address(bits);
    }

    /** 224.0.0.0/4. */
    public boolean isMulticast() {
        return isMulticast(bits);
    }

    /** Whether the address {@code bits} is in 224.0.0.0/4 ({@code IN_MULTICAST}); no record needed. */
    public static boolean isMulticast(int bits) {
        return (bits >>> 28) == 0xe;
    }

    /** 255.255.255.255. */
    public boolean isLimitedBroadcast() {
        return bits == -1;
    }

    /** 0.0.0.0. */
    public boolean isAny() {
        return bits == 0;
    }

    @Override
    public int version() {
        return 4;
    }

    @Override
    public boolean isAnyAddress() {
        return bits == 0;
    }

    /** 127.0.0.0/8. */
    public boolean isLoopback() {
        return isLoopback(bits);
    }

    /** Whether the address {@code bits} is in 127.0.0.0/8 ({@code IN_LOOPBACK}); no record needed. */
    public static boolean isLoopback(int bits) {
        return (bits >>> 24) == 127;
    }

    /** Whether this address is in {@code network}/{@code prefixLength}. */
    public boolean isIn(Ipv4Address network, int prefixLength) {
        return isIn(bits, network.bits, prefixLength);
    }

    /** Whether the address {@code bits} is in {@code network}/{@code prefixLength}; no record needed. */
    public static boolean isIn(int bits, int network, int prefixLength) {
        int mask = prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
        return (bits & mask) == (network & mask);
    }

    @Override
    public int compareTo(Ipv4Address other) {
        return Integer.compareUnsigned(bits, other.bits);
    }

    /** Dotted-quad notation. */
    @Override
    public String toString() {
        return (bits >>> 24) + "." + (bits >>> 16 & 0xff) + "." + (bits >>> 8 & 0xff) + "." + (bits & 0xff);
    }
}
