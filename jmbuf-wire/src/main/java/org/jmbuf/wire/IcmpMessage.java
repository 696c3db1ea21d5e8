package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * A view of an ICMP for IPv4 message (RFC 792) over contiguous bytes: {@code struct icmp}.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * |  second word: echo           Identifier | Sequence Number     |
 * |               parameter problem  Pointer | unused             |
 * |               need fragmentation  unused | Next-Hop MTU       |
 * |               redirect          Gateway Internet Address      |
 * |  body: echo data, or the invoking IP header and 8+ bytes ...
 * </pre>
 *
 * <p>{@link #of(MemorySegment)} / {@link #wrap(MemorySegment)} check only that the 8 header bytes are
 * there. The second-word accessors read the same four bytes whatever the type; which one applies is the
 * caller's choice. The checksum covers the whole message: {@link #isChecksumValid()} and
 * {@link #fillChecksum()} take the view to be exactly the message (over a chain, use
 * {@link InternetChecksum#sum(org.jmbuf.buf.Mbuf, int, int)}). Setters throw
 * {@link IllegalArgumentException} on a read-only view. A view is a flyweight:
 * {@link #wrap(MemorySegment)} re-points it without allocating.
 */
public final class IcmpMessage {
    /** The header length: type, code, checksum and the second word. */
    public static final int HEADER_LENGTH = 8;

    /** Echo Reply ({@code ICMP_ECHOREPLY}). */
    public static final int ECHO_REPLY = 0;
    /** Destination Unreachable ({@code ICMP_UNREACH}). */
    public static final int DESTINATION_UNREACHABLE = 3;
    /** Source Quench ({@code ICMP_SOURCEQUENCH}), deprecated by RFC 6633. */
    public static final int SOURCE_QUENCH = 4;
    /** Redirect ({@code ICMP_REDIRECT}). */
    public static final int REDIRECT = 5;
    /** Echo Request ({@code ICMP_ECHO}). */
    public static final int ECHO_REQUEST = 8;
    /** Time Exceeded ({@code ICMP_TIMXCEED}). */
    public static final int TIME_EXCEEDED = 11;
    /** Parameter Problem ({@code ICMP_PARAMPROB}). */
    public static final int PARAMETER_PROBLEM = 12;
    /** Timestamp Request ({@code ICMP_TSTAMP}). */
    public static final int TIMESTAMP = 13;
    /** Timestamp Reply ({@code ICMP_TSTAMPREPLY}). */
    public static final int TIMESTAMP_REPLY = 14;

    /** Destination Unreachable code: net unreachable ({@code ICMP_UNREACH_NET}). */
    public static final int UNREACHABLE_NET = 0;
    /** Destination Unreachable code: host unreachable ({@code ICMP_UNREACH_HOST}). */
    public static final int UNREACHABLE_HOST = 1;
    /** Destination Unreachable code: protocol unreachable ({@code ICMP_UNREACH_PROTOCOL}). */
    public static final int UNREACHABLE_PROTOCOL = 2;
    /** Destination Unreachable code: port unreachable ({@code ICMP_UNREACH_PORT}). */
    public static final int UNREACHABLE_PORT = 3;
    /**
     * Destination Unreachable code: fragmentation needed and DF set ({@code ICMP_UNREACH_NEEDFRAG}); the
     * second word carries the next-hop MTU (RFC 1191 §4).
     */
    public static final int UNREACHABLE_NEED_FRAGMENTATION = 4;
    /** Destination Unreachable code: source route failed ({@code ICMP_UNREACH_SRCFAIL}). */
    public static final int UNREACHABLE_SOURCE_ROUTE_FAILED = 5;
    /** Destination Unreachable code: destination network unknown (RFC 1122 §3.2.2.1). */
    public static final int UNREACHABLE_NET_UNKNOWN = 6;
    /** Destination Unreachable code: destination host unknown (RFC 1122 §3.2.2.1). */
    public static final int UNREACHABLE_HOST_UNKNOWN = 7;
    /** Destination Unreachable code: source host isolated (RFC 1122 §3.2.2.1). */
    public static final int UNREACHABLE_ISOLATED = 8;
    /** Destination Unreachable code: network administratively prohibited (RFC 1122 §3.2.2.1). */
    public static final int UNREACHABLE_NET_PROHIBITED = 9;
    /** Destination Unreachable code: host administratively prohibited (RFC 1122 §3.2.2.1). */
    public static final int UNREACHABLE_HOST_PROHIBITED = 10;
    /** Destination Unreachable code: network unreachable for type of service (RFC 1122 §3.2.2.1). */
    public static final int UNREACHABLE_NET_TOS = 11;
    /** Destination Unreachable code: host unreachable for type of service (RFC 1122 §3.2.2.1). */
    public static final int UNREACHABLE_HOST_TOS = 12;
    /** Destination Unreachable code: communication administratively prohibited (RFC 1812 §5.2.7.1). */
    public static final int UNREACHABLE_FILTER_PROHIBITED = 13;
    /** Destination Unreachable code: host precedence violation (RFC 1812 §5.2.7.1). */
    public static final int UNREACHABLE_HOST_PRECEDENCE = 14;
    /** Destination Unreachable code: precedence cutoff in effect (RFC 1812 §5.2.7.1). */
    public static final int UNREACHABLE_PRECEDENCE_CUTOFF = 15;

    /** Time Exceeded code: time to live exceeded in transit ({@code ICMP_TIMXCEED_INTRANS}). */
    public static final int TIME_EXCEEDED_IN_TRANSIT = 0;
    /** Time Exceeded code: fragment reassembly time exceeded ({@code ICMP_TIMXCEED_REASS}). */
    public static final int TIME_EXCEEDED_REASSEMBLY = 1;

    /** Redirect code: for the network ({@code ICMP_REDIRECT_NET}). */
    public static final int REDIRECT_NET = 0;
    /** Redirect code: for the host ({@code ICMP_REDIRECT_HOST}). */
    public static final int REDIRECT_HOST = 1;
    /** Redirect code: for the type of service and network ({@code ICMP_REDIRECT_TOSNET}). */
    public static final int REDIRECT_TOS_NET = 2;
    /** Redirect code: for the type of service and host ({@code ICMP_REDIRECT_TOSHOST}). */
    public static final int REDIRECT_TOS_HOST = 3;

    /** Parameter Problem code: the pointer indicates the error. */
    public static final int PARAMETER_PROBLEM_POINTER = 0;
    /** Parameter Problem code: a required option is missing (RFC 1122 §3.2.2.5). */
    public static final int PARAMETER_PROBLEM_MISSING_OPTION = 1;
    /** Parameter Problem code: bad length (RFC 1812 §5.2.7.3). */
    public static final int PARAMETER_PROBLEM_BAD_LENGTH = 2;

    /** Byte offsets of the fields. */
    public static final class Field {
        public static final int TYPE = 0;
        public static final int CODE = 1;
        public static final int CHECKSUM = 2;
        /** Echo, Timestamp. */
        public static final int IDENTIFIER = 4;
        /** Echo, Timestamp. */
        public static final int SEQUENCE = 6;
        /** Parameter Problem: one byte. */
        public static final int POINTER = 4;
        /** Destination Unreachable, fragmentation needed (RFC 1191 §4). */
        public static final int NEXT_HOP_MTU = 6;
        /** Redirect. */
        public static final int GATEWAY = 4;
        public static final int BODY = 8;

        private Field() {
        }
    }

    private MemorySegment bytes;

    /** An empty view, to be pointed at bytes with {@link #wrap(MemorySegment)}. */
    public IcmpMessage() {
    }

    /**
     * A view of the message at the start of {@code bytes}.
     *
     * @throws MalformedPacketException if fewer than 8 bytes (offset 0)
     */
    public static IcmpMessage of(MemorySegment bytes) {
        return new IcmpMessage().wrap(bytes);
    }

    /**
     * Points this view at the message at the start of {@code bytes}; see {@link #of(MemorySegment)}.
     *
     * @return this view
     * @throws MalformedPacketException if the header does not fit (the view is left unchanged)
     */
    public IcmpMessage wrap(MemorySegment bytes) {
        if (bytes.byteSize() < HEADER_LENGTH) {
            throw new MalformedPacketException("ICMP message truncated: " + bytes.byteSize() + " < 8 bytes", 0);
        }
        this.bytes = bytes;
        return this;
    }

    /**
     * Whether {@code type} is an error message (Destination Unreachable, Source Quench, Redirect, Time
     * Exceeded, Parameter Problem), to which no ICMP error may be sent in reply (RFC 1122 §3.2.2).
     */
    public static boolean isError(int type) {
        return switch (type) {
            case DESTINATION_UNREACHABLE, SOURCE_QUENCH, REDIRECT, TIME_EXCEEDED, PARAMETER_PROBLEM -> true;
            default -> false;
        };
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

    /** The second word whole ({@code icmp_void}, {@code icmp_gwaddr}), an unsigned value in an int. */
    public int restOfHeader() {
        return Bytes.u32(bytes, Field.IDENTIFIER);
    }

    /** The echo or timestamp identifier: the first half of the second word. */
    public int identifier() {
        return Bytes.u16(bytes, Field.IDENTIFIER);
    }

    /** The echo or timestamp sequence number: the second half of the second word. */
    public int sequence() {
        return Bytes.u16(bytes, Field.SEQUENCE);
    }

    /** The Parameter Problem pointer: the offset of the offending byte in the invoking datagram. */
    public int pointer() {
        return Bytes.u8(bytes, Field.POINTER);
    }

    /** The next-hop MTU of a "fragmentation needed" message (RFC 1191 §4); 0 from an older router. */
    public int nextHopMtu() {
        return Bytes.u16(bytes, Field.NEXT_HOP_MTU);
    }

    /** The Redirect gateway address. */
    public Ipv4Address gateway() {
        return Ipv4Address.read(bytes, Field.GATEWAY);
    }

    /**
     * What follows the 8 header bytes, to the end of the view: echo data, or for an error the invoking IP
     * header and at least 8 bytes of its payload; a view of the same bytes.
     */
    public MemorySegment body() {
        return bytes.asSlice(Field.BODY);
    }

    /** Whether the checksum over the whole view is right. */
    public boolean isChecksumValid() {
        return InternetChecksum.fold(InternetChecksum.sum(bytes)) == 0xffff;
    }

    /** Computes the checksum over the whole view and stores it. */
    public IcmpMessage fillChecksum() {
        setChecksum(0);
        return setChecksum(InternetChecksum.checksum(bytes, 0, bytes.byteSize()));
    }

    public IcmpMessage setType(int type) {
        Bytes.setU8(bytes, Field.TYPE, type);
        return this;
    }

    public IcmpMessage setCode(int code) {
        Bytes.setU8(bytes, Field.CODE, code);
        return this;
    }

    public IcmpMessage setChecksum(int checksum) {
        Bytes.setU16(bytes, Field.CHECKSUM, checksum);
        return this;
    }

    /** Sets the whole second word. */
    public IcmpMessage setRestOfHeader(int value) {
        Bytes.setU32(bytes, Field.IDENTIFIER, value);
        return this;
    }

    public IcmpMessage setIdentifier(int identifier) {
        Bytes.setU16(bytes, Field.IDENTIFIER, identifier);
        return this;
    }

    public IcmpMessage setSequence(int sequence) {
        Bytes.setU16(bytes, Field.SEQUENCE, sequence);
        return this;
    }

    /** Sets the Parameter Problem pointer and clears the rest of the second word. */
    public IcmpMessage setPointer(int pointer) {
        return setRestOfHeader((pointer & 0xff) << 24);
    }

    /** Sets the next-hop MTU and clears the rest of the second word. */
    public IcmpMessage setNextHopMtu(int mtu) {
        return setRestOfHeader(mtu & 0xffff);
    }

    public IcmpMessage setGateway(Ipv4Address gateway) {
        gateway.write(bytes, Field.GATEWAY);
        return this;
    }

    @Override
    public String toString() {
        return "ICMP type " + type() + " code " + code() + " len " + bytes.byteSize();
    }
}
