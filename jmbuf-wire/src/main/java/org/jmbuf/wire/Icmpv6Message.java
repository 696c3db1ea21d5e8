package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * A view of an ICMPv6 message (RFC 4443 §2.1) over contiguous bytes, with the bodies of the Neighbor
 * Discovery messages (RFC 4861 §4): {@code struct icmp6_hdr}, {@code struct nd_router_advert} and the
 * like.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * |  second word: echo            Identifier | Sequence Number    |
 * |               parameter problem  Pointer (32 bits)            |
 * |               packet too big     MTU (32 bits)                |
 * |               RA   Cur Hop Limit|M|O| ...| Router Lifetime    |
 * |               NA   |R|S|O|  Reserved                          |
 * |  RA: Reachable Time, Retrans Timer; NS, NA, Redirect: Target  |
 * |  Address (16 bytes); Redirect: Destination Address (16 bytes) |
 * |  ND options ... (NdOptionCursor)                              |
 * </pre>
 *
 * <p>{@link #of(MemorySegment)} / {@link #wrap(MemorySegment)} check that the fixed part of the message's
 * type is inside the view ({@link #minimumLength(int)}: 8 bytes, 16 for a Router Advertisement, 24 for
 * a Neighbor Solicitation or Advertisement, 40 for a Redirect). The second-word accessors read the same
 * four bytes whatever the type; the Neighbor Discovery accessors check the type and throw
 * {@link IllegalStateException} for another. Hop limit 255, code 0 and the other validity checks of RFC
 * 4861 are for the input routine. The checksum covers the pseudo header and the whole message:
 * {@link #isChecksumValid(long)} and {@link #fillChecksum(long)} take the view to be exactly the message.
 * Setters throw {@link IllegalArgumentException} on a read-only view. A view is a flyweight:
 * {@link #wrap(MemorySegment)} re-points it without allocating.
 */
public final class Icmpv6Message {
    /** The header length: type, code, checksum and the second word. */
    public static final int HEADER_LENGTH = 8;

    /** Destination Unreachable (RFC 4443 §3.1). */
    public static final int DESTINATION_UNREACHABLE = 1;
    /** Packet Too Big (RFC 4443 §3.2). */
    public static final int PACKET_TOO_BIG = 2;
    /** Time Exceeded (RFC 4443 §3.3). */
    public static final int TIME_EXCEEDED = 3;
    /** Parameter Problem (RFC 4443 §3.4). */
    public static final int PARAMETER_PROBLEM = 4;
    /** Echo Request (RFC 4443 §4.1). */
    public static final int ECHO_REQUEST = 128;
    /** Echo Reply (RFC 4443 §4.2). */
    public static final int ECHO_REPLY = 129;
    /** Multicast Listener Query (RFC 2710 §3, RFC 3810 §5.1). */
    public static final int MULTICAST_LISTENER_QUERY = 130;
    /** Multicast Listener Report, version 1 (RFC 2710 §3). */
    public static final int MULTICAST_LISTENER_REPORT = 131;
    /** Multicast Listener Done (RFC 2710 §3). */
    public static final int MULTICAST_LISTENER_DONE = 132;
    /** Router Solicitation (RFC 4861 §4.1). */
    public static final int ROUTER_SOLICITATION = 133;
    /** Router Advertisement (RFC 4861 §4.2). */
    public static final int ROUTER_ADVERTISEMENT = 134;
    /** Neighbor Solicitation (RFC 4861 §4.3). */
    public static final int NEIGHBOR_SOLICITATION = 135;
    /** Neighbor Advertisement (RFC 4861 §4.4). */
    public static final int NEIGHBOR_ADVERTISEMENT = 136;
    /** Redirect (RFC 4861 §4.5). */
    public static final int REDIRECT = 137;
    /** Multicast Listener Report, version 2 (RFC 3810 §5.2). */
    public static final int MULTICAST_LISTENER_REPORT_V2 = 143;

    /** Destination Unreachable code: no route to destination. */
    public static final int UNREACHABLE_NO_ROUTE = 0;
    /** Destination Unreachable code: communication administratively prohibited. */
    public static final int UNREACHABLE_PROHIBITED = 1;
    /** Destination Unreachable code: beyond the scope of the source address. */
    public static final int UNREACHABLE_BEYOND_SCOPE = 2;
    /** Destination Unreachable code: address unreachable. */
    public static final int UNREACHABLE_ADDRESS = 3;
    /** Destination Unreachable code: port unreachable. */
    public static final int UNREACHABLE_PORT = 4;
    /** Destination Unreachable code: source address failed ingress/egress policy. */
    public static final int UNREACHABLE_POLICY = 5;
    /** Destination Unreachable code: reject route to destination. */
    public static final int UNREACHABLE_REJECT_ROUTE = 6;

    /** Time Exceeded code: hop limit exceeded in transit. */
    public static final int TIME_EXCEEDED_HOP_LIMIT = 0;
    /** Time Exceeded code: fragment reassembly time exceeded. */
    public static final int TIME_EXCEEDED_REASSEMBLY = 1;

    /** Parameter Problem code: erroneous header field; the pointer gives its offset. */
    public static final int PARAMETER_PROBLEM_HEADER = 0;
    /** Parameter Problem code: unrecognized Next Header type. */
    public static final int PARAMETER_PROBLEM_NEXT_HEADER = 1;
    /** Parameter Problem code: unrecognized IPv6 option. */
    public static final int PARAMETER_PROBLEM_OPTION = 2;

    /** Router Advertisement flag: Managed address configuration, in {@link #routerAdvertisementFlags()}. */
    public static final int RA_MANAGED = 0x80;
    /** Router Advertisement flag: Other configuration, in {@link #routerAdvertisementFlags()}. */
    public static final int RA_OTHER = 0x40;
    /** Neighbor Advertisement flag: the sender is a router, in {@link #neighborAdvertisementFlags()}. */
    public static final int NA_ROUTER = 0x80;
    /** Neighbor Advertisement flag: sent in response to a solicitation. */
    public static final int NA_SOLICITED = 0x40;
    /** Neighbor Advertisement flag: override an existing cache entry. */
    public static final int NA_OVERRIDE = 0x20;

    /** Byte offsets of the fields. */
    public static final class Field {
        public static final int TYPE = 0;
        public static final int CODE = 1;
        public static final int CHECKSUM = 2;
        /** Echo. */
        public static final int IDENTIFIER = 4;
        /** Echo. */
        public static final int SEQUENCE = 6;
        /** Parameter Problem: 32 bits. */
        public static final int POINTER = 4;
        /** Packet Too Big: 32 bits. */
        public static final int MTU = 4;
        public static final int BODY = 8;
        /** Router Advertisement. */
        public static final int CUR_HOP_LIMIT = 4;
        /** Router Advertisement: M, O and reserved bits. */
        public static final int RA_FLAGS = 5;
        /** Router Advertisement. */
        public static final int ROUTER_LIFETIME = 6;
        /** Router Advertisement. */
        public static final int REACHABLE_TIME = 8;
        /** Router Advertisement. */
        public static final int RETRANS_TIMER = 12;
        /** Neighbor Advertisement: R, S, O and 29 reserved bits. */
        public static final int NA_FLAGS = 4;
        /** Neighbor Solicitation, Neighbor Advertisement, Redirect. */
        public static final int TARGET = 8;
        /** Redirect. */
        public static final int REDIRECT_DESTINATION = 24;

        private Field() {
        }
    }

    private MemorySegment bytes;

    /** An empty view, to be pointed at bytes with {@link #wrap(MemorySegment)}. */
    public Icmpv6Message() {
    }

    /**
     * A view of the message at the start of {@code bytes}.
     *
     * @throws MalformedPacketException if fewer than {@link #minimumLength(int)} bytes for the message's
     *                                  type (offset 0)
     */
    public static Icmpv6Message of(MemorySegment bytes) {
        return new Icmpv6Message().wrap(bytes);
    }

    /**
     * Points this view at the message at the start of {@code bytes}; see {@link #of(MemorySegment)}.
     *
     * @return this view
     * @throws MalformedPacketException if the fixed part does not fit (the view is left unchanged)
     */
    public Icmpv6Message wrap(MemorySegment bytes) {
        if (bytes.byteSize() < HEADER_LENGTH) {
            throw new MalformedPacketException("ICMPv6 message truncated: " + bytes.byteSize() + " < 8 bytes", 0);
        }
        int type = Bytes.u8(bytes, Field.TYPE);
        int minimum = minimumLength(type);
        if (bytes.byteSize() < minimum) {
            throw new MalformedPacketException("ICMPv6 type " + type + " truncated: " + bytes.byteSize() + " < "
                    + minimum + " bytes", 0);
        }
        this.bytes = bytes;
        return this;
    }

    /**
     * The length of the fixed part of a message of {@code type}, before any options: 16 for a Router
     * Advertisement, 24 for a Neighbor Solicitation or Advertisement, 40 for a Redirect, 8 otherwise.
     */
    public static int minimumLength(int type) {
        return switch (type) {
            case ROUTER_ADVERTISEMENT -> 16;
            case NEIGHBOR_SOLICITATION, NEIGHBOR_ADVERTISEMENT -> 24;
            case REDIRECT -> 40;
            default -> HEADER_LENGTH;
        };
    }

    /**
     * Whether {@code type} is an error message (types below 128, RFC 4443 §2.1), to which no ICMPv6 error
     * may be sent in reply (RFC 4443 §2.4(e)).
     */
    public static boolean isError(int type) {
        return type >= 0 && type < 128;
    }

    /** The bytes this view reads: the message, taken to end where the view ends. */
    public MemorySegment bytes() {
        return bytes;
    }

    public int type() {
        return Bytes.u8(bytes, Field.TYPE);
    }

    public int code() {
        return Bytes.u8(bytes, Field.CODE);
    }

    public int checksum() {
        return Bytes.u16(bytes, Field.CHECKSUM);
    }

    /** The echo identifier: the first half of the second word. */
    public int identifier() {
        return Bytes.u16(bytes, Field.IDENTIFIER);
    }

    /** The echo sequence number: the second half of the second word. */
    public int sequence() {
        return Bytes.u16(bytes, Field.SEQUENCE);
    }

    /** The Parameter Problem pointer: the offset of the offending byte in the invoking packet (32 bits). */
    public long pointer() {
        return Integer.toUnsignedLong(Bytes.u32(bytes, Field.POINTER));
    }

    /** The Packet Too Big MTU of the next-hop link (32 bits). */
    public long mtu() {
        return Integer.toUnsignedLong(Bytes.u32(bytes, Field.MTU));
    }

    /**
     * What follows the 8 header bytes, to the end of the view: echo data, for an error as much of the
     * invoking packet as fits, for Neighbor Discovery the rest of the fixed part and the options; a view of
     * the same bytes.
     */
    public MemorySegment body() {
        return bytes.asSlice(Field.BODY);
    }

    /**
     * The Target Address of a Neighbor Solicitation, Neighbor Advertisement or Redirect.
     *
     * @throws IllegalStateException if the type is none of these
     */
    public Ipv6Address targetAddress() {
        requireTarget();
        return Ipv6Address.read(bytes, Field.TARGET);
    }

    /**
     * The Destination Address of a Redirect.
     *
     * @throws IllegalStateException if the type is not {@link #REDIRECT}
     */
    public Ipv6Address redirectDestination() {
        require(REDIRECT);
        return Ipv6Address.read(bytes, Field.REDIRECT_DESTINATION);
    }

    /**
     * The R, S and O flags of a Neighbor Advertisement, as the byte at offset 4: {@link #NA_ROUTER},
     * {@link #NA_SOLICITED}, {@link #NA_OVERRIDE}.
     *
     * @throws IllegalStateException if the type is not {@link #NEIGHBOR_ADVERTISEMENT}
     */
    public int neighborAdvertisementFlags() {
        require(NEIGHBOR_ADVERTISEMENT);
        return Bytes.u8(bytes, Field.NA_FLAGS);
    }

    /**
     * The Router flag of a Neighbor Advertisement.
     *
     * @throws IllegalStateException if the type is not {@link #NEIGHBOR_ADVERTISEMENT}
     */
    public boolean isRouter() {
        return (neighborAdvertisementFlags() & NA_ROUTER) != 0;
    }

    /**
     * The Solicited flag of a Neighbor Advertisement.
     *
     * @throws IllegalStateException if the type is not {@link #NEIGHBOR_ADVERTISEMENT}
     */
    public boolean isSolicited() {
        return (neighborAdvertisementFlags() & NA_SOLICITED) != 0;
    }

    /**
     * The Override flag of a Neighbor Advertisement.
     *
     * @throws IllegalStateException if the type is not {@link #NEIGHBOR_ADVERTISEMENT}
     */
    public boolean isOverride() {
        return (neighborAdvertisementFlags() & NA_OVERRIDE) != 0;
    }

    /**
     * The Cur Hop Limit of a Router Advertisement (0: unspecified by this router).
     *
     * @throws IllegalStateException if the type is not {@link #ROUTER_ADVERTISEMENT}
     */
    public int curHopLimit() {
        require(ROUTER_ADVERTISEMENT);
        return Bytes.u8(bytes, Field.CUR_HOP_LIMIT);
    }

    /**
     * The flags byte of a Router Advertisement: {@link #RA_MANAGED}, {@link #RA_OTHER} and bits this view
     * does not name (RFC 4191 router preference, among others).
     *
     * @throws IllegalStateException if the type is not {@link #ROUTER_ADVERTISEMENT}
     */
    public int routerAdvertisementFlags() {
        require(ROUTER_ADVERTISEMENT);
        return Bytes.u8(bytes, Field.RA_FLAGS);
    }

    /**
     * The M flag of a Router Advertisement: addresses are available from DHCPv6.
     *
     * @throws IllegalStateException if the type is not {@link #ROUTER_ADVERTISEMENT}
     */
    public boolean isManaged() {
        return (routerAdvertisementFlags() & RA_MANAGED) != 0;
    }

    /**
     * The O flag of a Router Advertisement: other configuration is available from DHCPv6.
     *
     * @throws IllegalStateException if the type is not {@link #ROUTER_ADVERTISEMENT}
     */
    public boolean isOtherConfig() {
        return (routerAdvertisementFlags() & RA_OTHER) != 0;
    }

    /**
     * The Router Lifetime of a Router Advertisement, in seconds (0: not a default router).
     *
     * @throws IllegalStateException if the type is not {@link #ROUTER_ADVERTISEMENT}
     */
    public int routerLifetime() {
        require(ROUTER_ADVERTISEMENT);
        return Bytes.u16(bytes, Field.ROUTER_LIFETIME);
    }

    /**
     * The Reachable Time of a Router Advertisement, in milliseconds (0: unspecified by this router).
     *
     * @throws IllegalStateException if the type is not {@link #ROUTER_ADVERTISEMENT}
     */
    public long reachableTime() {
        require(ROUTER_ADVERTISEMENT);
        return Integer.toUnsignedLong(Bytes.u32(bytes, Field.REACHABLE_TIME));
    }

    /**
     * The Retrans Timer of a Router Advertisement, in milliseconds (0: unspecified by this router).
     *
     * @throws IllegalStateException if the type is not {@link #ROUTER_ADVERTISEMENT}
     */
    public long retransTimer() {
        require(ROUTER_ADVERTISEMENT);
        return Integer.toUnsignedLong(Bytes.u32(bytes, Field.RETRANS_TIMER));
    }

    /**
     * The offset of the options of a Neighbor Discovery message of {@code type}: 8 for a Router
     * Solicitation, 16 for a Router Advertisement, 24 for a Neighbor Solicitation or Advertisement, 40 for
     * a Redirect.
     *
     * @throws IllegalArgumentException if {@code type} is not one of these
     */
    public static int ndOptionsOffset(int type) {
        return switch (type) {
            case ROUTER_SOLICITATION -> 8;
            case ROUTER_ADVERTISEMENT -> 16;
            case NEIGHBOR_SOLICITATION, NEIGHBOR_ADVERTISEMENT -> 24;
            case REDIRECT -> 40;
            default -> throw new IllegalArgumentException("ICMPv6 type " + type
                    + " is not a Neighbor Discovery message");
        };
    }

    /**
     * The options of a Neighbor Discovery message, from {@link #ndOptionsOffset(int)} to the end of the
     * view, to walk with {@link NdOptionCursor}; a view of the same bytes.
     *
     * @throws IllegalStateException if the type is not a Neighbor Discovery message (133 to 137)
     */
    public MemorySegment ndOptions() {
        int type = type();
        if (type < ROUTER_SOLICITATION || type > REDIRECT) {
            throw new IllegalStateException("ICMPv6 type " + type + " is not a Neighbor Discovery message");
        }
        return bytes.asSlice(ndOptionsOffset(type));
    }

    /** Whether the checksum over {@code pseudoHeaderSum} and the whole view is right. */
    public boolean isChecksumValid(long pseudoHeaderSum) {
        return InternetChecksum.fold(pseudoHeaderSum + InternetChecksum.sum(bytes)) == 0xffff;
    }

    /**
     * Computes the checksum over the pseudo header and the whole view and stores it.
     *
     * @param pseudoHeaderSum the unfolded pseudo header sum, from
     *                        {@link Ipv6Header#pseudoHeaderSum(int, long)} with {@link IpProtocol#ICMPV6}
     *                        and the view's length
     */
    public Icmpv6Message fillChecksum(long pseudoHeaderSum) {
        setChecksum(0);
        return setChecksum(InternetChecksum.finish(pseudoHeaderSum + InternetChecksum.sum(bytes)));
    }

    /**
     * Sets the type.
     *
     * @throws IndexOutOfBoundsException if the view is shorter than {@link #minimumLength(int)} of the new
     *                                   type (nothing is written)
     * @throws IllegalArgumentException  if the view is read-only
     */
    public Icmpv6Message setType(int type) {
        int minimum = minimumLength(type & 0xff);
        if (bytes.byteSize() < minimum) {
            throw new IndexOutOfBoundsException("ICMPv6 type " + (type & 0xff) + " needs " + minimum
                    + " bytes, the view has " + bytes.byteSize());
        }
        Bytes.setU8(bytes, Field.TYPE, type);
        return this;
    }

    public Icmpv6Message setCode(int code) {
        Bytes.setU8(bytes, Field.CODE, code);
        return this;
    }

    public Icmpv6Message setChecksum(int checksum) {
        Bytes.setU16(bytes, Field.CHECKSUM, checksum);
        return this;
    }

    public Icmpv6Message setIdentifier(int identifier) {
        Bytes.setU16(bytes, Field.IDENTIFIER, identifier);
        return this;
    }

    public Icmpv6Message setSequence(int sequence) {
        Bytes.setU16(bytes, Field.SEQUENCE, sequence);
        return this;
    }

    /** Sets the Parameter Problem pointer (the low 32 bits of {@code pointer}). */
    public Icmpv6Message setPointer(long pointer) {
        Bytes.setU32(bytes, Field.POINTER, (int) pointer);
        return this;
    }

    /** Sets the Packet Too Big MTU (the low 32 bits of {@code mtu}). */
    public Icmpv6Message setMtu(long mtu) {
        Bytes.setU32(bytes, Field.MTU, (int) mtu);
        return this;
    }

    /**
     * Sets the Target Address of a Neighbor Solicitation, Neighbor Advertisement or Redirect.
     *
     * @throws IllegalStateException    if the type is none of these
     * @throws IllegalArgumentException if the view is read-only
     */
    public Icmpv6Message setTargetAddress(Ipv6Address target) {
        requireTarget();
        target.write(bytes, Field.TARGET);
        return this;
    }

    /**
     * Sets the Destination Address of a Redirect.
     *
     * @throws IllegalStateException    if the type is not {@link #REDIRECT}
     * @throws IllegalArgumentException if the view is read-only
     */
    public Icmpv6Message setRedirectDestination(Ipv6Address destination) {
        require(REDIRECT);
        destination.write(bytes, Field.REDIRECT_DESTINATION);
        return this;
    }

    /**
     * Sets the flags of a Neighbor Advertisement and clears the 29 reserved bits after them.
     *
     * @param flags {@link #NA_ROUTER}, {@link #NA_SOLICITED}, {@link #NA_OVERRIDE}, or'ed together
     * @throws IllegalArgumentException if {@code flags} has other bits, or the view is read-only
     * @throws IllegalStateException    if the type is not {@link #NEIGHBOR_ADVERTISEMENT}
     */
    public Icmpv6Message setNeighborAdvertisementFlags(int flags) {
        if ((flags & ~(NA_ROUTER | NA_SOLICITED | NA_OVERRIDE)) != 0) {
            throw new IllegalArgumentException("not Neighbor Advertisement flags: 0x" + Integer.toHexString(flags));
        }
        require(NEIGHBOR_ADVERTISEMENT);
        Bytes.setU32(bytes, Field.NA_FLAGS, flags << 24);
        return this;
    }

    /**
     * Sets the Cur Hop Limit of a Router Advertisement.
     *
     * @throws IllegalStateException    if the type is not {@link #ROUTER_ADVERTISEMENT}
     * @throws IllegalArgumentException if the view is read-only
     */
    public Icmpv6Message setCurHopLimit(int hopLimit) {
        require(ROUTER_ADVERTISEMENT);
        Bytes.setU8(bytes, Field.CUR_HOP_LIMIT, hopLimit);
        return this;
    }

    /**
     * Sets the flags byte of a Router Advertisement ({@link #RA_MANAGED}, {@link #RA_OTHER}, ...).
     *
     * @throws IllegalStateException    if the type is not {@link #ROUTER_ADVERTISEMENT}
     * @throws IllegalArgumentException if the view is read-only
     */
    public Icmpv6Message setRouterAdvertisementFlags(int flags) {
        require(ROUTER_ADVERTISEMENT);
        Bytes.setU8(bytes, Field.RA_FLAGS, flags);
        return this;
    }

    /**
     * Sets the Router Lifetime of a Router Advertisement, in seconds.
     *
     * @throws IllegalStateException    if the type is not {@link #ROUTER_ADVERTISEMENT}
     * @throws IllegalArgumentException if the view is read-only
     */
    public Icmpv6Message setRouterLifetime(int seconds) {
        require(ROUTER_ADVERTISEMENT);
        Bytes.setU16(bytes, Field.ROUTER_LIFETIME, seconds);
        return this;
    }

    /**
     * Sets the Reachable Time of a Router Advertisement, in milliseconds (the low 32 bits).
     *
     * @throws IllegalStateException    if the type is not {@link #ROUTER_ADVERTISEMENT}
     * @throws IllegalArgumentException if the view is read-only
     */
    public Icmpv6Message setReachableTime(long milliseconds) {
        require(ROUTER_ADVERTISEMENT);
        Bytes.setU32(bytes, Field.REACHABLE_TIME, (int) milliseconds);
        return this;
    }

    /**
     * Sets the Retrans Timer of a Router Advertisement, in milliseconds (the low 32 bits).
     *
     * @throws IllegalStateException    if the type is not {@link #ROUTER_ADVERTISEMENT}
     * @throws IllegalArgumentException if the view is read-only
     */
    public Icmpv6Message setRetransTimer(long milliseconds) {
        require(ROUTER_ADVERTISEMENT);
        Bytes.setU32(bytes, Field.RETRANS_TIMER, (int) milliseconds);
        return this;
    }

    private void require(int expected) {
        int type = type();
        if (type != expected) {
            throw new IllegalStateException("ICMPv6 type " + type + " is not " + expected);
        }
    }

    private void requireTarget() {
        int type = type();
        if (type != NEIGHBOR_SOLICITATION && type != NEIGHBOR_ADVERTISEMENT && type != REDIRECT) {
            throw new IllegalStateException("ICMPv6 type " + type + " has no target address");
        }
    }

    @Override
    public String toString() {
        int type = type();
        return "ICMPv6 type " + type + " code " + code() + " len " + bytes.byteSize()
                + (type == NEIGHBOR_SOLICITATION || type == NEIGHBOR_ADVERTISEMENT || type == REDIRECT
                        ? " target " + targetAddress() : "");
    }
}
