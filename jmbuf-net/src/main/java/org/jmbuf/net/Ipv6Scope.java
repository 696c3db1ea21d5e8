package org.jmbuf.net;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import org.jmbuf.buf.Mbuf;
import org.jmbuf.buf.PacketTag;
import org.jmbuf.wire.Bytes;
import org.jmbuf.wire.Ipv6Address;
import org.jmbuf.wire.Ipv6Header;

/**
 * Scoped IPv6 addresses the KAME way ({@code scope6.c}: {@code in6_setscope}, {@code in6_clearscope},
 * {@code sa6_embedscope}): inside the stack a link-local address (fe80::/10) or an interface- or
 * link-local multicast address (ff01::/16, ff02::/16) carries its zone, the index of its interface, in
 * bytes 2-3: {@code fe80:2::1} is fe80::1 on interface 2. The zone is embedded when a packet enters the
 * stack ({@link Ipv6} input writes it into the header, copy on write through {@link Mbuf#ptrRw} so read-
 * only storage is never written) and cleared before the packet leaves the host; it never appears on the
 * wire, and checksums are computed over the cleared addresses.
 *
 * <p>RFC 4007 §11 gives the text form {@code address%zone}; {@link #parse} turns it into an (address,
 * interface) pair for the socket layer and {@link #format} back into text.
 */
public final class Ipv6Scope {
    private Ipv6Scope() {
    }

    /** An address with its zone's interface (the socket layer's {@code sockaddr_in6} with scope id). */
    public record Zoned(Ipv6Address address, NetworkInterface ifp) {
        /** The address with the zone embedded, as the stack uses it internally (global addresses as they are). */
        public Ipv6Address embedded() {
            return ifp == null ? address : embed(address, ifp.index());
        }
    }

    /**
     * The packet tag that keeps a packet's real zone when it is looped back to this host through lo0
     * (KAME's {@code origifp}): a packet to one of our link-local addresses is received on the interface
     * that owns the address, not on lo0.
     */
    record LoopedFrom(int index) implements PacketTag {
    }

    /**
     * Whether {@code a} needs a zone: link-local unicast (fe80::/10), or multicast of interface-local or
     * link-local scope without flags (ff01::/16, ff02::/16; RFC 3306 prefix-based groups such as ff32::
     * use bytes 2-3 themselves and are left alone). {@code IN6_IS_SCOPE_EMBED}.
     */
    public static boolean isScoped(Ipv6Address a) {
        return isScoped(a.high());
    }

    /** {@link #isScoped(Ipv6Address)} of the address whose bytes 0-7 are {@code high}: no record needed. */
    static boolean isScoped(long high) {
        if (Ipv6Address.isLinkLocal(high)) {
            return true;
        }
        int first = (int) (high >>> 48);
        return first == 0xff01 || first == 0xff02;
    }

    /** The zone embedded in {@code a} (bytes 2-3), 0 if none or if {@code a} is not scoped. */
    public static int zone(Ipv6Address a) {
        return zone(a.high());
    }

    /** {@link #zone(Ipv6Address)} of the address whose bytes 0-7 are {@code high}. */
    static int zone(long high) {
        return isScoped(high) ? (int) (high >>> 32) & 0xffff : 0;
    }

    /**
     * {@code in6_setscope}: {@code a} with {@code zone} in bytes 2-3 if it is scoped, else {@code a}.
     *
     * @throws IllegalArgumentException if {@code zone} is not in 0..65535
     */
    public static Ipv6Address embed(Ipv6Address a, int zone) {
        long high = embed(a.high(), zone);
        return high == a.high() ? a : new Ipv6Address(high, a.low());
    }

    /**
     * {@link #embed(Ipv6Address, int)} on the bytes 0-7 of an address, {@code high}, which are all it
     * changes: no record needed.
     *
     * @throws IllegalArgumentException if {@code zone} is not in 0..65535
     */
    static long embed(long high, int zone) {
        if (zone < 0 || zone > 0xffff) {
            throw new IllegalArgumentException("zone " + zone + " is not in 0..65535");
        }
        return isScoped(high) ? high & ~(0xffffL << 32) | (long) zone << 32 : high;
    }

    /** {@code in6_clearscope}: {@code a} with bytes 2-3 cleared if it is scoped, else {@code a}. */
    public static Ipv6Address clear(Ipv6Address a) {
        return embed(a, 0);
    }

    /** {@link #clear(Ipv6Address)} on the bytes 0-7 of an address, {@code high}, which are all it changes. */
    static long clear(long high) {
        return embed(high, 0);
    }

    /**
     * Embeds {@code zone} in the source and destination of the IPv6 header at {@code offset} of {@code m}
     * where they are scoped and do not carry it yet. Writes only through {@link Mbuf#ptrRw}: a header on
     * read-only or shared storage is copied first, the storage keeps its bytes.
     *
     * @return whether the header was written
     */
    static boolean embedInPacket(Mbuf m, int offset, int zone) {
        MemorySegment ip = m.ptr(offset, Ipv6Header.MIN_LENGTH);
        return embedInPacket(m, offset, zone, Ipv6Header.sourceHigh(ip), Ipv6Header.destinationHigh(ip));
    }

    /**
     * {@link #embedInPacket(Mbuf, int, int)} for a caller that has read the header already:
     * {@code sourceHigh} and {@code destinationHigh} are bytes 0-7 of its addresses, as they are in the
     * packet now (the zone lives there, so the other halves are not needed). Makes nothing unless it writes.
     */
    static boolean embedInPacket(Mbuf m, int offset, int zone, long sourceHigh, long destinationHigh) {
        long newSource = embed(sourceHigh, zone);
        long newDestination = embed(destinationHigh, zone);
        if (newSource == sourceHigh && newDestination == destinationHigh) {
            return false;
        }
        MemorySegment rw = m.ptrRw(offset, Ipv6Header.MIN_LENGTH);
        Bytes.setU64(rw, Ipv6Header.Field.SOURCE, newSource);
        Bytes.setU64(rw, Ipv6Header.Field.DESTINATION, newDestination);
        return true;
    }

    /** Clears any embedded zone in the IPv6 header at {@code offset} of {@code m} (copy on write). */
    static void clearInPacket(Mbuf m, int offset) {
        Ipv6Header ip = Ipv6Header.of(m.ptr(offset, Ipv6Header.MIN_LENGTH));
        if (zone(ip.source()) == 0 && zone(ip.destination()) == 0) {
            return;
        }
        Ipv6Header rw = Ipv6Header.of(m.ptrRw(offset, Ipv6Header.MIN_LENGTH));
        rw.setSource(clear(rw.source())).setDestination(clear(rw.destination()));
    }

    /**
     * Parses {@code address%zone} (RFC 4007 §11.2), the zone an interface name ({@code fe80::1%eth0}) or
     * index ({@code fe80::1%2}) of {@code host}. A scoped address must have a zone; a global one may not.
     *
     * @return the address without an embedded zone, and the zone's interface (null for a global address)
     * @throws IllegalArgumentException if the text is not an address, the zone names no interface of
     *                                  {@code host}, a scoped address has no zone, or a global one has one
     */
    public static Zoned parse(Host host, String text) {
        Objects.requireNonNull(host, "host");
        int percent = text.indexOf('%');
        String addressText = percent < 0 ? text : text.substring(0, percent);
        Ipv6Address address = Ipv6Address.parse(addressText);
        if (percent < 0) {
            if (isScoped(address)) {
                throw new IllegalArgumentException("the scoped address " + text
                        + " needs a zone (an interface): for example " + text + "%eth0");
            }
            return new Zoned(address, null);
        }
        String zoneText = text.substring(percent + 1);
        if (zoneText.isEmpty()) {
            throw new IllegalArgumentException("empty zone in " + text);
        }
        if (!isScoped(address)) {
            throw new IllegalArgumentException("the global address " + addressText + " takes no zone: " + text);
        }
        if (zone(address) != 0) {
            throw new IllegalArgumentException("bytes 2-3 of a link-local address must be zero on input: " + text);
        }
        NetworkInterface ifp = null;
        if (zoneText.chars().allMatch(Character::isDigit)) {
            int index;
            try {
                index = Integer.parseInt(zoneText);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("zone index out of range in " + text, e);
            }
            for (NetworkInterface candidate : host.interfaces()) {
                if (candidate.index() == index) {
                    ifp = candidate;
                }
            }
        } else {
            for (NetworkInterface candidate : host.interfaces()) {
                if (candidate.name().equals(zoneText)) {
                    ifp = candidate;
                }
            }
        }
        if (ifp == null) {
            throw new IllegalArgumentException("unknown zone \"" + zoneText + "\" in " + text + ": host "
                    + host.name() + " has no such interface");
        }
        return new Zoned(address, ifp);
    }

    /** Text for an address as the stack holds it: {@code fe80::1%eth0} for an embedded zone, else plain. */
    public static String format(Host host, Ipv6Address a) {
        int zone = zone(a);
        if (zone == 0) {
            return a.toString();
        }
        for (NetworkInterface ifp : host.interfaces()) {
            if (ifp.index() == zone) {
                return clear(a) + "%" + ifp.name();
            }
        }
        return clear(a) + "%" + zone;
    }
}
