package org.jmbuf.io;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * pcapng: blocks of {@code type, total length, body, total length}, grouped in sections that each start
 * with a Section Header Block fixing the byte order and forgetting the interfaces of the section before.
 * Packets come from Enhanced, Simple and (obsolete) Packet Blocks; other blocks are skipped whole.
 */
final class PcapngParser implements RecordParser {
    static final int SECTION_HEADER = 0x0A0D0D0A;
    static final int BYTE_ORDER_MAGIC = 0x1A2B3C4D;
    static final int INTERFACE_DESCRIPTION = 1;
    static final int PACKET = 2;
    static final int SIMPLE_PACKET = 3;
    static final int ENHANCED_PACKET = 6;
    static final int OPTION_END = 0;
    static final int IF_NAME = 2;
    static final int IF_TSRESOL = 9;
    static final int IF_FCSLEN = 13;
    static final int IF_TSOFFSET = 14;

    private static final int MIN_BLOCK = 12;
    private static final int MIN_SECTION_HEADER = 28;
    private static final long[] POWERS_OF_TEN = new long[19];

    static {
        POWERS_OF_TEN[0] = 1;
        for (int i = 1; i < POWERS_OF_TEN.length; i++) {
            POWERS_OF_TEN[i] = POWERS_OF_TEN[i - 1] * 10;
        }
    }

    private final CaptureBytes in;
    private final List<CaptureInterface> interfaces = new ArrayList<>();
    private ByteOrder order = ByteOrder.BIG_ENDIAN;
    private int section = -1;
    private long position;

    /** @throws CaptureFormatException if the first Section Header Block is malformed or truncated */
    PcapngParser(CaptureBytes in) {
        this.in = in;
        readSectionHeader(0);
    }

    @Override
    public PacketRecord peek() {
        while (true) {
            long at = position;
            long remaining = in.remaining(at);
            if (remaining == 0) {
                return null;
            }
            if (remaining < MIN_BLOCK) {
                throw in.error(at, "a block needs at least " + MIN_BLOCK + " bytes but only " + remaining + " remain");
            }
            // The Section Header Block's type reads the same in both byte orders; its length does not.
            if (in.bits32(at, ByteOrder.BIG_ENDIAN) == SECTION_HEADER) {
                readSectionHeader(at);
                continue;
            }
            long type = in.u32(at, order);
            long length = blockLength(at, type, remaining, MIN_BLOCK);
            PacketRecord record = switch ((int) type) {
                case INTERFACE_DESCRIPTION -> {
                    interfaces.add(readInterface(at, length));
                    yield null;
                }
                case ENHANCED_PACKET -> readEnhancedPacket(at, length);
                case PACKET -> readObsoletePacket(at, length);
                case SIMPLE_PACKET -> readSimplePacket(at, length);
                default -> null; // statistics, name resolution, decryption secrets, custom...: not ours
            };
            if (record != null) {
                return record;
            }
            position = at + length;
        }
    }

    @Override
    public void advance(PacketRecord record) {
        position = record.next();
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public CaptureFormat format() {
        return CaptureFormat.PCAPNG;
    }

    @Override
    public ByteOrder byteOrder() {
        return order;
    }

    @Override
    public List<CaptureInterface> interfaces() {
        return List.copyOf(interfaces);
    }

    private void readSectionHeader(long at) {
        long remaining = in.remaining(at);
        if (remaining < MIN_BLOCK) {
            throw in.error(at, "a section header block needs at least " + MIN_SECTION_HEADER + " bytes but only "
                    + remaining + " remain");
        }
        int magic = in.bits32(at + 8, ByteOrder.BIG_ENDIAN);
        ByteOrder sectionOrder;
        if (magic == BYTE_ORDER_MAGIC) {
            sectionOrder = ByteOrder.BIG_ENDIAN;
        } else if (magic == Integer.reverseBytes(BYTE_ORDER_MAGIC)) {
            sectionOrder = ByteOrder.LITTLE_ENDIAN;
        } else {
            throw in.error(at + 8, String.format("the byte-order magic of a section header block is 0x%08x, "
                    + "expected 1a2b3c4d in either byte order", magic));
        }
        order = sectionOrder;
        long length = blockLength(at, SECTION_HEADER & 0xFFFF_FFFFL, remaining, MIN_SECTION_HEADER);
        int major = in.u16(at + 12, order);
        int minor = in.u16(at + 14, order);
        if (major != 1) {
            throw in.error(at + 12, "expected pcapng version 1.x, found " + major + "." + minor);
        }
        interfaces.clear();
        section++;
        position = at + length;
    }

    /** Checks a block's two total-length fields against the bytes left and the block's minimum. */
    private long blockLength(long at, long type, long remaining, int minimum) {
        long length = in.u32(at + 4, order);
        if (length < minimum) {
            throw in.error(at + 4, blockName(type) + " claims a total length of " + length + ", less than its minimum "
                    + minimum);
        }
        if (length % 4 != 0) {
            throw in.error(at + 4, blockName(type) + " claims a total length of " + length
                    + ", which is not a multiple of 4");
        }
        if (length > remaining) {
            throw in.error(at, blockName(type) + " claims " + length + " bytes but only " + remaining + " remain");
        }
        long trailer = in.u32(at + length - 4, order);
        if (trailer != length) {
            throw in.error(at + length - 4, blockName(type) + " ends with a total length of " + trailer
                    + " but starts with " + length);
        }
        return length;
    }

    private CaptureInterface readInterface(long at, long length) {
        requireBody(at, length, 8, "interface description block");
        LinkType linkType = LinkType.of(in.u16(at + 8, order));
        long snapLength = in.u32(at + 12, order);
        int resolution = 6;
        long offset = 0;
        int fcsLength = -1;
        String name = null;
        long end = at + length - 4;
        long option = at + 16;
        while (end - option >= 4) {
            int code = in.u16(option, order);
            int size = in.u16(option + 2, order);
            if (code == OPTION_END) {
                break;
            }
            long value = option + 4;
            if (size > end - value) {
                throw in.error(option, "option " + code + " of an interface description block claims " + size
                        + " bytes but only " + (end - value) + " remain in the block");
            }
            switch (code) {
                case IF_NAME -> name = string(value, size);
                case IF_TSRESOL -> {
                    requireOptionSize(option, "if_tsresol", size, 1);
                    resolution = in.u8(value);
                    boolean binary = (resolution & 0x80) != 0;
                    if (binary ? (resolution & 0x7F) > 63 : resolution >= POWERS_OF_TEN.length) {
                        throw in.error(value, "if_tsresol " + (binary ? "2^-" + (resolution & 0x7F)
                                : "10^-" + resolution) + " is finer than jmbuf can convert (2^-63, 10^-18)");
                    }
                }
                case IF_FCSLEN -> {
                    requireOptionSize(option, "if_fcslen", size, 1);
                    fcsLength = in.u8(value);
                }
                case IF_TSOFFSET -> {
                    requireOptionSize(option, "if_tsoffset", size, 8);
                    offset = in.s64(value, order);
                }
                default -> {
                    // if_description, if_IPv4addr, if_speed, comments...: not needed to read packets
                }
            }
            option = value + ((size + 3L) & ~3L);
        }
        return new CaptureInterface(section, interfaces.size(), linkType, snapLength, resolution, offset, fcsLength,
                name);
    }

    private PacketRecord readEnhancedPacket(long at, long length) {
        requireBody(at, length, 20, "enhanced packet block");
        CaptureInterface captureInterface = interfaceAt(at + 8, in.u32(at + 8, order), "enhanced packet block");
        long units = in.u32(at + 12, order) << 32 | in.u32(at + 16, order);
        return packet(at, length, 28, captureInterface, units, at + 12, "enhanced packet block");
    }

    private PacketRecord readObsoletePacket(long at, long length) {
        requireBody(at, length, 20, "packet block");
        CaptureInterface captureInterface = interfaceAt(at + 8, in.u16(at + 8, order), "packet block");
        long units = in.u32(at + 12, order) << 32 | in.u32(at + 16, order);
        return packet(at, length, 28, captureInterface, units, at + 12, "packet block");
    }

    private PacketRecord packet(long at, long length, int header, CaptureInterface captureInterface, long units,
            long timestampAt, String what) {
        long captured = in.u32(at + 20, order);
        long original = in.u32(at + 24, order);
        long room = length - header - 4;
        if (captured > room) {
            throw in.error(at + 20, what + " claims " + captured + " captured bytes but holds only " + room);
        }
        requireChainSize(at + 20, captured, what);
        Instant timestamp = timestamp(captureInterface, units, timestampAt);
        return new PacketRecord(at, at + header, (int) captured, original, timestamp, captureInterface, at + length);
    }

    private PacketRecord readSimplePacket(long at, long length) {
        requireBody(at, length, 4, "simple packet block");
        if (interfaces.isEmpty()) {
            throw in.error(at, "simple packet block, but no interface description block precedes it in its section");
        }
        CaptureInterface captureInterface = interfaces.getFirst();
        long original = in.u32(at + 8, order);
        // The captured length is not written down: it is the original length cut to the snapshot length,
        // and the block holds it padded to 4 bytes.
        long captured = Math.min(original, length - 16);
        if (captureInterface.snapLength() != 0) {
            captured = Math.min(captured, captureInterface.snapLength());
        }
        requireChainSize(at + 8, captured, "simple packet block");
        return new PacketRecord(at, at + 12, (int) captured, original, null, captureInterface, at + length);
    }

    private void requireBody(long at, long length, int body, String what) {
        if (length - MIN_BLOCK < body) {
            throw in.error(at + 4, what + " of " + length + " bytes is too short for its " + body
                    + "-byte fixed part (at least " + (MIN_BLOCK + body) + " bytes)");
        }
    }

    private void requireChainSize(long fieldAt, long captured, String what) {
        if (captured > Integer.MAX_VALUE) {
            throw in.error(fieldAt, what + " holds " + captured + " captured bytes, more than a chain can hold");
        }
    }

    private void requireOptionSize(long option, String name, int size, int expected) {
        if (size != expected) {
            throw in.error(option, "option " + name + " is " + size + " bytes long, expected " + expected);
        }
    }

    private CaptureInterface interfaceAt(long fieldAt, long id, String what) {
        if (id >= interfaces.size()) {
            throw in.error(fieldAt, what + " refers to interface " + id + " but " + (interfaces.isEmpty()
                    ? "no interface is" : "only " + interfaces.size() + " interface(s) are")
                    + " described in section " + section);
        }
        return interfaces.get((int) id);
    }

    /** Units of the interface's resolution since 1970 (unsigned), as an Instant; the fraction rounds down. */
    private Instant timestamp(CaptureInterface captureInterface, long units, long fieldAt) {
        int resolution = captureInterface.timestampResolution();
        long seconds;
        long nanos;
        if ((resolution & 0x80) == 0) {
            long perSecond = POWERS_OF_TEN[resolution];
            seconds = Long.divideUnsigned(units, perSecond);
            long rest = Long.remainderUnsigned(units, perSecond);
            nanos = resolution <= 9 ? rest * POWERS_OF_TEN[9 - resolution] : rest / POWERS_OF_TEN[resolution - 9];
        } else {
            int shift = resolution & 0x7F;
            seconds = shift == 0 ? units : units >>> shift;
            long rest = shift == 0 ? 0 : units & ((1L << shift) - 1);
            // rest * 10^9 / 2^shift, through the 128-bit product (rest < 2^63, so both halves are unsigned)
            long high = Math.multiplyHigh(rest, 1_000_000_000L);
            long low = rest * 1_000_000_000L;
            nanos = shift == 0 ? 0 : (high << (64 - shift)) | (low >>> shift);
        }
        try {
            if (seconds < 0) {
                throw new ArithmeticException();
            }
            return Instant.ofEpochSecond(Math.addExact(seconds, captureInterface.timestampOffset()), nanos);
        } catch (ArithmeticException | DateTimeException e) {
            throw in.error(fieldAt, "timestamp of " + Long.toUnsignedString(units) + " units (if_tsresol "
                    + resolution + ", if_tsoffset " + captureInterface.timestampOffset()
                    + ") is beyond the range of java.time.Instant");
        }
    }

    private String string(long at, int size) {
        byte[] bytes = in.bytes.asSlice(at, size).toArray(ValueLayout.JAVA_BYTE);
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] == 0) {
            end--;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8);
    }

    private static String blockName(long type) {
        return switch ((int) type) {
            case SECTION_HEADER -> "section header block";
            case INTERFACE_DESCRIPTION -> "interface description block";
            case PACKET -> "packet block";
            case SIMPLE_PACKET -> "simple packet block";
            case 4 -> "name resolution block";
            case 5 -> "interface statistics block";
            case ENHANCED_PACKET -> "enhanced packet block";
            default -> String.format("block of type 0x%08x", type);
        };
    }
}
