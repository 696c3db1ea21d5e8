package org.jmbuf.io;

import java.util.Objects;
import java.util.Optional;
import org.jmbuf.buf.Mbuf;

/**
 * The link-layer header type of a capture's packets: a {@code LINKTYPE_} value of the tcpdump.org
 * registry, as it appears in a pcap file header or a pcapng Interface Description Block.
 *
 * <p>Any 16-bit value is accepted, so a capture of an unfamiliar link type still reads; the constants
 * are the types jmbuf understands, and {@link #networkLayer(Mbuf)} finds the IPv4 or IPv6 packet inside
 * a frame of any of them. Two types are equal when their values are.
 *
 * @param value the {@code LINKTYPE_} number, 0 to 65535
 */
public record LinkType(int value) {
    /** {@code LINKTYPE_ETHERNET} (1): an Ethernet II header, possibly with 802.1Q / 802.1ad tags. */
    public static final LinkType ETHERNET = new LinkType(1);
    /** {@code LINKTYPE_RAW} (101): a bare IPv4 or IPv6 packet; the version nibble says which. */
    public static final LinkType RAW = new LinkType(101);
    /** {@code DLT_RAW} as most BSDs number it (12), found in old files; read as {@link #RAW}. */
    public static final LinkType RAW_BSD = new LinkType(12);
    /** {@code DLT_RAW} as OpenBSD numbers it (14), found in old files; read as {@link #RAW}. */
    public static final LinkType RAW_OPENBSD = new LinkType(14);
    /** {@code LINKTYPE_LINUX_SLL} (113): Linux "cooked" capture, a 16-byte header. */
    public static final LinkType LINUX_SLL = new LinkType(113);
    /** {@code LINKTYPE_IPV4} (228): a bare IPv4 packet. */
    public static final LinkType IPV4 = new LinkType(228);
    /** {@code LINKTYPE_IPV6} (229): a bare IPv6 packet. */
    public static final LinkType IPV6 = new LinkType(229);
    /** {@code LINKTYPE_LINUX_SLL2} (276): Linux "cooked" capture version 2, a 20-byte header. */
    public static final LinkType LINUX_SLL2 = new LinkType(276);

    /** The EtherType of IPv4. */
    public static final int ETHERTYPE_IPV4 = 0x0800;
    /** The EtherType of IPv6. */
    public static final int ETHERTYPE_IPV6 = 0x86DD;

    private static final int ETHERNET_HEADER = 14;
    private static final int SLL_HEADER = 16;
    private static final int SLL2_HEADER = 20;

    /**
     * Where the network-layer packet starts in a frame, and what it is.
     *
     * @param offset    the packet offset of the network-layer header
     * @param etherType its EtherType ({@link #ETHERTYPE_IPV4}, {@link #ETHERTYPE_IPV6}, 0x0806 for ARP...)
     */
    public record NetworkLayer(int offset, int etherType) {
    }

    /**
     * The link type numbered {@code value}; {@link #of(int)} returns the constant instead where there is one.
     *
     * @throws IllegalArgumentException if {@code value} is not between 0 and 65535
     */
    public LinkType {
        if (value < 0 || value > 0xFFFF) {
            throw new IllegalArgumentException("a link type is a 16-bit number, not " + value);
        }
    }

    /**
     * The link type numbered {@code value}: one of the constants if it is one of theirs.
     *
     * @throws IllegalArgumentException if {@code value} is not between 0 and 65535
     */
    public static LinkType of(int value) {
        return switch (value) {
            case 1 -> ETHERNET;
            case 12 -> RAW_BSD;
            case 14 -> RAW_OPENBSD;
            case 101 -> RAW;
            case 113 -> LINUX_SLL;
            case 228 -> IPV4;
            case 229 -> IPV6;
            case 276 -> LINUX_SLL2;
            default -> new LinkType(value);
        };
    }

    /** Whether {@link #networkLayer(Mbuf)} understands this link type. */
    public boolean isKnown() {
        return switch (value) {
            case 1, 12, 14, 101, 113, 228, 229, 276 -> true;
            default -> false;
        };
    }

    /** The registry name without the {@code LINKTYPE_} prefix ("ETHERNET", "RAW"...), or "LINKTYPE_n". */
    public String name() {
        return switch (value) {
            case 1 -> "ETHERNET";
            case 12, 14, 101 -> "RAW";
            case 113 -> "LINUX_SLL";
            case 228 -> "IPV4";
            case 229 -> "IPV6";
            case 276 -> "LINUX_SLL2";
            default -> "LINKTYPE_" + value;
        };
    }

    /**
     * Finds the network-layer packet in {@code frame}, a frame of this link type, by reading its
     * link-layer header where it lies in the chain: nothing is copied, the chain is not changed and no
     * region is created.
     *
     * <ul>
     * <li>Ethernet: after the 14-byte header and any 802.1Q (0x8100), 802.1ad (0x88A8) or 0x9100 tags;
     *     an 802.3 length field (below 0x0600) is not an EtherType, and gives an empty result.
     * <li>Linux SLL: after the 16-byte header, with its protocol field as the EtherType.
     * <li>Linux SLL2: after the 20-byte header, with its protocol field as the EtherType.
     * <li>Raw IP (101, 12, 14): at offset 0, IPv4 or IPv6 by the version nibble (anything else: empty).
     * <li>IPv4 (228) and IPv6 (229): at offset 0.
     * </ul>
     *
     * @return the offset and EtherType, or empty if the link type is not {@linkplain #isKnown() known} or
     *         the frame is too short for its link-layer header
     * @throws IllegalStateException if {@code frame} was freed
     */
    public Optional<NetworkLayer> networkLayer(Mbuf frame) {
        Objects.requireNonNull(frame, "frame");
        int length = frame.length();
        switch (value) {
            case 1 -> {
                int offset = ETHERNET_HEADER - 2;
                while (offset + 2 <= length) {
                    int type = u16(frame, offset);
                    if (type == 0x8100 || type == 0x88A8 || type == 0x9100) {
                        offset += 4;
                        continue;
                    }
                    return type < 0x0600 ? Optional.empty() : Optional.of(new NetworkLayer(offset + 2, type));
                }
                return Optional.empty();
            }
            case 12, 14, 101 -> {
                if (length < 1) {
                    return Optional.empty();
                }
                return switch ((frame.byteAt(0) >> 4) & 0xF) {
                    case 4 -> Optional.of(new NetworkLayer(0, ETHERTYPE_IPV4));
                    case 6 -> Optional.of(new NetworkLayer(0, ETHERTYPE_IPV6));
                    default -> Optional.empty();
                };
            }
            case 113 -> {
                return length < SLL_HEADER ? Optional.empty()
                        : Optional.of(new NetworkLayer(SLL_HEADER, u16(frame, SLL_HEADER - 2)));
            }
            case 276 -> {
                return length < SLL2_HEADER ? Optional.empty()
                        : Optional.of(new NetworkLayer(SLL2_HEADER, u16(frame, 0)));
            }
            case 228 -> {
                return Optional.of(new NetworkLayer(0, ETHERTYPE_IPV4));
            }
            case 229 -> {
                return Optional.of(new NetworkLayer(0, ETHERTYPE_IPV6));
            }
            default -> {
                return Optional.empty();
            }
        }
    }

    private static int u16(Mbuf frame, int offset) {
        return (frame.byteAt(offset) & 0xFF) << 8 | (frame.byteAt(offset + 1) & 0xFF);
    }

    /** The name and the number, for example {@code ETHERNET(1)}. */
    @Override
    public String toString() {
        return name() + "(" + value + ")";
    }
}
