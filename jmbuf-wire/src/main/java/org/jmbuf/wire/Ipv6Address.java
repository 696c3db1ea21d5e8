package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * An IPv6 address as two 64-bit halves in wire order ({@code high} holds bytes 0-7).
 *
 * <p>No zone: a zone (scope) is the stack's business. Text is RFC 4291 §2.2 on input and the RFC 5952
 * canonical form on output ({@code 2001:db8::1}).
 *
 * @param high bytes 0 to 7
 * @param low  bytes 8 to 15
 */
public record Ipv6Address(long high, long low) implements IpAddress {
    /** :: (the unspecified address). */
    public static final Ipv6Address UNSPECIFIED = new Ipv6Address(0, 0);
    /** ::1. */
    public static final Ipv6Address LOOPBACK = new Ipv6Address(0, 1);
    /** ff02::1, all nodes on the link. */
    public static final Ipv6Address ALL_NODES = new Ipv6Address(0xff02L << 48, 1);
    /** ff02::2, all routers on the link. */
    public static final Ipv6Address ALL_ROUTERS = new Ipv6Address(0xff02L << 48, 2);

    /** The address at {@code offset} of {@code s}. */
    public static Ipv6Address read(MemorySegment s, long offset) {
        return new Ipv6Address(Bytes.u64(s, offset), Bytes.u64(s, offset + 8));
    }

    /** Writes the address at {@code offset} of {@code s}. */
    public void write(MemorySegment s, long offset) {
        Bytes.setU64(s, offset, high);
        Bytes.setU64(s, offset + 8, low);
    }

    /** The 16-bit group {@code index} (0 to 7). */
    public int group(int index) {
        long half = index < 4 ? high : low;
        return (int) (half >>> (48 - 16 * (index & 3))) & 0xffff;
    }

    /**
     * Parses RFC 4291 text: eight groups of hex, one {@code ::} run of zeros allowed, an embedded IPv4
     * dotted quad allowed at the end. No zone ({@code %}).
     *
     * @throws IllegalArgumentException if {@code text} is not an IPv6 address
     */
    public static Ipv6Address parse(String text) {
        int[] groups = new int[8];
        String body = text;
        int doubleColon = body.indexOf("::");
        if (doubleColon >= 0 && body.indexOf("::", doubleColon + 1) >= 0) {
            throw bad(text, "more than one \"::\"");
        }
        String left = doubleColon >= 0 ? body.substring(0, doubleColon) : body;
        String right = doubleColon >= 0 ? body.substring(doubleColon + 2) : "";
        int[] leftGroups = groups(left, text, doubleColon < 0);
        int[] rightGroups = groups(right, text, true);
        int total = leftGroups.length + rightGroups.length;
        if (doubleColon < 0 && total != 8 || doubleColon >= 0 && total > 7) {
            throw bad(text, total + " groups");
        }
        System.arraycopy(leftGroups, 0, groups, 0, leftGroups.length);
        System.arraycopy(rightGroups, 0, groups, 8 - rightGroups.length, rightGroups.length);
        long high = 0;
        long low = 0;
        for (int i = 0; i < 4; i++) {
            high = high << 16 | groups[i];
            low = low << 16 | groups[i + 4];
        }
        return new Ipv6Address(high, low);
    }

    private static int[] groups(String part, String text, boolean endsAddress) {
        if (part.isEmpty()) {
            return new int[0];
        }
        String[] pieces = part.split(":", -1);
        int last = pieces.length - 1;
        boolean dotted = pieces[last].contains(".");
        int[] out = new int[pieces.length + (dotted ? 1 : 0)];
        for (int i = 0; i < pieces.length; i++) {
            String p = pieces[i];
            if ((i != last || !endsAddress) && p.contains(".")) {
                throw bad(text, "a dotted quad may only end the address");
            }
            if (i == last && dotted) {
                int v4 = Ipv4Address.parse(p).bits();
                out[i] = v4 >>> 16;
                out[i + 1] = v4 & 0xffff;
                break;
            }
            if (p.isEmpty() || p.length() > 4 || !p.chars().allMatch(Ipv6Address::isHexDigit)) {
                throw bad(text, "bad group \"" + p + "\"");
            }
            out[i] = Integer.parseInt(p, 16);
        }
        return out;
    }

    private static boolean isHexDigit(int c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }

    private static IllegalArgumentException bad(String text, String why) {
        return new IllegalArgumentException("not an IPv6 address (" + why + "): " + text);
    }

    /** ff00::/8. */
    public boolean isMulticast() {
        return isMulticast(high);
    }

    /** Whether the address whose bytes 0-7 are {@code high} is in ff00::/8; no record needed. */
    public static boolean isMulticast(long high) {
        return (high >>> 56) == 0xff;
    }

    /** fe80::/10. */
    public boolean isLinkLocal() {
        return isLinkLocal(high);
    }

    /** Whether the address whose bytes 0-7 are {@code high} is in fe80::/10; no record needed. */
    public static boolean isLinkLocal(long high) {
        return (high >>> 54) == (0xfe80L >>> 6);
    }

    /** ::. */
    public boolean isUnspecified() {
        return high == 0 && low == 0;
    }

    @Override
    public int version() {
        return 6;
    }

    @Override
    public boolean isAnyAddress() {
        return isUnspecified();
    }

    /** ::1. */
    public boolean isLoopback() {
        return isLoopback(high, low);
    }

    /** Whether the address {@code high}:{@code low} is ::1; no record needed. */
    public static boolean isLoopback(long high, long low) {
        return high == 0 && low == 1;
    }

    /** A multicast address whose scope is link-local or interface-local (ff01::/16, ff02::/16). */
    public boolean isLinkScopeMulticast() {
        return isMulticast() && ((high >>> 48) & 0xf) <= 2;
    }

    /** The solicited-node multicast address for this address (RFC 4291 §2.7.1): ff02::1:ffXX:XXXX. */
    public Ipv6Address solicitedNode() {
        return new Ipv6Address(0xff02L << 48, 0x1ff000000L | (low & 0xffffff));
    }

    /** Whether this address is in {@code prefix}/{@code prefixLength}. */
    public boolean isIn(Ipv6Address prefix, int prefixLength) {
        return isIn(high, low, prefix, prefixLength);
    }

    /** Whether the address {@code high}:{@code low} is in {@code prefix}/{@code prefixLength}; no record needed. */
    public static boolean isIn(long high, long low, Ipv6Address prefix, int prefixLength) {
        if (prefixLength <= 64) {
            long mask = prefixLength == 0 ? 0 : -1L << (64 - prefixLength);
            return (high & mask) == (prefix.high & mask);
        }
        long mask = -1L << (128 - prefixLength);
        return high == prefix.high && (low & mask) == (prefix.low & mask);
    }

    /** RFC 5952 canonical text: lower case, leading zeros dropped, the longest run of 2+ zero groups as ::. */
    @Override
    public String toString() {
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            if (group(i) == 0) {
                int j = i;
                while (j < 8 && group(j) == 0) {
                    j++;
                }
                if (j - i > bestLength) {
                    bestStart = i;
                    bestLength = j - i;
                }
                i = j;
            } else {
                i++;
            }
        }
        StringBuilder out = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(group(i)));
        }
        return out.toString();
    }
}
