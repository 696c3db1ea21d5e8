package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * A 48-bit IEEE 802 MAC address as the low 48 bits of a {@code long}, in the order they appear on the
 * wire (the first octet is bits 40 to 47).
 *
 * <p>Text is six pairs of hex digits separated by colons ({@code 02:00:00:00:00:01}), lower case on
 * output.
 *
 * @param bits the address, in the low 48 bits
 */
public record MacAddress(long bits) {
    /** The byte length of an address. */
    public static final int LENGTH = 6;
    /** ff:ff:ff:ff:ff:ff. */
    public static final MacAddress BROADCAST = new MacAddress(0xffff_ffff_ffffL);
    /** 00:00:00:00:00:00, the unknown target of an ARP request (RFC 5227 §1.1). */
    public static final MacAddress ZERO = new MacAddress(0);

    /**
     * @throws IllegalArgumentException if {@code bits} has any of its top 16 bits set
     */
    public MacAddress {
        if ((bits >>> 48) != 0) {
            throw new IllegalArgumentException("a MAC address has 48 bits: 0x" + Long.toHexString(bits));
        }
    }

    /**
     * The address at {@code offset} of {@code s}.
     *
     * @throws IndexOutOfBoundsException if the six bytes are not inside {@code s}
     */
    public static MacAddress read(MemorySegment s, long offset) {
        return new MacAddress(bitsAt(s, offset));
    }

    /** The address bits at {@code offset} of {@code s}, without allocating; see {@link #read}. */
    static long bitsAt(MemorySegment s, long offset) {
        return (long) Bytes.u16(s, offset) << 32 | Integer.toUnsignedLong(Bytes.u32(s, offset + 2));
    }

    /**
     * Writes the address at {@code offset} of {@code s}.
     *
     * @throws IndexOutOfBoundsException if the six bytes are not inside {@code s}
     * @throws IllegalArgumentException  if {@code s} is read-only
     */
    public void write(MemorySegment s, long offset) {
        Bytes.setU16(s, offset, (int) (bits >>> 32));
        Bytes.setU32(s, offset + 2, (int) bits);
    }

    /**
     * Parses six pairs of hex digits separated by colons ({@code 02:00:00:00:00:01}), either case.
     *
     * @throws IllegalArgumentException if {@code text} is not in that form
     */
    public static MacAddress parse(String text) {
        if (text.length() != 17) {
            throw new IllegalArgumentException("not a MAC address (want 02:00:00:00:00:01): " + text);
        }
        long bits = 0;
        for (int i = 0; i < 17; i++) {
            char c = text.charAt(i);
            if (i % 3 == 2) {
                if (c != ':') {
                    throw new IllegalArgumentException("not a MAC address (want ':' at " + i + "): " + text);
                }
                continue;
            }
            int digit = hexDigit(c);
            if (digit < 0) {
                throw new IllegalArgumentException("not a MAC address (bad hex digit '" + c + "'): " + text);
            }
            bits = bits << 4 | digit;
        }
        return new MacAddress(bits);
    }

    // Character.digit would take non-ASCII digits too.
    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /**
     * The Ethernet multicast address an IPv4 multicast group maps to (RFC 1112 §6.4): 01:00:5e and the
     * low 23 bits of the group.
     *
     * @throws IllegalArgumentException if {@code group} is not multicast
     */
    public static MacAddress ofMulticast(Ipv4Address group) {
        if (!group.isMulticast()) {
            throw new IllegalArgumentException("not an IPv4 multicast address: " + group);
        }
        return new MacAddress(0x01_00_5e_00_00_00L | (group.bits() & 0x7fffff));
    }

    /**
     * The Ethernet multicast address an IPv6 multicast group maps to (RFC 2464 §7): 33:33 and the low 32
     * bits of the group.
     *
     * @throws IllegalArgumentException if {@code group} is not multicast
     */
    public static MacAddress ofMulticast(Ipv6Address group) {
        if (!group.isMulticast()) {
            throw new IllegalArgumentException("not an IPv6 multicast address: " + group);
        }
        return new MacAddress(0x33_33_00_00_00_00L | (group.low() & 0xffff_ffffL));
    }

    /** The octet {@code index} (0 to 5), in wire order. */
    public int octet(int index) {
        if (index < 0 || index >= LENGTH) {
            throw new IndexOutOfBoundsException("MAC address octet " + index + " not in 0..5");
        }
        return (int) (bits >>> (40 - 8 * index)) & 0xff;
    }

    /** Whether the group bit (I/G, the low bit of the first octet) is set; true for broadcast too. */
    public boolean isMulticast() {
        return (bits & 0x01_00_00_00_00_00L) != 0;
    }

    /** ff:ff:ff:ff:ff:ff. */
    public boolean isBroadcast() {
        return bits == 0xffff_ffff_ffffL;
    }

    /** Neither multicast nor broadcast, and not all zeros: an address a station may use as its own. */
    public boolean isUnicast() {
        return !isMulticast() && bits != 0;
    }

    /** Whether the locally administered bit (U/L, the second-lowest bit of the first octet) is set. */
    public boolean isLocallyAdministered() {
        return (bits & 0x02_00_00_00_00_00L) != 0;
    }

    /** Six lower-case hex pairs separated by colons. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder(17);
        for (int i = 0; i < LENGTH; i++) {
            if (i > 0) {
                out.append(':');
            }
            int octet = octet(i);
            out.append(Character.forDigit(octet >>> 4, 16)).append(Character.forDigit(octet & 0xf, 16));
        }
        return out.toString();
    }
}
