package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * A view of an ARP packet (RFC 826, "Packet format") over contiguous bytes, for any hardware and
 * protocol address lengths: {@code struct arphdr}; for Ethernet and IPv4, {@code struct ether_arp}.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Hardware Type         |         Protocol Type         |
 * |  HW Length    | Proto Length  |           Operation           |
 * |  Sender Hardware Address (HW Length bytes) ...
 * |  Sender Protocol Address (Proto Length bytes) ...
 * |  Target Hardware Address (HW Length bytes) ...
 * |  Target Protocol Address (Proto Length bytes) ...
 * </pre>
 *
 * <p>{@link #of(MemorySegment)} / {@link #wrap(MemorySegment)} check only what keeps the accessors inside
 * the view: at least 8 bytes, and the {@link #length()} of 8 + 2 × (hardware length + protocol length)
 * within the view. Which operations, hardware and protocol types to answer is for the input routine.
 * The Ethernet/IPv4 accessors ({@link #senderMac()} and the like) require {@link #isEthernetIpv4()}.
 * Setters throw {@link IllegalArgumentException} on a read-only view. A view is a flyweight:
 * {@link #wrap(MemorySegment)} re-points it without allocating.
 */
public final class ArpPacket {
    /** The fixed part: types, lengths and operation. */
    public static final int MIN_LENGTH = 8;
    /** The length of an Ethernet/IPv4 packet: 8 + 2 × (6 + 4). */
    public static final int ETHERNET_IPV4_LENGTH = 28;
    /** ARP request ({@code ARPOP_REQUEST}). */
    public static final int REQUEST = 1;
    /** ARP reply ({@code ARPOP_REPLY}). */
    public static final int REPLY = 2;
    /** Hardware type Ethernet ({@code ARPHRD_ETHER}). */
    public static final int HARDWARE_ETHERNET = 1;

    /** Byte offsets of the fixed fields; the addresses follow at offsets that depend on the lengths. */
    public static final class Field {
        public static final int HARDWARE_TYPE = 0;
        public static final int PROTOCOL_TYPE = 2;
        public static final int HARDWARE_LENGTH = 4;
        public static final int PROTOCOL_LENGTH = 5;
        public static final int OPERATION = 6;
        public static final int SENDER_HARDWARE_ADDRESS = 8;
        /** For Ethernet/IPv4 only. */
        public static final int ETHERNET_IPV4_SENDER_IP = 14;
        /** For Ethernet/IPv4 only. */
        public static final int ETHERNET_IPV4_TARGET_MAC = 18;
        /** For Ethernet/IPv4 only. */
        public static final int ETHERNET_IPV4_TARGET_IP = 24;

        private Field() {
        }
    }

    private MemorySegment bytes;

    /** An empty view, to be pointed at bytes with {@link #wrap(MemorySegment)}. */
    public ArpPacket() {
    }

    /**
     * A view of the packet at the start of {@code bytes}.
     *
     * @throws MalformedPacketException if fewer than 8 bytes (offset 0), or the addresses the two length
     *                                  fields promise do not fit (offset 4, the hardware length)
     */
    public static ArpPacket of(MemorySegment bytes) {
        return new ArpPacket().wrap(bytes);
    }

    /**
     * Points this view at the packet at the start of {@code bytes}; see {@link #of(MemorySegment)}.
     *
     * @return this view
     * @throws MalformedPacketException if the packet does not fit (the view is left unchanged)
     */
    public ArpPacket wrap(MemorySegment bytes) {
        if (bytes.byteSize() < MIN_LENGTH) {
            throw new MalformedPacketException("ARP packet truncated: " + bytes.byteSize() + " < 8 bytes", 0);
        }
        int length = lengthOf(Bytes.u8(bytes, Field.HARDWARE_LENGTH), Bytes.u8(bytes, Field.PROTOCOL_LENGTH));
        if (length > bytes.byteSize()) {
            throw new MalformedPacketException("ARP packet length " + length + " > " + bytes.byteSize()
                    + " bytes available", Field.HARDWARE_LENGTH);
        }
        this.bytes = bytes;
        return this;
    }

    private static int lengthOf(int hardwareLength, int protocolLength) {
        return MIN_LENGTH + 2 * (hardwareLength + protocolLength);
    }

    /** The bytes this view reads: the packet, and whatever followed it (Ethernet padding, say). */
    public MemorySegment bytes() {
        return bytes;
    }

    public int hardwareType() {
        return Bytes.u16(bytes, Field.HARDWARE_TYPE);
    }

    /** The protocol type, an EtherType ({@link EtherType#IPV4}). */
    public int protocolType() {
        return Bytes.u16(bytes, Field.PROTOCOL_TYPE);
    }

    /** The hardware address length in bytes. */
    public int hardwareLength() {
        return Bytes.u8(bytes, Field.HARDWARE_LENGTH);
    }

    /** The protocol address length in bytes. */
    public int protocolLength() {
        return Bytes.u8(bytes, Field.PROTOCOL_LENGTH);
    }

    /** {@link #REQUEST}, {@link #REPLY}, or another value. */
    public int operation() {
        return Bytes.u16(bytes, Field.OPERATION);
    }

    /** The packet length the two length fields give: 8 + 2 × (hardware length + protocol length). */
    public int length() {
        return lengthOf(hardwareLength(), protocolLength());
    }

    /** The sender hardware address, {@link #hardwareLength()} bytes; a view of the same bytes. */
    public MemorySegment senderHardwareAddress() {
        return bytes.asSlice(Field.SENDER_HARDWARE_ADDRESS, hardwareLength());
    }

    /** The sender protocol address, {@link #protocolLength()} bytes; a view of the same bytes. */
    public MemorySegment senderProtocolAddress() {
        return bytes.asSlice(Field.SENDER_HARDWARE_ADDRESS + hardwareLength(), protocolLength());
    }

    /** The target hardware address, {@link #hardwareLength()} bytes; a view of the same bytes. */
    public MemorySegment targetHardwareAddress() {
        return bytes.asSlice(Field.SENDER_HARDWARE_ADDRESS + hardwareLength() + protocolLength(), hardwareLength());
    }

    /** The target protocol address, {@link #protocolLength()} bytes; a view of the same bytes. */
    public MemorySegment targetProtocolAddress() {
        return bytes.asSlice(Field.SENDER_HARDWARE_ADDRESS + 2 * hardwareLength() + protocolLength(),
                protocolLength());
    }

    /** Hardware type Ethernet with 6-byte addresses, protocol type IPv4 with 4-byte addresses. */
    public boolean isEthernetIpv4() {
        return hardwareType() == HARDWARE_ETHERNET && protocolType() == EtherType.IPV4 && hardwareLength() == 6
                && protocolLength() == 4;
    }

    /**
     * The sender hardware address of an Ethernet/IPv4 packet.
     *
     * @throws IllegalStateException if not {@link #isEthernetIpv4()}
     */
    public MacAddress senderMac() {
        requireEthernetIpv4();
        return MacAddress.read(bytes, Field.SENDER_HARDWARE_ADDRESS);
    }

    /**
     * The sender protocol address of an Ethernet/IPv4 packet.
     *
     * @throws IllegalStateException if not {@link #isEthernetIpv4()}
     */
    public Ipv4Address senderIp() {
        requireEthernetIpv4();
        return Ipv4Address.read(bytes, Field.ETHERNET_IPV4_SENDER_IP);
    }

    /**
     * The target hardware address of an Ethernet/IPv4 packet (meaningless in a request, where it is
     * usually zero).
     *
     * @throws IllegalStateException if not {@link #isEthernetIpv4()}
     */
    public MacAddress targetMac() {
        requireEthernetIpv4();
        return MacAddress.read(bytes, Field.ETHERNET_IPV4_TARGET_MAC);
    }

    /**
     * The target protocol address of an Ethernet/IPv4 packet.
     *
     * @throws IllegalStateException if not {@link #isEthernetIpv4()}
     */
    public Ipv4Address targetIp() {
        requireEthernetIpv4();
        return Ipv4Address.read(bytes, Field.ETHERNET_IPV4_TARGET_IP);
    }

    public ArpPacket setHardwareType(int type) {
        Bytes.setU16(bytes, Field.HARDWARE_TYPE, type);
        return this;
    }

    public ArpPacket setProtocolType(int type) {
        Bytes.setU16(bytes, Field.PROTOCOL_TYPE, type);
        return this;
    }

    public ArpPacket setOperation(int operation) {
        Bytes.setU16(bytes, Field.OPERATION, operation);
        return this;
    }

    /**
     * Makes this an Ethernet/IPv4 packet: hardware type 1, protocol type 0x0800, lengths 6 and 4, and the
     * operation. The addresses are left as they were.
     *
     * @throws IndexOutOfBoundsException if the view is shorter than 28 bytes (nothing is written)
     * @throws IllegalArgumentException  if the view is read-only
     */
    public ArpPacket setEthernetIpv4(int operation) {
        if (bytes.byteSize() < ETHERNET_IPV4_LENGTH) {
            throw new IndexOutOfBoundsException("an Ethernet/IPv4 ARP packet needs 28 bytes, the view has "
                    + bytes.byteSize());
        }
        setHardwareType(HARDWARE_ETHERNET);
        setProtocolType(EtherType.IPV4);
        Bytes.setU8(bytes, Field.HARDWARE_LENGTH, MacAddress.LENGTH);
        Bytes.setU8(bytes, Field.PROTOCOL_LENGTH, 4);
        return setOperation(operation);
    }

    /**
     * Sets the sender hardware address of an Ethernet/IPv4 packet.
     *
     * @throws IllegalStateException    if not {@link #isEthernetIpv4()}
     * @throws IllegalArgumentException if the view is read-only
     */
    public ArpPacket setSenderMac(MacAddress address) {
        requireEthernetIpv4();
        address.write(bytes, Field.SENDER_HARDWARE_ADDRESS);
        return this;
    }

    /**
     * Sets the sender protocol address of an Ethernet/IPv4 packet.
     *
     * @throws IllegalStateException    if not {@link #isEthernetIpv4()}
     * @throws IllegalArgumentException if the view is read-only
     */
    public ArpPacket setSenderIp(Ipv4Address address) {
        requireEthernetIpv4();
        address.write(bytes, Field.ETHERNET_IPV4_SENDER_IP);
        return this;
    }

    /**
     * Sets the target hardware address of an Ethernet/IPv4 packet.
     *
     * @throws IllegalStateException    if not {@link #isEthernetIpv4()}
     * @throws IllegalArgumentException if the view is read-only
     */
    public ArpPacket setTargetMac(MacAddress address) {
        requireEthernetIpv4();
        address.write(bytes, Field.ETHERNET_IPV4_TARGET_MAC);
        return this;
    }

    /**
     * Sets the target protocol address of an Ethernet/IPv4 packet.
     *
     * @throws IllegalStateException    if not {@link #isEthernetIpv4()}
     * @throws IllegalArgumentException if the view is read-only
     */
    public ArpPacket setTargetIp(Ipv4Address address) {
        requireEthernetIpv4();
        address.write(bytes, Field.ETHERNET_IPV4_TARGET_IP);
        return this;
    }

    private void requireEthernetIpv4() {
        if (!isEthernetIpv4()) {
            throw new IllegalStateException("not an Ethernet/IPv4 ARP packet: hardware type " + hardwareType()
                    + " length " + hardwareLength() + String.format(", protocol type 0x%04x", protocolType())
                    + " length " + protocolLength());
        }
    }

    @Override
    public String toString() {
        String op = switch (operation()) {
            case REQUEST -> "request";
            case REPLY -> "reply";
            default -> "op " + operation();
        };
        if (isEthernetIpv4()) {
            return "ARP " + op + " " + senderIp() + " (" + senderMac() + ") > " + targetIp() + " (" + targetMac()
                    + ")";
        }
        return "ARP " + op + " hardware " + hardwareType() + String.format(" protocol 0x%04x", protocolType());
    }
}
