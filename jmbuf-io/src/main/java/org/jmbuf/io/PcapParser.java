package org.jmbuf.io;

import java.nio.ByteOrder;
import java.time.Instant;
import java.util.List;

/**
 * Classic pcap: a 24-byte file header, then records of a 16-byte header (seconds, micro- or nanoseconds,
 * captured length, original length) and the captured bytes.
 */
final class PcapParser implements RecordParser {
    static final int FILE_HEADER = 24;
    static final int RECORD_HEADER = 16;
    /** libpcap's {@code LT_FCS_LENGTH_PRESENT}: the FCS length in the top four bits is meaningful. */
    private static final int FCS_LENGTH_PRESENT = 0x0400_0000;

    private final CaptureBytes in;
    private final ByteOrder order;
    private final boolean nanosecond;
    private final CaptureInterface captureInterface;
    private long position;

    /** @throws CaptureFormatException if the file header is truncated or not version 2 */
    PcapParser(CaptureBytes in, ByteOrder order, boolean nanosecond) {
        this.in = in;
        this.order = order;
        this.nanosecond = nanosecond;
        if (in.size < FILE_HEADER) {
            throw in.error(0, "the pcap file header needs " + FILE_HEADER + " bytes but the file has only "
                    + in.size);
        }
        int major = in.u16(4, order);
        int minor = in.u16(6, order);
        if (major != 2) {
            throw in.error(4, "expected pcap version 2.x, found " + major + "." + minor);
        }
        long snapLength = in.u32(16, order);
        int linkField = in.bits32(20, order);
        int fcsLength = (linkField & FCS_LENGTH_PRESENT) != 0 ? ((linkField >>> 28) & 0xF) * 2 : -1;
        this.captureInterface = new CaptureInterface(0, 0, LinkType.of(linkField & 0xFFFF), snapLength,
                nanosecond ? 9 : 6, 0, fcsLength, null);
        this.position = FILE_HEADER;
    }

    @Override
    public PacketRecord peek() {
        long at = position;
        long remaining = in.remaining(at);
        if (remaining == 0) {
            return null;
        }
        if (remaining < RECORD_HEADER) {
            throw in.error(at, "a packet record header needs " + RECORD_HEADER + " bytes but only " + remaining
                    + " remain");
        }
        long seconds = in.u32(at, order);
        long fraction = in.u32(at + 4, order);
        long captured = in.u32(at + 8, order);
        long original = in.u32(at + 12, order);
        long available = remaining - RECORD_HEADER;
        if (captured > available) {
            throw in.error(at, "packet record claims " + captured + " captured bytes but only " + available
                    + " remain");
        }
        if (captured > Integer.MAX_VALUE) {
            throw in.error(at, "packet record claims " + captured + " captured bytes, more than a chain can hold");
        }
        // A fraction of a second of a million microseconds or more is out of range but harmless: keep it,
        // as libpcap does, and let Instant carry it into the seconds.
        Instant timestamp = Instant.ofEpochSecond(seconds, nanosecond ? fraction : fraction * 1000);
        return new PacketRecord(at, at + RECORD_HEADER, (int) captured, original, timestamp, captureInterface,
                at + RECORD_HEADER + captured);
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
        return CaptureFormat.PCAP;
    }

    @Override
    public ByteOrder byteOrder() {
        return order;
    }

    @Override
    public List<CaptureInterface> interfaces() {
        return List.of(captureInterface);
    }
}
