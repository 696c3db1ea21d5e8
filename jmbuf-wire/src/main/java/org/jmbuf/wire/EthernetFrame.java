package org.jmbuf.wire;

import java.lang.foreign.MemorySegment;

/**
 * A view of an Ethernet II frame header (RFC 894; IEEE 802.3 §3.2) over contiguous bytes, with an
 * optional IEEE 802.1Q VLAN tag: {@code struct ether_header}, {@code struct ether_vlan_header}.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      Destination Address                      |
 * |  Destination (cont.)          |        Source Address         |
 * |                      Source Address (cont.)                   |
 * |           EtherType           |  untagged: payload ...
 *
 * tagged (EtherType 0x8100 at offset 12):
 * |          TPID 0x8100          | PCP |D|         VLAN ID       |
 * |      Inner EtherType          |  payload ...
 * </pre>
 *
 * <p>{@link #of(MemorySegment)} / {@link #wrap(MemorySegment)} check only what keeps the accessors inside
 * the view: 14 bytes, or 18 when the type field at offset 12 is {@link EtherType#VLAN}. Only one tag is
 * read; a second (QinQ) shows up as an inner EtherType of 0x8100. Whether the type is an EtherType rather
 * than an 802.3 length ({@link EtherType#MIN_VALUE}) is for the input routine to decide. The frame check
 * sequence is not part of the view. Setters throw {@link IllegalArgumentException} on a read-only view.
 * A view is a flyweight: {@link #wrap(MemorySegment)} re-points it without allocating.
 */
public final class EthernetFrame {
    /** The untagged header length. */
    public static final int HEADER_LENGTH = 14;
    /** The header length with one 802.1Q tag. */
    public static final int VLAN_HEADER_LENGTH = 18;
    /** The Priority Code Point bits of the tag control word. */
    public static final int PRIORITY_MASK = 0xe000;
    /** The Drop Eligible Indicator bit of the tag control word. */
    public static final int DROP_ELIGIBLE = 0x1000;
    /** The VLAN identifier bits of the tag control word. */
    public static final int VLAN_ID_MASK = 0x0fff;

    /** Byte offsets of the fields. */
    public static final class Field {
        public static final int DESTINATION = 0;
        public static final int SOURCE = 6;
        /** The EtherType of an untagged frame, or the tag protocol identifier (0x8100) of a tagged one. */
        public static final int ETHER_TYPE = 12;
        /** Tagged frames only: priority, drop eligible, VLAN ID. */
        public static final int TAG_CONTROL = 14;
        /** Tagged frames only: the EtherType of the payload. */
        public static final int INNER_ETHER_TYPE = 16;

        private Field() {
        }
    }

    private MemorySegment bytes;

    /** An empty view, to be pointed at bytes with {@link #wrap(MemorySegment)}. */
    public EthernetFrame() {
    }

    /**
     * A view of the frame at the start of {@code bytes}.
     *
     * @throws MalformedPacketException if fewer than 14 bytes (offset 0), or the frame is tagged and has
     *                                  fewer than 18 (offset 12, the type field that announced the tag)
     */
    public static EthernetFrame of(MemorySegment bytes) {
        return new EthernetFrame().wrap(bytes);
    }

    /**
     * Points this view at the frame at the start of {@code bytes}; see {@link #of(MemorySegment)}.
     *
     * @return this view
     * @throws MalformedPacketException if the header does not fit (the view is left unchanged)
     */
    public EthernetFrame wrap(MemorySegment bytes) {
        if (bytes.byteSize() < HEADER_LENGTH) {
            throw new MalformedPacketException("Ethernet header truncated: " + bytes.byteSize() + " < 14 bytes", 0);
        }
        if (Bytes.u16(bytes, Field.ETHER_TYPE) == EtherType.VLAN && bytes.byteSize() < VLAN_HEADER_LENGTH) {
            throw new MalformedPacketException("802.1Q header truncated: " + bytes.byteSize() + " < 18 bytes",
                    Field.ETHER_TYPE);
        }
        this.bytes = bytes;
        return this;
    }

    /** The bytes this view reads: the header, and whatever followed it in the wrapped segment. */
    public MemorySegment bytes() {
        return bytes;
    }

    public MacAddress destination() {
        return MacAddress.read(bytes, Field.DESTINATION);
    }

    public MacAddress source() {
        return MacAddress.read(bytes, Field.SOURCE);
    }

    /** Whether the type field at offset 12 is {@link EtherType#VLAN}: an 802.1Q tag follows. */
    public boolean isVlanTagged() {
        return Bytes.u16(bytes, Field.ETHER_TYPE) == EtherType.VLAN;
    }

    /** 14, or 18 when {@link #isVlanTagged()}. */
    public int headerLength() {
        return isVlanTagged() ? VLAN_HEADER_LENGTH : HEADER_LENGTH;
    }

    /** The EtherType of the payload: the inner one when {@link #isVlanTagged()}, else the field at 12. */
    public int etherType() {
        return Bytes.u16(bytes, isVlanTagged() ? Field.INNER_ETHER_TYPE : Field.ETHER_TYPE);
    }

    /**
     * The whole tag control word: priority, drop eligible, VLAN ID.
     *
     * @throws IllegalStateException if the frame is not {@link #isVlanTagged() tagged}
     */
    public int tagControl() {
        requireTagged();
        return Bytes.u16(bytes, Field.TAG_CONTROL);
    }

    /**
     * The 12-bit VLAN identifier (0 means priority-tagged only).
     *
     * @throws IllegalStateException if the frame is not {@link #isVlanTagged() tagged}
     */
    public int vlanId() {
        return tagControl() & VLAN_ID_MASK;
    }

    /**
     * The 3-bit Priority Code Point (IEEE 802.1p).
     *
     * @throws IllegalStateException if the frame is not {@link #isVlanTagged() tagged}
     */
    public int priority() {
        return tagControl() >>> 13;
    }

    /**
     * The Drop Eligible Indicator.
     *
     * @throws IllegalStateException if the frame is not {@link #isVlanTagged() tagged}
     */
    public boolean dropEligible() {
        return (tagControl() & DROP_ELIGIBLE) != 0;
    }

    /** What follows the header, to the end of the view; a view of the same bytes. */
    public MemorySegment payload() {
        return bytes.asSlice(headerLength());
    }

    public EthernetFrame setDestination(MacAddress address) {
        address.write(bytes, Field.DESTINATION);
        return this;
    }

    public EthernetFrame setSource(MacAddress address) {
        address.write(bytes, Field.SOURCE);
        return this;
    }

    /**
     * Sets the EtherType of the payload: the inner one when {@link #isVlanTagged()}, else the field at 12.
     * Use {@link #setVlanTag} to tag a frame.
     *
     * @throws IllegalArgumentException if {@code etherType} is {@link EtherType#VLAN} and the frame is not
     *                                  tagged (that would change the header length), or the view is
     *                                  read-only
     */
    public EthernetFrame setEtherType(int etherType) {
        boolean tagged = isVlanTagged();
        if (!tagged && (etherType & 0xffff) == EtherType.VLAN) {
            throw new IllegalArgumentException("use setVlanTag to tag a frame");
        }
        Bytes.setU16(bytes, tagged ? Field.INNER_ETHER_TYPE : Field.ETHER_TYPE, etherType);
        return this;
    }

    /**
     * Writes an 802.1Q tag: 0x8100 at offset 12, the tag control word, and the payload EtherType at 16.
     * The header becomes 18 bytes long; bytes 14 to 17 of an untagged frame are overwritten, so tag a frame
     * being built before writing its payload (inserting a tag in front of an existing payload is the output
     * routine's job, with {@code M_PREPEND}).
     *
     * @param priority  the Priority Code Point, 0 to 7
     * @param vlanId    the VLAN identifier, 0 to 4095
     * @param etherType the EtherType of the payload
     * @throws IllegalArgumentException  if {@code priority} or {@code vlanId} is out of range, or the view
     *                                   is read-only
     * @throws IndexOutOfBoundsException if the view is shorter than 18 bytes (nothing is written)
     */
    public EthernetFrame setVlanTag(int priority, int vlanId, int etherType) {
        if (priority < 0 || priority > 7) {
            throw new IllegalArgumentException("802.1Q priority not in 0..7: " + priority);
        }
        if (vlanId < 0 || vlanId > VLAN_ID_MASK) {
            throw new IllegalArgumentException("802.1Q VLAN ID not in 0..4095: " + vlanId);
        }
        if (bytes.byteSize() < VLAN_HEADER_LENGTH) {
            throw new IndexOutOfBoundsException("a tagged header needs 18 bytes, the view has " + bytes.byteSize());
        }
        Bytes.setU16(bytes, Field.TAG_CONTROL, priority << 13 | vlanId);
        Bytes.setU16(bytes, Field.INNER_ETHER_TYPE, etherType);
        Bytes.setU16(bytes, Field.ETHER_TYPE, EtherType.VLAN);
        return this;
    }

    /**
     * Sets the VLAN identifier, keeping priority and drop eligible.
     *
     * @throws IllegalArgumentException if {@code vlanId} is not in 0..4095, or the view is read-only
     * @throws IllegalStateException    if the frame is not {@link #isVlanTagged() tagged}
     */
    public EthernetFrame setVlanId(int vlanId) {
        if (vlanId < 0 || vlanId > VLAN_ID_MASK) {
            throw new IllegalArgumentException("802.1Q VLAN ID not in 0..4095: " + vlanId);
        }
        Bytes.setU16(bytes, Field.TAG_CONTROL, tagControl() & ~VLAN_ID_MASK | vlanId);
        return this;
    }

    /**
     * Sets the Priority Code Point, keeping drop eligible and the VLAN identifier.
     *
     * @throws IllegalArgumentException if {@code priority} is not in 0..7, or the view is read-only
     * @throws IllegalStateException    if the frame is not {@link #isVlanTagged() tagged}
     */
    public EthernetFrame setPriority(int priority) {
        if (priority < 0 || priority > 7) {
            throw new IllegalArgumentException("802.1Q priority not in 0..7: " + priority);
        }
        Bytes.setU16(bytes, Field.TAG_CONTROL, tagControl() & ~PRIORITY_MASK | priority << 13);
        return this;
    }

    private void requireTagged() {
        if (!isVlanTagged()) {
            throw new IllegalStateException("not an 802.1Q tagged frame");
        }
    }

    @Override
    public String toString() {
        return "Ethernet " + source() + " > " + destination()
                + (isVlanTagged() ? " vlan " + vlanId() + " p " + priority() : "")
                + String.format(" type 0x%04x", etherType());
    }
}
