package org.jmbuf.io;

import java.util.Objects;

/**
 * An interface packets were captured on: the classic pcap file header, or a pcapng Interface
 * Description Block. An immutable value; it holds no file bytes.
 *
 * @param section             the pcapng section it belongs to, counted from 0 (always 0 in classic pcap)
 * @param index               its interface ID within that section, as Enhanced Packet Blocks refer to it
 *                            (always 0 in classic pcap)
 * @param linkType            the link-layer header type of its packets
 * @param snapLength          the snapshot length, an unsigned 32-bit number (0 means none in pcapng)
 * @param timestampResolution the pcapng {@code if_tsresol} byte: with the high bit clear, timestamps count
 *                            10<sup>-value</sup> seconds, with it set 2<sup>-(value &amp; 0x7F)</sup>
 *                            seconds. 6 (microseconds) if the option is absent; in classic pcap 6 or 9
 *                            as the magic number says.
 * @param timestampOffset     the pcapng {@code if_tsoffset} in seconds, added to every timestamp; 0 if absent
 * @param fcsLength           how many bytes of frame check sequence end each frame ({@code if_fcslen}, or the
 *                            FCS bits of a classic pcap link-type field), or -1 if the file does not say
 * @param name                the pcapng {@code if_name}, or null if absent
 */
public record CaptureInterface(int section, int index, LinkType linkType, long snapLength,
        int timestampResolution, long timestampOffset, int fcsLength, String name) {

    /**
     * Makes the record.
     *
     * @throws NullPointerException if {@code linkType} is null
     */
    public CaptureInterface {
        Objects.requireNonNull(linkType, "linkType");
    }

    /** Whether timestamps count nanoseconds exactly ({@code if_tsresol} 9). */
    public boolean isNanosecond() {
        return timestampResolution == 9;
    }
}
