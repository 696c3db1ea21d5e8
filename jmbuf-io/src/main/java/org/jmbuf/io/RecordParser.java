package org.jmbuf.io;

import java.nio.ByteOrder;
import java.util.List;

/** Walks the records of one capture format over the mapped bytes. Not thread safe. */
sealed interface RecordParser permits PcapParser, PcapngParser {
    /**
     * The next packet record, without moving past it (headers and blocks that are not packets before it
     * are consumed); null at the end of the file.
     *
     * @throws CaptureFormatException if the bytes at the current position are malformed or truncated
     */
    PacketRecord peek();

    /** Moves past {@code record}, which {@link #peek()} returned. */
    void advance(PacketRecord record);

    /** The offset of the next record or block to read. */
    long position();

    CaptureFormat format();

    /** The byte order of the file (pcap) or of the current section (pcapng). */
    ByteOrder byteOrder();

    /** The interfaces of the file (pcap) or of the current section (pcapng) as described so far. */
    List<CaptureInterface> interfaces();
}
